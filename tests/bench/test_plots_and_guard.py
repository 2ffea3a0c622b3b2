"""The scaling plot from both kinds of input, and the memory guard's arithmetic."""

from __future__ import annotations

import pytest

from rnnref.bench.memory import Estimate, check_fits, gib
from rnnref.bench.workloads import Shape, guard, parse_sizes, shapes_for, spec_for
from rnnref.errors import InputError
from rnnref.graph.records import Benchmark


def _json_run(length: int, scale: float) -> dict:
    return {"term": "mingru", "device": "cpu",
            "workload": {"batch": 2, "length": length, "input": 8, "hidden": 8},
            "results": [{"impl": impl, "pass": p, "median_s": scale * length * k, "p20_s": 0, "p80_s": 0,
                         "peak_bytes": None, "flops": None}
                        for impl, k in (("loop", 1.0), ("scan", 0.05)) for p in ("fwd", "fwd+bwd")]}


def test_plot_from_json_results_and_from_records(tmp_path):
    pytest.importorskip("matplotlib")
    from rnnref.bench.plots import plot_benchmarks

    svg = plot_benchmarks("mingru", [_json_run(t, 1e-6) for t in (128, 256, 512)], tmp_path / "a.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "scan fwd+bwd" in text
    again = plot_benchmarks("mingru", [_json_run(t, 1e-6) for t in (128, 256, 512)], tmp_path / "b.svg")
    assert again.read_text() == text  # deterministic output for the same data

    records = [Benchmark("cpu: x", f"B=2 T={t} I=8 H=8 float32", "scan fwd median time", 1e-6 * t, "s", "loop", 0.1)
               for t in (64, 128)] + [Benchmark("cpu: x", "B=2 T=64 I=8 H=8 float32", "scan fwd peak memory", 5.0, "bytes", None, None)]
    png = plot_benchmarks("mingru", records, tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError):
        plot_benchmarks("mingru", records[-1:], tmp_path / "d.svg")  # nothing with a length to plot


def test_term_svg_is_inline_svg_for_the_site_or_none():
    pytest.importorskip("matplotlib")
    from rnnref.bench.plots import term_svg

    records = [Benchmark("cpu: x", f"B=2 T={t} I=8 H=8 float32", "scan fwd median time", 1e-6 * t, "s", "loop", 0.1)
               for t in (64, 128)]
    svg = term_svg("mingru", records)
    assert svg.startswith("<svg") and "scan fwd" in svg and "<?xml" not in svg
    peak_only = [Benchmark("cpu: x", "B=2 T=64 I=8 H=8 float32", "scan fwd peak memory", 5.0, "bytes", None, None)]
    assert term_svg("mingru", peak_only) is None


def test_guard_refuses_with_the_estimate_and_passes_small_work():
    spec = spec_for("lstm")
    big = Shape(batch=64, length=1000, input=512, hidden=4096)
    estimate = spec.estimate(big)
    with pytest.raises(InputError) as exc:
        guard(spec, big, "cpu", available=2**30)
    assert gib(estimate.total) in str(exc.value) and "parameters" in str(exc.value)
    guard(spec, Shape(2, 8, 8, 8), "cpu", available=2**30)
    check_fits(Estimate(1, 1, 1), "cpu", "x", available=None)  # unknown free memory: not refused


def test_haste_grid_has_large_entries_the_guard_refuses_on_a_small_device():
    spec = spec_for("lstm")
    grid = shapes_for(spec, "haste")
    assert len(grid) == 8 * 4 * 6 and {s.length for s in grid} == {50}
    refused = 0
    for shape in grid:
        try:
            guard(spec, shape, "cuda", available=4 * 2**30)  # a 4 GiB device
        except InputError:
            refused += 1
    assert 0 < refused < len(grid)


def test_sizes_parse_as_lists_and_override_the_preset():
    assert parse_sizes("length", "128, 256") == [128, 256]
    assert parse_sizes("length", None) is None
    shapes = shapes_for(spec_for("gru"), "fastrnns", length=[10, 20])
    assert shapes == [Shape(64, 10, 512, 512), Shape(64, 20, 512, 512)]
