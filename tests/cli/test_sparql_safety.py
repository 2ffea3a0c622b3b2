"""The query path is safe: values cannot inject SPARQL, updates and SERVICE are refused
unless allowed (and even then nothing reaches the disk), and a runaway query stops at
its deadline and a long answer at its row limit. No timing is asserted beyond
generous ceilings."""

from __future__ import annotations

import csv
import hashlib
import io
import socket
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import ROOT

from rnnref.graph import catalogue, runner

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # |triples|^3 rows
INJECTIONS = ['x" } ; DROP ALL ; { "', "} ; DROP ALL", '" }', "sepp-hochreiter> } DROP ALL #", "'''\" ) } }"]


def tree_digest(root: Path = ROOT) -> str:
    """A hash of every file under kg/ and ontology/, names and contents."""
    h = hashlib.sha256()
    for top in ("kg", "ontology"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_person_value_that_looks_like_sparql_is_one_literal(kg, value):
    named = catalogue.load(ROOT, "papers-by-person")
    binder = catalogue.Binder(kg.store, kg.resolve)
    subs = binder.bind(named, named.text, {"person": value})
    assert subs["person"] == ox.Literal(value)
    assert binder.notes  # the user is told it matched no person
    outcome = runner.run(kg.store, named.text, substitutions=subs, timeout=0)
    assert outcome.rows == 0


@pytest.mark.parametrize("value", INJECTIONS[:2])
def test_injection_through_the_cli_returns_nothing_and_changes_nothing(cli, value):
    before = tree_digest()
    r = cli("query", "--name", "implementations-and-tests", "--param", f"status={value}", "--json")
    assert r.code == 0, r.err
    assert r.json()["results"]["bindings"] == []
    r = cli("query", "--name", "papers-by-person", "--param", f"person={value}", "--json")
    assert r.code == 0, r.err
    assert r.json()["results"]["bindings"] == []
    assert "bound to it as a literal" in r.err
    assert tree_digest() == before


def test_a_term_value_that_looks_like_sparql_is_not_found(cli):
    r = cli("query", "--name", "term-descendants", "--param", 'term=lstm" } ; DROP ALL ; { "')
    assert r.code == 1 and "no term matches" in r.err


def test_an_iri_value_must_be_a_valid_iri(kg):
    binder = catalogue.Binder(kg.store, kg.resolve)
    named = catalogue.load(ROOT, "term-descendants")
    with pytest.raises(Exception, match="not a valid IRI"):
        binder.bind(named, named.text, {"term": "<https://w3id.org/rnnref/term/x> } DROP ALL { <y>"})


def test_insert_data_exits_2_and_nothing_on_disk_changes(cli):
    before = tree_digest()
    r = cli("query", "INSERT DATA { <https://w3id.org/rnnref/term/lstm> <urn:p> <urn:o> }")
    assert r.code == 2
    assert "read-only" in r.err and "Traceback" not in r.err and len(r.err.splitlines()) == 1
    r = cli("query", "PREFIX ex: <urn:x#> DELETE WHERE { ?s ?p ?o }")
    assert r.code == 2 and "read-only" in r.err
    r = cli("query", "DROP ALL")
    assert r.code == 2 and "read-only" in r.err
    assert tree_digest() == before


def test_allow_update_changes_only_an_in_memory_copy(cli):
    before = tree_digest()
    r = cli("query", "--allow-update", "INSERT DATA { <urn:rnnref:test> <urn:p> <urn:o> }")
    assert r.code == 0, r.err
    assert "nothing was written to disk" in r.err
    assert tree_digest() == before
    r = cli("query", "ASK { <urn:rnnref:test> ?p ?o }")
    assert r.code == 0 and r.out.strip() == "false"


def test_update_keywords_in_strings_iris_and_names_are_not_updates(cli):
    r = cli("query", 'SELECT ?x WHERE { BIND("INSERT DATA { }" AS ?x) }', "--format", "csv")
    assert r.code == 0, r.err
    r = cli("query", "PREFIX drop: <urn:drop#> SELECT ?insert WHERE { VALUES ?insert { drop:all } }", "--format", "csv")
    assert r.code == 0, r.err


def test_service_is_refused_unless_allowed(cli):
    text = "SELECT * WHERE { SERVICE <http://127.0.0.1:{port}/sparql> { ?s ?p ?o } }"
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = text.replace("{port}", str(port))
    r = cli("query", text)
    assert r.code == 2 and "SERVICE" in r.err and "refused" in r.err
    # Allowed, it is tried (and fails here, since nothing listens: a clear error, not a refusal).
    r = cli("query", "--allow-service", text, "--timeout", "20")
    assert "refused by default" not in r.err
    assert r.code == 2 and len(r.err.splitlines()) == 1


def test_a_slow_query_stops_at_the_timeout(cli):
    started = time.monotonic()
    r = cli("query", SLOW, "--timeout", "1", timeout=120)
    assert r.code == 2
    assert "longer than 1 s" in r.err and len(r.err.splitlines()) == 1
    assert time.monotonic() - started < 100  # generous: the query itself would take days


def test_the_library_timeout_kills_the_query_process(kg):
    with pytest.raises(runner.QueryTimeout):
        runner.run(kg.store, SLOW, timeout=0.5)
    assert not runner._children  # reaped, nothing left running


def test_the_row_limit_cuts_and_says_so(cli):
    r = cli("query", "SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "--limit", "7", "--format", "csv")
    assert r.code == 0, r.err
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == ["s", "p", "o"] and len(rows) == 8
    assert "--limit 7" in r.err
    r = cli("query", "SELECT ?x WHERE { VALUES ?x { 1 2 3 } }", "--limit", "3", "--format", "csv")
    assert r.code == 0 and r.err == ""


def test_limit_applies_to_construct_too(kg):
    outcome = runner.run(kg.store, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=5)
    assert outcome.kind == "graph" and outcome.rows == 5 and outcome.truncated
    assert len(outcome.parsed()) == 5


def test_results_render_in_every_format(kg):
    outcome = runner.run(kg.store, "SELECT ?x ?y WHERE { VALUES (?x ?y) { (1 \"a\"@en) (<urn:b> \"c\") } }")
    assert outcome.render("csv").splitlines()[0] == b"x,y"
    assert outcome.render("tsv").splitlines()[0] == b"?x\t?y"
    assert b"<sparql" in outcome.render("xml")
    assert b'"xml:lang":"en"' in outcome.render("json")
    ask = runner.run(kg.store, "ASK { ?s ?p ?o }")
    assert ask.kind == "boolean" and b"true" in ask.render("json")
