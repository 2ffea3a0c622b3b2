"""``rnnref validate``: syntax, SHACL, QC queries and code links in one report."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.output import console, print_json


def validate(
    json_out: JsonOption = False,
    code: Annotated[bool, typer.Option("--code/--no-code", help="Also check that every implementation imports and names its term.")] = True,
    reasoner: Annotated[
        str,
        typer.Option(
            "--reasoner",
            help="OWL reasoner: auto (HermiT when Java is present, else OWL RL), hermit, owlrl or none.",
            metavar="auto|hermit|owlrl|none",
        ),
    ] = "auto",
    root: RootOption = None,
) -> None:
    """Check the graph and its code links; exit 0 when everything passes, 1 on violations, 2 on a syntax error."""
    from rnnref.graph.validate import validate as run_validation

    report = run_validation(root, code=code, reasoner=reasoner)
    if json_out:
        print_json(report.to_json())
    else:
        _print(report)
    if report.unusable:
        raise typer.Exit(2)
    if not report.conforms:
        raise typer.Exit(1)


def _print(report) -> None:
    import sys

    from rich.markup import escape

    out = console()
    for check in report.checks:
        if not check.ran:
            out.print(f"[yellow]-[/yellow] {check.name}: {escape(check.note or 'skipped')}")
        elif check.problems:
            out.print(f"[red]x[/red] {check.name}: {len(check.problems)} problem(s) ({check.seconds:.2f} s)")
        else:
            note = f": {escape(check.note)}" if check.note else ""
            out.print(f"[green]ok[/green] {check.name}{note} ({check.seconds:.2f} s)")
    from rnnref.cli import one_line

    for problem in report.problems:  # one line each, whatever the graph text in it holds
        sys.stderr.write(f"rnnref: {one_line(problem.check + ': ' + problem.line_text())}\n")
    out.print("[green]valid[/green]" if report.conforms else f"[red]{len(report.problems)} problem(s)[/red]")
