"""``rnnref import logseq PAGE.md...`` and ``rnnref export logseq TERM``.

``import_app`` is the ``import`` command group (``import`` is a Python keyword, hence
the module name); ``export_logseq`` is registered on ``export_app`` in ``app.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnref.cli.common import JsonOption, RootOption

import_app = typer.Typer(
    name="import",
    help="Bring pages from other tools into the graph (as files under kg/imports/).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@import_app.command("logseq")
def import_logseq(
    pages: Annotated[list[str], typer.Argument(help="Logseq / Markdown ontology pages (term-id::, preferred-term::, ...).", show_default=False)],
    out: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", help="Write all pages' triples to this one Turtle file. Default: kg/imports/<slug>.ttl per page."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the triples that would be added and removed; write nothing.")] = False,
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """Import Logseq ontology pages: terms merge into existing terms by term-id, label or alternative label."""
    from rnnref.cli.output import print_json
    from rnnref.logseq.importer import _shown, diff_lines, import_pages
    from rnnref.graph.paths import project_root

    result = import_pages(pages, root=root, out=out, dry_run=dry_run)
    tree = project_root(root)
    for warning in result.warnings:
        sys.stderr.write(f"rnnref: warning: {warning}\n")
    if json_out:
        print_json(result.to_json(tree))
        return
    for change in result.files:
        shown = _shown(change.path, tree)
        if change.unchanged:
            print(f"unchanged: {shown}")
            continue
        if dry_run:
            print(f"--- {shown}")
            for line in diff_lines(change):
                print(line)
            print(f"would add {len(change.added)} and remove {len(change.removed)} triples in {shown}")
        else:
            print(f"wrote {shown}: +{len(change.added)} -{len(change.removed)} triples")
    for term in result.terms:
        print(f"{'new' if term['new'] else 'existing'} term {term['iri']} from {term['page']}")
    if dry_run:
        print("dry run: nothing written")


def export_logseq(
    term: Annotated[str, typer.Argument(help="A term's id, label or alternative label (any case).")],
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Write the page to this file (atomically; folders are created). Default: stdout.")
    ] = None,
    root: RootOption = None,
) -> None:
    """Write one term as a Logseq ontology page that `rnnref import logseq` reads back."""
    from rnnref.cli.output import open_graph
    from rnnref.logseq.export import export_page

    kg = open_graph(root)
    text, iri, notes = export_page(kg, term)
    for note in notes:
        sys.stderr.write(f"rnnref: note: {note}\n")
    if out is None:
        sys.stdout.write(text)
        return
    from rnnref.atomic import atomic_write

    atomic_write(out, text)
    print(f"wrote {out} (Logseq page of {iri})")
