"""The timing harness: one code path for CPU and CUDA, chosen by the device argument.

What a number means (the habits of PyTorch's benchmarks/fastrnns, haste and FLA):

- **Interleaved.** Every case (an implementation and a pass) is timed once per
  round, round-robin A, B, C, A, B, C, ..., in one process, so that a noisy moment
  on a shared machine hits all of them alike and their *ratios* hold even when the
  absolute times drift.
- **Warm-up** calls first (lazy initialisation, allocator growth, cuDNN/oneDNN plan
  selection), never timed.
- **Repeats until a time budget**: rounds continue until ``budget_s`` of wall time
  has passed and at least ``min_repeats`` rounds ran, and stop at ``max_repeats``.
- **Synchronised.** On CUDA each call is bracketed by ``torch.cuda.Event`` records
  and the device is synchronised before the elapsed time is read; on CPU the call
  is synchronous and ``time.perf_counter`` brackets it.
- **Median with p20 and p80** of the per-call times (linear interpolation between
  order statistics, as ``numpy.quantile``/``torch.quantile`` do by default).
- **Peak memory** is measured in a separate call per case after the warm-up, so it
  is neither mixed with timing nor with one-time initialisation (see
  `rnnref.bench.memory`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rnnref.bench.memory import PeakMemory

PASSES = ("fwd", "fwd+bwd")


# -- statistics -----------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of ``values`` with linear interpolation (numpy's default method)."""
    if not values:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lo = math.floor(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


@dataclass(frozen=True)
class Summary:
    median: float
    p20: float
    p80: float
    n: int


def summarize(samples: Sequence[float]) -> Summary:
    return Summary(quantile(samples, 0.5), quantile(samples, 0.2), quantile(samples, 0.8), len(samples))


# -- timing one call --------------------------------------------------------------------


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], object], device: str) -> float:
    """Seconds one call of ``fn`` takes on ``device``, synchronised."""
    if device.startswith("cuda"):
        import torch

        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize(device)
        return start.elapsed_time(end) / 1000.0  # elapsed_time is in milliseconds
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


# -- cases and the interleaved loop ----------------------------------------------------------


@dataclass
class Case:
    """One thing to time: an implementation's forward, or forward and backward."""

    impl: str
    pass_: str  # "fwd" or "fwd+bwd"
    fn: Callable[[], object]
    flops: int | None = None  # analytic, per call

    @property
    def name(self) -> str:
        return f"{self.impl} {self.pass_}"


@dataclass
class Measurement:
    impl: str
    pass_: str
    samples: list[float]
    peak_bytes: int | None
    flops: int | None
    summary: Summary = field(init=False)

    def __post_init__(self) -> None:
        self.summary = summarize(self.samples)

    @property
    def flops_per_s(self) -> float | None:
        return self.flops / self.summary.median if self.flops and self.summary.median > 0 else None

    def to_json(self) -> dict:
        """One entry of the ``results`` list of ``rnnref bench --json``."""
        return {
            "impl": self.impl,
            "pass": self.pass_,
            "median_s": self.summary.median,
            "p20_s": self.summary.p20,
            "p80_s": self.summary.p80,
            "peak_bytes": self.peak_bytes,
            "flops": self.flops,
        }


@dataclass(frozen=True)
class Budget:
    """How long to keep timing."""

    seconds: float = 2.0  # wall time for the timed rounds (warm-up and memory not included)
    min_repeats: int = 5
    max_repeats: int = 1000
    warmup: int = 2

    def __post_init__(self) -> None:
        if not (self.seconds >= 0 and math.isfinite(self.seconds)):
            raise ValueError(f"budget must be a finite number of seconds >= 0, got {self.seconds}")
        if self.min_repeats < 1 or self.max_repeats < self.min_repeats or self.warmup < 0:
            raise ValueError(
                f"need 1 <= min_repeats <= max_repeats and warmup >= 0, got {self.min_repeats}, {self.max_repeats}, {self.warmup}"
            )


Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is running)


def run_interleaved(
    cases: Sequence[Case],
    device: str,
    budget: Budget = Budget(),
    progress: Progress | None = None,
    *,
    clock: Callable[[], float] = time.perf_counter,
    timer: Callable[[Callable[[], object], str], float] = time_call,
    measure_memory: bool = True,
) -> list[Measurement]:
    """Time every case round-robin until the budget is spent; one Measurement per case.

    ``clock`` (wall time for the budget) and ``timer`` (one call) can be replaced in
    tests.
    """
    if not cases:
        return []
    report = progress or (lambda fraction, what: None)
    # Warm-up first (at least one call each, so one-time initialisation is not counted
    # as the workload's memory), then one call per case for its peak memory.
    for _ in range(max(1, budget.warmup)):
        for case in cases:
            report(0.0, f"warm-up: {case.name}")
            case.fn()
    synchronize(device)
    peaks: dict[int, int | None] = {}
    for i, case in enumerate(cases):
        report(0.0, f"memory: {case.name}")
        if measure_memory:
            with PeakMemory(device) as peak:
                case.fn()
                synchronize(device)
            peaks[i] = peak.peak_bytes
        else:
            peaks[i] = None

    samples: list[list[float]] = [[] for _ in cases]
    start = clock()
    rounds = 0
    while rounds < budget.max_repeats:
        for i, case in enumerate(cases):
            samples[i].append(timer(case.fn, device))
        rounds += 1
        elapsed = clock() - start
        by_time = elapsed / budget.seconds if budget.seconds > 0 else 1.0
        # Done when both the budget and min_repeats are reached, or at max_repeats.
        report(min(1.0, max(min(by_time, rounds / budget.min_repeats), rounds / budget.max_repeats)), f"round {rounds}")
        if rounds >= budget.min_repeats and elapsed >= budget.seconds:
            break
    report(1.0, "done")
    return [Measurement(c.impl, c.pass_, samples[i], peaks[i], c.flops) for i, c in enumerate(cases)]


def ratios(measurements: Sequence[Measurement], pairs: Sequence[tuple[str, str]]) -> list[dict]:
    """``{"a", "b", "pass", "ratio"}`` for every pair and pass measured for both: a's median over b's."""
    by_key = {(m.impl, m.pass_): m for m in measurements}
    out = []
    for a, b in pairs:
        for pass_ in PASSES:
            ma, mb = by_key.get((a, pass_)), by_key.get((b, pass_))
            if ma and mb and mb.summary.median > 0:
                out.append({"a": a, "b": b, "pass": pass_, "ratio": ma.summary.median / mb.summary.median})
    return out
