"""A VoID description of the graph (https://www.w3.org/TR/void/): what the dataset is,
how big, which vocabularies and classes it uses, where to query it.

The statistics come from the SPARQL files in ``ontology/queries/void/`` and count the
union graph, each triple once (an RDF graph is a set), so ``void:triples`` equals
``SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }`` and the number of
triples in ``rnnref export --format nt``.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from rnnref.graph.catalogue import BASE, PREFIXES
from rnnref.graph.queries import XSD, query_dir, select

VOID = PREFIXES["void"]
DCTERMS = PREFIXES["dcterms"]
RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
DATASET = ox.NamedNode(BASE + "dataset")
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
EXAMPLES = ("term/lstm", "term/vanishing-gradient-problem", "paper/hochreiter-1997-lstm", "person/sepp-hochreiter")
FEATURES = ("Turtle", "N-Triples", "N-Quads", "TriG", "JSON-LD", "RDF_XML")


def _run(store: ox.Store, root: Path, name: str) -> list[dict]:
    text = (query_dir(root) / "void" / f"{name}.rq").read_text(encoding="utf-8")
    return select(store, text)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def describe(store: ox.Store, root: Path, endpoint: str | None = None) -> list[ox.Triple]:
    """The VoID triples for the graph in ``store``; ``endpoint`` is the SPARQL endpoint URL, if served."""
    v = lambda local: ox.NamedNode(VOID + local)  # noqa: E731
    d = lambda local: ox.NamedNode(DCTERMS + local)  # noqa: E731
    out: list[ox.Triple] = []
    add = lambda s, p, o: out.append(ox.Triple(s, p, o))  # noqa: E731

    summary = _run(store, root, "summary")[0]
    header = _run(store, root, "dataset")
    meta = header[0] if header else {}
    classes = _run(store, root, "class-partitions")
    properties = _run(store, root, "property-partitions")

    add(DATASET, RDF_TYPE, v("Dataset"))
    add(DATASET, d("title"), ox.Literal("rnnref knowledge graph", language="en"))
    description = meta.get("description") or "An ontology and knowledge graph of recurrent neural networks."
    add(DATASET, d("description"), ox.Literal(description, language="en"))
    add(DATASET, d("license"), ox.NamedNode(meta.get("license") or DEFAULT_LICENSE))
    if meta.get("ontology"):
        add(DATASET, v("rootResource"), ox.NamedNode(meta["ontology"]))
    if meta.get("version"):
        add(DATASET, d("hasVersion"), ox.NamedNode(meta["version"]))
    add(DATASET, v("uriSpace"), ox.Literal(BASE))
    if endpoint:
        add(DATASET, v("sparqlEndpoint"), ox.NamedNode(endpoint))
    for feature in FEATURES:
        add(DATASET, v("feature"), ox.NamedNode(f"http://www.w3.org/ns/formats/{feature}"))
    for local in EXAMPLES:
        node = ox.NamedNode(BASE + local)
        if any(True for _ in store.quads_for_pattern(node, None, None, None)):
            add(DATASET, v("exampleResource"), node)

    add(DATASET, v("triples"), _int(summary["triples"]))
    add(DATASET, v("distinctSubjects"), _int(summary["subjects"]))
    add(DATASET, v("properties"), _int(summary["properties"]))
    add(DATASET, v("distinctObjects"), _int(summary["objects"]))
    add(DATASET, v("classes"), _int(len(classes)))
    add(DATASET, v("entities"), _int(summary["subjects"]))

    # Vocabularies: the namespaces of the properties and classes in use that are known ones.
    used = {row["property"] for row in properties} | {row["class"] for row in classes if isinstance(row["class"], str)}
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: kv[1]):
        if ns.startswith(BASE) and prefix != "rnn":
            continue  # instance namespaces are not vocabularies
        if any(iri.startswith(ns) for iri in used):
            add(DATASET, v("vocabulary"), ox.NamedNode(ns))

    for i, row in enumerate(classes):
        part = ox.BlankNode(f"class{i}")
        add(DATASET, v("classPartition"), part)
        add(part, v("class"), ox.NamedNode(row["class"]))
        add(part, v("entities"), _int(row["entities"]))
    for i, row in enumerate(properties):
        part = ox.BlankNode(f"property{i}")
        add(DATASET, v("propertyPartition"), part)
        add(part, v("property"), ox.NamedNode(row["property"]))
        add(part, v("triples"), _int(row["triples"]))
        add(part, v("distinctSubjects"), _int(row["subjects"]))
        add(part, v("distinctObjects"), _int(row["objects"]))
    return out


def void_turtle(store: ox.Store, root: Path, endpoint: str | None = None) -> bytes:
    triples = describe(store, root, endpoint)
    prefixes = {k: PREFIXES[k] for k in ("void", "dcterms", "rnn", "term", "paper", "person", "rdf", "rdfs", "owl", "skos", "xsd")}
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
