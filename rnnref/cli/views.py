"""What the read commands print, shared by the typer commands and the fast path.

Nothing here imports typer or rich: the card is plain text (bold labels on a
terminal), so ``rnnref lookup`` stays within its time budget.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

from rnnref.cli.output import open_graph, print_json


def lookup_view(term: str, json_out: bool, root: Path | None) -> None:
    record = open_graph(root).term(term)
    if json_out:
        print_json(record.to_json())
    else:
        sys.stdout.write(render_card(record))


def terms_view(type_name: str | None, json_out: bool, root: Path | None) -> None:
    rows = open_graph(root).terms(type_name)
    if json_out:
        print_json([r.to_json() for r in rows])
        return
    from rich.markup import escape
    from rich.table import Table

    from rnnref.cli.output import console

    table = Table(title=f"{len(rows)} terms")
    for col in ("id", "label", "types", "implementation", "status"):
        table.add_column(col)
    for r in rows:
        impl = r.implementation
        status = impl.status if impl else ("not runnable" if r.not_runnable_reason else "-")
        table.add_row(escape(r.id), escape(r.label), ", ".join(r.types), escape(impl.python) if impl else "-", status)
    console().print(table)


def _styled() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render_card(t) -> str:
    """A term as a labelled text card, wrapped to the terminal width."""
    rows: list[tuple[str, str]] = []

    def row(name: str, value: str | None) -> None:
        if value:
            rows.append((name, " ".join(str(value).split())))

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
        row("paper", f"{'; '.join(p.authors)} ({p.year}). {p.title}. {p.venue or ''} {ident}")
    for s in t.standards:
        row("standard", f"{s.label}" + (f", clause {s.clause}" if s.clause else "") + f" [{s.status or 'unverified'}]")
    for e in t.events:
        row("history", f"{e.year}: {e.label}")
    if t.implementation:
        i = t.implementation
        row("code", f"{i.python} [{i.status}] tested by {i.test}; run: rnnref run {t.id}")
    row("not runnable", t.not_runnable_reason)
    for b in t.benchmarks:
        ratio = f" ({b.ratio:.2f}x {b.baseline})" if b.ratio else ""
        row("benchmark", f"{b.device} {b.workload} {b.metric}={b.value:g}{b.unit or ''}{ratio}")
    for note in t.notes:
        row("note", note)
    row("sources", ", ".join(s.label or s.id for s in t.sources))

    width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
    key_width = max(len(k) for k, _ in rows) + 2
    bold, plain = ("\033[1m", "\033[0m") if _styled() else ("", "")
    lines = [f"{bold}{_printable(t.label)}{plain}", ""]
    for key, value in rows:
        wrapped = textwrap.wrap(_printable(value), width - key_width - 2) or [""]
        lines.append(f"  {bold}{key.ljust(key_width)}{plain}{wrapped[0]}")
        lines.extend(" " * (key_width + 2) + more for more in wrapped[1:])
    return "\n".join(lines) + "\n"


def _printable(text: str) -> str:
    """Graph text with control characters (terminal escapes) removed."""
    return "".join(ch for ch in text if ch.isprintable() or ch == " ")
