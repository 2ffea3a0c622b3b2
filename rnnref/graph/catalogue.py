"""The named SPARQL queries of ``ontology/queries/*.rq``: what each one asks, which
values it takes, and how a user's ``--param key=value`` becomes an RDF term.

A competency query starts with a comment header that both people and this module read::

    # Question: Which papers did a person write?
    # Parameter: ?person person, required, example=sepp-hochreiter -- who: an IRI, person:<slug>, a slug or a name
    # Parameter: ?before year, default=2000 -- compared with the year of rnn:yearIntroduced
    # Returns: ?paper ?title ?year ...

``Parameter`` lines name a variable, its kind, and optionally ``required``,
``default=V`` and ``example=V`` (the value the cookbook and the tests use). A
parameter with neither ``required`` nor a default is an optional filter: left out,
its variable stays free and matches anything. Older queries without a header (the
``term-*.rq`` the library runs) take any variable they mention, typed by the generic
rule of kind ``resource``.

Kinds, and what a value becomes (``<...>`` always means an IRI, and a known
``prefix:local`` such as ``term:lstm`` is always expanded):

- ``term``: a term IRI; a slug, label or alternative label is resolved like
  ``rnnref lookup`` does; no match is "not found" (exit 1) with suggestions.
- ``person`` / ``paper``: an IRI; a slug (``sepp-hochreiter``) or a name / title
  (case-insensitive) of one in the graph; anything else stays a plain literal, so it
  matches nothing (the caller is told).
- ``class``: a top class (``architecture``, ``training-method``, ...) as its rnn: IRI.
- ``year`` / ``integer``: an ``xsd:integer``; ``gyear``: an ``xsd:gYear``.
- ``string``: a plain ``xsd:string`` literal, whatever it contains.
- ``resource``: an IRI if it looks like one or is a term's slug, otherwise a literal.

Values reach the query only through pyoxigraph substitutions (SEP-0007), never by
formatting text; a substituted variable must appear in the SELECT projection, so every
parameter is also a result column.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyoxigraph as ox

from rnnref.errors import InputError, NotFoundError
from rnnref.graph.queries import XSD, query_dir, read_named_query

BASE = "https://w3id.org/rnnref/"
ONTOLOGY_NS = BASE + "ontology#"
TERM_NS = BASE + "term/"

# The prefixes the graph's own Turtle files use, and the vocabularies they reuse.
PREFIXES: dict[str, str] = {
    "rnn": ONTOLOGY_NS,
    "term": TERM_NS,
    "paper": BASE + "paper/",
    "person": BASE + "person/",
    "event": BASE + "event/",
    "impl": BASE + "impl/",
    "source": BASE + "source/",
    "standard": BASE + "standard/",
    "application": BASE + "application/",
    "framework": BASE + "framework/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": XSD,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "bibo": "http://purl.org/ontology/bibo/",
    "mls": "http://www.w3.org/ns/mls#",
    "void": "http://rdfs.org/ns/void#",
}
TOP_CLASSES = ("Architecture", "TrainingMethod", "Problem", "Component", "Property", "LossFunction")
KINDS = ("term", "person", "paper", "class", "year", "gyear", "integer", "string", "resource")

_HEADER = re.compile(r"^#\s*(Question|Parameters?|Returns)\s*:\s*(.*)$", re.IGNORECASE)
_PARAM = re.compile(
    r"^\?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<kind>[a-z]+)(?P<flags>(?:\s*,\s*[a-z]+(?:=[^\s,]+)?)*)\s*(?:--\s*(?P<doc>.*))?$"
)
_ABSOLUTE_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|urn:|mailto:)\S*$")
_PREFIXED = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9_-]*):(?P<local>[^\s<>\"{}|^`\\]*)$")
_INTEGER = re.compile(r"^[+-]?\d{1,9}$")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str
    required: bool = False
    default: str | None = None
    example: str | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "default": self.default,
            "example": self.example,
            "description": self.description,
        }


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    question: str
    parameters: tuple[Parameter, ...] = ()
    returns: str = ""
    declared: bool = False  # whether the file has a Question/Parameter header

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def example_params(self) -> dict[str, str]:
        """The values that make the query answer something on the real graph."""
        return {p.name: p.example for p in self.parameters if p.example is not None}

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "question": self.question,
            "parameters": [p.as_dict() for p in self.parameters],
            "returns": self.returns,
            "file": self.path.name,
        }


def parse_header(name: str, path: Path, text: str) -> NamedQuery:
    """Read the leading comment block of one query file.

    A comment line that is not itself a ``Key:`` line continues the previous one.
    """
    fields: list[list[str]] = []  # [key, text] in order
    plain: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        m = _HEADER.match(stripped)
        if m:
            fields.append([m.group(1).lower().rstrip("s") if m.group(1).lower() == "parameters" else m.group(1).lower(), m.group(2).strip()])
        elif fields:
            fields[-1][1] += " " + stripped.lstrip("#").strip()
        else:
            plain.append(stripped.lstrip("#").strip())
    question = next((v for k, v in fields if k == "question"), "")
    returns = next((v for k, v in fields if k == "returns"), "")
    params = tuple(
        _parse_parameter(path, v) for k, v in fields if k == "parameter" and v.lower() not in ("none", "-", "")
    )
    if not question:
        # Older queries: the first sentence of the leading comment.
        question = " ".join(plain).split(". ")[0].rstrip(".")
    return NamedQuery(name, path, text, question, params, returns, bool(fields))


def _parse_parameter(path: Path, spec: str) -> Parameter:
    m = _PARAM.match(spec)
    if not m or m.group("kind") not in KINDS:
        raise InputError(f"{path.name}: bad Parameter line {spec!r}: write '?name KIND[, required][, default=V][, example=V] -- text' with KIND one of {', '.join(KINDS)}")
    required, default, example = False, None, None
    for flag in filter(None, (f.strip() for f in m.group("flags").split(","))):
        key, _, value = flag.partition("=")
        if key == "required":
            required = True
        elif key == "default" and value:
            default = value
        elif key == "example" and value:
            example = value
        else:
            raise InputError(f"{path.name}: unknown flag {flag!r} in Parameter line {spec!r}")
    return Parameter(m.group("name"), m.group("kind"), required, default, example or default, (m.group("doc") or "").strip())


def catalogue(root: Path) -> list[NamedQuery]:
    """Every named query (not the QC queries under qc/), sorted by name."""
    out = []
    for path in sorted(query_dir(root).glob("*.rq")):
        out.append(parse_header(path.stem, path, path.read_text(encoding="utf-8")))
    return out


def load(root: Path, name: str) -> NamedQuery:
    """One named query, or "not found" with the closest names."""
    try:
        text = read_named_query(root, name)
    except NotFoundError:
        names = [q.stem for q in sorted(query_dir(root).glob("*.rq"))]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        close += [n for n in names if len(name) >= 3 and name.lower() in n and n not in close]
        raise NotFoundError(f"no named query {name!r} (see rnnref query --list)", close[:3]) from None
    return parse_header(name, query_dir(root) / f"{name}.rq", text)


# -- values -------------------------------------------------------------------------


def iri_of(value: str) -> ox.NamedNode | None:
    """The IRI a value spells (``<...>``, an absolute IRI or a known prefix:local), else None."""
    if value.startswith("<") and value.endswith(">"):
        return _named_node(value[1:-1])
    m = _PREFIXED.match(value)
    if m and m.group("prefix") in PREFIXES:
        return _named_node(PREFIXES[m.group("prefix")] + m.group("local"))
    if _ABSOLUTE_IRI.match(value):
        return _named_node(value)
    return None


def _named_node(text: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(text)
    except ValueError as exc:
        raise InputError(f"not a valid IRI: {text!r} ({exc})") from None


@dataclass
class Binder:
    """Turns ``key=value`` strings into RDF terms for one graph.

    ``resolve_term`` is ``KnowledgeGraph.resolve`` (lookup's matching); ``notes`` collects
    what the caller should tell the user (a value kept as a literal).
    """

    store: ox.Store
    resolve_term: Callable[[str], Any] | None = None
    notes: list[str] = field(default_factory=list)

    def bind(self, query: NamedQuery | None, text: str, raw: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
        """Type every value for ``query`` (or for the ad-hoc ``text``); check names and required ones."""
        out: dict[str, ox.NamedNode | ox.Literal] = {}
        if query is not None and query.declared:
            known = {p.name for p in query.parameters}
            for key in raw:
                if key not in known:
                    takes = ", ".join(f"{p.name}" for p in query.parameters) or "no parameters"
                    raise InputError(f"query {query.name!r} has no parameter {key!r}; it takes: {takes}")
            for p in query.parameters:
                value = raw.get(p.name, p.default)
                if value is None:
                    if p.required:
                        hint = f" (e.g. --param {p.name}={p.example})" if p.example else ""
                        raise InputError(f"query {query.name!r} needs --param {p.name}=VALUE: {p.description or p.kind}{hint}")
                    continue
                out[p.name] = self.value(p.kind, p.name, value)
            return out
        mentioned = set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", _without_comments(text)))
        for key, value in raw.items():
            if key not in mentioned:
                raise InputError(f"the query has no variable ?{key} to bind")
            out[key] = self.value("resource", key, value)
        return out

    def value(self, kind: str, name: str, value: str) -> ox.NamedNode | ox.Literal:
        if "\x00" in value:
            raise InputError(f"--param {name}: the value contains a NUL byte")
        if kind in ("year", "integer", "gyear"):
            if not _INTEGER.match(value.strip()):
                raise InputError(f"--param {name}={value!r}: expected {'a year' if kind != 'integer' else 'an integer'}")
            number = int(value.strip())
            if kind == "gyear":
                text = f"{'-' if number < 0 else ''}{abs(number):04d}"
                return ox.Literal(text, datatype=ox.NamedNode(XSD + "gYear"))
            return ox.Literal(str(number), datatype=ox.NamedNode(XSD + "integer"))
        if kind == "string":
            return ox.Literal(value)
        iri = iri_of(value.strip())
        if iri is not None:
            return iri
        if kind == "term":
            if self.resolve_term is None:
                raise InputError(f"--param {name}: give the term as an IRI or term:<slug>")
            return ox.NamedNode(self.resolve_term(value).iri)
        if kind == "class":
            wanted = re.sub(r"[-_\s]+", "", value).casefold()
            for top in TOP_CLASSES:
                if top.casefold() == wanted:
                    return ox.NamedNode(ONTOLOGY_NS + top)
            raise InputError(f"--param {name}={value!r}: choose a top class from {', '.join(TOP_CLASSES)}")
        if kind in ("person", "paper"):
            found = self._individual(kind, value)
            if found is not None:
                return found
            self.notes.append(f"no {kind} matches {value!r}; ?{name} is bound to it as a literal, which matches nothing")
            return ox.Literal(value)
        # resource: a term's slug is an IRI, anything else is data
        slug = value.strip()
        if re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug) and self._exists(ox.NamedNode(TERM_NS + slug)):
            return ox.NamedNode(TERM_NS + slug)
        return ox.Literal(value)

    def _exists(self, node: ox.NamedNode) -> bool:
        return any(True for _ in self.store.quads_for_pattern(node, None, None, None))

    def _individual(self, kind: str, value: str) -> ox.NamedNode | None:
        rnn_class = ox.NamedNode(ONTOLOGY_NS + kind.capitalize())
        rdf_type = ox.NamedNode(PREFIXES["rdf"] + "type")
        slug = value.strip()
        if re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
            node = ox.NamedNode(PREFIXES[kind] + slug)
            if any(True for _ in self.store.quads_for_pattern(node, rdf_type, rnn_class, None)):
                return node
        wanted = " ".join(value.split()).casefold()
        name_predicates = (
            [PREFIXES["schema"] + "name", PREFIXES["skos"] + "prefLabel"]
            if kind == "person"
            else [PREFIXES["dcterms"] + "title"]
        )
        for quad in self.store.quads_for_pattern(None, rdf_type, rnn_class, None):
            for predicate in name_predicates:
                for name_quad in self.store.quads_for_pattern(quad.subject, ox.NamedNode(predicate), None, None):
                    if " ".join(name_quad.object.value.split()).casefold() == wanted:
                        return quad.subject  # type: ignore[return-value]
        return None


def _without_comments(text: str) -> str:
    from rnnref.graph.readonly import code_only

    return code_only(text, keep_variables=True)
