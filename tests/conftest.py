"""Shared fixtures: the project root, a way to run the CLI as a user does, and a
scratch copy of the graph for tests that break it on purpose."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_cli(*args: str, root: Path | None = None, env: dict | None = None, timeout: float = 300) -> Result:
    """Run ``python -m rnnref ARGS`` in a fresh interpreter, as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("RNNREF_ROOT", None)
    cmd = [sys.executable, "-m", "rnnref", *args]
    if root is not None:
        cmd += ["--root", str(root)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def graph_copy(tmp_path: Path) -> Path:
    """A writable copy of ontology/, kg/ and site/ (tests/ is linked for code checks)."""
    dest = tmp_path / "tree"
    for part in ("ontology", "kg", "site"):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, dest / part)
    (dest / "tests").symlink_to(ROOT / "tests")
    return dest


@pytest.fixture(scope="session")
def kg():
    from rnnref.graph import KnowledgeGraph

    return KnowledgeGraph(ROOT)
