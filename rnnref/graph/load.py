"""Turtle -> an in-process pyoxigraph store.

Each file goes into its own named graph (``urn:rnnref:file:<path>``) so that any
triple can be traced back to the file that states it: validation reports and the
site's edit links use this. Queries run over the union of all files.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from rnnref.errors import GraphSyntaxError, InputError
from rnnref.graph.paths import graph_files

FILE_GRAPH_PREFIX = "urn:rnnref:file:"


def file_graph(relpath: str) -> ox.NamedNode:
    return ox.NamedNode(FILE_GRAPH_PREFIX + relpath)


def graph_file_path(graph: ox.NamedNode) -> str:
    """The project-relative path of the file a named graph was loaded from."""
    return graph.value.removeprefix(FILE_GRAPH_PREFIX)


def parse_turtle_file(path: Path, root: Path) -> list[ox.Quad]:
    """Parse one Turtle file into quads in its file graph, or raise GraphSyntaxError."""
    rel = path.relative_to(root).as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{rel}: cannot read: {exc.strerror or exc}") from None
    graph = file_graph(rel)
    try:
        triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=None))
    except SyntaxError as exc:
        line = exc.lineno
        text = None
        if line:
            lines = data.decode("utf-8", errors="replace").splitlines()
            if 0 < line <= len(lines):
                text = lines[line - 1]
        detail = str(exc.msg if hasattr(exc, "msg") else exc)
        # pyoxigraph prefixes its own position; the message already carries file:line.
        detail = detail.split(": ", 1)[1] if detail.startswith("Parser error") and ": " in detail else detail
        raise GraphSyntaxError(rel, line, exc.offset, detail, text) from None
    except ValueError as exc:  # e.g. invalid UTF-8
        raise GraphSyntaxError(rel, None, None, str(exc)) from None
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def load_store(root: Path, files: list[Path] | None = None) -> ox.Store:
    """Load every graph file under root into a fresh in-memory store."""
    store = ox.Store()
    quads: list[ox.Quad] = []
    for path in files if files is not None else graph_files(root):
        quads.extend(parse_turtle_file(path, root))
    store.extend(quads)
    return store
