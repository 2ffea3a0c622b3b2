"""``rnnref lookup TERM``: one term's card, or its JSON record."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnref.cli.common import JsonOption, RootOption, console, open_graph, print_json


def lookup(
    term: Annotated[str, typer.Argument(help="A term's id, label or alternative label (any case).")],
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """Look a term up by id, label or alternative label."""
    record = open_graph(root).term(term)
    if json_out:
        print_json(record.to_json())
    else:
        render_card(record)


def render_card(t) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()

    def row(name: str, value: str | None) -> None:
        if value:
            grid.add_row(name, escape(value))

    row("id", t.id)
    row("iri", t.iri)
    row("also", ", ".join(t.alt_labels))
    row("type", ", ".join(t.types))
    row("definition", t.definition)
    row("broader", ", ".join(r.label for r in t.broader))
    row("narrower", ", ".join(r.label for r in t.narrower))
    row("related", ", ".join(r.label for r in t.related))
    row("year", str(t.year) if t.year else None)
    row("people", ", ".join(r.label for r in t.people))
    for p in t.papers:
        ident = f"doi:{p.doi}" if p.doi else f"arXiv:{p.arxiv}" if p.arxiv else p.url or ""
        row("paper", f"{'; '.join(p.authors)} ({p.year}). {p.title}. {p.venue or ''} {ident}".strip())
    for s in t.standards:
        row("standard", f"{s.label}" + (f", clause {s.clause}" if s.clause else "") + f" [{s.status or 'unverified'}]")
    for e in t.events:
        row("history", f"{e.year}: {e.label}")
    if t.implementation:
        i = t.implementation
        row("code", f"{i.python} [{i.status}] tested by {i.test}; run: rnnref run {t.id}")
    row("not runnable", t.not_runnable_reason)
    for b in t.benchmarks:
        row("benchmark", f"{b.device} {b.workload} {b.metric}={b.value:g}{b.unit or ''}" + (f" ({b.ratio:.2f}x {b.baseline})" if b.ratio else ""))
    for note in t.notes:
        row("note", note)
    row("sources", ", ".join(s.label or s.id for s in t.sources))
    console().print(Panel(grid, title=f"[bold]{escape(t.label)}[/bold]", title_align="left", expand=False))
