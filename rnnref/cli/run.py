"""``rnnref run TERM``: run a term's implementation on a small demo task."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.output import console, open_graph, print_json
from rnnref.errors import InputError, NotFoundError, ValidationFailed


def run(
    term: Annotated[str, typer.Argument(help="A term's id, label or alternative label.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same numbers.")] = 0,
    check_finite: Annotated[
        bool,
        typer.Option("--check-finite", help="Stop with an error at the first NaN or Inf any model reads or returns (slower)."),
    ] = False,
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """Run a term's reference implementation on a small demo task and show what it shows."""
    if not 0 <= seed < 2**63:
        raise InputError(f"--seed must be between 0 and 2**63-1, got {seed}")
    record = open_graph(root).term(term)
    if record.implementation is None:
        kind = {"Component": "a component", "Problem": "a problem"}.get(next(iter(record.types), ""), None)
        reason = record.not_runnable_reason or (
            f"it is {kind}, not a method or network that runs on its own" if kind else "it has no reference implementation yet"
        )
        raise NotFoundError(f"{record.id} cannot be run: {reason}")
    from rnnref.demos import all_demos, run_demo

    if record.id not in all_demos():
        raise NotFoundError(f"{record.id} has an implementation ({record.implementation.python}) but no demo task yet")
    if check_finite:
        from rnnref.models._checks import NonFiniteError, checking

        try:
            with checking():
                demo = run_demo(record.id, seed=seed)
        except NonFiniteError as exc:
            raise ValidationFailed(f"{record.id} (seed {seed}): {exc}") from None
    else:
        demo = run_demo(record.id, seed=seed)
    if json_out:
        print_json(
            {"term": record.id, "implementation": record.implementation.python, "seed": seed, "title": demo.title,
             "task": demo.task, "columns": demo.columns, "rows": demo.rows, "summary": demo.summary}
        )
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(demo.title))
    for col in demo.columns:
        table.add_column(escape(str(col)))
    for row in demo.rows:
        table.add_row(*(f"{v:.6g}" if isinstance(v, float) else escape(str(v)) for v in row))
    out = console()
    out.print(escape(demo.task))
    out.print(table)
    out.print(escape(demo.summary))
