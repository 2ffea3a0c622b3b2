"""Scaling plots: time against sequence length, one line per implementation and pass.

``plot_benchmarks(term, runs, out_path)`` takes either

- recorded results, the ``benchmarks`` of a term record (`rnnref.graph.records.Benchmark`:
  ``workload`` like ``"B=8 T=1024 I=64 H=64 float32"``, ``metric`` like
  ``"scan fwd+bwd median time"``), or
- workload results as ``rnnref bench --json`` prints them (dicts with ``workload``
  and ``results``),

and writes an SVG or PNG (by the suffix of ``out_path``) with matplotlib's Agg
backend. Several measurements of the same point (repeated runs) are shown by their
median. Lines whose other sizes (B, I, H) differ are drawn separately.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from rnnref.errors import InputError

_METRIC = re.compile(r"^(?P<impl>\S+) (?P<pass>fwd|fwd\+bwd) median time$")
_SIZE = re.compile(r"\b([BTIH])=(\d+)")


def _points(runs: Iterable) -> dict[tuple[str, str], dict[int, list[float]]]:
    """{(series label, device): {T: [seconds, ...]}} from records or JSON results."""
    series: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if isinstance(run, dict):
            w = run.get("workload") or {}
            if "length" not in w:
                continue
            rest = f"B={w.get('batch')} I={w.get('input')} H={w.get('hidden')}"
            for r in run.get("results", []):
                series[(f"{r['impl']} {r['pass']}|{rest}", str(run.get("device", "")))][int(w["length"])].append(r["median_s"])
        else:
            m = _METRIC.match(getattr(run, "metric", "") or "")
            sizes = dict(_SIZE.findall(getattr(run, "workload", "") or ""))
            if not m or "T" not in sizes or run.value is None:
                continue
            rest = " ".join(f"{k}={sizes[k]}" for k in "BIH" if k in sizes)
            series[(f"{m['impl']} {m['pass']}|{rest}", run.device or "")][int(sizes["T"])].append(float(run.value))
    return series


def plot_benchmarks(term: str, runs: Iterable, out_path: str | Path) -> Path:
    """Draw time against sequence length for ``term``; returns the file written."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in (".svg", ".png"):
        raise InputError(f"plot file must end in .svg or .png, got {out_path.name}")
    series = _points(runs)
    if not series:
        raise InputError(f"no timings with a sequence length to plot for {term}")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shapes = {label.split("|", 1)[1] for label, _ in series}
    devices = {device for _, device in series}
    # A fixed hash salt and no date keep the SVG byte-identical for the same data.
    context = plt.rc_context({"svg.hashsalt": "rnnref"})
    context.__enter__()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colours: dict[str, str] = {}  # one colour per implementation (and shape, device); line style per pass
    try:
        for (label, device), by_length in sorted(series.items()):
            name, rest = label.split("|", 1)
            impl, pass_ = name.split(" ", 1)
            colour = colours.setdefault(f"{impl}|{rest}|{device}", f"C{len(colours) % 10}")
            if len(shapes) > 1:
                name += f" ({rest})"
            if len(devices) > 1:
                name += f" [{device}]"
            lengths = sorted(by_length)
            times = [statistics.median(by_length[t]) for t in lengths]
            style = "--" if pass_ == "fwd+bwd" else "-"
            ax.plot(lengths, times, style, color=colour, marker="o", markersize=3, label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("median time per call (s)")
        title = f"{term}: time against sequence length"
        if len(shapes) == 1:
            title += f" ({next(iter(shapes))})"
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        out_path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"Date": None} if out_path.suffix.lower() == ".svg" else {}
        fig.savefig(out_path, metadata=metadata)
    finally:
        plt.close(fig)
        context.__exit__(None, None, None)
    return out_path


def term_svg(term: str, runs: Iterable) -> str | None:
    """The scaling plot of recorded ``runs`` as SVG text, or None when no run has a
    sequence length to plot against (the site then falls back to a bar chart)."""
    import tempfile

    runs = list(runs)
    if not _points(runs):
        return None
    with tempfile.TemporaryDirectory(prefix="rnnref-plot-") as tmp:
        path = plot_benchmarks(term, runs, Path(tmp) / "plot.svg")
        text = path.read_text(encoding="utf-8")
    # Drop the XML prolog and DOCTYPE so the SVG can sit inline in a page.
    start = text.find("<svg")
    return text[start:] if start >= 0 else None
