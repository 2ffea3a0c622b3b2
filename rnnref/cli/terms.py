"""``rnnref terms``: every term, with its implementation."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rnnref.cli.common import JsonOption, RootOption, console, open_graph, print_json


def terms(
    type_name: Annotated[
        Optional[str],
        typer.Option("--type", help="Only terms under this top class: architecture, training-method, problem, component."),
    ] = None,
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """List every term (optionally of one type)."""
    rows = open_graph(root).terms(type_name)
    if json_out:
        print_json([r.to_json() for r in rows])
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(rows)} terms")
    for col in ("id", "label", "types", "implementation", "status"):
        table.add_column(col)
    for r in rows:
        impl = r.implementation
        table.add_row(escape(r.id), escape(r.label), ", ".join(r.types), escape(impl.python) if impl else "-", impl.status if impl else "-")
    console().print(table)
