"""``rnnref validate``: passes on main; each kind of breakage in a copy of the graph
is caught with the file named and the right exit code."""

from __future__ import annotations

from pathlib import Path

TERM_PREFIXES = """@prefix rnn: <https://w3id.org/rnnref/ontology#> .
@prefix term: <https://w3id.org/rnnref/term/> .
@prefix source: <https://w3id.org/rnnref/source/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
"""


def test_main_graph_validates(cli):
    r = cli("validate", "--json")
    assert r.code == 0, r.out + r.err
    report = r.json()
    assert report["conforms"] is True
    assert {c["name"] for c in report["checks"] if c["ran"]} == {"syntax", "shacl", "owl-profile", "reasoner", "qc", "code"}
    reasoner = next(c for c in report["checks"] if c["name"] == "reasoner")
    assert reasoner["note"].startswith(("HermiT", "OWL 2 RL")) and "consistent" in reasoner["note"]


def test_unknown_reasoner_exits_2(cli):
    r = cli("validate", "--reasoner", "pellet")
    assert r.code == 2
    assert "unknown reasoner 'pellet'" in r.err and "owlrl" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_reasoner_none_skips_reasoning(cli):
    r = cli("validate", "--reasoner", "none", "--no-code", "--json")
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert checks["reasoner"]["ran"] is False and "none" in checks["reasoner"]["note"]


def test_syntax_error_exits_2_naming_file_and_line(cli, graph_copy: Path):
    path = graph_copy / "kg" / "terms" / "gru.ttl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(20, 'term:gru skos:altLabel "unterminated ;')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("validate", root=graph_copy)
    assert r.code == 2
    assert "kg/terms/gru.ttl:21" in r.err
    assert "Traceback" not in r.err


def test_syntax_error_also_stops_lookup_with_file_and_line(cli, graph_copy: Path):
    (graph_copy / "kg" / "broken.ttl").write_text("@prefix a: <http://a/> .\na:b a:c a:d .\na:d a:e \"open .\n", encoding="utf-8")
    r = cli("lookup", "lstm", root=graph_copy)
    assert r.code == 2
    assert r.err.startswith("rnnref: error: kg/broken.ttl:3")
    assert len(r.err.splitlines()) == 1


def test_term_without_definition_exits_1_naming_the_file(cli, graph_copy: Path):
    (graph_copy / "kg" / "terms" / "undefined-cell.ttl").write_text(
        TERM_PREFIXES
        + 'term:undefined-cell a owl:Class ; rdfs:subClassOf term:recurrent-neural-network ;\n'
        '    skos:prefLabel "undefined cell"@en ; dcterms:source source:wikipedia-rnn ;\n'
        '    rnn:notRunnableReason "test fixture" .\n',
        encoding="utf-8",
    )
    r = cli("validate", "--json", root=graph_copy)
    assert r.code == 1
    problems = r.json()["problems"]
    hits = [p for p in problems if p["focus"] == "https://w3id.org/rnnref/term/undefined-cell"]
    assert any("definition" in p["message"] and p["file"] == "kg/terms/undefined-cell.ttl" for p in hits), problems


def test_gru_under_lstm_is_caught_by_disjointness(cli, graph_copy: Path):
    path = graph_copy / "kg" / "terms" / "gru.ttl"
    text = path.read_text(encoding="utf-8")
    assert "rdfs:subClassOf term:gated-rnn ;" in text
    path.write_text(text.replace("rdfs:subClassOf term:gated-rnn ;", "rdfs:subClassOf term:lstm ;", 1), encoding="utf-8")
    r = cli("validate", root=graph_copy)
    assert r.code == 1
    assert "disjoint" in r.err and "kg/terms/gru.ttl" in r.err


def test_malformed_doi_is_caught(cli, graph_copy: Path):
    path = graph_copy / "kg" / "papers.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('bibo:doi "10.1162/neco.1997.9.8.1735"', 'bibo:doi "doi.org/10.1162 neco"'), encoding="utf-8")
    r = cli("validate", root=graph_copy)
    assert r.code == 1
    assert "DOI" in r.err and "kg/papers.ttl" in r.err


def test_implementation_that_does_not_import_is_caught(cli, graph_copy: Path):
    path = graph_copy / "kg" / "terms" / "gru.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"rnnref.models.gru:GRU"', '"rnnref.models.no_such_module:GRU"'), encoding="utf-8")
    r = cli("validate", root=graph_copy)
    assert r.code == 1
    assert "does not import" in r.err and "kg/terms/gru.ttl" in r.err


def test_implementation_naming_another_term_is_caught(cli, graph_copy: Path):
    path = graph_copy / "kg" / "terms" / "gru.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"rnnref.models.gru:GRU"', '"rnnref.models.lstm:LSTM"'), encoding="utf-8")
    r = cli("validate", "--json", root=graph_copy)
    assert r.code == 1
    messages = " ".join(p["message"] for p in r.json()["problems"])
    assert "names term" in messages


def test_dangling_reference_is_caught(cli, graph_copy: Path):
    path = graph_copy / "kg" / "terms" / "gru.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("rnn:relatedTo term:lstm", "rnn:relatedTo term:lstn"), encoding="utf-8")
    r = cli("validate", root=graph_copy)
    assert r.code == 1
    assert "term/lstn" in r.err and "never described" in r.err
