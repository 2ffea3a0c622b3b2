"""The fuzz suite runs the CLI in its own process for speed; a few of its inputs, run
as a real ``python -m rnnref`` process, give the same exit code and the same stderr."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.fuzz.harness import call, check_contract

CASES = [
    ["lookup", "ＬＳＴＭ", "--json"],  # full-width: NFKC folds it to lstm
    ["lookup", "\u202eMTSL\x1b[2J"],
    ["lookup", "x" * 5000],
    ["lookup", "SELECT * WHERE { ?s ?p ?o } ; DROP ALL"],
    ["terms", "--type", "training method", "--json"],
    ["terms", "--type", "\x07bell"],
    ["query", "SELECT * WHERE { ?s ?p ?o", "--timeout", "0"],
    ["query", "# INSERT in a comment\nASK { ?s ?p \"DELETE\" }"],
    ["query", "SELECT ?x WHERE { ?x a ?t } LIMIT 2", "--limit", "-1"],
    ["bench", "lstm", "--batch", "1,,2"],
    ["bench", "lstm", "--length", "9" * 5000],
    ["bench", "gru", "--device", "cuda:0\n"],
    ["bench", "mingru", "--budget", "nan"],
    ["run", "lstm", "--seed", "1e3"],
    ["run", "hidden state"],
]


@pytest.mark.parametrize("argv", CASES, ids=[repr(c)[:60] for c in CASES])
def test_a_real_process_answers_as_the_fuzzed_one(argv):
    inside = call(argv)
    check_contract(inside)
    real = run_cli(*argv, env={"OMP_NUM_THREADS": "1"})
    assert real.code == inside.code, (real.err, inside.err_text)
    assert real.err == inside.err_text
    if real.code == 0:
        assert real.out == inside.out.decode("utf-8")
