"""``rnnref query`` and ``rnnref terms``: formats, bindings, read-only guarantees."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAPERS = "SELECT ?paper ?title WHERE { ?paper a <https://w3id.org/rnnref/ontology#Paper> ; <http://purl.org/dc/terms/title> ?title } ORDER BY ?paper"


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((root / "kg").rglob("*")) + sorted((root / "ontology").rglob("*")):
        if path.is_file():
            h.update(path.as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def test_json_format_is_sparql_results_json(cli, kg):
    r = cli("query", PAPERS, "--format", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["head"]["vars"] == ["paper", "title"]
    titles = {b["title"]["value"] for b in data["results"]["bindings"]}
    assert "Long Short-Term Memory" in titles
    assert all(b["paper"]["type"] == "uri" for b in data["results"]["bindings"])
    # Same rows as the library's own query.
    from rnnref.graph.queries import select

    assert len(data["results"]["bindings"]) == len(select(kg.store, PAPERS))


def test_csv_format_has_header_and_rows(cli):
    r = cli("query", PAPERS, "--format", "csv")
    assert r.code == 0, r.err
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == ["paper", "title"]
    assert len(rows) > 5


def test_table_format_counts_rows(cli):
    r = cli("query", "SELECT ?x WHERE { VALUES ?x { 1 2 3 } }")
    assert r.code == 0, r.err
    assert "3 rows" in r.out


def test_named_query_with_bound_iri(cli):
    r = cli("query", "--name", "term-people", "--param", "term=<https://w3id.org/rnnref/term/gru>", "--format", "json")
    assert r.code == 0, r.err
    names = {b["name"]["value"] for b in r.json()["results"]["bindings"]}
    assert "Kyunghyun Cho" in names


def test_binding_a_literal_cannot_inject_sparql(cli):
    # The value goes in as one literal, so the quote and braces are data, not syntax.
    r = cli("query", "--name", "term-people", "--param", 'term=x" } ; DROP ALL ; { "', "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["results"]["bindings"] == []


def test_query_file(cli):
    r = cli("query", "--file", str(ROOT / "ontology/queries/term-index.rq"), "--format", "csv")
    assert r.code == 0, r.err
    assert "lstm" in r.out


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
        ("DELETE WHERE { ?s ?p ?o }", "read-only"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT ?s WHERE { ?s ?p ", "bad SPARQL"),
    ],
)
def test_updates_federation_and_bad_syntax_exit_2_and_change_nothing(cli, text, fragment):
    before = tree_digest(ROOT)
    r = cli("query", text)
    assert r.code == 2
    assert fragment in r.err
    assert "Traceback" not in r.err and len(r.err.splitlines()) == 1
    assert tree_digest(ROOT) == before


def test_missing_query_file_and_unknown_named_query(cli):
    r = cli("query", "--file", "/no/such/file.rq")
    assert r.code == 2 and "not found" in r.err  # a file named on the command line is input, as for import
    r = cli("query", "--name", "no-such-query")
    assert r.code == 1 and "no named query" in r.err
    r = cli("query", "--name", "../../etc/passwd")
    assert r.code == 2


def test_terms_lists_every_term_file(cli):
    r = cli("terms", "--json")
    assert r.code == 0, r.err
    rows = r.json()
    ids = {row["id"] for row in rows}
    assert ids == {p.stem for p in (ROOT / "kg/terms").glob("*.ttl")}
    for row in rows:
        assert set(row) == {"id", "label", "types", "implementation", "not_runnable_reason"}
    lstm = next(row for row in rows if row["id"] == "lstm")
    assert lstm["implementation"]["python"] == "rnnref.models.lstm:LSTM"


def test_terms_filter_by_type(cli):
    r = cli("terms", "--type", "training-method", "--json")
    assert r.code == 0, r.err
    rows = r.json()
    assert "backpropagation-through-time" in {row["id"] for row in rows}
    assert all("TrainingMethod" in row["types"] for row in rows)
    r = cli("terms", "--type", "nonsense")
    assert r.code == 2 and "unknown type" in r.err


def test_terms_json_every_runnable_term_is_verified_and_the_rest_say_why(cli):
    """Issue 4's bar: each architecture and training method either has a verified
    implementation or a reason it cannot run, and at least 30 are verified."""
    r = cli("terms", "--json")
    assert r.code == 0, r.err
    rows = [t for t in r.json() if {"Architecture", "TrainingMethod"} & set(t["types"])]
    verified = [t for t in rows if (t["implementation"] or {}).get("status") == "verified"]
    assert len(verified) >= 30
    for t in rows:
        if t not in verified:
            assert t["implementation"] is None and t["not_runnable_reason"], t
