"""Benchmarks: speed and memory measured by scripts that report ratios against a
baseline timed in the same run, never by timed unit tests.

``rnnref bench TERM`` is built from:

- `rnnref.bench.workloads`: a spec per runnable term (implementations, FLOPs, memory
  estimate), presets (default, fastrnns, haste, scaling, quick) and sweeps;
- `rnnref.bench.harness`: interleaved CPU/CUDA timing, median with p20/p80;
- `rnnref.bench.memory`: the guard that refuses workloads too large for the device,
  and peak-memory measurement;
- `rnnref.bench.record`: results as ML-Schema runs in ``kg/benchmarks/<term>.ttl``;
- `rnnref.bench.plots`: time against sequence length, for the CLI and the site.

No module here imports torch at import time.
"""
