"""The records the site's index pages are made from: people, papers, standards,
applications, frameworks, sources, facts with their provenance, and the ontology's
own classes and properties.

Each comes from a SPARQL file in ``rnnref/site/queries/`` (run with values bound,
never formatted in), like the term records of ``rnnref.graph``. They live here, not
in ``ontology/queries/``, because only the site reads them; the SPARQL cookbook page
shows the named queries of ``ontology/queries/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from rnnref.errors import InputError
from rnnref.graph import queries as q
from rnnref.graph.kg import short_id
from rnnref.graph.load import graph_file_path
from rnnref.graph.records import Paper, Ref

QUERY_DIR = Path(__file__).resolve().parent / "queries"
SAFE_ANCHOR = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
BASE = "https://w3id.org/rnnref/"

# Prefixes used to show IRIs compactly (the graph's own and the reused vocabularies).
PREFIXES = {
    "rnn": BASE + "ontology#",
    "term": BASE + "term/",
    "paper": BASE + "paper/",
    "person": BASE + "person/",
    "event": BASE + "event/",
    "impl": BASE + "impl/",
    "source": BASE + "source/",
    "standard": BASE + "standard/",
    "application": BASE + "application/",
    "framework": BASE + "framework/",
    "bench": BASE + "bench/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "bibo": "http://purl.org/ontology/bibo/",
    "mls": "http://www.w3.org/ns/mls#",
}


def compact(iri: str | None) -> str | None:
    """``https://w3id.org/rnnref/term/lstm`` -> ``term:lstm``; other values unchanged."""
    if iri is None:
        return None
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def anchor(local: str) -> str | None:
    """An HTML id for a record, or None if its local name cannot be one."""
    return local if SAFE_ANCHOR.match(local) else None


def _split_authors(text: str | None) -> list[str]:
    return [a.strip() for a in (text or "").split(";") if a.strip()]


@dataclass
class PersonRecord:
    id: str
    iri: str
    name: str
    anchor: str | None
    alt_names: list[str] = field(default_factory=list)
    terms: list[Ref] = field(default_factory=list)
    papers: list[Ref] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


@dataclass
class PaperRecord:
    paper: Paper
    iri: str
    anchor: str | None
    terms: list[tuple[Ref, str]] = field(default_factory=list)  # (term, role)


@dataclass
class StandardRecord:
    id: str
    iri: str
    label: str
    anchor: str | None
    regulation: bool
    alt_labels: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    references: list[tuple[Ref, str | None, str | None]] = field(default_factory=list)  # (term, clause, status)


@dataclass
class ApplicationRecord:
    id: str
    iri: str
    label: str
    anchor: str | None
    definition: str | None
    comments: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)  # application ids
    alt_labels: list[str] = field(default_factory=list)
    terms: list[Ref] = field(default_factory=list)
    papers: list[Ref] = field(default_factory=list)


@dataclass
class ApiRecord:
    name: str
    term: Ref | None
    status: str | None
    comments: list[str] = field(default_factory=list)


@dataclass
class FrameworkRecord:
    id: str
    iri: str
    label: str
    anchor: str | None
    definition: str | None
    url: str | None
    comments: list[str] = field(default_factory=list)
    apis: list[ApiRecord] = field(default_factory=list)


@dataclass
class SourceRecord:
    id: str
    iri: str
    label: str
    anchor: str | None
    title: str | None
    publisher: str | None
    url: str | None


@dataclass
class Fact:
    """One statement about a term: property, value, where it is stated, who says so."""

    property: str  # compact IRI, e.g. "skos:prefLabel"
    value: str  # a literal, or the compact IRI of a node
    value_label: str | None
    is_iri: bool
    file: str  # "kg/terms/lstm.ttl"
    sources: list[str]  # compact IRIs of the sources the value itself cites


@dataclass
class OntologyEntity:
    iri: str
    local: str
    kind: str  # "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty"
    label: str | None
    definition: str | None
    comments: list[str] = field(default_factory=list)
    axioms: dict[str, list[str]] = field(default_factory=dict)  # axiom -> compact objects

    @property
    def anchor(self) -> str:
        return ("class-" if self.kind == "Class" else "prop-") + self.local


class SiteData:
    """The site's view of one graph: runs the site queries once each."""

    def __init__(self, kg):
        self.kg = kg
        self.term_ids = {e.iri: e.id for e in kg.index}
        self.term_labels = {e.iri: e.label for e in kg.index}
        self._text: dict[str, str] = {}

    def rows(self, name: str, **bindings: Any) -> list[dict[str, Any]]:
        if name not in self._text:
            path = QUERY_DIR / f"{name}.rq"
            try:
                self._text[name] = path.read_text(encoding="utf-8")
            except OSError:
                raise InputError(f"site query {path} is missing") from None
        subs = {k: ox.NamedNode(v) if isinstance(v, str) else v for k, v in bindings.items()}
        return q.select(self.kg.store, self._text[name], subs)

    def term_ref(self, iri: str | None, label: str | None = None) -> Ref | None:
        if iri is None:
            return None
        return Ref(self.term_ids.get(iri, short_id(iri)), label or self.term_labels.get(iri) or short_id(iri))

    # -- people ----------------------------------------------------------------------

    @cached_property
    def people(self) -> list[PersonRecord]:
        people: dict[str, PersonRecord] = {}
        for r in self.rows("people"):
            local = short_id(r["person"])
            person = people.setdefault(r["person"], PersonRecord(local, r["person"], r["name"], anchor(local)))
            if r["alt"] and r["alt"] != person.name and r["alt"] not in person.alt_names:
                person.alt_names.append(r["alt"])
        for r in self.rows("person-links"):
            person = people.get(r["person"])
            if person is None:
                continue
            if r["kind"] == "term" and r["target"] in self.term_ids:
                ref = self.term_ref(r["target"], r["label"])
                if ref not in person.terms:
                    person.terms.append(ref)
            elif r["kind"] == "paper":
                ref = Ref(short_id(r["target"]), r["label"])
                if ref not in person.papers:
                    person.papers.append(ref)
            elif r["kind"] == "event" and r["label"] not in person.events:
                person.events.append(r["label"])
        return sorted(people.values(), key=lambda p: (p.name.casefold(), p.id))

    # -- papers ----------------------------------------------------------------------

    @cached_property
    def papers(self) -> list[PaperRecord]:
        papers: dict[str, PaperRecord] = {}
        for r in self.rows("papers"):
            if r["paper"] in papers:
                continue
            local = short_id(r["paper"])
            year = r["year"] if isinstance(r["year"], int) else None
            paper = Paper(local, r["title"], _split_authors(r["authors"]), year, r["venue"], r["doi"], r["arxiv"], r["url"])
            papers[r["paper"]] = PaperRecord(paper, r["paper"], anchor(local))
        for r in self.rows("paper-terms"):
            record = papers.get(r["paper"])
            if record is None or r["term"] not in self.term_ids:
                continue
            ref = self.term_ref(r["term"], r["label"])
            if all(existing != ref for existing, _ in record.terms):
                record.terms.append((ref, r["role"]))
        return sorted(papers.values(), key=lambda p: (p.paper.year or 0, p.paper.title.casefold(), p.paper.id))

    # -- standards -------------------------------------------------------------------

    @cached_property
    def standards(self) -> list[StandardRecord]:
        standards: dict[str, StandardRecord] = {}
        for r in self.rows("standards"):
            local = short_id(r["standard"])
            record = standards.setdefault(
                r["standard"], StandardRecord(local, r["standard"], r["label"], anchor(local), bool(r["regulation"]))
            )
            if r["alt"] and r["alt"] not in record.alt_labels:
                record.alt_labels.append(r["alt"])
            if r["comment"] and r["comment"] not in record.comments:
                record.comments.append(r["comment"])
        for r in self.rows("standard-references"):
            record = standards.get(r["standard"])
            if record is not None and r["term"] in self.term_ids:
                entry = (self.term_ref(r["term"], r["label"]), r["clause"], r["status"])
                if entry not in record.references:
                    record.references.append(entry)
        return sorted(standards.values(), key=lambda s: (s.label.casefold(), s.id))

    # -- applications ----------------------------------------------------------------

    @cached_property
    def applications(self) -> list[ApplicationRecord]:
        apps: dict[str, ApplicationRecord] = {}
        for r in self.rows("applications"):
            local = short_id(r["application"])
            app = apps.setdefault(
                r["application"], ApplicationRecord(local, r["application"], r["label"], anchor(local), r["definition"])
            )
            if r["comment"] and r["comment"] not in app.comments:
                app.comments.append(r["comment"])
            if r["broader"] and short_id(r["broader"]) not in app.broader:
                app.broader.append(short_id(r["broader"]))
        for r in self.rows("application-links"):
            app = apps.get(r["application"])
            if app is None:
                continue
            if r["kind"] == "alt" and r["label"] not in app.alt_labels:
                app.alt_labels.append(r["label"])
            elif r["kind"] == "term" and r["target"] in self.term_ids:
                ref = self.term_ref(r["target"], r["label"])
                if ref not in app.terms:
                    app.terms.append(ref)
            elif r["kind"] == "paper":
                ref = Ref(short_id(r["target"]), r["label"])
                if ref not in app.papers:
                    app.papers.append(ref)
        return sorted(apps.values(), key=lambda a: (a.label.casefold(), a.id))

    # -- frameworks ------------------------------------------------------------------

    @cached_property
    def frameworks(self) -> list[FrameworkRecord]:
        frameworks: dict[str, FrameworkRecord] = {}
        for r in self.rows("frameworks"):
            local = short_id(r["framework"])
            fw = frameworks.setdefault(
                r["framework"],
                FrameworkRecord(local, r["framework"], r["label"], anchor(local), r["definition"], r["url"]),
            )
            if r["comment"] and r["comment"] not in fw.comments:
                fw.comments.append(r["comment"])
        apis: dict[tuple[str, str], ApiRecord] = {}
        for r in self.rows("framework-apis"):
            fw = frameworks.get(r["framework"])
            if fw is None:
                continue
            key = (r["framework"], r["api"])
            api = apis.get(key)
            if api is None:
                term = self.term_ref(r["term"], r["label"]) if r["term"] else None
                api = apis[key] = ApiRecord(r["name"], term, r["status"])
                fw.apis.append(api)
            if r["comment"] and r["comment"] not in api.comments:
                api.comments.append(r["comment"])
        for fw in frameworks.values():
            fw.apis.sort(key=lambda a: a.name.casefold())
        return sorted(frameworks.values(), key=lambda f: (f.label.casefold(), f.id))

    # -- sources ---------------------------------------------------------------------

    @cached_property
    def sources(self) -> list[SourceRecord]:
        sources: dict[str, SourceRecord] = {}
        for r in self.rows("sources"):
            if r["source"] in sources:
                continue
            local = short_id(r["source"])
            sources[r["source"]] = SourceRecord(
                local, r["source"], r["label"] or r["title"] or local, anchor(local), r["title"], r["publisher"], r["url"]
            )
        return sorted(sources.values(), key=lambda s: (s.label.casefold(), s.id))

    # -- one term --------------------------------------------------------------------

    def facts(self, term_iri: str) -> list[Fact]:
        facts: dict[tuple[str, str, str], Fact] = {}
        for r in self.rows("term-facts", term=term_iri):
            value = r["value"]
            is_iri = isinstance(value, str) and value.startswith(("http://", "https://", "urn:"))
            is_blank = isinstance(value, str) and value.startswith("_:")
            shown = compact(value) if is_iri else ("(a nested node)" if is_blank else str(value))
            key = (r["property"], str(value), r["file"])
            fact = facts.get(key)
            if fact is None:
                fact = facts[key] = Fact(
                    compact(r["property"]), shown, r["valueLabel"], is_iri,
                    graph_file_path(ox.NamedNode(r["file"])), [],
                )
            if r["valueSource"] and compact(r["valueSource"]) not in fact.sources:
                fact.sources.append(compact(r["valueSource"]))
        return list(facts.values())

    def term_applications(self, term_iri: str) -> list[Ref]:
        """Applications the graph states for the term itself (the named query also
        returns those of narrower terms, marked by ?via; the page lists its own)."""
        rows = self.kg.named("term-applications", term=ox.NamedNode(term_iri))
        refs = [Ref(short_id(r["application"]), r["label"]) for r in rows if r["via"] == term_iri]
        return list(dict.fromkeys(refs))

    def term_framework_apis(self, term_iri: str) -> list[tuple[Ref, str, str | None]]:
        return [
            (Ref(short_id(r["framework"]), r["frameworkLabel"]), r["api"], r["status"])
            for r in self.kg.named("term-framework-apis", term=ox.NamedNode(term_iri))
        ]

    # -- the ontology ----------------------------------------------------------------

    @cached_property
    def ontology_header(self) -> dict[str, Any]:
        rows = self.rows("ontology-header")
        out: dict[str, Any] = {}
        for r in rows:
            for k, v in r.items():
                if v is not None and k not in out:
                    out[k] = v
        return out

    @cached_property
    def ontology(self) -> list[OntologyEntity]:
        entities: dict[str, OntologyEntity] = {}
        for r in self.rows("ontology-entities"):
            kind = short_id(r["kind"])
            entity = entities.get(r["entity"])
            if entity is None:
                entity = entities[r["entity"]] = OntologyEntity(
                    r["entity"], short_id(r["entity"]), kind, r["label"], r["definition"]
                )
            if r["comment"] and r["comment"] not in entity.comments:
                entity.comments.append(r["comment"])
        inverse = {"domain": "in domain of", "range": "in range of", "subClassOf": "subclasses", "subPropertyOf": "subproperties"}
        for r in self.rows("ontology-axioms"):
            entity = entities.get(r["entity"])
            if entity is None:
                continue
            value = compact(r["object"])
            if r["axiom"] == "type":
                value = short_id(r["object"])
            values = entity.axioms.setdefault(r["axiom"], [])
            if value not in values:
                values.append(value)
            # The reverse view of the same axiom, on the object, where the ontology declares it.
            target = entities.get(r["object"])
            if target is not None and r["axiom"] in inverse:
                back = target.axioms.setdefault(inverse[r["axiom"]], [])
                if compact(r["entity"]) not in back:
                    back.append(compact(r["entity"]))
        return sorted(entities.values(), key=lambda e: (e.kind != "Class", e.kind, e.local.casefold()))
