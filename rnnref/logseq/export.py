"""``rnnref export logseq TERM``: one term as a Logseq ontology page.

The page has the layout ``rnnref import logseq`` reads (see ``rnnref.logseq``), and
importing it gives back the term's triples for the properties both directions
support: notation (term-id), labels, definition, superclasses and the other term
relations, people who introduced it, applications, year introduced, not-runnable
reason, the Logseq annotations (source domain, status, maturity, ...), ``logseq:*``
properties and metadata, mentions, and papers (introduced in, marked
``#introduced-in``; see also). Not exported: comments, equations, implementations,
standards, events and disjointness, which are kept in ``kg/`` only.

A term without a notation gets ``term-id:: rnnref:<slug>``, which the import reads as
that term (and not as a notation to add).
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from rnnref.logseq import vocab as v
from rnnref.logseq.mapping import Resolver

RELATION_KEYS = [
    ("is-subclass-of", v.SUBCLASS_OF),
    ("has-component", v.TERM_RELATIONS["has-component"]),
    ("trained-with", v.TERM_RELATIONS["trained-with"]),
    ("addresses", v.TERM_RELATIONS["addresses"]),
    ("related-to", v.TERM_RELATIONS["related-to"]),
    ("introduced-by", v.INTRODUCED_BY),
    ("applied-to", v.APPLIED_TO),
]
_RELATION_PREDICATES = {p for _, p in RELATION_KEYS}
_LITERAL_DISPLAY: dict[ox.NamedNode, str] = {}
for _key, (_predicate, _display) in v.LITERALS.items():
    _LITERAL_DISPLAY.setdefault(_predicate, _display)


def _objects(store: ox.Store, subject, predicate) -> list:
    objects = {q.object for q in store.quads_for_pattern(subject, predicate, None, None)}
    return sorted(objects, key=lambda o: (str(type(o)), o.value))


def _texts(store: ox.Store, subject, predicate) -> list[str]:
    return sorted({o.value for o in _objects(store, subject, predicate) if isinstance(o, ox.Literal)})


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _title_key(key: str) -> str:
    return " ".join(word.capitalize() for word in key.split("-"))


class PageWriter:
    def __init__(self, store: ox.Store):
        self.store = store
        self.resolver = Resolver(store)
        self.notes: list[str] = []

    def label(self, node: ox.NamedNode) -> str:
        """A name for a link to ``node`` that the import resolves back to ``node``."""
        store = self.store
        names = _texts(store, node, v.SCHEMA_NAME) + _texts(store, node, v.PREF_LABEL)
        for name in names:
            if "|" in name or "[" in name or "]" in name:
                continue
            if node.value.startswith(v.TERM) or node.value.startswith(v.RNN):
                if self.resolver.term(name) == node.value:
                    return name
            elif self.resolver.person(name) == node.value or self.resolver.application(name) == node.value:
                return name
        if node.value.startswith(v.TERM):
            return "rnnref:" + node.value.removeprefix(v.TERM)
        return node.value.rsplit("/", 1)[-1]

    def link(self, node) -> str:
        return f"[[{self.label(node)}]]" if isinstance(node, ox.NamedNode) else f"[[{node.value}]]"

    def page(self, term_iri: str) -> str:
        store, term = self.store, ox.NamedNode(term_iri)
        slug = term_iri.removeprefix(v.TERM)
        notations = _texts(store, term, v.NOTATION)
        term_id = notations[0] if notations else f"rnnref:{slug}"
        if len(notations) > 1:
            self.notes.append(f"{slug} has {len(notations)} notations; the page's term-id is {term_id}, the others are left out")
        preferred = (_texts(store, term, v.LOGSEQ_PREFERRED_TERM) or _texts(store, term, v.PREF_LABEL) or [slug])[0]
        alts = [a for a in _texts(store, term, v.ALT_LABEL) if a != preferred]
        lines = ["- ### OntologyBlock", f"    - term-id:: {term_id}", f"    - preferred-term:: {preferred}"]
        safe_alts = [a for a in alts if not re.search(r"\[\[|\]\]|\|", a)]
        if len(safe_alts) < len(alts):
            self.notes.append(f"{slug}: alternative labels with '[[', ']]' or '|' are left out")
        if safe_alts:
            lines.append("    - alt-terms:: " + ", ".join(f"[[{a}]]" for a in safe_alts))
        lines += ["    - ontology:: true", "", "### Relationships"]

        # relations: resolved targets, and names the import kept as logseq:<key> literals
        minted = self._logseq_properties(term)
        for key, predicate in RELATION_KEYS:
            targets = [self.link(o) for o in _objects(store, term, predicate) if isinstance(o, ox.NamedNode)
                       and (predicate != v.SUBCLASS_OF or o.value.startswith((v.TERM, v.RNN)))]
            targets += [f"[[{o.value}]]" for o in minted.pop(key, []) if isinstance(o, ox.Literal)]
            if targets:
                lines.append(f"- {key}:: {', '.join(targets)}")
        technical_extra = []
        for key, objects in sorted(minted.items()):
            if key.startswith(v.METADATA_PREFIX):
                continue
            linked = [o for o in objects if isinstance(o, ox.NamedNode)]
            if linked:
                lines.append(f"- {key}:: {', '.join(self.link(o) for o in linked)}")
            technical_extra += [(key, o) for o in objects if isinstance(o, ox.Literal)]

        lines += ["", f"## {preferred}"]
        definitions = _texts(store, term, v.DEFINITION)
        if definitions:
            lines += ["", "### Primary Definition", "", f"- {_one_line(definitions[0])}"]
        if len(definitions) > 1:
            self.notes.append(f"{slug} has {len(definitions)} definitions; the page keeps the first")

        lines += ["", "## Technical Details", ""]
        for predicate, display in _LITERAL_DISPLAY.items():
            values = _texts(store, term, predicate)
            if predicate in v.LINKED_LITERALS and values:
                lines.append(f"- **{display}**: " + ", ".join(f"[[{x}]]" for x in values))
            else:
                lines += [f"- **{display}**: {_one_line(x)}" for x in values]
        lines += [f"- **{_title_key(key)}**: {_one_line(o.value)}" for key, o in technical_extra]

        mentions = [o for o in _objects(store, term, v.MENTIONS) if isinstance(o, ox.NamedNode)]
        if mentions:
            lines += ["", "## Related Terms and Concepts", ""]
            lines += [f"- {self.link(o)}" for o in sorted(mentions, key=lambda o: self.label(o).casefold())]

        references = self._references(term)
        if references:
            lines += ["", "## References", ""]
            lines += [f"{n}. {text}" for n, text in enumerate(references, start=1)]

        metadata = [f"- **Term ID**: {term_id}"] if notations else []
        for key, objects in sorted(self._logseq_properties(term).items()):
            if key.startswith(v.METADATA_PREFIX):
                title = _title_key(key.removeprefix(v.METADATA_PREFIX))
                metadata += [f"- **{title}**: {_one_line(o.value)}" for o in objects if isinstance(o, ox.Literal)]
        if metadata:
            lines += ["", "## Metadata", ""] + metadata
        return "\n".join(lines).rstrip("\n") + "\n"

    def _logseq_properties(self, term) -> dict[str, list]:
        out: dict[str, list] = {}
        for q in self.store.quads_for_pattern(term, None, None, None):
            if q.predicate.value.startswith(v.LOGSEQ):
                out.setdefault(q.predicate.value.removeprefix(v.LOGSEQ), []).append(q.object)
        return {k: sorted(set(objs), key=lambda o: (str(type(o)), o.value)) for k, objs in out.items()}

    def _references(self, term) -> list[str]:
        store = self.store
        papers: dict[ox.NamedNode, bool] = {}
        for paper in _objects(store, term, v.INTRODUCED_IN):
            papers[paper] = True
        for paper in _objects(store, term, v.SEE_ALSO):
            if isinstance(paper, ox.NamedNode) and any(store.quads_for_pattern(paper, v.TYPE, v.PAPER_CLASS, None)):
                papers.setdefault(paper, False)
        out = []

        def order(item):
            paper = item[0]
            years = _texts(store, paper, v.YEAR)
            return (years[0] if years else "", paper.value)

        for paper, introduced in sorted(papers.items(), key=order):
            title = (_texts(store, paper, v.TITLE) or [paper.value.rsplit("/", 1)[-1]])[0]
            authors = (_texts(store, paper, v.AUTHORS) or ["Unknown"])[0]
            year = (_texts(store, paper, v.YEAR) or [""])[0][:4]
            venue = (_texts(store, paper, v.VENUE) or [None])[0]
            text = f"{_one_line(authors)} ({year}). {_one_line(title)}"
            text += "" if text.endswith((".", "?", "!")) else "."
            if venue and "*" not in venue:
                text += f" *{_one_line(venue)}*."
            links = [f"[https://doi.org/{d}](https://doi.org/{d})" for d in _texts(store, paper, v.DOI)]
            links += [f"[arXiv:{a}](https://arxiv.org/abs/{a})" for a in _texts(store, paper, v.ARXIV)]
            if not links:
                links = [f"[{u.value}]({u.value})" for u in _objects(store, paper, v.SCHEMA_URL) if isinstance(u, ox.NamedNode)][:1]
            if links:
                text += " " + " ".join(links)
            if introduced:
                text += " #introduced-in"
            out.append(text)
        return out


def export_page(kg, name: str) -> tuple[str, str, list[str]]:
    """(page text, term IRI, notes) for the term best matching ``name`` in ``kg``."""
    entry = kg.resolve(name)
    writer = PageWriter(kg.store)
    return writer.page(entry.iri), entry.iri, writer.notes
