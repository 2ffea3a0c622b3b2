"""The generated pages: one per term, the taxonomy index and the timeline (the other
index pages are in ``rnnref.site.indexes``).

Records in, Markdown out. The Markdown comes from the Jinja2 templates in the
site's ``templates/`` folder; every value a template prints goes through
``rnnref.site.escape`` (see there for how).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import jinja2

import rnnref
from rnnref.errors import InputError
from rnnref.graph.records import Ref, Term
from rnnref.site import escape

TERMS_DIR = "terms"
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
RESERVED_IDS = {"index"}  # terms/index.md is the taxonomy page
MODULE_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
TYPE_ORDER = ["Architecture", "TrainingMethod", "LossFunction", "Problem", "Property", "Component"]
TYPE_HEADINGS = {
    "Architecture": "Architectures",
    "TrainingMethod": "Training methods",
    "Problem": "Problems",
    "Component": "Components",
    "Property": "Properties",
    "LossFunction": "Loss functions",
    None: "Other terms",
}


@dataclass
class SourceCode:
    """The file an implementation's Python path names, if it exists."""

    module: str | None  # "rnnref.models.lstm"
    path: str | None  # "rnnref/models/lstm.py", relative to the tree it was found in
    text: str | None  # None: not found


@dataclass
class TimelineEntry:
    year: int
    label: str
    terms: list[Ref] = field(default_factory=list)


@dataclass
class TreeNode:
    ref: Ref
    year: int | None
    children: list[TreeNode]
    repeated: bool = False  # shown in full elsewhere (a term with several broader terms)


def check_ids(ids: list[str]) -> None:
    """Term ids become file names and link targets: refuse any that cannot."""
    for term_id in ids:
        if not SAFE_ID.match(term_id) or term_id in RESERVED_IDS:
            raise InputError(f"term id {term_id!r} cannot be a page name (letters, digits, '.', '_', '-'; not 'index')")


def find_source(python_path: str | None, roots: list[Path]) -> SourceCode:
    """Read the module an implementation names, without importing anything.

    ``rnnref.models.lstm:LSTM`` -> ``rnnref/models/lstm.py`` (or its package
    ``__init__.py``) under the first of ``roots`` that has it.
    """
    module = (python_path or "").split(":", 1)[0].strip()
    if not MODULE_PATH.match(module):
        return SourceCode(None, None, None)
    rel = Path(*module.split("."))
    candidates = [rel.with_suffix(".py"), rel / "__init__.py"]
    for root in roots:
        for candidate in candidates:
            path = root / candidate
            if path.is_file():
                try:
                    return SourceCode(module, candidate.as_posix(), path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    continue
    return SourceCode(module, candidates[0].as_posix(), None)


def source_roots(kg_root: Path) -> list[Path]:
    """Where implementation modules are looked for: the graph's tree, then the tree
    this package was loaded from."""
    package_tree = Path(rnnref.__file__).resolve().parent.parent
    roots = [kg_root.resolve()]
    if package_tree not in roots:
        roots.append(package_tree)
    return roots


def edit_file(term: Term) -> str | None:
    """The Turtle file to edit for a term: its own file if it has one."""
    own = f"kg/terms/{term.id}.ttl"
    if own in term.files:
        return own
    return term.files[0] if term.files else None


@dataclass
class TreeRow:
    """One line of the taxonomy's nested list."""

    indent: escape.MdSafe  # four spaces per level
    node: TreeNode


def tree_rows(nodes: list[TreeNode], depth: int = 0) -> list[TreeRow]:
    rows = []
    for node in nodes:
        rows.append(TreeRow(escape.MdSafe("    " * depth), node))
        rows.extend(tree_rows(node.children, depth + 1))
    return rows


def taxonomy(terms: dict[str, Term]) -> list[tuple[str, list[TreeNode]]]:
    """The terms as trees under their broader terms, grouped by top type.

    A term with several broader terms appears under each; below the first place it
    is shown in full, later places mark it ``repeated`` and do not repeat its subtree.
    """
    order = sorted(terms, key=lambda i: (terms[i].label.casefold(), i))
    children: dict[str, list[str]] = {i: [] for i in terms}
    roots: list[str] = []
    for term_id in order:
        parents = [r.id for r in terms[term_id].broader if r.id in terms and r.id != term_id]
        for parent in parents:
            children[parent].append(term_id)
        if not parents:
            roots.append(term_id)

    shown: set[str] = set()

    def node(term_id: str, path: tuple[str, ...]) -> TreeNode:
        term = terms[term_id]
        ref = Ref(term_id, term.label)
        if term_id in shown or term_id in path:
            return TreeNode(ref, term.year, [], repeated=True)
        shown.add(term_id)
        return TreeNode(ref, term.year, [node(c, path + (term_id,)) for c in children[term_id]])

    groups: dict[str | None, list[TreeNode]] = {}
    for term_id in roots:
        types = terms[term_id].types
        kind = next((t for t in TYPE_ORDER if t in types), None)
        groups.setdefault(kind, []).append(node(term_id, ()))
    # Terms only reachable through a cycle of broader links have no root: show them too.
    for term_id in order:
        if term_id not in shown:
            kind = next((t for t in TYPE_ORDER if t in terms[term_id].types), None)
            groups.setdefault(kind, []).append(node(term_id, ()))
    return [(TYPE_HEADINGS[k], groups[k]) for k in [*TYPE_ORDER, None] if k in groups]


def timeline(terms: dict[str, Term]) -> list[tuple[int, list[TimelineEntry]]]:
    """Every historical event, by year; an event about several terms is listed once."""
    entries: dict[tuple[int, str], TimelineEntry] = {}
    for term in sorted(terms.values(), key=lambda t: t.label.casefold()):
        for event in term.events:
            entry = entries.setdefault((event.year, event.label), TimelineEntry(event.year, event.label))
            if all(r.id != term.id for r in entry.terms):
                entry.terms.append(Ref(term.id, term.label))
    years: dict[int, list[TimelineEntry]] = {}
    for key in sorted(entries, key=lambda k: (k[0], k[1].casefold())):
        years.setdefault(key[0], []).append(entries[key])
    return sorted(years.items())


class PageWriter:
    """Renders the generated pages of one site from its templates folder."""

    def __init__(self, templates_dir: Path, page_ids: set[str]):
        self.page_ids = page_ids
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir)),
            autoescape=False,  # the output is Markdown: escape.escape_value does the escaping
            finalize=escape.escape_value,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(
            md_text=escape.md_text,
            md_paragraphs=escape.md_paragraphs,
            md_code=escape.md_code,
            link=escape.link,
            math=escape.math_block,
            code_block=escape.code_block,
            term_link=self.term_link,
            md_join=md_join,
        )
        self.env.filters.update(local_link=local_link, compact_link=self.compact_link, attr_id=attr_id, indent=md_indent)
        self.env.globals.update(doi_url=escape.doi_url, arxiv_url=escape.arxiv_url, safe_url=escape.safe_url)

    def term_link(self, ref: Ref, prefix: str = "") -> escape.MdSafe:
        """A link to a term's page if it has one, else its label as text."""
        label = escape.md_text(ref.label or ref.id)
        if ref.id in self.page_ids:
            return escape.MdSafe(f"[{label}]({prefix}{ref.id}.md)")
        return label

    def compact_link(self, value: str, prefix: str = "") -> escape.MdSafe:
        """A compact IRI (``term:lstm``) as a link to its page if it is a term with one,
        else as code."""
        if value.startswith("term:") and value[5:] in self.page_ids:
            return escape.MdSafe(f"[{escape.md_text(value)}]({prefix}{value[5:]}.md)")
        return escape.md_code(value)

    def render(self, template: str, **context) -> str:
        try:
            return self.env.get_template(template).render(**context)
        except jinja2.TemplateNotFound as exc:
            raise InputError(f"site template {exc.name!r} not found in {self.env.loader.searchpath[0]}") from None
        except jinja2.TemplateError as exc:
            where = f"{exc.filename}:{exc.lineno}" if getattr(exc, "lineno", None) else template
            raise InputError(f"site template {where}: {exc.message}") from None


def local_link(text: object, path: str, anchor_id: str | None = None) -> escape.MdSafe:
    """A link to a page of this site (``path`` comes from a template, never from the
    graph), at ``anchor_id`` if that is a safe HTML id; text escaped."""
    from rnnref.site.data import SAFE_ANCHOR

    target = quote(path, safe="/.-_~")
    if anchor_id and SAFE_ANCHOR.match(anchor_id):
        target += "#" + anchor_id
    return escape.MdSafe(f"[{escape.md_text(text)}]({target})")


def attr_id(anchor_id: str | None) -> escape.MdSafe:
    """An attribute list giving a heading its HTML id (``{ #id }``), if the id is safe."""
    from rnnref.site.data import SAFE_ANCHOR

    if anchor_id and SAFE_ANCHOR.match(anchor_id):
        return escape.MdSafe("{ #" + anchor_id + " }")
    return escape.MdSafe("")


def md_indent(value: object, width: int = 4) -> escape.MdSafe:
    """Indent every line but the first (Jinja's ``indent``), keeping built Markdown as
    it is and escaping anything else first."""
    text = escape.escape_value(value)
    pad = " " * width
    return escape.MdSafe("\n".join(line if i == 0 or not line else pad + line for i, line in enumerate(text.split("\n"))))


def md_join(items, separator: str = ", ") -> escape.MdSafe:
    """Join values, each escaped unless already Markdown (the separator is the template's)."""
    return escape.MdSafe(separator.join(escape.escape_value(item) for item in items))


GENERATED = [  # besides terms/: every page here is generated, never hand-written
    "timeline.md", "people.md", "papers.md", "standards.md", "applications.md", "frameworks.md",
    "sources.md", "ontology.md", "sparql.md", "downloads.md",
]
GRAPH_DIR = "graph"  # docs/graph/: the Turtle sources, linked from each page's edit line
DOWNLOADS_DIR = "downloads"


def sparql_for(term_iri: str) -> str:
    """The query that fetches a term's facts, with the term filled in, to copy and run."""
    from rnnref.site.data import QUERY_DIR

    text = (QUERY_DIR / "term-facts.rq").read_text(encoding="utf-8")
    # Display only (the build runs it with a binding): a VALUES block names the term.
    return re.sub(r"WHERE \{", "WHERE {\n  VALUES ?term { <" + term_iri + "> }", text, count=1)


def write_pages(kg, docs_dir: Path, templates_dir: Path) -> list[str]:
    """Write every generated page into docs_dir: docs/terms/<id>.md, the taxonomy
    (docs/terms/index.md), the timeline and the other index pages, the downloads and
    the Turtle sources the pages link to.

    Returns the term page paths (relative to docs_dir) in nav order, the taxonomy
    page first.
    """
    from rnnref.site import diagrams, indexes, jsonld
    from rnnref.site.bibtex import bibtex
    from rnnref.site.data import SiteData

    ids = [entry.id for entry in kg.index]
    check_ids(ids)
    terms = {term_id: kg.term(term_id) for term_id in ids}
    writer = PageWriter(templates_dir, set(ids))
    roots = source_roots(Path(kg.root))
    data = SiteData(kg)

    out = docs_dir / TERMS_DIR
    for name in [TERMS_DIR, GRAPH_DIR, DOWNLOADS_DIR, *GENERATED]:
        if (docs_dir / name).exists():
            raise InputError(f"site/docs/{name} is generated; remove it from site/docs")
    out.mkdir(parents=True)

    people = {p.id: p for p in data.people}
    by_label = sorted(terms.values(), key=lambda t: (t.label.casefold(), t.id))
    for term in by_label:
        code = find_source(term.implementation.python, roots) if term.implementation else None
        svg = diagrams.benchmark_svg(term)
        if svg:
            (out / f"{term.id}.benchmarks.svg").write_text(svg, encoding="utf-8")
        text = writer.render(
            "term.md.j2",
            term=term,
            code=code,
            edit_file=edit_file(term),
            graph_dir=GRAPH_DIR,
            people_anchors={r.id: people[r.id].anchor for r in term.people if r.id in people},
            bibtex={p.id: bibtex(p) for p in term.papers},
            diagram=escape.MdSafe(diagrams.neighbourhood(term)),
            benchmark_plot=f"{term.id}.benchmarks.svg" if svg else None,
            facts=data.facts(term.iri),
            applications=data.term_applications(term.iri),
            framework_apis=data.term_framework_apis(term.iri),
            sparql=escape.MdSafe(sparql_for(term.iri)),
            jsonld=escape.MdSafe(json.dumps(escape.script_json(jsonld.defined_term(term)))),
        )
        (out / f"{term.id}.md").write_text(text, encoding="utf-8")
    (out / "index.md").write_text(writer.render("terms_index.md.j2", groups=[(heading, tree_rows(nodes)) for heading, nodes in taxonomy(terms)], count=len(terms)), encoding="utf-8")
    (docs_dir / "timeline.md").write_text(writer.render("timeline.md.j2", years=timeline(terms)), encoding="utf-8")
    indexes.write_index_pages(kg, data, writer, docs_dir, terms)
    return [f"{TERMS_DIR}/index.md"] + [f"{TERMS_DIR}/{t.id}.md" for t in by_label]
