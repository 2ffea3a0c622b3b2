"""Validation in depth: the OWL profile check, both reasoners, every QC query, and an
independent parse of every Turtle file.

Each QC query under ontology/queries/qc/ has a mutation here that must make it fire,
naming the file the problem is in; a new QC query without a mutation fails
`test_every_qc_query_has_a_mutation`.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from rnnref.graph import reasoning
from rnnref.graph.paths import graph_files
from rnnref.graph.validate import validate

ROOT = Path(__file__).resolve().parents[2]
QC_DIR = ROOT / "ontology" / "queries" / "qc"

PREFIXES = """@prefix rnn: <https://w3id.org/rnnref/ontology#> .
@prefix term: <https://w3id.org/rnnref/term/> .
@prefix paper: <https://w3id.org/rnnref/paper/> .
@prefix person: <https://w3id.org/rnnref/person/> .
@prefix event: <https://w3id.org/rnnref/event/> .
@prefix impl: <https://w3id.org/rnnref/impl/> .
@prefix source: <https://w3id.org/rnnref/source/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
"""

DEFINITION = "A made-up recurrent cell used only by the validation tests of this project."


def _term(slug: str, *extra: str, source: bool = True, reason: bool = True, label: str | None = None) -> str:
    parts = [
        f"term:{slug} a owl:Class ; rdfs:subClassOf term:recurrent-neural-network",
        f'skos:prefLabel "{label or slug.replace("-", " ")}"@en',
        f'skos:definition "{DEFINITION} ({slug})"@en',
    ]
    if source:
        parts.append("dcterms:source source:wikipedia-rnn")
    if reason:
        parts.append('rnn:notRunnableReason "a test fixture"@en')
    return " ;\n    ".join(parts + list(extra)) + " .\n"


# qc query name -> (Turtle added in kg/zz-mutation.ttl, the focus IRI expected)
MUTATIONS: dict[str, tuple[str, str]] = {
    "missing-label": (
        "term:no-label a owl:Class ; rdfs:subClassOf term:recurrent-neural-network ;\n"
        f'    skos:definition "{DEFINITION}"@en ; dcterms:source source:wikipedia-rnn ; rnn:notRunnableReason "x"@en .\n',
        "term/no-label",
    ),
    "duplicate-label": (_term("second-gru", label="gated recurrent unit"), "term/second-gru"),
    "multiple-labels": (_term("two-labels") + 'term:two-labels skos:prefLabel "another label"@en .\n', "term/two-labels"),
    "label-whitespace": (_term("spaced") + 'term:spaced skos:altLabel " spaced  cell"@en .\n', "term/spaced"),
    "duplicate-definition": (
        _term("twin-a") + _term("twin-b") + f'term:twin-a skos:definition "{DEFINITION} (twin)"@en .\n'
        f'term:twin-b skos:definition "{DEFINITION} (twin)"@en .\n',
        "term/twin-a",
    ),
    "multiple-definitions": (_term("two-defs") + f'term:two-defs skos:definition "{DEFINITION} Again."@en .\n', "term/two-defs"),
    "deprecated-reference": (_term("old-cell", "owl:deprecated true") + _term("new-cell", "rnn:relatedTo term:old-cell"), "term/new-cell"),
    "term-without-source": (_term("unsourced", source=False), "term/unsourced"),
    "runnable-without-verified-implementation": (_term("unrunnable", reason=False), "term/unrunnable"),
    "implementation-without-term": (
        'impl:ghost a rnn:Implementation ; rnn:implements term:no-such-term ; rnn:pythonPath "rnnref.models.gru:GRU" ;\n'
        '    rnn:testPath "tests/models/test_gru.py" ; rnn:status "verified" .\n',
        "impl/ghost",
    ),
    "implementation-link": ("impl:gru rnn:implements term:lstm .\n", "impl/gru"),
    "orphan-paper": (
        'paper:orphan-1999-nothing a rnn:Paper ; dcterms:title "An orphan" ; rnn:authors "A. Nobody" ;\n'
        '    rnn:year "1999"^^xsd:gYear ; rnn:arxiv "1234.56789" ; dcterms:source source:wikipedia-rnn .\n',
        "paper/orphan-1999-nothing",
    ),
    "orphan-person": (
        'person:no-body a rnn:Person ; schema:name "No Body" ; skos:prefLabel "No Body" ; dcterms:source source:wikipedia-rnn .\n',
        "person/no-body",
    ),
    "placeholder-year": (_term("placeholder", 'rnn:yearIntroduced "1970"^^xsd:gYear'), "term/placeholder"),
    "year-range": (_term("too-old", 'rnn:yearIntroduced "1650"^^xsd:gYear'), "term/too-old"),
    "duplicate-paper": (
        'paper:lstm-again a rnn:Paper ; dcterms:title "LSTM again" ; rnn:authors "S. Hochreiter" ;\n'
        '    rnn:year "1997"^^xsd:gYear ; bibo:doi "10.1162/NECO.1997.9.8.1735" ; rnn:about term:lstm ;\n'
        "    dcterms:source source:wikipedia-rnn .\nterm:lstm rdfs:seeAlso paper:lstm-again .\n",
        "paper/",
    ),
    "duplicate-person": (
        'person:sepp-hochreiter-2 a rnn:Person ; schema:name "Sepp Hochreiter" ; skos:prefLabel "Sepp Hochreiter (2)" ;\n'
        "    dcterms:source source:wikipedia-rnn .\nterm:lstm rnn:introducedBy person:sepp-hochreiter-2 .\n",
        "person/sepp-hochreiter",
    ),
    "dangling-iri": ("term:gru rnn:relatedTo term:lstn .\n", "term/lstn"),
    "disjoint-subclass": ("term:gru rdfs:subClassOf term:lstm .\n", "term/gru"),
}


def test_every_qc_query_has_a_mutation() -> None:
    names = {p.name.removesuffix("-violation.rq") for p in QC_DIR.glob("*-violation.rq")}
    special = {"ontology-metadata"}  # edits ontology/rnnref.ttl: its own test below
    assert names - special == set(MUTATIONS), "add a mutation for each QC query"
    assert len(names) >= 18


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_qc_query_fires_on_its_mutation_and_names_the_file(graph_copy: Path, name: str) -> None:
    turtle, focus = MUTATIONS[name]
    (graph_copy / "kg" / "zz-mutation.ttl").write_text(PREFIXES + turtle, encoding="utf-8")
    report = validate(graph_copy, code=False, reasoner="none")
    hits = [p for p in report.problems if p.check == "qc" and p.message.startswith(f"{name}-violation:")]
    assert hits, [p.line_text() for p in report.problems]
    assert any(focus in (p.focus or "") for p in hits), [p.line_text() for p in hits]
    assert all(p.file for p in hits), [p.line_text() for p in hits]
    assert not report.conforms and not report.unusable


def test_ontology_without_license_or_title_is_reported(graph_copy: Path) -> None:
    path = graph_copy / "ontology" / "rnnref.ttl"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    dcterms:license <https://creativecommons.org/licenses/by-sa/4.0/> ;\n", "", 1)
    text = text.replace('    dcterms:title "rnnref: an ontology of recurrent neural networks"@en ;\n', "", 1)
    path.write_text(text, encoding="utf-8")
    report = validate(graph_copy, code=False, reasoner="none")
    messages = [p.message for p in report.problems if p.check == "qc"]
    assert any("no license" in m for m in messages) and any("no title" in m for m in messages), messages
    assert all(p.file == "ontology/rnnref.ttl" for p in report.problems if "ontology-metadata" in p.message)


# ------------------------------------------------------------------ OWL


def _graph(root: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    for path in graph_files(root):
        g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def main_graph() -> rdflib.Graph:
    return _graph(ROOT)


def test_main_graph_is_in_the_owl2_dl_profile(main_graph) -> None:
    assert reasoning.profile_problems(main_graph) == []


def test_profile_check_catches_punned_properties_and_foreign_datatypes(main_graph) -> None:
    g = rdflib.Graph()
    for t in main_graph:
        g.add(t)
    RNN = rdflib.Namespace("https://w3id.org/rnnref/ontology#")
    g.add((RNN.relatedTo, rdflib.RDF.type, rdflib.OWL.ObjectProperty))  # already an annotation property
    g.add((rdflib.URIRef("urn:x"), RNN.authors, rdflib.Literal("1999", datatype=rdflib.XSD.gYear)))
    g.add((rdflib.URIRef("urn:x"), rdflib.URIRef("urn:undeclared"), rdflib.Literal("v")))
    messages = {(f.focus, f.message.split(" (")[0].split(",")[0]) for f in reasoning.profile_problems(g)}
    foci = {focus for focus, _ in messages}
    assert str(RNN.relatedTo) in foci
    assert str(RNN.authors) in foci
    assert "urn:undeclared" in foci


REASONERS = ["owlrl"] + (["hermit"] if reasoning.java_available() else [])


@pytest.mark.parametrize("which", REASONERS)
def test_reasoner_finds_the_main_graph_consistent(main_graph, which: str) -> None:
    result = reasoning.hermit(main_graph) if which == "hermit" else reasoning.owl_rl(main_graph)
    assert result.consistent and result.unsatisfiable == [], result.findings


@pytest.mark.parametrize("which", REASONERS)
def test_gru_under_lstm_makes_gru_unsatisfiable(main_graph, which: str) -> None:
    g = rdflib.Graph()
    for t in main_graph:
        g.add(t)
    TERM = rdflib.Namespace("https://w3id.org/rnnref/term/")
    g.add((TERM.gru, rdflib.RDFS.subClassOf, TERM.lstm))
    result = reasoning.hermit(g) if which == "hermit" else reasoning.owl_rl(g)
    assert str(TERM.gru) in result.unsatisfiable
    assert str(TERM.lstm) not in result.unsatisfiable
    g.add((rdflib.URIRef("urn:an-instance"), rdflib.RDF.type, TERM.gru))
    result = reasoning.hermit(g) if which == "hermit" else reasoning.owl_rl(g)
    assert not result.consistent


@pytest.mark.parametrize("which", REASONERS)
def test_validate_reports_which_reasoner_ran_and_fails_on_gru_under_lstm(graph_copy: Path, which: str) -> None:
    (graph_copy / "kg" / "zz-mutation.ttl").write_text(PREFIXES + "term:gru rdfs:subClassOf term:lstm .\n", encoding="utf-8")
    report = validate(graph_copy, code=False, reasoner=which)
    check = next(c for c in report.checks if c.name == "reasoner")
    assert check.ran and ("HermiT" if which == "hermit" else "OWL 2 RL") in check.note
    assert any(p.focus == "https://w3id.org/rnnref/term/gru" for p in check.problems)
    assert any(p.file == "kg/terms/gru.ttl" for p in check.problems)


def test_unknown_reasoner_is_an_input_error() -> None:
    from rnnref.errors import InputError

    with pytest.raises(InputError, match="unknown reasoner"):
        validate(ROOT, reasoner="pellet")


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize("path", graph_files(ROOT) + [ROOT / "ontology" / "shapes.ttl"], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_turtle_file_parses_the_same_with_an_independent_parser(path: Path) -> None:
    """rnnref loads with pyoxigraph; rdflib's own Turtle parser must read the same triples."""
    by_rdflib = rdflib.Graph().parse(path, format="turtle")
    triples = ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)
    by_oxigraph = rdflib.Graph().parse(
        data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt"
    )
    assert len(by_rdflib) == len(by_oxigraph) > 0
    assert isomorphic(by_rdflib, by_oxigraph)
