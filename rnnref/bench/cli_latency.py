"""Wall time of CLI commands, end to end, as a user feels it.

    python -m rnnref.bench.cli_latency [--repeats N] [--check] [--json]

Runs each command in a fresh interpreter, interleaved with a bare interpreter start
(the baseline) so that machine noise hits both alike, and prints the median with
p20/p80 and the ratio to the baseline. ``--check`` exits 1 when a command's median
is over its budget from DESIGN.md (0.25 s for lookup).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

BASELINE = ("python startup", [sys.executable, "-c", "pass"], None)
COMMANDS = [
    ("lookup gru --json", [sys.executable, "-m", "rnnref", "lookup", "gru", "--json"], 0.25),
    ("lookup lstm (card)", [sys.executable, "-m", "rnnref", "lookup", "lstm"], 0.25),
    ("terms --json", [sys.executable, "-m", "rnnref", "terms", "--json"], 0.25),
]


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(repeats: int) -> list[dict]:
    timings: dict[str, list[float]] = {name: [] for name, _, _ in [BASELINE, *COMMANDS]}
    for cmd in [BASELINE, *COMMANDS]:  # warm the file cache once
        subprocess.run(cmd[1], stdout=subprocess.DEVNULL, check=True)
    for _ in range(repeats):
        for name, argv, _ in [BASELINE, *COMMANDS]:
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            timings[name].append(time.perf_counter() - start)
    base = statistics.median(timings[BASELINE[0]])
    rows = []
    for name, _, budget in [BASELINE, *COMMANDS]:
        t = timings[name]
        med = statistics.median(t)
        rows.append(
            {"command": name, "median_s": med, "p20_s": _quantile(t, 0.2), "p80_s": _quantile(t, 0.8),
             "ratio_to_startup": med / base, "budget_s": budget, "within_budget": budget is None or med <= budget}
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--check", action="store_true", help="exit 1 if a command is over its budget")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    rows = measure(args.repeats)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'command':24s} {'median':>8s} {'p20':>8s} {'p80':>8s} {'x startup':>10s} {'budget':>8s}")
        for r in rows:
            budget = f"{r['budget_s']:.2f}s" if r["budget_s"] else "-"
            flag = "" if r["within_budget"] else "  OVER"
            print(f"{r['command']:24s} {r['median_s']:7.3f}s {r['p20_s']:7.3f}s {r['p80_s']:7.3f}s {r['ratio_to_startup']:9.2f}x {budget:>8s}{flag}")
    return 1 if args.check and not all(r["within_budget"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
