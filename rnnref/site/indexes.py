"""The index pages beyond the taxonomy and the timeline: people, papers (and the
.bib file), standards, applications, frameworks, sources, the ontology reference,
the SPARQL cookbook and the downloads of the whole graph.

Like the term pages, each is a Jinja2 template in ``site/templates/`` rendered with
every value escaped (``rnnref.site.escape``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox

from rnnref.graph.paths import graph_files
from rnnref.graph.records import Term
from rnnref.site import cookbook, escape, jsonld
from rnnref.site.bibtex import bibliography, bibtex
from rnnref.site.data import PREFIXES, SiteData, compact

DOWNLOADS = [  # (file name, pyoxigraph format, what it is)
    ("rnnref.ttl", ox.RdfFormat.TURTLE, "Turtle"),
    ("rnnref.nt", ox.RdfFormat.N_TRIPLES, "N-Triples"),
    ("rnnref.jsonld", ox.RdfFormat.JSON_LD, "JSON-LD"),
    ("rnnref.rdf", ox.RdfFormat.RDF_XML, "RDF/XML"),
]
BIB_FILE = "rnnref.bib"


def write_index_pages(kg, data: SiteData, writer, docs_dir: Path, terms: dict[str, Term]) -> None:
    from rnnref.site.pages import DOWNLOADS_DIR, GRAPH_DIR

    downloads = docs_dir / DOWNLOADS_DIR
    downloads.mkdir()
    papers = data.papers
    (downloads / BIB_FILE).write_text(bibliography([p.paper for p in papers]), encoding="utf-8")
    files = write_downloads(kg.store, downloads)
    copy_sources(Path(kg.root), docs_dir / GRAPH_DIR)

    def page(name: str, template: str, **context) -> None:
        (docs_dir / name).write_text(writer.render(template, **context), encoding="utf-8")

    page("people.md", "people.md.j2", people=data.people)
    page(
        "papers.md", "papers.md.j2",
        papers=papers,
        years=_by_year(papers),
        bibtex={p.paper.id: bibtex(p.paper) for p in papers},
        bib_file=f"{DOWNLOADS_DIR}/{BIB_FILE}",
        jsonld=escape.MdSafe(json.dumps(escape.script_json(jsonld.article_list([(p.paper, p.iri) for p in papers])))),
    )
    page("standards.md", "standards.md.j2", standards=data.standards)
    page("applications.md", "applications.md.j2", applications=data.applications,
         labels={a.id: a.label for a in data.applications}, anchors={a.id: a.anchor for a in data.applications})
    page("frameworks.md", "frameworks.md.j2", frameworks=data.frameworks)
    page("sources.md", "sources.md.j2", sources=data.sources)
    entities = data.ontology
    page(
        "ontology.md", "ontology.md.j2",
        header=data.ontology_header,
        classes=[e for e in entities if e.kind == "Class"],
        properties=[e for e in entities if e.kind != "Class"],
        anchors={compact(e.iri): e.anchor for e in entities},
        term_counts=_term_counts(terms),
        ontology_file=f"{GRAPH_DIR}/ontology/rnnref.ttl" if (docs_dir / GRAPH_DIR / "ontology" / "rnnref.ttl").is_file() else None,
    )
    page("sparql.md", "sparql.md.j2", entries=cookbook.entries(kg), max_rows=cookbook.MAX_ROWS,
         cell=lambda value: _cell(value, writer.page_ids))
    page("downloads.md", "downloads.md.j2", files=files, bib_file=BIB_FILE, bib_count=len(papers),
         graph_dir=GRAPH_DIR, sources=_source_files(docs_dir / GRAPH_DIR))


def _by_year(papers) -> list[tuple[int | None, list]]:
    """Papers grouped by year, oldest first; those with no year last."""
    groups: dict[int | None, list] = {}
    for record in papers:
        groups.setdefault(record.paper.year, []).append(record)
    return sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or 0))


def _term_counts(terms: dict[str, Term]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for term in terms.values():
        for t in term.types:
            counts[f"rnn:{t}"] = counts.get(f"rnn:{t}", 0) + 1
    return counts


def _cell(value, page_ids: set[str]) -> escape.MdSafe:
    """One cell of a cookbook result table: an IRI compacted and, for a term, linked."""
    if value is None:
        return escape.MdSafe("")
    if isinstance(value, float):
        return escape.md_text(f"{value:.6g}")
    text = str(value)
    if text.startswith(("http://", "https://", "urn:")):
        short = compact(text)
        if short.startswith("term:"):
            if short[5:] in page_ids:
                return escape.MdSafe(f"[{escape.md_text(short)}](terms/{short[5:]}.md)")
        return escape.md_code(short)
    if len(text) > 200:
        text = text[:200] + "…"
    return escape.md_text(text)


def write_downloads(store: ox.Store, folder: Path) -> list[tuple[str, str, int, int]]:
    """The whole graph (every file's triples, merged) in each download format.

    Returns (file name, format name, triples, bytes) per file.
    """
    triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in store}, key=str)
    merged = ox.Store()
    merged.extend([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples])
    out = []
    for name, fmt, label in DOWNLOADS:
        kwargs = {"prefixes": PREFIXES} if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else {}
        try:
            payload = merged.dump(format=fmt, from_graph=ox.DefaultGraph(), **kwargs)
        except TypeError:  # a pyoxigraph without prefixes for this format
            payload = merged.dump(format=fmt, from_graph=ox.DefaultGraph())
        (folder / name).write_bytes(payload)
        out.append((name, label, len(triples), len(payload)))
    return out


def copy_sources(root: Path, dest: Path) -> None:
    """The graph's Turtle files, as they are, for the pages' "stated in" links."""
    for path in graph_files(root):
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _source_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.ttl"))
