"""The whole graph as one file, in a standard RDF format.

Triple formats (Turtle, N-Triples, RDF/XML, JSON-LD) hold the union of all files, each
triple once. Dataset formats (N-Quads, TriG) keep every triple in the named graph of
the file that states it (``urn:rnnref:file:<path>``), so a consumer can still trace
it to its file. Output is sorted, so two exports of the same graph are byte-identical.
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox

from rnnref.errors import InputError

# name -> (pyoxigraph format, keeps the named graphs, media type)
FORMATS: dict[str, tuple[ox.RdfFormat, bool, str]] = {
    "ttl": (ox.RdfFormat.TURTLE, False, "text/turtle"),
    "nt": (ox.RdfFormat.N_TRIPLES, False, "application/n-triples"),
    "nq": (ox.RdfFormat.N_QUADS, True, "application/n-quads"),
    "trig": (ox.RdfFormat.TRIG, True, "application/trig"),
    "jsonld": (ox.RdfFormat.JSON_LD, False, "application/ld+json"),
    "xml": (ox.RdfFormat.RDF_XML, False, "application/rdf+xml"),
}


def _key(term) -> tuple[str, str]:
    return (type(term).__name__, str(term))


def stable_blank_nodes(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The same quads with blank nodes renamed after what they say, not after the random
    ids the parser gave them, so that the same graph exports to the same bytes.

    A blank node's name is a hash of its graph, the (subject, predicate) pairs that point
    at it and the (predicate, object) pairs it has, other blank nodes written as "_".
    Blank nodes that say exactly the same get a counter on top.
    """
    signature: dict[ox.BlankNode, list[str]] = {}
    blank = lambda t: "_" if isinstance(t, ox.BlankNode) else str(t)  # noqa: E731
    for q in quads:
        if isinstance(q.subject, ox.BlankNode):
            signature.setdefault(q.subject, []).append(f"{blank(q.graph_name)} out {q.predicate} {blank(q.object)}")
        if isinstance(q.object, ox.BlankNode):
            signature.setdefault(q.object, []).append(f"{blank(q.graph_name)} in {blank(q.subject)} {q.predicate}")
        if isinstance(q.graph_name, ox.BlankNode):
            signature.setdefault(q.graph_name, []).append("graph")
    if not signature:
        return quads
    names: dict[ox.BlankNode, ox.BlankNode] = {}
    seen: dict[str, int] = {}
    for node, parts in sorted(signature.items(), key=lambda kv: "\n".join(sorted(kv[1]))):
        digest = hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]
        count = seen.get(digest, 0)
        seen[digest] = count + 1
        names[node] = ox.BlankNode(f"b{digest}{'' if count == 0 else f'x{count}'}")
    rename = lambda t: names.get(t, t) if isinstance(t, ox.BlankNode) else t  # noqa: E731
    return [ox.Quad(rename(q.subject), q.predicate, rename(q.object), rename(q.graph_name)) for q in quads]


def triples(store: ox.Store) -> list[ox.Triple]:
    """Every triple of the union graph once, sorted."""
    unique = {quad.triple for quad in stable_blank_nodes(list(store))}
    return sorted(unique, key=lambda t: (_key(t.subject), _key(t.predicate), _key(t.object)))


def quads(store: ox.Store) -> list[ox.Quad]:
    """Every quad with its file's named graph, sorted by graph then triple."""
    return sorted(
        stable_blank_nodes(list(store)), key=lambda q: (_key(q.graph_name), _key(q.subject), _key(q.predicate), _key(q.object))
    )


def serialize(store: ox.Store, fmt: str) -> bytes:
    """The graph in ``fmt`` (one of FORMATS)."""
    from rnnref.graph.catalogue import PREFIXES

    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    rdf_format, dataset, _ = FORMATS[fmt]
    data = quads(store) if dataset else triples(store)
    prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(data, format=rdf_format, prefixes=prefixes) or b""
