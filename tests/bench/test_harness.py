"""The harness's arithmetic and ordering, without timing anything real."""

from __future__ import annotations

import pytest

from rnnref.bench.harness import Budget, Case, Measurement, quantile, ratios, run_interleaved, summarize
from rnnref.bench.workloads import Shape, spec_for


def test_quantiles_on_known_samples():
    # numpy.quantile([1, 2, 3, 4, 5], [0.2, 0.5, 0.8]) == [1.8, 3.0, 4.2]
    s = summarize([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (s.p20, s.median, s.p80, s.n) == pytest.approx((1.8, 3.0, 4.2, 5))
    assert summarize([2.0, 4.0]).median == pytest.approx(3.0)
    assert summarize([7.0]).p20 == summarize([7.0]).p80 == 7.0
    assert quantile([10.0, 20.0, 30.0, 40.0], 0.2) == pytest.approx(16.0)
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_lstm_flops_match_a_hand_count():
    # B=2, T=3, I=5, H=7. Per step: x_t W_ih^T is (2x5)(5x28): 2*2*28*5 = 560 FLOPs;
    # h W_hh^T is (2x7)(7x28): 2*2*28*7 = 784. Three steps: 3 * 1344 = 4032.
    spec = spec_for("lstm")
    assert spec.forward_flops(Shape(batch=2, length=3, input=5, hidden=7)) == 4032


def test_cases_are_timed_round_robin_and_stop_at_the_budget():
    order: list[str] = []
    cases = [Case(name, "fwd", (lambda n=name: order.append(n)), flops=10) for name in ("a", "b", "c")]
    fake_time = iter(range(1000))  # the clock advances 1 s per round

    def timer(fn, device):
        fn()
        return {"a": 1.0, "b": 2.0, "c": 4.0}[order[-1]]

    out = run_interleaved(cases, "cpu", Budget(seconds=3.5, min_repeats=2, max_repeats=100, warmup=1),
                          clock=lambda: next(fake_time), timer=timer, measure_memory=False)
    timed = order[3:]  # after one warm-up call each
    assert timed[:9] == ["a", "b", "c"] * 3
    assert len(timed) % 3 == 0 and len(timed) // 3 == 4  # rounds until 3.5 s had passed
    assert [m.summary.n for m in out] == [4, 4, 4]
    rs = ratios(out, [("a", "c"), ("b", "missing")])
    assert rs == [{"a": "a", "b": "c", "pass": "fwd", "ratio": 0.25}]
    assert out[1].flops_per_s == pytest.approx(5.0)


def test_min_and_max_repeats_bound_the_rounds():
    calls = []
    case = Case("x", "fwd", lambda: calls.append(1))
    clock = iter(range(1000))
    (m,) = run_interleaved([case], "cpu", Budget(seconds=0.0, min_repeats=3, max_repeats=3, warmup=0),
                           clock=lambda: next(clock), timer=lambda fn, d: (fn(), 0.5)[1], measure_memory=False)
    assert m.summary.n == 3
    assert len(calls) == 1 + 3  # one warm-up call (at least one always), three timed
    with pytest.raises(ValueError):
        Budget(seconds=1.0, min_repeats=5, max_repeats=2)


def test_measurement_json_has_the_contract_keys():
    m = Measurement("fast", "fwd+bwd", [1.0, 2.0, 3.0], 1024, 60)
    assert list(m.to_json()) == ["impl", "pass", "median_s", "p20_s", "p80_s", "peak_bytes", "flops"]
