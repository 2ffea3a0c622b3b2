"""``rnnref bench TERM``: time a term's implementations against their baseline, interleaved.

Sizes take one value or a comma-separated list to sweep (``--length 256,1024,4096``);
given sizes replace the preset's. Each workload prints a table (or, with ``--json``,
one object ``{"term", "device", "workload", "results", "ratios"}``; a sweep prints a
list of them). torch is imported inside the command only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.output import console, open_graph, print_json, stderr_console
from rnnref.errors import InputError

_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")  # matched with fullmatch: no trailing newline slips through
# A sweep is the product of its size lists; refuse one that would take days before it starts.
MAX_WORKLOADS = 256

SizeOption = Optional[str]


def bench(
    term: Annotated[str, typer.Argument(help="A term's id, label or alternative label.")],
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    preset_name: Annotated[
        str, typer.Option("--preset", help="default, fastrnns, haste, scaling or quick.", metavar="P")
    ] = "default",
    batch: Annotated[SizeOption, typer.Option("--batch", help="B; a comma list sweeps.", metavar="B")] = None,
    length: Annotated[SizeOption, typer.Option("--length", help="T, sequence length; a comma list sweeps.", metavar="T")] = None,
    hidden: Annotated[SizeOption, typer.Option("--hidden", help="H; a comma list sweeps.", metavar="H")] = None,
    input_size: Annotated[SizeOption, typer.Option("--input", help="I; a comma list sweeps.", metavar="I")] = None,
    repeats: Annotated[
        Optional[int], typer.Option("--repeats", help="Exactly N timed rounds (instead of the time budget).", metavar="N")
    ] = None,
    budget: Annotated[
        Optional[float], typer.Option("--budget", help="Seconds of timed rounds per workload.", metavar="SECONDS")
    ] = None,
    threads: Annotated[
        Optional[int], typer.Option("--threads", help="CPU threads for torch (default: torch's choice).", metavar="N")
    ] = None,
    record: Annotated[bool, typer.Option("--record", help="Append the results to kg/benchmarks/<term>.ttl.")] = False,
    plot: Annotated[
        Optional[Path], typer.Option("--plot", help="Also draw time against length into this .svg or .png.")
    ] = None,
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """Benchmark a term's implementations (forward, forward+backward) against their baseline."""
    from rnnref.bench import workloads as wl

    if not _DEVICE.fullmatch(device):
        raise InputError(f"unknown device {device!r}; use cpu, cuda or cuda:N")
    preset = wl.preset(preset_name)
    sizes = {name: wl.parse_sizes(name, value) for name, value in
             (("batch", batch), ("length", length), ("input", input_size), ("hidden", hidden))}
    if repeats is not None and repeats < 1:
        raise InputError(f"--repeats must be at least 1, got {repeats}")
    if threads is not None and threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    if threads is not None and threads > _max_threads():
        raise InputError(f"--threads {threads} is more than {_max_threads()} (4 per CPU of this machine)")
    count = 1
    for values in sizes.values():
        count *= len(values) if values else 1
    if count > MAX_WORKLOADS:
        raise InputError(f"the size lists make {count} workloads; the limit is {MAX_WORKLOADS} per run")
    if budget is not None and not (budget >= 0 and budget < float("inf")):
        raise InputError(f"--budget must be a number of seconds >= 0, got {budget}")
    if plot is not None and plot.suffix.lower() not in (".svg", ".png"):
        raise InputError(f"--plot must name an .svg or .png file, got {plot}")

    kg = open_graph(root)
    record_ = kg.term(term)  # NotFoundError with suggestions (exit 1)
    spec = wl.spec_for(record_.id)  # NotFoundError when the term has no workload (exit 1)
    shapes = wl.shapes_for(spec, preset.name, sizes["batch"], sizes["length"], sizes["input"], sizes["hidden"])

    _check_device(device)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    from rnnref.bench.harness import Budget

    if repeats is not None:  # exactly N timed rounds, whatever the budget
        timing = Budget(0.0, repeats, repeats, preset.warmup if preset.warmup is not None else 2)
    else:
        timing = Budget(
            seconds=budget if budget is not None else preset.budget_s if preset.budget_s is not None else 2.0,
            min_repeats=preset.min_repeats or 5,
            warmup=preset.warmup if preset.warmup is not None else 2,
        )

    # Refuse what cannot fit before anything is allocated; a single workload exits 2.
    refused: dict[int, str] = {}
    for i, shape in enumerate(shapes):
        try:
            wl.guard(spec, shape, device)
        except InputError as exc:
            if len(shapes) == 1:
                raise
            refused[i] = str(exc)
    if len(refused) == len(shapes):
        raise InputError(f"every workload was refused; the first: {refused[0]}")

    from rnnref.bench.record import device_label

    name = device_label(device)
    outputs: list[dict] = []
    with _progress(len(shapes) - len(refused)) as progress:
        for i, shape in enumerate(shapes):
            workload = {"preset": preset.name, **shape.to_json(), "dtype": "float32", "device_name": name}
            if i in refused:
                outputs.append({"term": record_.id, "device": device, "workload": {**workload, "refused": refused[i]},
                                "results": [], "ratios": []})
                continue
            done = progress.task(f"{record_.id} {shape.describe()}")
            out = wl.run_workload(spec, shape, device, timing, done)
            workload["notes"] = out["notes"]
            outputs.append({"term": record_.id, "device": device, "workload": workload,
                            "results": out["results"], "ratios": out["ratios"]})

    if record:
        from rnnref.bench.record import record as record_run

        for out in outputs:
            if out["results"]:
                w = out["workload"]
                text = f"B={w['batch']} T={w['length']} I={w['input']} H={w['hidden']} {w['dtype']}"
                run_iri, path = record_run(kg, record_, device, text, out["results"], out["ratios"], w.get("notes", []))
                sys.stderr.write(f"rnnref: recorded {run_iri} in {path}\n")
    if plot is not None:
        from rnnref.bench.plots import plot_benchmarks

        written = _plot_atomically(plot, lambda path: plot_benchmarks(record_.id, [o for o in outputs if o["results"]], path))
        sys.stderr.write(f"rnnref: wrote {written}\n")

    if json_out:
        print_json(outputs[0] if len(outputs) == 1 else outputs)
    else:
        for out in outputs:
            _print(out)


def _plot_atomically(plot: Path, draw) -> Path:
    """Draw into a temporary dot file beside ``plot`` (same suffix, so the format is the
    same) and move it over ``plot`` only when drawing succeeded (rnnref.atomic's steps)."""
    import os
    import tempfile

    from rnnref.atomic import default_mode, fsync_dir, pause_before_replace

    try:
        plot.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{plot.stem}.", suffix=f".tmp{plot.suffix}", dir=plot.parent)
    except OSError as exc:
        raise InputError(f"cannot write {plot}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        draw(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, default_mode())
        pause_before_replace()
        os.replace(tmp, plot)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(plot.parent)
    return plot


def _max_threads() -> int:
    import os

    return 4 * (os.cpu_count() or 1)


def _check_device(device: str) -> None:
    if not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA device is visible"
        raise InputError(f"--device {device}: CUDA is not available ({why}; torch {torch.__version__}); use --device cpu")
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise InputError(f"--device {device}: there are only {torch.cuda.device_count()} CUDA device(s)")


class _progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int):
        self.total, self.bar = total, None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                console=stderr_console(), transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def task(self, title: str):
        if self.bar is None:
            return None
        task = self.bar.add_task(title, total=1.0)

        def update(fraction: float, what: str) -> None:
            self.bar.update(task, completed=fraction, description=f"{title}: {what}")

        return update


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def _print(out: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    from rnnref.bench.memory import gib

    w = out["workload"]
    title = f"{out['term']} on {w.get('device_name', out['device'])}: B={w['batch']} T={w['length']} I={w['input']} H={w['hidden']}"
    con = console()
    if "refused" in w:
        con.print(f"[yellow]refused[/yellow] {escape(w['refused'])}")
        return
    table = Table(title=escape(title))
    for col in ("impl", "pass", "median", "p20", "p80", "peak memory", "GFLOP/s"):
        table.add_column(col, justify="left" if col in ("impl", "pass") else "right")
    for r in out["results"]:
        rate = f"{r['flops'] / r['median_s'] / 1e9:.2f}" if r["flops"] and r["median_s"] > 0 else "-"
        peak = gib(r["peak_bytes"]) if r["peak_bytes"] is not None else "-"
        table.add_row(r["impl"], r["pass"], _seconds(r["median_s"]), _seconds(r["p20_s"]), _seconds(r["p80_s"]), peak, rate)
    con.print(table)
    for r in out["ratios"]:
        con.print(f"  {r['a']}/{r['b']} {r['pass']}: {r['ratio']:.2f}x")
    for note in w.get("notes", []):
        con.print(f"  note: {escape(note)}")
