"""Run SPARQL over the store: named queries from ontology/queries/*.rq, values bound
through pyoxigraph substitutions (never formatted into the query text), results
converted to plain Python values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

import pyoxigraph as ox

from rnnref.errors import InputError, NotFoundError

XSD = "http://www.w3.org/2001/XMLSchema#"
_INT_TYPES = {XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger", "gYear")}
_FLOAT_TYPES = {XSD + t for t in ("double", "float", "decimal")}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def query_dir(root: Path) -> Path:
    return root / "ontology" / "queries"


def named_queries(root: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(query_dir(root).glob("*.rq"))}


def read_named_query(root: Path, name: str) -> str:
    if not _NAME.match(name):
        raise InputError(f"bad query name {name!r}: use letters, digits, '-' and '_'")
    path = query_dir(root) / f"{name}.rq"
    if not path.is_file():
        raise NotFoundError(f"no named query {name!r} in {query_dir(root)}")
    return path.read_text(encoding="utf-8")


def to_python(term: Any) -> Any:
    """An RDF term as a plain value: IRIs as strings, typed literals as int/float/bool."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        try:
            if dt in _INT_TYPES:
                return int(term.value)
            if dt in _FLOAT_TYPES:
                return float(term.value)
            if dt == XSD + "boolean":
                return term.value in ("true", "1")
        except ValueError:
            return term.value
        return term.value
    return str(term)


def to_rdf(value: Any) -> ox.NamedNode | ox.Literal:
    """A binding value as an RDF term. Strings that are IRIs must be passed as NamedNode."""
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return value
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "double"))
    return ox.Literal(str(value))


def select(store: ox.Store, text: str, bindings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run a SELECT and return rows as dicts of plain values (unbound -> None)."""
    subs = {ox.Variable(k): to_rdf(v) for k, v in (bindings or {}).items()}
    result = store.query(text, substitutions=subs or None, use_default_graph_as_union=True)
    if not isinstance(result, ox.QuerySolutions):
        raise InputError("expected a SELECT query")
    names = [v.value for v in result.variables]
    return [{n: to_python(sol[n]) for n in names} for sol in result]


def distinct(values: Iterable[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for v in values:
        if v is not None:
            seen.setdefault(v, None)
    return list(seen)
