"""``rnnref import logseq``: pages -> import files under ``kg/imports/`` (or ``--out``).

Everything is read and checked before anything is written: a malformed page raises
InputError and no file changes. Each output file is written whole, through a
temporary file in the same folder, fsync and ``os.replace``
(``rnnref.atomic.atomic_write``), and only when its bytes change, so importing
the same pages twice leaves the files untouched. The graph a page is resolved against
leaves out the files being written, so a page's own earlier import never turns a new
term into an existing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from rnnref.errors import GraphSyntaxError, InputError
from rnnref.graph.load import parse_turtle_file
from rnnref.graph.paths import graph_files, project_root
from rnnref.logseq import turtle
from rnnref.logseq.mapping import PageTriples, Resolver, identify, map_pages
from rnnref.logseq.parse import Page, parse_page

IMPORT_DIR = Path("kg") / "imports"


@dataclass
class FileChange:
    path: Path
    pages: list[str]
    text: str
    added: list[ox.Triple] = field(default_factory=list)
    removed: list[ox.Triple] = field(default_factory=list)
    unchanged: bool = False
    written: bool = False


@dataclass
class ImportResult:
    files: list[FileChange]
    terms: list[dict]
    warnings: list[str]
    unresolved_links: int
    dry_run: bool

    @property
    def added(self) -> int:
        return sum(len(f.added) for f in self.files)

    @property
    def removed(self) -> int:
        return sum(len(f.removed) for f in self.files)

    def to_json(self, root: Path) -> dict:
        return {
            "dry_run": self.dry_run,
            "files": [
                {
                    "path": _shown(f.path, root),
                    "pages": f.pages,
                    "added": len(f.added),
                    "removed": len(f.removed),
                    "unchanged": f.unchanged,
                    "written": f.written,
                    **({"diff": diff_lines(f)} if self.dry_run else {}),
                }
                for f in self.files
            ],
            "terms": self.terms,
            "added": self.added,
            "removed": self.removed,
            "unresolved_links": self.unresolved_links,
            "warnings": self.warnings,
        }


def _shown(path: Path, root: Path) -> str:
    for base in (Path.cwd(), root):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def diff_lines(change: FileChange) -> list[str]:
    return [f"- {turtle.triple_text(t)}" for t in change.removed] + [f"+ {turtle.triple_text(t)}" for t in change.added]


def _sorted(triples) -> list[ox.Triple]:
    return sorted(triples, key=lambda t: (t.subject.value, t.predicate.value, str(t.object)))


def _load(root: Path) -> dict[Path, list[ox.Quad]]:
    quads = {}
    for path in graph_files(root):
        try:
            quads[path.resolve()] = parse_turtle_file(path, root)
        except GraphSyntaxError as exc:
            raise InputError(f"the graph does not parse, so pages cannot be resolved against it: {exc}") from None
    return quads


def _store(quads_by_file: dict[Path, list[ox.Quad]], leave_out: set[Path] = frozenset()) -> ox.Store:
    store = ox.Store()
    for path, quads in quads_by_file.items():
        if path not in leave_out:
            store.extend(quads)
    return store


def _check_out(path: Path) -> None:
    if path.suffix != ".ttl":
        raise InputError(f"--out {path}: an import file is Turtle; give a name ending in .ttl")
    if path.is_dir():
        raise InputError(f"--out {path} is a folder; give a file name")
    if path.exists():
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[: len(turtle.HEADER_MARK)]
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if head != turtle.HEADER_MARK:
            raise InputError(f"{path} exists and was not written by `rnnref import logseq`; refusing to overwrite it")


def import_pages(
    page_paths: list[str], root: str | Path | None = None, out: str | Path | None = None, dry_run: bool = False
) -> ImportResult:
    if not page_paths:
        raise InputError("give at least one Logseq page (PAGE.md)")
    root = project_root(root)
    pages: list[Page] = [parse_page(Path(p), p) for p in page_paths]
    warnings: list[str] = []
    for page in [p for p in pages if p.ontology_flag == "false"]:
        warnings.append(f"{page.name}: the page says ontology:: false (not an ontology term); skipped")
    pages = [p for p in pages if p.ontology_flag != "false"]
    quads = _load(root)

    # Which term each page is about, against the whole graph (so that a page imported
    # before keeps its IRI and its file) ...
    decided = identify(pages, Resolver(_store(quads)), warnings)
    if out is not None:
        targets = {id(pt.page): Path(out).resolve() for pt in decided}
    else:
        targets = {id(pt.page): (root / IMPORT_DIR / f"{pt.iri.rsplit('/', 1)[-1]}.ttl").resolve() for pt in decided}
    for target in set(targets.values()):
        _check_out(target)

    # ... then what it adds, against the graph without the files being written.
    resolver = Resolver(_store(quads, set(targets.values())))
    mapped: list[PageTriples] = map_pages(pages, decided, resolver, warnings)

    by_file: dict[Path, list[PageTriples]] = {}
    for pt in mapped:
        by_file.setdefault(targets[id(pt.term.page)], []).append(pt)
    changes = []
    for path, group in by_file.items():
        triples = set().union(*(pt.triples for pt in group))
        header = [", ".join(f"{pt.term.page.path.name} (term-id {pt.term.page.term_id})" for pt in group)]
        text = turtle.serialize(triples, header, [ox.NamedNode(pt.term.iri) for pt in group])
        change = FileChange(path, [pt.term.page.name for pt in group], text)
        old_bytes = path.read_bytes() if path.exists() else None
        if old_bytes == text.encode("utf-8"):
            change.unchanged = True
        else:
            try:
                old = turtle.parse(old_bytes) if old_bytes is not None else set()
            except (SyntaxError, ValueError):
                warnings.append(f"{_shown(path, root)}: the existing file does not parse; it is replaced whole")
                old = set()
            change.added = _sorted(triples - old)
            change.removed = _sorted(old - triples)
        changes.append(change)

    if not dry_run:
        from rnnref.atomic import atomic_write

        for change in changes:
            if not change.unchanged:
                atomic_write(change.path, change.text)
                change.written = True

    terms = [{"iri": pt.term.iri, "new": pt.term.new, "page": pt.term.page.name} for pt in mapped]
    return ImportResult(changes, terms, warnings, sum(pt.unresolved_links for pt in mapped), dry_run)
