"""Deterministic Turtle for import files: the same triples always give the same bytes.

Subjects are written terms first (in page order), then the rest by IRI; predicates in
``vocab.PREDICATE_ORDER``, then by IRI; objects sorted. No blank nodes are used, so a
file parses back to exactly the triples it was written from.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from rnnref.logseq import vocab as v

PREFIXES: dict[str, str] = {
    "rnn": v.RNN,
    "term": v.TERM,
    "paper": v.PAPER,
    "person": v.BASE + "person/",
    "application": v.BASE + "application/",
    "source": v.SOURCE,
    "logseq": v.LOGSEQ,
    "owl": v.OWL,
    "rdfs": v.RDFS,
    "xsd": v.XSD,
    "skos": v.SKOS,
    "dcterms": v.DCTERMS,
    "schema": v.SCHEMA,
    "bibo": v.BIBO,
}
HEADER_MARK = "# Imported by `rnnref import logseq`"
_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_ORDER = {p: i for i, p in enumerate(v.PREDICATE_ORDER)}


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )


def node(term) -> str:
    """A term in Turtle: prefixed name where the local part allows it, else <IRI>."""
    if isinstance(term, ox.NamedNode):
        if term == v.TYPE:
            return "a"
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns) and _LOCAL.match(term.value[len(ns):]):
                return f"{prefix}:{term.value[len(ns):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        text = f'"{_escape(term.value)}"'
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype.value != v.XSD + "string":
            return f"{text}^^{node(term.datatype)}"
        return text
    raise ValueError(f"cannot write {term!r} in an import file")


def triple_text(t: ox.Triple) -> str:
    predicate = "rdf:type" if t.predicate == v.TYPE else node(t.predicate)
    return f"{node(t.subject)} {predicate} {node(t.object)} ."


def _sort_key(term) -> tuple[int, str]:
    return (0 if isinstance(term, ox.NamedNode) else 1, str(term))


def serialize(triples: set[ox.Triple], header_lines: list[str], first_subjects: list[ox.NamedNode] = ()) -> str:
    by_subject: dict[ox.NamedNode, dict[ox.NamedNode, list]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, {}).setdefault(t.predicate, []).append(t.object)
    first = [s for s in dict.fromkeys(first_subjects) if s in by_subject]
    rest = sorted((s for s in by_subject if s not in first), key=lambda s: s.value)
    out = [HEADER_MARK + ("" if not header_lines else f" from {header_lines[0]}")]
    out += [f"# {line}" for line in header_lines[1:]]
    out.append("# Regenerate it by importing the page again rather than editing it by hand.")
    width = max(len(p) for p in PREFIXES)
    out += [f"@prefix {p + ':':<{width + 1}} <{ns}> ." for p, ns in PREFIXES.items()]
    for subject in first + rest:
        predicates = sorted(by_subject[subject], key=lambda p: (_ORDER.get(p, len(_ORDER)), p.value))
        out.append("")
        lines = []
        for predicate in predicates:
            objects = ", ".join(node(o) for o in sorted(set(by_subject[subject][predicate]), key=_sort_key))
            lines.append(f"    {node(predicate)} {objects}")
        out.append(node(subject))
        out.append(" ;\n".join(lines) + " .")
    return "\n".join(out) + "\n"


def parse(data: bytes) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(data, format=ox.RdfFormat.TURTLE)}
