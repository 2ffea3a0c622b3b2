"""The site tests share one build of the repository's graph (a build takes ~10 s)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def snapshot(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """(kg, out dir, BuildReport, wall seconds, snapshot of site/ before) for the
    repository's graph."""
    from rnnref.graph import KnowledgeGraph
    from rnnref.site import build_site

    kg = KnowledgeGraph()
    site_before = snapshot(REPO / "site")
    out = tmp_path_factory.mktemp("repo-site") / "out"
    started = time.perf_counter()
    report = build_site(kg, out)
    seconds = time.perf_counter() - started
    return kg, out, report, seconds, site_before
