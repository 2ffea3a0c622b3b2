"""Time the readable path, the fast path and ``torch.nn`` for Elman, LSTM and GRU.

    python -m rnnref.bench.fast_cells [--repeats N] [--batch B] [--length T] [--size H]
                                      [--threads N] [--cells elman,lstm,gru] [--clock wall|cpu] [--json]

The workload of DESIGN.md's quality bar: batch 32, length 128, input and hidden
size 256, float32, one layer, on CPU. For each cell three networks share the same
weights: ``torch.nn`` (its native CPU kernels), rnnref with ``fast=False`` (the
readable step-by-step path) and rnnref with ``fast=True`` (`rnnref.models._fused`).
Two measurements each:

- ``fwd``: the forward pass alone under ``torch.no_grad()`` (inference);
- ``fwd+bwd``: a training step's forward (with autograd) and the backward of
  ``output.sum() + h_n.sum()`` into every parameter (the input is data: no
  gradient).

``--clock cpu`` times with the process's CPU time instead of the wall clock: on a
machine shared with other work (a loaded 2-core box) it does not count the time
the process waits for a core, so with ``--threads 1`` it is the steadier measure
of the work done; wall time is what a user feels and the default.

Repeats are interleaved (every repeat runs every network in turn, in a rotating
order) so that load from other processes hits all of them alike; the medians and
the ratios of medians are printed. The quality bar is fast/torch fwd+bwd <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

BAR = 1.5  # DESIGN.md: the fast path within 1.5x of torch.nn forward+backward on CPU
CELLS = {
    "elman": ("rnnref.models.elman", "RNN"),
    "lstm": ("rnnref.models.lstm", "LSTM"),
    "gru": ("rnnref.models.gru", "GRU"),
}
IMPLS = ("torch", "fast", "readable")


def _networks(cell: str, size: int):
    import importlib

    module, name = CELLS[cell]
    cls = getattr(importlib.import_module(module), name)
    reference = cls.torch_type(size, size)
    return {
        "torch": reference,
        "fast": cls.from_torch(reference, fast=True),
        "readable": cls.from_torch(reference, fast=False),
    }


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = time.perf_counter


def _time_forward(network, x) -> float:
    import torch

    start = _clock()
    with torch.no_grad():
        network(x)
    return _clock() - start


def _time_training_step(network, x) -> float:
    start = _clock()
    output, h_n = network(x)
    parts = h_n if isinstance(h_n, tuple) else (h_n,)
    loss = output.sum() + sum(p.sum() for p in parts)
    loss.backward()
    elapsed = _clock() - start
    network.zero_grad(set_to_none=True)
    return elapsed


def measure(
    cells: list[str], *, repeats: int, batch: int, length: int, size: int, clock: str = "wall"
) -> list[dict]:
    global _clock
    _clock = CLOCKS[clock]
    import torch

    torch.manual_seed(0)
    x = torch.randn(length, batch, size)
    networks = {cell: _networks(cell, size) for cell in cells}
    timings = {(cell, impl, kind): [] for cell in cells for impl in IMPLS for kind in ("fwd", "fwd+bwd")}
    for cell in cells:  # warm-up: allocator, thread pool, first-call dispatch
        for impl in IMPLS:
            _time_forward(networks[cell][impl], x)
            _time_training_step(networks[cell][impl], x)
    for r in range(repeats):
        for cell in cells:
            order = IMPLS[r % 3 :] + IMPLS[: r % 3]  # rotate who goes first
            for impl in order:
                network = networks[cell][impl]
                timings[cell, impl, "fwd"].append(_time_forward(network, x))
                timings[cell, impl, "fwd+bwd"].append(_time_training_step(network, x))
    rows = []
    for cell in cells:
        row = {"cell": cell, "batch": batch, "length": length, "size": size, "repeats": repeats, "clock": clock}
        for kind in ("fwd", "fwd+bwd"):
            medians = {impl: statistics.median(timings[cell, impl, kind]) for impl in IMPLS}
            for impl in IMPLS:
                row[f"{impl} {kind} ms"] = 1e3 * medians[impl]
            row[f"fast/torch {kind}"] = medians["fast"] / medians["torch"]
            row[f"readable/torch {kind}"] = medians["readable"] / medians["torch"]
        row["within_bar"] = row["fast/torch fwd+bwd"] <= BAR
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--size", type=int, default=256, help="input and hidden size")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--cells", default="elman,lstm,gru")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall time or process CPU time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown or args.repeats < 1:
        parser.error(f"unknown cell(s) {unknown}; choose from {sorted(CELLS)}" if unknown else "--repeats must be >= 1")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    rows = measure(cells, repeats=args.repeats, batch=args.batch, length=args.length, size=args.size, clock=args.clock)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"B={args.batch} T={args.length} I=H={args.size} float32 CPU, {torch.get_num_threads()} thread(s), "
        f"{args.clock} clock, median of {args.repeats} interleaved repeats (ms)"
    )
    header = f"{'cell':6} {'kind':8} {'torch':>9} {'fast':>9} {'readable':>9} {'fast/torch':>11} {'readable/torch':>15}"
    print(header)
    for row in rows:
        for kind in ("fwd", "fwd+bwd"):
            ms = [row[f"{impl} {kind} ms"] for impl in IMPLS]
            ratios = row[f"fast/torch {kind}"], row[f"readable/torch {kind}"]
            print(f"{row['cell']:6} {kind:8} {ms[0]:9.1f} {ms[1]:9.1f} {ms[2]:9.1f} {ratios[0]:11.2f} {ratios[1]:15.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
