"""Pictures on a term page: the Mermaid diagram of its neighbourhood in the
taxonomy, and an SVG chart of its recorded benchmark results.

Both are built from escaped text only: Mermaid labels are entity-coded
(``escape.mermaid_text``), SVG text is XML-escaped.
"""

from __future__ import annotations

import importlib
from xml.sax.saxutils import escape as xml_escape

from rnnref.graph.records import Benchmark, Term
from rnnref.site.escape import mermaid_text

MAX_NODES = 6  # per kind of neighbour; the rest are summed up in one node


def neighbourhood(term: Term) -> str:
    """A Mermaid flowchart, left to right: broader terms, the term, then its narrower
    terms and (dotted) its related ones."""
    lines = ["flowchart LR", f'  t0["{mermaid_text(term.label)}"]:::current']

    def nodes(refs, prefix: str, edge: str, more_label: str) -> None:
        for i, ref in enumerate(refs[:MAX_NODES]):
            lines.append(f'  {prefix}{i}["{mermaid_text(ref.label or ref.id)}"]')
            lines.append("  " + edge.format(n=f"{prefix}{i}"))
        if len(refs) > MAX_NODES:
            lines.append(f'  {prefix}more["{mermaid_text(f"{len(refs) - MAX_NODES} more {more_label}")}"]:::more')
            lines.append("  " + edge.format(n=f"{prefix}more"))

    nodes(term.broader, "b", "{n} --> t0", "broader terms")
    nodes(term.narrower, "n", "t0 --> {n}", "narrower terms")
    nodes(term.related, "r", "t0 -.- {n}", "related terms")
    lines.append("  classDef current stroke-width:3px,font-weight:bold")
    lines.append("  classDef more stroke-dasharray:4 4")
    return "\n".join(lines)


def benchmark_svg(term: Term) -> str | None:
    """An SVG bar chart of the term's benchmark results, or None if it has none.

    ``rnnref.bench.plots`` (if that module exists and has ``term_svg(term_id,
    benchmarks)``) draws it instead; this fallback draws one bar per result: the
    ratio to the baseline where one was recorded, else the value scaled within its
    metric.
    """
    if not term.benchmarks:
        return None
    try:
        plots = importlib.import_module("rnnref.bench.plots")
    except ImportError:
        plots = None
    draw = getattr(plots, "term_svg", None) if plots else None
    if callable(draw):
        svg = draw(term.id, list(term.benchmarks))
        if svg:
            return str(svg)
    return _bars(term.benchmarks)


def _bars(benchmarks: list[Benchmark]) -> str:
    rows = []
    use_ratio = all(b.ratio is not None for b in benchmarks)
    peak: dict[tuple, float] = {}
    for b in benchmarks:
        key = (b.metric, b.unit)
        peak[key] = max(peak.get(key, 0.0), abs(float(b.value or 0)))
    top = max((float(b.ratio) for b in benchmarks), default=1.0) if use_ratio else 1.0
    top = max(top, 1.0)
    width, label_w, bar_w, row_h = 760, 330, 300, 26
    for i, b in enumerate(benchmarks):
        if use_ratio:
            frac = float(b.ratio) / top
            shown = f"{float(b.ratio):.2f}x {b.baseline or 'baseline'}"
        else:
            frac = abs(float(b.value or 0)) / (peak[(b.metric, b.unit)] or 1.0)
            shown = f"{float(b.value):.4g} {b.unit or ''}".strip()
        y = 10 + i * row_h
        label = f"{b.workload} · {b.metric} · {b.device}"
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{xml_escape(label[:60])}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(1.0, frac * bar_w):.1f}" height="16" fill="#4f86c6"/>'
            f'<text x="{label_w + max(1.0, frac * bar_w) + 6:.1f}" y="{y + 16}">{xml_escape(shown)}</text>'
        )
    height = 20 + len(benchmarks) * row_h + (16 if use_ratio else 0)
    baseline = ""
    if use_ratio:
        x = label_w + bar_w / top
        baseline = (
            f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{height - 18}" stroke="#888" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">1.0 = baseline</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="12" fill="#777">'
        f"<title>Benchmark results</title>{''.join(rows)}{baseline}</svg>\n"
    )
