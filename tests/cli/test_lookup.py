"""``rnnref lookup``: the JSON contract, name matching, suggestions, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DESIGN_KEYS = [
    "id", "iri", "label", "alt_labels", "types", "definition", "broader", "ancestors", "narrower",
    "related", "year", "people", "papers", "standards", "events", "implementation", "benchmarks", "sources",
]
PAPER_KEYS = {"id", "title", "authors", "year", "venue", "doi", "arxiv", "url"}


def test_lstm_json_has_every_design_key_with_year_people_and_doi(cli):
    r = cli("lookup", "lstm", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert list(data) == DESIGN_KEYS
    assert data["id"] == "lstm"
    assert data["iri"] == "https://w3id.org/rnnref/term/lstm"
    assert data["year"] == 1997
    assert {p["label"] for p in data["people"]} == {"Sepp Hochreiter", "Jürgen Schmidhuber"}
    assert "10.1162/neco.1997.9.8.1735" in [p["doi"] for p in data["papers"]]
    for paper in data["papers"]:
        assert set(paper) == PAPER_KEYS
    assert data["implementation"] == {
        "python": "rnnref.models.lstm:LSTM", "test": "tests/models/test_lstm.py", "status": "verified",
    }
    assert "Architecture" in data["types"]
    assert [b["id"] for b in data["broader"]] == ["gated-rnn"]  # a gated RNN, beside GRU, not under it
    assert "recurrent-neural-network" in [a["id"] for a in data["ancestors"]]
    assert data["definition"] and len(data["definition"]) > 40
    assert data["sources"]


def test_misspelled_term_exits_1_suggesting_lstm(cli):
    r = cli("lookup", "lsmt")
    assert r.code == 1
    assert r.out == ""
    assert "lstm" in r.err.lower()
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "name, expected",
    [
        ("LSTM", "lstm"),
        ("long short-term memory", "lstm"),
        ("Long Short Term Memory", "lstm"),
        ("gru", "gru"),
        ("Gated Recurrent Unit", "gru"),
        ("bptt", "backpropagation-through-time"),
        ("backpropagation through time", "backpropagation-through-time"),
        ("RNN", "recurrent-neural-network"),
        ("elman_network", "elman-network"),
    ],
)
def test_names_resolve_case_and_separator_insensitively(kg, name, expected):
    assert kg.resolve(name).id == expected


def test_every_name_of_every_term_resolves_to_a_term_with_that_name(kg):
    from rnnref.graph.kg import normalise

    for entry in kg.index:
        for name in (entry.id, entry.label, *entry.alt_labels):
            found = kg.resolve(name)
            assert normalise(name) in {normalise(n) for n in (found.id, found.label, *found.alt_labels)}
            if name in (entry.id, entry.label):
                assert found.id == entry.id


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_resolve_never_crashes_on_arbitrary_text(kg, text):
    from rnnref.errors import InputError, NotFoundError

    try:
        entry = kg.resolve(text)
    except (InputError, NotFoundError) as exc:
        assert str(exc)
    else:
        assert entry in kg.index


def test_every_term_lookup_json_is_complete(kg):
    for entry in kg.index:
        data = kg.term(entry.id).to_json()
        assert list(data) == [k for k in data]  # order preserved
        assert set(data) == set(DESIGN_KEYS)
        assert data["label"] and data["definition"] and data["sources"]
        assert isinstance(data["year"], (int, type(None)))


def test_ancestors_are_nearest_first(kg):
    ids = [r.id for r in kg.term("lstm").ancestors]
    assert ids.index("gated-rnn") < ids.index("recurrent-neural-network") < ids.index("Architecture") < ids.index("Concept")


def test_narrower_and_broader_are_inverse(kg):
    for entry in kg.index:
        term = kg.term(entry.id)
        for child in term.narrower:
            assert entry.id in [b.id for b in kg.term(child.id).broader]


@pytest.mark.parametrize("bad, code", [("", 2), ("x" * 100_000, 2), ("ls\x00tm", 2), ("no-such-term-anywhere", 1)])
def test_bad_names_fail_cleanly(cli, bad, code):
    if "\x00" in bad:
        # A NUL cannot pass through argv; the library refuses it directly.
        from rnnref.errors import InputError
        from rnnref.graph import KnowledgeGraph

        with pytest.raises(InputError):
            KnowledgeGraph().resolve(bad)
        return
    r = cli("lookup", bad)
    assert r.code == code
    assert "Traceback" not in r.err and r.err.startswith("rnnref: error:")
    assert len(r.err) < 400


def test_human_card_shows_label_doi_and_implementation(cli):
    r = cli("lookup", "lstm")
    assert r.code == 0, r.err
    assert "long short-term memory" in r.out
    assert "10.1162/neco.1997.9.8.1735" in r.out
    assert "rnnref.models.lstm:LSTM" in r.out


def test_root_that_is_not_a_tree_is_an_input_error(cli, tmp_path):
    r = cli("lookup", "lstm", root=tmp_path)
    assert r.code == 2
    assert "not an rnnref tree" in r.err


@pytest.mark.parametrize(
    "args",
    [
        ["lookup", "gru", "--json"],
        ["lookup", "lstm"],
        ["terms", "--json"],
        ["query", "--name", "term-index", "--format", "json"],
    ],
)
def test_lookup_and_query_paths_never_import_torch(args):
    code = (
        "import sys\n"
        "from rnnref.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'pyshacl', 'owlready2', 'mkdocs'))\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith("HEAVY="), proc.stderr[-500:]


@pytest.mark.parametrize(
    "args",
    [
        ["lookup", "lstm", "--json"],
        ["lookup", "Gated Recurrent Unit"],
        ["lookup", "lsmt"],
        ["lookup", ""],
        ["terms", "--json"],
        ["terms", "--type", "problem", "--json"],
        ["terms", "--type=component", "--json"],
        ["terms", "--type", "nonsense", "--json"],
    ],
)
def test_fast_path_and_typer_path_agree(cli, args):
    fast = cli(*args)
    slow = cli(*args, env={"RNNREF_NO_FAST": "1"})
    assert (fast.code, fast.out, fast.err) == (slow.code, slow.out, slow.err)


def test_fast_path_declines_what_it_does_not_know():
    from rnnref.cli.fast import _parse

    assert _parse(["lookup", "lstm", "--json"]) == ("lookup", ["lstm"], {"--json": True})
    assert _parse(["--root", "/x", "lookup", "gru"]) == ("lookup", ["gru"], {"--root": "/x"})
    for args in (["lookup", "--help"], ["lookup", "lstm", "--bogus"], ["query", "x"], [], ["terms", "--type"], ["lookup", "--json=1", "x"]):
        assert _parse(args) is None, args


def test_lookup_by_notation_finds_the_logseq_term_id(cli):
    r = cli("lookup", "AI-0033", "--json")
    assert r.code == 0, r.err
    assert r.json()["id"] == "recurrent-neural-network"


def test_a_term_with_no_alternative_label_is_still_found(cli, graph_copy):
    (graph_copy / "kg" / "terms" / "plain-cell.ttl").write_text(
        "@prefix rnn: <https://w3id.org/rnnref/ontology#> .\n@prefix term: <https://w3id.org/rnnref/term/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        'term:plain-cell a owl:Class ; rdfs:subClassOf term:recurrent-neural-network ; skos:prefLabel "plain cell"@en .\n',
        encoding="utf-8",
    )
    r = cli("lookup", "plain cell", "--json", root=graph_copy)
    assert r.code == 0, r.err
    assert r.json()["id"] == "plain-cell" and r.json()["alt_labels"] == []
