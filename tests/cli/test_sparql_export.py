"""`rnnref export`: every format re-parses to the graph it came from (N-Quads and TriG
with each file's named graph), writes are atomic, and the VoID description counts the
real graph."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

PARSE = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "xml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}
DISTINCT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
VOID = "http://rdfs.org/ns/void#"


def distinct_triples(kg) -> int:
    from rnnref.graph.queries import select

    return select(kg.store, DISTINCT)[0]["n"]


@pytest.mark.parametrize("fmt", ["ttl", "nt", "xml", "jsonld"])
def test_triple_formats_round_trip_to_the_same_number_of_triples(cli, kg, tmp_path, fmt):
    out = tmp_path / "deep" / "folder" / f"graph.{fmt}"
    r = cli("export", "--format", fmt, "--out", str(out))
    assert r.code == 0, r.err
    assert str(out) in r.out
    parsed = list(ox.parse(path=out, format=PARSE[fmt]))
    assert len(parsed) == distinct_triples(kg)
    assert all(q.graph_name == ox.DefaultGraph() for q in parsed)
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left


@pytest.mark.parametrize("fmt", ["nq", "trig"])
def test_dataset_formats_keep_each_files_named_graph(cli, kg, tmp_path, fmt):
    out = tmp_path / f"graph.{fmt}"
    r = cli("export", "--format", fmt, "--out", str(out))
    assert r.code == 0, r.err
    parsed = list(ox.parse(path=out, format=PARSE[fmt]))
    assert len(parsed) == len(kg.store)
    assert {q.graph_name for q in parsed} == set(kg.store.named_graphs())
    assert ox.NamedNode("urn:rnnref:file:kg/terms/lstm.ttl") in {q.graph_name for q in parsed}


def test_stdout_and_file_exports_are_identical_and_deterministic(cli, tmp_path):
    out = tmp_path / "graph.nt"
    r1 = cli("export", "--format", "nt")
    r2 = cli("export", "--format", "nt", "--out", str(out))
    assert r1.code == r2.code == 0
    assert out.read_text(encoding="utf-8") == r1.out


def test_an_export_replaces_a_file_atomically(tmp_path):
    from rnnref.atomic import atomic_write

    target = tmp_path / "graph.ttl"
    target.write_text("old", encoding="utf-8")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.ttl"]


def test_export_to_a_folder_is_an_input_error(cli, tmp_path):
    r = cli("export", "--format", "nt", "--out", str(tmp_path))
    assert r.code == 2 and "folder" in r.err


def test_void_counts_the_real_graph(cli, kg):
    r = cli("export", "--format", "void", "--endpoint-url", "http://127.0.0.1:7878/query")
    assert r.code == 0, r.err
    graph = [q.triple for q in ox.parse(r.out.encode(), format=ox.RdfFormat.TURTLE)]
    dataset = ox.NamedNode("https://w3id.org/rnnref/dataset")

    def value(subject, local):
        return [t.object for t in graph if t.subject == subject and t.predicate.value == VOID + local]

    assert ox.Triple(dataset, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(VOID + "Dataset")) in graph
    assert int(value(dataset, "triples")[0].value) == distinct_triples(kg)
    assert value(dataset, "sparqlEndpoint") == [ox.NamedNode("http://127.0.0.1:7878/query")]
    assert ox.NamedNode("https://w3id.org/rnnref/ontology#") in value(dataset, "vocabulary")
    assert ox.NamedNode("https://w3id.org/rnnref/term/lstm") in value(dataset, "exampleResource")
    assert [t for t in graph if t.predicate.value == "http://purl.org/dc/terms/license"]
    # The class partition of rnn:Paper counts the papers.
    papers = next(
        value(part, "entities")[0]
        for part in value(dataset, "classPartition")
        if value(part, "class") == [ox.NamedNode("https://w3id.org/rnnref/ontology#Paper")]
    )
    from rnnref.graph.queries import select

    n = select(kg.store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a <https://w3id.org/rnnref/ontology#Paper> }")[0]["n"]
    assert int(papers.value) == n
    # Property partitions add up to the triples.
    total = sum(int(value(part, "triples")[0].value) for part in value(dataset, "propertyPartition"))
    assert total == distinct_triples(kg)


def test_export_is_a_group_that_takes_subcommands():
    """Other views register as `rnnref export NAME` on export_app (e.g. logseq)."""
    import typer
    from typer.testing import CliRunner

    from rnnref.cli.export import export_app

    probe = typer.Typer()
    probe.add_typer(export_app, name="export")
    before = list(export_app.registered_commands)

    @export_app.command("probe-view")
    def probe_view() -> None:
        print("probe view")

    try:
        result = CliRunner().invoke(probe, ["export", "probe-view"])
        assert result.exit_code == 0, result.output
        assert "probe view" in result.output
    finally:
        export_app.registered_commands[:] = before
