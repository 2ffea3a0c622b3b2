"""Plain records the CLI and the site are built from.

Nothing here knows about RDF: the query layer fills these in, and every view (JSON,
the rich card, the site pages) reads them. ``Term.to_json`` is the CLI's JSON contract
(DESIGN.md), key for key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Ref:
    """A link to another node: its short id and its label."""

    id: str
    label: str


@dataclass(frozen=True)
class Paper:
    id: str
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    doi: str | None
    arxiv: str | None
    url: str | None
    role: str = "introduced"  # "introduced" or "see-also"

    def json(self) -> dict:
        return {k: getattr(self, k) for k in ("id", "title", "authors", "year", "venue", "doi", "arxiv", "url")}


@dataclass(frozen=True)
class StandardRef:
    id: str
    label: str
    clause: str | None
    status: str | None  # "verified" or "unverified"


@dataclass(frozen=True)
class Event:
    year: int
    label: str


@dataclass(frozen=True)
class Implementation:
    python: str
    test: str | None
    status: str | None


@dataclass(frozen=True)
class Benchmark:
    device: str
    workload: str
    metric: str
    value: float
    unit: str | None
    baseline: str | None
    ratio: float | None


@dataclass(frozen=True)
class Source:
    id: str
    label: str | None
    url: str | None


@dataclass(frozen=True)
class IndexEntry:
    """What lookup matches against: a term's id, IRI and every name it goes by."""

    id: str
    iri: str
    label: str
    alt_labels: tuple[str, ...]
    notations: tuple[str, ...] = ()  #: codes from other vocabularies (skos:notation), e.g. AI-0033


@dataclass
class Term:
    id: str
    iri: str
    label: str
    alt_labels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    definition: str | None = None
    broader: list[Ref] = field(default_factory=list)
    ancestors: list[Ref] = field(default_factory=list)
    narrower: list[Ref] = field(default_factory=list)
    related: list[Ref] = field(default_factory=list)
    year: int | None = None
    people: list[Ref] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)
    standards: list[StandardRef] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    implementation: Implementation | None = None
    benchmarks: list[Benchmark] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    # Not part of the JSON contract; used by the card and the site.
    equations: list[str] = field(default_factory=list)
    not_runnable_reason: str | None = None
    notes: list[str] = field(default_factory=list)  # rdfs:comment: source disagreements, provenance
    notation: str | None = None
    files: list[str] = field(default_factory=list)

    @property
    def comment(self) -> str | None:
        """All notes as one text (blank-line separated), or None."""
        return "\n\n".join(self.notes) or None

    def to_json(self) -> dict:
        """The lookup JSON object, exactly the keys DESIGN.md lists, in its order."""
        return {
            "id": self.id,
            "iri": self.iri,
            "label": self.label,
            "alt_labels": list(self.alt_labels),
            "types": list(self.types),
            "definition": self.definition,
            "broader": [asdict(r) for r in self.broader],
            "ancestors": [asdict(r) for r in self.ancestors],
            "narrower": [asdict(r) for r in self.narrower],
            "related": [asdict(r) for r in self.related],
            "year": self.year,
            "people": [asdict(r) for r in self.people],
            "papers": [p.json() for p in self.papers],
            "standards": [asdict(s) for s in self.standards],
            "events": [asdict(e) for e in self.events],
            "implementation": asdict(self.implementation) if self.implementation else None,
            "benchmarks": [asdict(b) for b in self.benchmarks],
            "sources": [asdict(s) for s in self.sources],
        }


@dataclass(frozen=True)
class TermSummary:
    """One row of ``rnnref terms``."""

    id: str
    label: str
    types: list[str]
    implementation: Implementation | None
    not_runnable_reason: str | None = None  #: why an architecture or training method has no implementation

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "label": self.label,
            "types": list(self.types),
            "implementation": asdict(self.implementation) if self.implementation else None,
            "not_runnable_reason": self.not_runnable_reason,
        }
