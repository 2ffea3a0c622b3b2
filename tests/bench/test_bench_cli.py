"""`rnnref bench` as a user runs it: the JSON contract and every refusal's exit code.

Timings are never asserted (the machine is shared); only shapes, keys and codes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli

# One torch thread: the machine is shared, and these tests time nothing.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}
QUICK = ("--preset", "quick", "--repeats", "2")


def test_lstm_quick_json_has_every_impl_pass_and_ratio():
    r = run_cli("bench", "lstm", "--device", "cpu", *QUICK, "--json", env=ONE_THREAD)
    assert r.code == 0, r.err
    data = r.json()
    assert list(data) == ["term", "device", "workload", "results", "ratios"]
    assert data["term"] == "lstm" and data["device"] == "cpu"
    assert {k: data["workload"][k] for k in ("batch", "length", "input", "hidden")} == {
        "batch": 2, "length": 8, "input": 8, "hidden": 8}
    got = {(x["impl"], x["pass"]) for x in data["results"]}
    assert got == {(i, p) for i in ("readable", "fast", "torch") for p in ("fwd", "fwd+bwd")}
    for x in data["results"]:
        assert list(x) == ["impl", "pass", "median_s", "p20_s", "p80_s", "peak_bytes", "flops"]
        assert 0 < x["p20_s"] <= x["median_s"] <= x["p80_s"]
        assert x["flops"] == (1 if x["pass"] == "fwd" else 3) * 2 * 2 * 8 * 4 * 8 * (8 + 8)
    pairs = {(x["a"], x["b"], x["pass"]) for x in data["ratios"]}
    assert pairs == {(a, "torch", p) for a in ("fast", "readable") for p in ("fwd", "fwd+bwd")}
    for x in data["ratios"]:
        assert list(x) == ["a", "b", "pass", "ratio"] and x["ratio"] > 0


def test_scan_model_reports_loop_scan_and_their_ratio():
    r = run_cli("bench", "mingru", *QUICK, "--json", env=ONE_THREAD)
    assert r.code == 0, r.err
    data = r.json()
    assert {(x["impl"], x["pass"]) for x in data["results"]} == {
        (i, p) for i in ("loop", "scan") for p in ("fwd", "fwd+bwd")}
    assert {(x["a"], x["b"]) for x in data["ratios"]} == {("scan", "loop")}


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--batch", "0"), "--batch must be a positive integer"),
        (("--length", "-5"), "--length must be a positive integer"),
        (("--hidden", "abc"), "--hidden takes positive integers"),
        (("--input", "8,0"), "--input must be a positive integer"),
        (("--device", "tpu"), "unknown device"),
        (("--repeats", "0"), "--repeats must be at least 1"),
        (("--preset", "nope"), "unknown preset"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    r = run_cli("bench", "lstm", *args, env=ONE_THREAD)
    assert r.code == 2, r.err
    assert needle in r.err and r.err.count("\n") == 1 and "Traceback" not in r.err


def test_cuda_without_cuda_exits_2():
    r = run_cli("bench", "lstm", "--device", "cuda", *QUICK, env=ONE_THREAD)
    assert r.code == 2
    assert "CUDA is not available" in r.err and "Traceback" not in r.err


def test_unknown_term_exits_1_with_suggestions():
    r = run_cli("bench", "lsmt", env=ONE_THREAD)
    assert r.code == 1 and "did you mean" in r.err and "lstm" in r.err.lower()


def test_term_without_workload_exits_1():
    r = run_cli("bench", "hidden-state", env=ONE_THREAD)
    assert r.code == 1 and "has no benchmark workload" in r.err


def test_absurd_sizes_are_refused_before_allocation_with_the_estimate():
    # In a fresh interpreter, so its peak RSS shows that nothing of that size was allocated.
    code = (
        "import resource, sys\n"
        "from rnnref.cli import main\n"
        "try:\n"
        "    main(['bench', 'lstm', '--hidden', '1000000', '--length', '100000', '--batch', '512'])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    env = {**os.environ, **ONE_THREAD}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    status, maxrss_kib = proc.stdout.split()
    assert status == "2", proc.stderr
    assert "too large for cpu" in proc.stderr and "needs an estimated" in proc.stderr
    assert "TiB" in proc.stderr or "PiB" in proc.stderr
    assert int(maxrss_kib) < 2 * 1024 * 1024  # well under 2 GiB: torch and the graph, no tensors


def test_a_sweep_lists_one_object_per_workload():
    r = run_cli("bench", "elman-network", *QUICK, "--length", "4,8", "--json", env=ONE_THREAD)
    assert r.code == 0, r.err
    data = r.json()
    assert isinstance(data, list) and [d["workload"]["length"] for d in data] == [4, 8]
