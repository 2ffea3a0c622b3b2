"""Tried as a new user would: every mistake ends with exit 1 or 2, one short line on
stderr and no traceback. The real command line, one fresh process per case."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache

import pytest

from tests.conftest import ROOT, run_cli

ONE_THREAD = {"OMP_NUM_THREADS": "1"}
SERVICE = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"

# (case, argv, exit code, a fragment of the message); NUL cannot travel in argv (the
# kernel ends the argument there), so that case calls main() in a fresh interpreter.
CASES = [
    ("empty term", ["lookup", ""], 2, "empty term name"),
    ("blank term", ["lookup", "   "], 2, "empty term name"),
    ("100,000-character term", ["lookup", "x" * 100_000], 2, "the limit is 200"),
    ("term with NUL bytes", ["lookup", "ls\x00tm"], 2, "NUL"),
    ("unclosed SPARQL query", ["query", "SELECT * WHERE { ?s ?p ?o"], 2, "bad SPARQL"),
    ("DELETE query", ["query", "DELETE WHERE { ?s ?p ?o }"], 2, "SPARQL Update (DELETE) is refused"),
    ("INSERT query", ["query", "INSERT DATA { <urn:a> <urn:b> <urn:c> }"], 2, "SPARQL Update (INSERT) is refused"),
    ("SERVICE query", ["query", SERVICE], 2, "SERVICE (federated query) is refused"),
    ("missing query file", ["query", "--file", "missing.rq"], 2, "query file not found"),
    ("unknown named query", ["query", "--name", "no-such-query"], 1, "no-such-query"),
    ("negative bench size", ["bench", "lstm", "--batch", "-1"], 2, "--batch must be a positive integer"),
    ("zero bench size", ["bench", "lstm", "--length", "0"], 2, "--length must be a positive integer"),
    ("absurd bench size", ["bench", "lstm", "--hidden", "10000000000000"], 2, "larger than"),
    ("bench size that cannot fit", ["bench", "lstm", "--hidden", "1000000", "--length", "100000"], 2, "needs an estimated"),
    ("non-integer bench size", ["bench", "lstm", "--batch", "2.5"], 2, "positive integers"),
    ("too many workloads", ["bench", "lstm", "--batch", ",".join(map(str, range(1, 41))), "--length",
                            ",".join(map(str, range(1, 41)))], 2, "workloads"),
    ("too many threads", ["bench", "lstm", "--threads", "100000"], 2, "--threads"),
    ("unknown device", ["bench", "lstm", "--device", "tpu"], 2, "unknown device"),
    ("device with a newline", ["bench", "lstm", "--device", "cpu\n"], 2, "unknown device"),
    ("CUDA on a machine without it", ["bench", "lstm", "--device", "cuda:0", "--preset", "quick"], 2, "CUDA"),
    ("unknown term for run", ["run", "no-such-term"], 1, "no term matches"),
    ("unknown term for bench", ["bench", "no-such-term"], 1, "no term matches"),
    ("negative seed", ["run", "lstm", "--seed", "-1"], 2, "--seed"),
    ("absurd seed", ["run", "lstm", "--seed", "99999999999999999999999"], 2, "--seed"),
    # `query --file` says "not found" (1), `import` "input error" (2): both are allowed.
    ("missing import file", ["import", "logseq", "/nonexistent/missing-page.md"], (1, 2), "missing-page.md"),
    ("unknown export format", ["export", "--format", "nope"], 2, "nope"),
    ("export into a folder", ["export", "--out", "/"], 2, "folder"),
    ("unknown reasoner", ["validate", "--reasoner", "nope"], 2, "unknown reasoner"),
    ("unknown command", ["frobnicate"], 2, "No such command"),
    ("missing --root", ["lookup", "lstm", "--root", "/nonexistent/tree"], 2, "not an rnnref tree"),
]


@lru_cache(maxsize=1)
def commands() -> set[str]:
    r = run_cli("--help")
    return {line.split()[0] for line in r.out.splitlines() if line.startswith("  ") and line.split()}


def _run(argv: list[str]):
    if any("\x00" in a for a in argv):
        code = f"from rnnref.cli import main\nmain({argv!r})"
        env = {k: v for k, v in os.environ.items() if k != "RNNREF_ROOT"} | ONE_THREAD
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        return proc.returncode, proc.stderr
    r = run_cli(*argv, env=ONE_THREAD)
    return r.code, r.err


@pytest.mark.parametrize("case, argv, code, fragment", CASES, ids=[c[0] for c in CASES])
def test_a_new_users_mistake_fails_clearly(case, argv, code, fragment):
    if case != "unknown command" and argv[0] not in commands():
        pytest.skip(f"`rnnref {argv[0]}` does not exist yet")
    got, err = _run(argv)
    assert "Traceback" not in err, err
    assert got in (code if isinstance(code, tuple) else (code,)), (got, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnref: error: "), err
    assert len(err) < 500, err
    assert fragment in err, err
    assert "internal error" not in err, err
