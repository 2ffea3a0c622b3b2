"""The fuzz suite: hypothesis over the CLI's inputs, the CLI run in this process.

Targets (examples each):

- test_fuzz_cli.py: term names for lookup/terms/run/bench (1,000), SPARQL text,
  random and mutated named queries (1,000), bench and run sizes and seeds (1,000),
  device names (1,000);
- test_fuzz_turtle.py: mutated graph files (120: each loads the whole graph);
- test_fuzz_logseq.py: the mutated seed Logseq page for ``import logseq`` (200);
- test_fuzz_same_in_a_process.py: a real process answers as the in-process runs do.

Every target keeps the contract of ``harness.check_contract`` (exit 0, 1 or 2; no
traceback; an error is one short line; no "internal error") and writes nothing into
the graph copy it reads. Settings are reproducible in CI: a fixed seed
(``derandomize``), no example database, no deadline (the machine is shared).
``RNNREF_FUZZ_STATS=1 pytest -s tests/fuzz`` prints runs and time per command and
exit code; ``--hypothesis-show-statistics`` shows the same as events.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.harness import GraphCache, SlowWorkStubs, content_hash

ROOT = Path(__file__).resolve().parents[2]

settings.register_profile(
    "rnnref-fuzz",
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
FUZZ = settings.get_profile("rnnref-fuzz")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of ontology/ and kg/ that the fuzzed commands read (``--root``); at the end
    of the module its content must be exactly what it was at the start."""
    dest = tmp_path_factory.mktemp("fuzz") / "tree"
    for part in ("ontology", "kg"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns(".*"))
    before = content_hash(dest)
    yield dest
    assert content_hash(dest) == before, "a fuzzed command changed the graph files"


@pytest.fixture(scope="module")
def fast_cli():
    """Graphs loaded once per root, the demo and the timing loop stubbed out."""
    graphs, stubs = GraphCache(), SlowWorkStubs()
    yield stubs
    stubs.restore()
    graphs.restore()
    if os.environ.get("RNNREF_FUZZ_STATS"):
        from tests.fuzz.harness import STATS

        for (command, code), (runs, seconds) in sorted(STATS.items()):
            print(f"\n  {command:10} exit {code}: {runs:5} runs, {seconds:6.2f} s ({1000 * seconds / runs:.1f} ms each)")
        STATS.clear()
