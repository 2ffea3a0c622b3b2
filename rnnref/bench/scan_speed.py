"""Parallel scan vs the Python loop over time steps, at T = 4096, on the CPU.

    python -m rnnref.bench.scan_speed [--length 4096] [--repeats 3] [--threads 1] [--json] [--check]

For each workload both paths run in the same process, interleaved (loop, scan,
loop, scan, ...) so that machine noise hits both alike; the table shows the
median wall time of each and the ratio loop / scan. Workloads:

- ``scan BxH``: `rnnref.models._scan.parallel_scan` vs `sequential_scan` on
  float32 (B, T, H) tensors, for a few widths B x H (the ratio shrinks as the
  width grows: the loop's per-step cost is Python overhead, the scan's is memory
  traffic);
- ``mingru``, ``minlstm``, ``linear-rnn``: the model's ``mode="scan"`` vs
  ``mode="loop"`` forward;
- ``mamba selective scan``: `rnnref.models.mamba.selective_scan`, scan vs loop.

``fwd`` is the forward pass alone, ``fwd+bwd`` forward plus backward of the sum
of the outputs (training). ``--check`` exits 1 if any model workload (all but the
raw ``scan BxH`` rows) is less than 10x faster in training (fwd+bwd), the bar
DESIGN.md sets for the parallel-scan models at length 4096.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

TARGET_RATIO = 10.0


def _workloads(T: int):
    """(name, make) pairs; make() -> (inputs, loop_fn, scan_fn), functions of the inputs."""
    import torch

    from rnnref.models._scan import parallel_scan, sequential_scan

    def raw(B: int, H: int):
        def make():
            a = torch.rand(B, T, H) * 0.5 + 0.5
            b = torch.randn(B, T, H)
            return [a, b], sequential_scan, parallel_scan

        return make

    def model(cls, **kwargs):
        def make():
            net = cls(**kwargs)
            x = torch.randn(4, T, kwargs.get("input_size", 16))
            return [x], (lambda x: net(x, mode="loop")[0]), (lambda x: net(x, mode="scan")[0])

        return make

    def mamba():
        from rnnref.models.mamba import selective_scan

        B, D, N = 2, 16, 8
        A = -torch.exp(torch.log(torch.arange(1, N + 1.0)).expand(D, N))

        def make():
            u, delta = torch.randn(B, T, D), torch.rand(B, T, D) * 0.1
            Bm, Cm = torch.randn(B, T, N), torch.randn(B, T, N)

            def run(mode):
                return lambda u, delta, Bm, Cm: selective_scan(u, delta, A, Bm, Cm, mode=mode)[0]

            return [u, delta, Bm, Cm], run("loop"), run("scan")

        return make

    from rnnref.models.linear_rnn import LinearRNN
    from rnnref.models.mingru import MinGRU
    from rnnref.models.minlstm import MinLSTM

    return [
        ("scan 1x16", raw(1, 16)),
        ("scan 4x64", raw(4, 64)),
        ("scan 16x256", raw(16, 256)),
        ("mingru B=4 I=16 H=64", model(MinGRU, input_size=16, hidden_size=64)),
        ("minlstm B=4 I=16 H=64", model(MinLSTM, input_size=16, hidden_size=64)),
        ("linear-rnn B=4 I=16 N=64", model(LinearRNN, input_size=16, state_size=64)),
        ("mamba selective scan B=2 D=16 N=8", mamba()),
    ]


def _time(fn, inputs, backward: bool) -> float:
    import torch

    args = [x.detach().requires_grad_(backward) for x in inputs]
    start = time.perf_counter()
    out = fn(*args)
    if backward:
        out.sum().backward()
    else:
        torch.as_tensor(out).sum().item()
    return time.perf_counter() - start


def measure(length: int, repeats: int) -> list[dict]:
    import torch

    rows = []
    for name, make in _workloads(length):
        torch.manual_seed(0)
        with torch.no_grad():
            inputs, loop_fn, scan_fn = make()
        for pass_name, backward in (("fwd", False), ("fwd+bwd", True)):
            context = torch.enable_grad() if backward else torch.no_grad()
            with context:
                _time(scan_fn, inputs, backward)  # warm-up
                loop_times, scan_times = [], []
                for _ in range(repeats):
                    loop_times.append(_time(loop_fn, inputs, backward))
                    scan_times.append(_time(scan_fn, inputs, backward))
            loop_s, scan_s = statistics.median(loop_times), statistics.median(scan_times)
            rows.append(
                {"workload": name, "pass": pass_name, "T": length, "loop_s": loop_s, "scan_s": scan_s,
                 "ratio": loop_s / scan_s}
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4096, help="sequence length T")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each path (median)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a model's fwd+bwd ratio is below {TARGET_RATIO:g}")
    args = parser.parse_args(argv)
    if args.length < 1 or args.repeats < 1 or args.threads < 1:
        print("error: --length, --repeats and --threads must be positive", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    rows = measure(args.length, args.repeats)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"T = {args.length}, {args.threads} thread(s), median of {args.repeats}, float32, CPU")
        print(f"{'workload':<36} {'pass':<8} {'loop s':>9} {'scan s':>9} {'loop/scan':>10}")
        for row in rows:
            print(f"{row['workload']:<36} {row['pass']:<8} {row['loop_s']:>9.4f} {row['scan_s']:>9.4f} {row['ratio']:>9.1f}x")
    slow = [
        r for r in rows if not r["workload"].startswith("scan ") and r["pass"] == "fwd+bwd" and r["ratio"] < TARGET_RATIO
    ]
    if args.check and slow:
        for r in slow:
            print(f"{r['workload']} {r['pass']}: {r['ratio']:.1f}x < {TARGET_RATIO:g}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
