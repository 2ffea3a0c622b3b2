"""`rnnref import logseq`: the seed page lands on the existing RNN term, another
existing term's page merges into it, validation stays as it was, re-importing is a
no-op, --dry-run and malformed pages write nothing, and torch is never imported."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import ROOT

PAGES = Path(__file__).parent / "pages"
SEED = PAGES / "logseq-ontology-page-AI-0033-recurrent-neural-network.md"
GRU_PAGE = PAGES / "gru.md"
NEW_PAGE = PAGES / "qrnn.md"

RNN = "https://w3id.org/rnnref/ontology#"
TERM = "https://w3id.org/rnnref/term/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under kg/ and ontology/ with its hash and mtime."""
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for part in ("kg", "ontology")
        for p in sorted((root / part).rglob("*"))
        if p.is_file()
    }


def triples_of(path: Path) -> set[tuple[str, str, str]]:
    return {(q.subject.value, q.predicate.value, str(q.object) if isinstance(q.object, ox.Literal) else q.object.value)
            for q in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)}


def about(triples, subject: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s, p, o in triples:
        if s == subject:
            out.setdefault(p, set()).add(o)
    return out


def problems(cli, root: Path) -> set[tuple]:
    result = cli("validate", "--json", root=root)
    assert result.code in (0, 1), result.err
    return {(p["check"], p["message"], p["focus"]) for p in result.json()["problems"]}


# -- the seed page and another existing term -------------------------------------------------


def test_imports_add_to_existing_terms_and_keep_validation(cli, graph_copy):
    before = problems(cli, graph_copy)
    result = cli("import", "logseq", str(SEED), str(GRU_PAGE), str(NEW_PAGE), "--json", root=graph_copy)
    assert result.code == 0, result.err
    summary = result.json()
    assert {(t["iri"], t["new"]) for t in summary["terms"]} == {
        (TERM + "recurrent-neural-network", False),
        (TERM + "gru", False),
        (TERM + "quasi-recurrent-neural-network", True),
    }
    assert summary["added"] > 0 and summary["removed"] == 0
    assert any("Id (line 25)" in w for w in summary["warnings"])  # unknown properties are listed
    assert "rnnref: warning:" in result.err

    # the seed: triples on the existing term, with term-id, label, superclass, domain, status, maturity
    seed_file = graph_copy / "kg" / "imports" / "recurrent-neural-network.ttl"
    rnn = about(triples_of(seed_file), TERM + "recurrent-neural-network")
    assert rnn[SKOS + "notation"] == {'"AI-0033"'}
    assert rnn[RNN + "logseqPreferredTerm"] == {'"Recurrent Neural Network"'}
    assert SKOS + "prefLabel" not in rnn  # an existing term keeps its one preferred label
    assert SKOS + "definition" not in rnn and RNN + "logseqDefinition" in rnn
    assert rnn[RDFS + "subClassOf"] == {RNN + "Architecture"}  # [[NeuralNetworkArchitecture]]
    assert rnn[RNN + "sourceDomain"] == {'"ai"'}
    assert rnn[RNN + "belongsToDomain"] == {'"Machine Learning Domain"'}
    assert rnn[RNN + "termStatus"] == {'"active"'} and rnn[RNN + "maturity"] == {'"mature"'}
    assert rnn[DCTERMS + "source"] == {"https://w3id.org/rnnref/source/logseq-ai-0033"}
    assert "https://w3id.org/rnnref/paper/hochreiter-1997-lstm" in rnn[RDFS + "seeAlso"]  # reused by DOI
    assert TERM + "lstm" in rnn[RNN + "mentions"] and TERM + "hidden-state" in rnn[RNN + "mentions"]
    assert "https://w3id.org/rnnref/logseq#public-access" in rnn

    # GRU: merged into term:gru, superclass mapped to the existing RNN term, paper reused by arXiv id
    gru_triples = triples_of(graph_copy / "kg" / "imports" / "gru.ttl")
    gru = about(gru_triples, TERM + "gru")
    assert gru[RDFS + "subClassOf"] == {TERM + "recurrent-neural-network"}
    assert gru[RNN + "hasComponent"] == {TERM + "update-gate", TERM + "reset-gate"}
    assert gru[RNN + "introducedIn"] == {"https://w3id.org/rnnref/paper/cho-2014-rnn-encoder-decoder"}
    assert SKOS + "prefLabel" not in gru
    assert not any(p == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" and o == RNN + "Paper" for _, p, o in gru_triples)
    assert not (graph_copy / "kg" / "imports" / "gated-recurrent-unit.ttl").exists()

    # the new term: a new IRI with its label, definition and a minted paper
    new = about(triples_of(graph_copy / "kg" / "imports" / "quasi-recurrent-neural-network.ttl"),
                TERM + "quasi-recurrent-neural-network")
    assert new[SKOS + "prefLabel"] == {'"Quasi-Recurrent Neural Network"@en'}
    assert new[RDFS + "subClassOf"] == {TERM + "recurrent-neural-network"}

    after = problems(cli, graph_copy)
    assert after - before == set(), f"the import added validation problems: {after - before}"
    lookup = cli("lookup", "QRNN", "--json", root=graph_copy)
    assert lookup.code == 0 and lookup.json()["id"] == "quasi-recurrent-neural-network"


def test_importing_twice_changes_nothing(cli, graph_copy):
    first = cli("import", "logseq", str(SEED), root=graph_copy)
    assert first.code == 0, first.err
    assert "recurrent-neural-network.ttl: +" in first.out
    state = tree_state(graph_copy)
    second = cli("import", "logseq", str(SEED), "--json", root=graph_copy)
    assert second.code == 0, second.err
    summary = second.json()
    assert (summary["added"], summary["removed"]) == (0, 0)
    assert [f["unchanged"] for f in summary["files"]] == [True]
    assert tree_state(graph_copy) == state  # same bytes, same mtimes
    third = cli("import", "logseq", str(SEED), root=graph_copy)
    assert "unchanged: " in third.out


def test_dry_run_writes_nothing_and_shows_the_diff(cli, graph_copy, tmp_path):
    state = tree_state(graph_copy)
    result = cli("import", "logseq", str(SEED), "--dry-run", root=graph_copy)
    assert result.code == 0, result.err
    assert '+ term:recurrent-neural-network skos:notation "AI-0033" .' in result.out
    assert "dry run: nothing written" in result.out
    assert tree_state(graph_copy) == state
    assert not (graph_copy / "kg" / "imports").exists()

    # after a real import, a changed page shows what it would remove and add
    assert cli("import", "logseq", str(SEED), root=graph_copy).code == 0
    state = tree_state(graph_copy)
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text(encoding="utf-8").replace("- **Status**: active", "- **Status**: retired"), encoding="utf-8")
    result = cli("import", "logseq", str(changed), "--dry-run", "--json", root=graph_copy)
    assert result.code == 0, result.err
    diff = result.json()["files"][0]["diff"]
    assert '- term:recurrent-neural-network rnn:termStatus "active" .' in diff
    assert '+ term:recurrent-neural-network rnn:termStatus "retired" .' in diff
    assert tree_state(graph_copy) == state


def test_one_out_file_for_several_pages(cli, graph_copy, tmp_path):
    out = tmp_path / "pages.ttl"
    result = cli("import", "logseq", str(SEED), str(GRU_PAGE), "--out", str(out), root=graph_copy)
    assert result.code == 0, result.err
    triples = triples_of(out)
    assert TERM + "gru" in {s for s, _, _ in triples} and TERM + "recurrent-neural-network" in {s for s, _, _ in triples}
    assert not (graph_copy / "kg" / "imports").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


# -- errors ------------------------------------------------------------------------------------

MALFORMED = {
    "no-colons.md": ("- ### OntologyBlock\n    - term-id AI-9\n", 2, "key:: value"),
    "unbalanced.md": ("- ### OntologyBlock\n    - term-id:: AI-9\n    - preferred-term:: [[Foo\n", 3, "unbalanced"),
    "dup-id.md": ("- ### OntologyBlock\n    - term-id:: AI-9\n    - term-id:: AI-10\n    - preferred-term:: Foo\n", 3, "duplicated term-id"),
    "no-id.md": ("- ### OntologyBlock\n    - preferred-term:: Foo\n", 1, "no term-id"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_page_exits_2_and_writes_nothing(cli, graph_copy, tmp_path, name):
    text, line, fragment = MALFORMED[name]
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    state = tree_state(graph_copy)
    # the good page first: it must not be written either
    result = cli("import", "logseq", str(SEED), str(bad), root=graph_copy)
    assert result.code == 2
    assert f"{bad}:{line}:" in result.err and fragment in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert tree_state(graph_copy) == state


def test_invalid_utf8_and_missing_file_exit_2(cli, graph_copy, tmp_path):
    bad = tmp_path / "latin1.md"
    bad.write_bytes(SEED.read_bytes().replace("Jürgen".encode(), "J\xfcrgen".encode("latin-1")))
    result = cli("import", "logseq", str(bad), root=graph_copy)
    assert result.code == 2 and f"{bad}:" in result.err and "invalid UTF-8" in result.err
    missing = cli("import", "logseq", str(tmp_path / "nowhere.md"), root=graph_copy)
    assert missing.code == 2 and "nowhere.md: no such file" in missing.err
    assert not (graph_copy / "kg" / "imports").exists()


def test_out_must_be_an_import_file(cli, graph_copy, tmp_path):
    assert cli("import", "logseq", str(SEED), "--out", str(tmp_path / "x.md"), root=graph_copy).code == 2
    hand_written = graph_copy / "kg" / "terms" / "gru.ttl"
    state = tree_state(graph_copy)
    result = cli("import", "logseq", str(GRU_PAGE), "--out", str(hand_written), root=graph_copy)
    assert result.code == 2 and "refusing to overwrite" in result.err
    assert tree_state(graph_copy) == state


def test_import_and_export_do_not_import_torch(graph_copy, tmp_path):
    script = f"""
import sys
from rnnref.cli import main
for args in (["import", "logseq", {str(SEED)!r}, "--dry-run", "--root", {str(graph_copy)!r}],
             ["export", "logseq", "gru", "--out", {str(tmp_path / "gru.md")!r}, "--root", {str(graph_copy)!r}]):
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, exc.code
print("torch" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"
