"""The knowledge graph as the rest of the package sees it: load once, resolve names
to terms, build records. Every SPARQL string it runs is a named query file.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from rnnref.errors import InputError, NotFoundError
from rnnref.graph import queries as q
from rnnref.graph.load import graph_file_path, load_store
from rnnref.graph.paths import project_root
from rnnref.graph.records import (
    Benchmark,
    Event,
    Implementation,
    IndexEntry,
    Paper,
    Ref,
    Source,
    StandardRef,
    Term,
    TermSummary,
)

BASE = "https://w3id.org/rnnref/"
TERM_NS = BASE + "term/"
ONTOLOGY_NS = BASE + "ontology#"
TYPE_NAMES = {
    ONTOLOGY_NS + "Architecture": "Architecture",
    ONTOLOGY_NS + "TrainingMethod": "TrainingMethod",
    ONTOLOGY_NS + "Problem": "Problem",
    ONTOLOGY_NS + "Component": "Component",
    ONTOLOGY_NS + "Property": "Property",
    ONTOLOGY_NS + "LossFunction": "LossFunction",
}
MAX_NAME_LENGTH = 200


def short_id(iri: str) -> str:
    """The local name of an IRI: the part after the last '#' or '/'."""
    return re.split(r"[#/]", iri.rstrip("/"))[-1]


def normalise(name: str) -> str:
    """Case-, width- and separator-insensitive form of a name, for matching."""
    name = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(re.sub(r"[-_\s]+", " ", name).split())


def _year(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value)[:4]) if not isinstance(value, int) else value
    except ValueError:
        return None


class KnowledgeGraph:
    """The graph of one project tree (the installed one, or ``root``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = project_root(root)
        self.store: ox.Store = load_store(self.root)
        self._query_text: dict[str, str] = {}

    # -- queries -------------------------------------------------------------------

    def named(self, name: str, **bindings: Any) -> list[dict[str, Any]]:
        """Run the named query ``ontology/queries/<name>.rq`` with values bound."""
        if name not in self._query_text:
            self._query_text[name] = q.read_named_query(self.root, name)
        try:
            return q.select(self.store, self._query_text[name], bindings)
        except (SyntaxError, RuntimeError, ValueError) as exc:
            detail = " ".join(str(exc).split())[:160]
            raise InputError(f"ontology/queries/{name}.rq: bad SPARQL: {detail}") from None

    def _for_term(self, name: str, term_iri: str) -> list[dict[str, Any]]:
        return self.named(name, term=ox.NamedNode(term_iri))

    # -- the term index ------------------------------------------------------------

    @cached_property
    def index(self) -> list[IndexEntry]:
        labels: dict[str, str] = {}
        alts: dict[str, list[str]] = {}
        notations: dict[str, list[str]] = {}
        for row in self.named("term-index"):
            labels.setdefault(row["term"], row["label"])
            alts.setdefault(row["term"], [])
            if row["alt"] is not None and row["alt"] not in alts[row["term"]]:
                alts[row["term"]].append(row["alt"])
            if row.get("notation") is not None and row["notation"] not in notations.get(row["term"], []):
                notations.setdefault(row["term"], []).append(row["notation"])
        return [
            IndexEntry(short_id(iri), iri, labels[iri], tuple(alts[iri]), tuple(notations.get(iri, ())))
            for iri in labels
        ]

    @cached_property
    def _types(self) -> dict[str, list[str]]:
        types: dict[str, list[str]] = {}
        for row in self.named("term-types"):
            types.setdefault(row["term"], []).append(TYPE_NAMES[row["type"]])
        return {k: sorted(set(v)) for k, v in types.items()}

    def resolve(self, name: str) -> IndexEntry:
        """The best match for a user's name of a term, or NotFoundError with suggestions.

        Matching ignores case and treats '-', '_' and spaces alike. An exact id beats
        an exact label, which beats an alternative label, which beats a notation
        (a code such as AI-0033).
        """
        if not name or not name.strip():
            raise InputError("empty term name")
        if "\x00" in name:
            raise InputError("term name contains a NUL byte")
        if len(name) > MAX_NAME_LENGTH:
            raise InputError(f"term name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}")
        wanted = normalise(name)
        for by_name in self._names_by_rank:
            if wanted in by_name:
                return by_name[wanted]
        raise NotFoundError(f"no term matches {name!r}", self.suggest(name))

    @cached_property
    def _names_by_rank(self) -> tuple[dict[str, IndexEntry], ...]:
        """Normalised ids, labels and alternative labels -> the first term (in index
        order) with that name: the three ranks ``resolve`` tries in turn."""
        ranks: tuple[dict[str, IndexEntry], ...] = ({}, {}, {}, {})
        for entry in self.index:
            for rank, names in enumerate(((entry.id,), (entry.label,), entry.alt_labels, entry.notations)):
                for n in names:
                    ranks[rank].setdefault(normalise(n), entry)
        return ranks

    @cached_property
    def _all_names(self) -> dict[str, IndexEntry]:
        by_name: dict[str, IndexEntry] = {}
        for entry in self.index:
            for n in (entry.id, entry.label, *entry.alt_labels):
                by_name.setdefault(normalise(n), entry)
        return by_name

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Labels of the terms whose names are closest to ``name``."""
        by_name = self._all_names
        wanted = normalise(name)
        close = difflib.get_close_matches(wanted, list(by_name), n=limit * 3, cutoff=0.6)
        close += [n for n in by_name if wanted and len(wanted) >= 3 and wanted in n]
        out: list[str] = []
        for n in close:
            entry = by_name[n]
            shown = f"{entry.label} ({entry.id})"
            if shown not in out:
                out.append(shown)
        return out[:limit]

    # -- records -------------------------------------------------------------------

    def term(self, name: str) -> Term:
        """The full record of the term best matching ``name``."""
        entry = self.resolve(name)
        iri = entry.iri
        card = self._for_term("term-card", iri)
        first = card[0] if card else {}
        values = self._for_term("term-values", iri)
        term = Term(
            id=entry.id,
            iri=iri,
            label=entry.label,
            alt_labels=[r["value"] for r in values if r["field"] == "alt_label"],
            types=self._types.get(iri, []),
            definition=first.get("definition"),
            year=_year(first.get("year")),
            equations=[line.strip() for r in values if r["field"] == "equations" for line in r["value"].splitlines() if line.strip()],
            not_runnable_reason=first.get("notRunnable"),
            notes=[r["value"] for r in values if r["field"] == "note"],
            notation=first.get("notation"),
        )
        term.broader = self._refs(self._for_term("term-broader", iri), "broader")
        term.ancestors = self._refs(self._for_term("term-ancestors", iri), "ancestor")
        term.narrower = self._refs(self._for_term("term-narrower", iri), "narrower")
        term.related = self._refs(self._for_term("term-related", iri), "related")
        term.people = [Ref(short_id(r["person"]), r["name"]) for r in self._for_term("term-people", iri)]
        term.people = list(dict.fromkeys(term.people))
        term.papers = self._papers(self._for_term("term-papers", iri))
        term.standards = [
            StandardRef(short_id(r["standard"]), r["label"], r["clause"], r["status"])
            for r in self._for_term("term-standards", iri)
        ]
        term.events = [
            Event(_year(r["year"]), r["label"]) for r in self._for_term("term-events", iri) if _year(r["year"])
        ]
        impl = self._for_term("term-implementation", iri)
        if impl:
            term.implementation = Implementation(impl[0]["python"], impl[0]["test"], impl[0]["status"])
        term.benchmarks = [
            Benchmark(r["device"], r["workload"], r["metric"], r["value"], r["unit"], r["baseline"], r["ratio"])
            for r in self._for_term("term-benchmarks", iri)
        ]
        term.sources = [Source(short_id(r["source"]), r["label"], r["url"]) for r in self._for_term("term-sources", iri)]
        term.files = [graph_file_path(ox.NamedNode(r["file"])) for r in self._for_term("term-files", iri)]
        return term

    def terms(self, type_name: str | None = None) -> list[TermSummary]:
        """Every term, optionally only those under one top class (case-insensitive)."""
        wanted = None
        if type_name:
            # "training-method", "Training Method" and "TrainingMethod" all name rnn:TrainingMethod.
            by_key = {t.casefold(): t for t in TYPE_NAMES.values()}
            wanted = by_key.get(normalise(type_name).replace(" ", ""))
            if wanted is None:
                raise InputError(f"unknown type {type_name!r}; choose from {', '.join(TYPE_NAMES.values())}")
        impls: dict[str, Implementation] = {}
        for row in self.named("term-implementations"):
            impls[row["term"]] = Implementation(row["python"], row["test"], row["status"])
        reasons = {row["term"]: row["reason"] for row in self.named("term-not-runnable")}
        out = []
        for entry in self.index:
            types = self._types.get(entry.iri, [])
            if wanted and wanted not in types:
                continue
            out.append(TermSummary(entry.id, entry.label, types, impls.get(entry.iri), reasons.get(entry.iri)))
        return out

    def _refs(self, rows: list[dict[str, Any]], key: str) -> list[Ref]:
        refs = [Ref(short_id(r[key]), r["label"]) for r in rows]
        return list(dict.fromkeys(refs))

    @staticmethod
    def _papers(rows: list[dict[str, Any]]) -> list[Paper]:
        papers: dict[str, Paper] = {}
        for r in rows:
            if r["paper"] in papers:
                continue
            authors = [a.strip() for a in (r["authors"] or "").split(";") if a.strip()]
            papers[r["paper"]] = Paper(
                short_id(r["paper"]), r["title"], authors, _year(r["year"]), r["venue"], r["doi"], r["arxiv"], r["url"], r["role"]
            )
        return list(papers.values())
