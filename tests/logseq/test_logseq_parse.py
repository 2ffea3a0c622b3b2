"""Reading Logseq pages: every item keeps its line, and a malformed page is refused
with the file and line (rnnref.logseq.parse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnref.errors import InputError
from rnnref.logseq.mapping import format_authors
from rnnref.logseq.parse import normalise_key, parse_page, plain_text

PAGES = Path(__file__).parent / "pages"
# A copy of the seed page (../shared/seeds/), so that the tests run from a fresh clone.
SEED = PAGES / "logseq-ontology-page-AI-0033-recurrent-neural-network.md"

GOOD = """\
- ### OntologyBlock
    - term-id:: X-1
    - preferred-term:: Example Net
    - ontology:: true

### Relationships
- is-subclass-of:: [[Recurrent Neural Network]]

## Example Net

### Primary Definition

- An example network used by the parser tests and nothing else at all.
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "page.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_seed_page_items_keep_their_lines():
    page = parse_page(SEED, "seed.md")
    assert (page.term_id, page.term_id_line) == ("AI-0033", 2)
    assert (page.preferred_term, page.preferred_term_line) == ("Recurrent Neural Network", 3)
    assert page.ontology_flag == "true"
    props = {p.key: p for p in page.properties}
    assert props["is-subclass-of"].line == 8 and props["is-subclass-of"].names() == ["NeuralNetworkArchitecture"]
    assert props["is-subclass-of"].section == "relationships"
    assert (props["source-domain"].plain, props["source-domain"].line) == ("ai", 27)
    assert (props["status"].plain, props["maturity"].plain) == ("active", "mature")
    assert props["owl-class"].plain == "ml:RecurrentNeuralNetwork"
    assert props["owl-physicality"].plain == "ConceptualEntity" and props["owl-role"].plain == "Algorithm"
    assert props["belongstodomain"].is_link_list and props["belongstodomain"].names() == ["Machine Learning Domain"]
    assert page.definition.startswith("A Recurrent Neural Network (RNN) is a neural network architecture")
    assert page.definition_line == 14
    assert {m.key for m in page.metadata} >= {"type", "status", "last-updated", "authority-score"}
    refs = {r.doi or r.arxiv: r for r in page.references if r.doi or r.arxiv}
    assert set(refs) == {"10.1162/neco.1997.9.8.1735", "1406.1078", "10.1109/ICASSP.2013.6638947", "2312.00752", "2305.13048"}
    lstm = refs["10.1162/neco.1997.9.8.1735"]
    assert (lstm.title, lstm.year, lstm.venue) == ("Long Short-Term Memory", 1997, "Neural Computation")
    no_ids = [r for r in page.references if not (r.doi or r.arxiv)]
    assert any(r.title == "Finding structure in time" and r.year == 1990 for r in no_ids)
    targets = {link.target for link in page.links}
    assert {"hidden state", "Long Short-Term Memory", "Gated Recurrent Unit"} <= targets
    assert all(link.line > 0 for link in page.links)


def test_alias_links_keep_target_and_label():
    page = parse_page(PAGES / "gru.md")
    comp = next(p for p in page.properties if p.key == "has-component")
    assert [(link.target, link.label) for link in comp.links] == [("update gate", None), ("reset gate", "Reset Gate")]
    assert comp.names() == ["update gate", "reset gate"]
    assert plain_text("a [[reset gate|Reset Gate]] and **[[GRU]]**") == "a Reset Gate and GRU"
    ref = page.references[0]
    assert ref.arxiv == "1406.1078" and ref.introduced and ref.year == 2014


def test_keys_are_normalised():
    assert normalise_key("Source Domain") == normalise_key("source-domain") == "source-domain"
    assert normalise_key("Owl:Class") == "owl-class"


MALFORMED = [
    ("property without ::", GOOD.replace("    - ontology:: true", "    - ontology: true"), 4, "key:: value"),
    ("relationship without ::", GOOD.replace("- is-subclass-of:: [[", "- is-subclass-of [["), 7, "key:: value"),
    ("property without a value", GOOD.replace("ontology:: true", "ontology::"), 4, "has no value"),
    ("unbalanced [[", GOOD.replace("[[Recurrent Neural Network]]", "[[Recurrent Neural Network"), 7, "unbalanced '[['"),
    ("stray ]]", GOOD.replace("used by the parser", "used ]] by the parser"), 13, "']]'"),
    ("duplicated term-id", GOOD.replace("    - ontology:: true", "    - term-id:: X-2"), 4, "duplicated term-id"),
    ("no term-id", GOOD.replace("    - term-id:: X-1\n", ""), 1, "no term-id"),
    ("no preferred-term", GOOD.replace("    - preferred-term:: Example Net\n", ""), 1, "no preferred-term"),
    ("no OntologyBlock", "# Just a page\n\nSome text.\n", 1, "no OntologyBlock"),
    ("technical detail without a value structure", GOOD + "\n## Technical Details\n\n- just words here\n", 17, "**Key**: value"),
    ("metadata term-id disagrees", GOOD + "\n## Metadata\n\n- **Term ID**: X-9\n", 17, "differs"),
]


@pytest.mark.parametrize("text,line,fragment", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_page_names_file_and_line(tmp_path, text, line, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        parse_page(path, "bad.md")
    message = str(info.value)
    assert message.startswith(f"bad.md:{line}:"), message
    assert fragment in message


def test_invalid_utf8_and_binary_and_missing(tmp_path):
    bad = _write(tmp_path, GOOD.encode("utf-8") + b"\n- caf\xe9\n", "latin1.md")
    with pytest.raises(InputError, match=r"latin1\.md:15: invalid UTF-8"):
        parse_page(bad, "latin1.md")
    binary = _write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00", "image.md")
    with pytest.raises(InputError, match=r"image\.md:3: binary data"):
        parse_page(binary, "image.md")
    with pytest.raises(InputError, match=r"nope\.md: no such file"):
        parse_page(tmp_path / "nope.md", "nope.md")


def test_authors_become_initials_first():
    assert format_authors("Gu, A., & Dao, T.") == "A. Gu; T. Dao"
    assert format_authors("Peng, B., et al.") == "B. Peng et al."
    assert format_authors("Elman, J. L.") == "J. L. Elman"
    assert format_authors("Sepp Hochreiter; Jürgen Schmidhuber") == "Sepp Hochreiter; Jürgen Schmidhuber"
    assert format_authors("A. Graves") == "A. Graves"
