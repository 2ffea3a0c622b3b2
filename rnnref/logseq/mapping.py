"""Parsed Logseq pages -> triples of the project's ontology.

How a page finds its term (``identify``), first match wins:

1. ``term-id:: rnnref:<slug>`` names ``term:<slug>`` (what ``rnnref export logseq``
   writes for a term without a notation);
2. a term whose ``skos:notation`` is the term-id (any case), e.g. AI-0033;
3. a term whose slug, preferred label or alternative label is the page's
   preferred-term, ignoring case and ``-``/``_``/space (as ``rnnref lookup`` matches);
4. otherwise a new term ``term:<slug>``, the slug being the preferred term in
   lowercase with hyphens.

A link target (``[[Recurrent Neural Network]]``, ``[[target|label]]``) resolves the
same way (3), then to a top class by label (``[[architecture]]``) or by a known name
from other ontologies (``[[NeuralNetworkArchitecture]]``), then with a CamelCase name
split into words, then without a plural ``s``.

What a page adds (see ``vocab``): for a new term, ``skos:prefLabel`` and
``skos:definition``; for an existing one never a second preferred label or definition
(the page's label becomes an alternative label if it differs, its definition
``rnn:logseqDefinition`` if it differs). Always: ``rnn:logseqPreferredTerm``,
``skos:notation`` (the term-id), alternative terms, relations, the Technical Details
annotations, unknown properties as ``logseq:<key>``, Metadata as
``logseq:metadata-<key>``, body links to other terms as ``rnn:mentions``, cited papers
(reused by DOI, arXiv id, or title and year; minted only with a DOI or arXiv id) as
``rdfs:seeAlso`` or, tagged ``#introduced-in``, ``rnn:introducedIn``. Every term and
paper cites the page's source node ``source:logseq-<term-id>``
(``source:logseq-ai-0033`` for the seed page), which records the term-id.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from rnnref.errors import InputError
from rnnref.graph.kg import normalise
from rnnref.logseq import vocab as v
from rnnref.logseq.parse import Page, Property, Reference

_STOPWORDS = frozenset("a an the of for and with in on to using via by is are from its what but".split())


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def title_key(title: str) -> str:
    """A title for matching: ASCII letters and digits only, lowercase."""
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower())


def _values(store: ox.Store, subject, predicate) -> list:
    return [q.object for q in store.quads_for_pattern(subject, predicate, None, None)]


def _literal_values(store: ox.Store, subject, predicate) -> list[str]:
    return sorted({o.value for o in _values(store, subject, predicate) if isinstance(o, ox.Literal)})


# -- what the graph already holds ----------------------------------------------------------------


class Resolver:
    """Names -> IRIs over one store (terms, top classes, people, applications, papers)."""

    def __init__(self, store: ox.Store):
        self.store = store
        self.parents: dict[str, set[str]] = defaultdict(set)
        children: dict[str, set[str]] = defaultdict(set)
        for q in store.quads_for_pattern(None, v.SUBCLASS_OF, None, None):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
                self.parents[q.subject.value].add(q.object.value)
                children[q.object.value].add(q.subject.value)
        below: set[str] = set()
        todo = [v.CONCEPT.value]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in below:
                    below.add(child)
                    todo.append(child)
        self.terms = {i for i in below if i.startswith(v.TERM)}
        self.top_classes = {i for i in below if i.startswith(v.RNN)} | {v.CONCEPT.value}
        self.new_terms: set[str] = set()
        # rank 0: slug, 1: preferred label, 2: alternative label
        self._ranks: list[dict[str, str]] = [{}, {}, {}]
        self._notations: dict[str, str] = {}
        for term in sorted(self.terms):
            self._index_term(term, _literal_values(store, iri(term), v.PREF_LABEL),
                             _literal_values(store, iri(term), v.ALT_LABEL))
            for notation in _literal_values(store, iri(term), v.NOTATION):
                self._notations.setdefault(notation.casefold(), term)
        self._top_labels: dict[str, str] = {}
        for top in sorted(self.top_classes):
            for label in _literal_values(store, iri(top), v.PREF_LABEL):
                self._top_labels.setdefault(normalise(label), top)
        self._top_labels.update({k: t.value for k, t in v.TOP_CLASS_ALIASES.items()})
        self._people = self._names_of(v.PERSON_CLASS, (v.SCHEMA_NAME, v.PREF_LABEL, v.ALT_LABEL))
        self._applications = self._names_of(v.APPLICATION_CLASS, (v.PREF_LABEL, v.ALT_LABEL))
        self._papers_by_doi: dict[str, str] = {}
        self._papers_by_arxiv: dict[str, str] = {}
        self._papers_by_title: dict[tuple[str, str], str] = {}
        for q in sorted(store.quads_for_pattern(None, v.TYPE, v.PAPER_CLASS, None), key=lambda q: q.subject.value):
            paper = q.subject
            for doi in _literal_values(store, paper, v.DOI):
                self._papers_by_doi.setdefault(doi.lower(), paper.value)
                m = re.match(r"^10\.48550/arxiv\.(.+)$", doi, re.IGNORECASE)
                if m:
                    self._papers_by_arxiv.setdefault(m.group(1), paper.value)
            for arxiv in _literal_values(store, paper, v.ARXIV):
                self._papers_by_arxiv.setdefault(arxiv, paper.value)
            for title in _literal_values(store, paper, v.TITLE):
                for year in _literal_values(store, paper, v.YEAR):
                    self._papers_by_title.setdefault((title_key(title), year[:4]), paper.value)

    def _names_of(self, kind, predicates) -> dict[str, str]:
        names: dict[str, str] = {}
        for q in sorted(self.store.quads_for_pattern(None, v.TYPE, kind, None), key=lambda q: q.subject.value):
            names.setdefault(normalise(q.subject.value.rsplit("/", 1)[-1]), q.subject.value)
            for predicate in predicates:
                for name in _literal_values(self.store, q.subject, predicate):
                    names.setdefault(normalise(name), q.subject.value)
        return names

    def _index_term(self, term: str, labels, alts) -> None:
        self._ranks[0].setdefault(normalise(term.removeprefix(v.TERM)), term)
        for label in labels:
            self._ranks[1].setdefault(normalise(label), term)
        for alt in alts:
            self._ranks[2].setdefault(normalise(alt), term)

    def add_new_term(self, term: str, label: str, alts: list[str], parents: list[str]) -> None:
        self.new_terms.add(term)
        self.terms.add(term)
        self._index_term(term, [label], alts)
        self.parents[term] |= set(parents)

    def exists(self, node: ox.NamedNode) -> bool:
        return next(iter(self.store.quads_for_pattern(node, None, None, None)), None) is not None

    # -- names ---------------------------------------------------------------------------

    def term_exact(self, name: str) -> str | None:
        if name.startswith("rnnref:"):
            slug = name.removeprefix("rnnref:")
            return v.TERM + slug if v.TERM + slug in self.terms else None
        wanted = normalise(name)
        for rank in self._ranks:
            if wanted in rank:
                return rank[wanted]
        return None

    def by_notation(self, term_id: str) -> str | None:
        return self._notations.get(term_id.casefold())

    def _variants(self, name: str) -> list[str]:
        out = [name]
        if " " not in name.strip() and re.search(r"[a-z][A-Z]", name):
            out.append(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name))
        return out

    def term(self, name: str, top_classes: bool = True) -> str | None:
        """The term (or top class) a link target names, or None."""
        variants = self._variants(name)
        if len(name) > 3 and name.endswith("s") and not name.endswith("ss"):
            variants += self._variants(name[:-1])  # [[transformers]] -> transformer
        for variant in variants:
            found = self.term_exact(variant)
            if found:
                return found
            if top_classes and normalise(variant) in self._top_labels:
                return self._top_labels[normalise(variant)]
        return None

    def person(self, name: str) -> str | None:
        return self._people.get(normalise(name)) or self._people.get(normalise(slugify(name)))

    def application(self, name: str) -> str | None:
        return self._applications.get(normalise(name))

    def paper(self, ref: Reference) -> str | None:
        if ref.doi and ref.doi.lower() in self._papers_by_doi:
            return self._papers_by_doi[ref.doi.lower()]
        if ref.arxiv and ref.arxiv in self._papers_by_arxiv:
            return self._papers_by_arxiv[ref.arxiv]
        if ref.title and ref.year:
            return self._papers_by_title.get((title_key(ref.title), str(ref.year)))
        return None

    def add_paper(self, paper: str, ref: Reference) -> None:
        if ref.doi:
            self._papers_by_doi.setdefault(ref.doi.lower(), paper)
        if ref.arxiv:
            self._papers_by_arxiv.setdefault(ref.arxiv, paper)
        if ref.title and ref.year:
            self._papers_by_title.setdefault((title_key(ref.title), str(ref.year)), paper)

    def ancestors(self, term: str) -> set[str]:
        seen: set[str] = set()
        todo = [term]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen


def iri(text: str) -> ox.NamedNode:
    return ox.NamedNode(text)


# -- which term a page is about ----------------------------------------------------------------


@dataclass
class PageTerm:
    page: Page
    iri: str
    new: bool = False


def identify(pages: list[Page], resolver: Resolver, warnings: list[str]) -> list[PageTerm]:
    """The term each page is about (see the module docstring), checking that no two
    pages claim one term-id or one term."""
    out: list[PageTerm] = []
    by_id: dict[str, Page] = {}
    by_iri: dict[str, Page] = {}
    for page in pages:
        key = page.term_id.casefold()
        if key in by_id:
            first = by_id[key]
            raise InputError(
                f"{page.where(page.term_id_line)}: duplicated term-id {page.term_id} (also in {first.where(first.term_id_line)})"
            )
        by_id[key] = page
        if page.term_id.startswith("rnnref:"):
            term = v.TERM + slugify(page.term_id.removeprefix("rnnref:"))
        else:
            term = resolver.by_notation(page.term_id)
            by_label = resolver.term(page.preferred_term, top_classes=False)
            if term and by_label and by_label != term:
                warnings.append(
                    f"{page.where(page.preferred_term_line)}: preferred-term {page.preferred_term!r} names "
                    f"{by_label.removeprefix(v.TERM)}, but term-id {page.term_id} is {term.removeprefix(v.TERM)}'s notation; "
                    f"the page is imported into {term.removeprefix(v.TERM)}"
                )
            term = term or by_label or v.TERM + slugify(page.preferred_term)
        if term == v.TERM:
            raise InputError(f"{page.where(page.preferred_term_line)}: preferred-term {page.preferred_term!r} gives no slug")
        if term in by_iri:
            first = by_iri[term]
            raise InputError(f"{page.where(page.block_line)}: describes the same term as {first.name} ({term.removeprefix(v.TERM)})")
        by_iri[term] = page
        out.append(PageTerm(page, term))
    return out


# -- triples ---------------------------------------------------------------------------------------


@dataclass
class PageTriples:
    term: PageTerm
    triples: set[ox.Triple] = field(default_factory=set)
    unknown: list[Property] = field(default_factory=list)
    unresolved_links: int = 0


class _Mapper:
    def __init__(self, resolver: Resolver, warnings: list[str]):
        self.r = resolver
        self.warnings = warnings

    def literal(self, subject: ox.NamedNode, predicate: ox.NamedNode, value: str, datatype=None) -> ox.Literal:
        """A literal for (subject, predicate); the graph's own literal when it already
        states the same text there (so that re-importing adds nothing)."""
        for existing in _values(self.r.store, subject, predicate):
            if isinstance(existing, ox.Literal) and existing.value == value:
                return existing
        if datatype is not None:
            return ox.Literal(value, datatype=datatype)
        if predicate in v.ENGLISH:
            return ox.Literal(value, language="en")
        return ox.Literal(value)

    def map_page(self, pt: PageTerm) -> PageTriples:
        page, r = pt.page, self.r
        out = PageTriples(pt)
        add = lambda s, p, o: out.triples.add(ox.Triple(s, p, o))  # noqa: E731
        term = iri(pt.iri)
        new = pt.new
        source = iri(v.SOURCE + "logseq-" + slugify(page.term_id))

        add(term, v.TYPE, v.OWL_CLASS)
        add(term, v.SOURCE_PROP, source)
        add(term, v.LOGSEQ_PREFERRED_TERM, ox.Literal(page.preferred_term))
        pref_labels = _literal_values(r.store, term, v.PREF_LABEL)
        if new:
            add(term, v.PREF_LABEL, ox.Literal(page.preferred_term, language="en"))
        elif page.preferred_term not in pref_labels:
            add(term, v.ALT_LABEL, self.literal(term, v.ALT_LABEL, page.preferred_term))
        if not page.term_id.startswith("rnnref:"):
            notations = _literal_values(r.store, term, v.NOTATION)
            if notations and page.term_id not in notations:
                self.warnings.append(
                    f"{page.where(page.term_id_line)}: {term.value.removeprefix(v.TERM)} already has the notation "
                    f"{', '.join(notations)}; term-id {page.term_id} is added as another one"
                )
            add(term, v.NOTATION, self.literal(term, v.NOTATION, page.term_id))

        if page.definition:
            definitions = _literal_values(r.store, term, v.DEFINITION)
            if new or page.definition in definitions:
                add(term, v.DEFINITION, self.literal(term, v.DEFINITION, page.definition))
                if new and len(page.definition) < 40:
                    self.warnings.append(
                        f"{page.where(page.definition_line)}: the definition is shorter than 40 characters; "
                        "`rnnref validate` asks for at least 40"
                    )
            else:
                add(term, v.LOGSEQ_DEFINITION, self.literal(term, v.LOGSEQ_DEFINITION, page.definition))
        elif new:
            raise InputError(
                f"{page.where(page.block_line)}: new term {page.preferred_term!r} has no definition "
                "(give a definition:: property or a '### Primary Definition' section)"
            )

        for prop in page.properties:
            self.map_property(term, prop, out, add)
        for prop in page.metadata:
            key = v.METADATA_PREFIX + prop.key
            self.declare(key, prop, add, metadata=True)
            add(term, v.logseq_property(key), self.literal(term, v.logseq_property(key), prop.plain))

        for link in page.links:
            target = r.term(link.target, top_classes=False)
            if target is None:
                out.unresolved_links += 1
            elif target != term.value:
                add(term, v.MENTIONS, iri(target))

        for ref in page.references:
            self.map_reference(term, source, page, ref, add)

        if new:
            parents = [t.object for t in out.triples if t.subject == term and t.predicate == v.SUBCLASS_OF]
            if not parents:
                raise InputError(
                    f"{page.where(page.block_line)}: new term {page.preferred_term!r} has no is-subclass-of:: target "
                    "that names a term or top class of the graph, so it would have no place in the taxonomy"
                )
            ancestors = set().union(*(r.ancestors(p.value) | {p.value} for p in parents))
            runnable = {v.ARCHITECTURE.value, v.TRAINING_METHOD.value} & ancestors
            has_reason = any(t.predicate == v.NOT_RUNNABLE for t in out.triples)
            if runnable and not has_reason:
                add(term, v.NOT_RUNNABLE, ox.Literal(v.DEFAULT_NOT_RUNNABLE, language="en"))
                self.warnings.append(
                    f"{page.where(page.block_line)}: new term {term.value.removeprefix(v.TERM)} is an architecture or "
                    "training method without an implementation; recorded rnn:notRunnableReason "
                    f"{v.DEFAULT_NOT_RUNNABLE!r}"
                )

        self.map_source(source, page, add)
        if out.unknown:
            listed = ", ".join(f"{p.name} (line {p.line})" for p in out.unknown)
            self.warnings.append(
                f"{page.name}: {_count(len(out.unknown), 'property', 'properties')} the ontology has no term for, "
                f"kept as logseq: annotations: {listed}"
            )
        if page.metadata:
            self.warnings.append(
                f"{page.name}: {_count(len(page.metadata), 'Metadata entry', 'Metadata entries')} kept as logseq:metadata-* annotations: "
                + ", ".join(p.name for p in page.metadata)
            )
        return out

    def declare(self, key: str, prop: Property, add, metadata: bool = False) -> None:
        node = v.logseq_property(key)
        add(node, v.TYPE, v.ANNOTATION_PROPERTY)
        what = "metadata entry" if metadata else "property"
        add(node, v.PREF_LABEL, ox.Literal(f"Logseq page {what} {key.removeprefix(v.METADATA_PREFIX)}", language="en"))
        add(node, v.DEFINITION, ox.Literal(
            f"The value of the {key.removeprefix(v.METADATA_PREFIX)!r} {what} of a Logseq ontology page, kept as the page writes it "
            "because the ontology has no term for it.", language="en"))

    def map_property(self, term: ox.NamedNode, prop: Property, out: PageTriples, add) -> None:
        r, key = self.r, prop.key
        if key in ("term-id", "preferred-term", "ontology"):
            return  # checked by the parser
        if key in v.ALT_KEYS:
            # an alternative term equal to the preferred label would be a second label, not an alternative
            preferred = [out.term.page.preferred_term] if out.term.new else _literal_values(r.store, term, v.PREF_LABEL)
            for name in prop.names():
                if name not in preferred:
                    add(term, v.ALT_LABEL, self.literal(term, v.ALT_LABEL, name))
            return
        relation = v.TERM_RELATIONS.get(key) or v.PERSON_RELATIONS.get(key) or v.APPLICATION_RELATIONS.get(key)
        if relation is not None:
            for name in prop.names():
                if key in v.PERSON_RELATIONS:
                    target = r.person(name)
                elif key in v.APPLICATION_RELATIONS:
                    target = r.application(name)
                else:
                    target = r.term(name, top_classes=relation == v.SUBCLASS_OF)
                if target == term.value:
                    self.warnings.append(f"{out.term.page.where(prop.line)}: {prop.name}:: names the page's own term; skipped")
                elif target:
                    add(term, relation, iri(target))
                else:
                    self.declare(key, prop, add)
                    add(term, v.logseq_property(key), self.literal(term, v.logseq_property(key), name))
                    self.warnings.append(
                        f"{out.term.page.where(prop.line)}: {prop.name}:: [[{name}]] names nothing in the graph; "
                        f"kept as logseq:{key}"
                    )
            return
        if key in v.LITERALS:
            predicate = v.LITERALS[key][0]
            values = [link.target for link in prop.links] if prop.is_link_list else [prop.plain]
            for value in values:
                if predicate == v.YEAR_INTRODUCED:
                    if not re.fullmatch(r"\d{4}", value):
                        self.warnings.append(f"{out.term.page.where(prop.line)}: year {value!r} is not a four-digit year; kept as logseq:{key}")
                        self.declare(key, prop, add)
                        add(term, v.logseq_property(key), self.literal(term, v.logseq_property(key), value))
                        continue
                    add(term, predicate, self.literal(term, predicate, value, datatype=v.GYEAR))
                else:
                    add(term, predicate, self.literal(term, predicate, value))
            return
        # a property the ontology has no term for
        out.unknown.append(prop)
        self.declare(key, prop, add)
        predicate = v.logseq_property(key)
        if prop.is_link_list:
            for link in prop.links:
                target = r.term(link.target)
                add(term, predicate, iri(target) if target else self.literal(term, predicate, link.target))
        else:
            add(term, predicate, self.literal(term, predicate, prop.plain))

    def map_reference(self, term, source, page: Page, ref: Reference, add) -> None:
        predicate = v.INTRODUCED_IN if ref.introduced else v.SEE_ALSO
        paper = self.r.paper(ref)
        if paper:
            add(term, predicate, iri(paper))
            return
        if not (ref.doi or ref.arxiv):
            self.warnings.append(
                f"{page.where(ref.line)}: reference {ref.text[:60]!r} has no DOI or arXiv id and matches no paper "
                "in the graph; not imported"
            )
            return
        missing = [name for name in ("title", "authors", "year") if not getattr(ref, name)]
        if missing:
            ident = f"DOI {ref.doi}" if ref.doi else f"arXiv {ref.arxiv}"
            self.warnings.append(
                f"{page.where(ref.line)}: reference with {ident} has no {', '.join(missing)} on the page; not imported"
            )
            return
        authors = format_authors(ref.authors)
        family = slugify(_first_family(ref.authors)) or "anonymous"
        words = [w for w in re.split(r"[^a-z0-9]+", slugify(ref.title)) if w and w not in _STOPWORDS][:3]
        stem = f"{v.PAPER}{family}-{ref.year}-{'-'.join(words) or 'paper'}"
        node, n = iri(stem), 1
        while self.r.exists(node):
            n += 1
            node = iri(f"{stem}-{n}")
        self.r.add_paper(node.value, ref)
        add(term, predicate, node)
        add(node, v.TYPE, v.PAPER_CLASS)
        add(node, v.TITLE, ox.Literal(ref.title))
        add(node, v.AUTHORS, ox.Literal(authors))
        add(node, v.YEAR, ox.Literal(str(ref.year), datatype=v.GYEAR))
        if ref.venue:
            add(node, v.VENUE, ox.Literal(ref.venue))
        if ref.doi:
            add(node, v.DOI, ox.Literal(ref.doi))
        if ref.arxiv:
            add(node, v.ARXIV, ox.Literal(ref.arxiv))
        add(node, v.SOURCE_PROP, source)

    def map_source(self, source: ox.NamedNode, page: Page, add) -> None:
        add(source, v.TERM_ID, ox.Literal(page.term_id))
        if _literal_values(self.r.store, source, v.PREF_LABEL):
            return  # a source the graph already describes (source:logseq-ai-0033)
        add(source, v.TYPE, v.SOURCE_CLASS)
        add(source, v.PREF_LABEL, ox.Literal(f"Logseq ontology page {page.term_id}: {page.preferred_term}"))
        add(source, v.TITLE, ox.Literal(f"{page.preferred_term} (term-id {page.term_id})"))
        add(source, v.IDENTIFIER, ox.Literal(page.path.name))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _first_family(authors: str) -> str:
    first = authors.split(";")[0].strip()
    if "," in first:
        return first.split(",")[0].strip()
    words = [w for w in re.split(r"\s+", first.replace("et al.", "")) if w]
    return words[-1] if words else ""


def format_authors(authors: str) -> str:
    """Authors as rnn:authors writes them ("A. Gu; T. Dao"): a list already separated by
    ';' stays as it is; an APA list ("Gu, A., & Dao, T.") becomes initials first."""
    authors = " ".join(authors.split()).rstrip(",").strip()
    if ";" in authors or not re.search(r"[^\W\d_][\w'’-]*,\s*(?:[A-Z]\.\s*-?)+", authors):
        return authors
    et_al = bool(re.search(r"\bet al\.?", authors))
    text = re.sub(r",?\s*\bet al\.?", "", authors).replace("&", ",")
    names = []
    for m in re.finditer(r"([^,]+?),\s*((?:[A-Z]\.\s*-?\s*)+)", text):
        family = m.group(1).strip().removeprefix("and ").strip()
        names.append(f"{' '.join(m.group(2).split())} {family}")
    if not names:
        return authors
    joined = "; ".join(names)
    return joined + " et al." if et_al else joined


def map_pages(pages: list[Page], decided: list[PageTerm], resolver: Resolver, warnings: list[str]) -> list[PageTriples]:
    """Triples for each page, resolved against ``resolver`` (the graph without the
    files being written). ``decided`` fixes each page's term IRI (see ``identify``)."""
    for pt in decided:
        pt.new = pt.iri not in resolver.terms
    for pt in decided:
        if pt.new:
            page = pt.page
            alts = [n for p in page.properties if p.key in v.ALT_KEYS for n in p.names()]
            parents = []
            for prop in page.properties:
                if v.TERM_RELATIONS.get(prop.key) == v.SUBCLASS_OF:
                    parents += [t for n in prop.names() if (t := resolver.term(n))]
            resolver.add_new_term(pt.iri, page.preferred_term, alts, parents)
    mapper = _Mapper(resolver, warnings)
    return [mapper.map_page(pt) for pt in decided]


__all__ = ["Resolver", "PageTerm", "PageTriples", "identify", "map_pages", "slugify", "format_authors"]
