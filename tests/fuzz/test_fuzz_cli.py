"""Fuzz the CLI's arguments: term names, SPARQL text, bench and run sizes, device names.

1,000 examples per target, run in this process (see harness.py); every run keeps the
contract (exit 0/1/2, no traceback, one short error line) and writes nothing.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import call, check_contract, fingerprint
from tests.fuzz.strategies import bench_args, devices, named_query_texts, real_names, run_args, sparql_texts, term_names

NAMES = real_names()
QUERIES = named_query_texts()
BENCH_TERMS = ["lstm", "gru", "elman-network", "mingru", "LSTM", "hidden-state", "no-such-term", "", "x" * 300]


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """bench --threads N sets torch's thread count in this process; put it back."""
    import sys

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None and before is not None:
        torch.set_num_threads(before)


@FUZZ
@given(name=term_names(NAMES), command=st.integers(0, 9), json_out=st.booleans(), no_fast=st.booleans())
def test_term_names(tree, fast_cli, name, command, json_out, no_fast):
    """lookup (fast path and typer), terms --type, run and bench with any term name."""
    root = ["--root", str(tree)]
    if command <= 5:
        argv = ["lookup", name, *(["--json"] if json_out else []), *root]
    elif command == 6:
        argv = ["terms", "--type", name, "--json", *root]
    elif command == 7:
        argv = ["run", name, "--json", *root]
    else:
        argv = ["bench", name, "--preset", "quick", "--json", *root]
    r = call(argv, env={"RNNREF_NO_FAST": "1"} if no_fast else {})
    check_contract(r)
    event(f"{r.argv[0]} exit {r.code}")
    stripped = name.strip()
    if not stripped or "\x00" in name or len(name) > 200:
        if argv[0] != "terms":
            assert r.code == 2, (argv[:2], r.err_text)
    if r.code == 0 and (json_out or argv[0] != "lookup"):
        json.loads(r.out)
    if r.code == 1 and argv[0] == "lookup":
        assert "no term matches" in r.err_text


def _parses(text: str) -> bool:
    try:
        ox.Store().query(text)
        return True
    except (SyntaxError, ValueError, OSError, RuntimeError):
        return False


@FUZZ
@given(text=sparql_texts(QUERIES), fmt=st.sampled_from(["table", "json", "csv", "tsv", "xml"]),
       limit=st.sampled_from(["1", "3", "20", "-1", "x"]), allow=st.integers(0, 5))
def test_sparql_text(tree, fast_cli, text, fmt, limit, allow):
    """Random and mutated named queries. Text that does not parse runs with ``--timeout 0``
    (in this process, fast: it fails before any work); text that parses runs under the
    real deadline (a forked child) so a mutated query cannot run away with the suite."""
    argv = ["query", text, "--format", fmt, "--limit", limit, "--root", str(tree)]
    argv += ["--timeout", "5" if _parses(text) else "0"]
    if allow == 0:
        argv.append("--allow-update")  # changes an in-memory copy only: the files must stay as they were
    before = fingerprint(tree) if allow == 0 else None
    r = call(argv)
    check_contract(r)
    event(f"{r.argv[0]} exit {r.code}")
    if before is not None:
        assert fingerprint(tree) == before
    if allow != 0 and r.code == 0:
        from rnnref.graph.readonly import update_keyword, uses_service

        assert update_keyword(text) is None and not uses_service(text), ("a refused query ran", text)


@FUZZ
@given(args=st.one_of(bench_args(BENCH_TERMS), run_args(BENCH_TERMS)))
def test_bench_and_run_sizes(tree, fast_cli, args):
    """Sizes, repeats, threads, budgets, presets and seeds: negative, zero, huge, not
    integers. The timing loop and the demo are stubs: every guard in front of them runs."""
    before = fingerprint(tree)
    fast_cli.calls.clear()
    r = call([*args, "--root", str(tree)])
    check_contract(r)
    event(f"{r.argv[0]} exit {r.code}")
    assert fingerprint(tree) == before, args
    if r.code != 0:
        assert not fast_cli.calls or args[0] == "bench", ("work started before a refusal", args, r.err_text)
    if "--seed" in args and r.code == 0:
        seed = int(args[args.index("--seed") + 1])
        assert 0 <= seed < 2**63


@FUZZ
@given(device=devices(), term=st.sampled_from(["lstm", "gru", "mingru"]))
def test_device_names(tree, fast_cli, device, term):
    fast_cli.calls.clear()
    r = call(["bench", term, "--device", device, "--preset", "quick", "--json", "--root", str(tree)])
    check_contract(r)
    event(f"{r.argv[0]} exit {r.code}")
    if r.code == 0:
        assert device == "cpu", repr(device)  # no CUDA on this machine; anything else is refused
    else:
        assert not fast_cli.calls, ("work started on a refused device", device)
