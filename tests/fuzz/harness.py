"""Run the CLI in this process, fast, and check the contract every run must keep.

``call(argv)`` is ``rnnref ARGV`` as ``main()`` runs it (fast path, typer, the one error
handler), with stdout and stderr captured as bytes through text wrappers that encode
like a real process's (stdout strict UTF-8, stderr with backslash escapes) and every
``SystemExit`` turned into an exit code. The environment is restored after each call
(``--root`` before the command sets ``RNNREF_ROOT``).

Speed: a graph is loaded once per root (``cache_graphs``); the slow parts of ``run`` and
``bench`` (the demo, the timing loop) are replaced by stubs (``stub_slow_work``), since
what is fuzzed is everything in front of them: parsing, resolving and the guards.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_ERROR_CHARS = 500
# (command, exit code) -> [runs, seconds]: printed at the end with RNNREF_FUZZ_STATS=1
STATS: dict[tuple[str, int], list] = {}


@dataclass
class Outcome:
    argv: list
    code: int
    out: bytes
    err: bytes

    @property
    def err_text(self) -> str:
        return self.err.decode("utf-8", errors="replace")


def call(argv: list[str], env: dict[str, str] | None = None) -> Outcome:
    from rnnref.cli import main

    out_buf, err_buf = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_buf, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_buf, encoding="utf-8", errors="backslashreplace", write_through=True)
    import time

    started = time.perf_counter()
    saved_env = dict(os.environ)
    saved = sys.stdout, sys.stderr, sys.argv
    sys.stdout, sys.stderr = out, err
    sys.argv = ["rnnref", *argv]
    os.environ.update(env or {})
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        try:
            out.flush()
            err.flush()
        except ValueError:  # a closed stream (BrokenPipe handling)
            pass
        sys.stdout, sys.stderr, sys.argv = saved
        os.environ.clear()
        os.environ.update(saved_env)
    entry = STATS.setdefault((str(argv[0]) if argv else "", code), [0, 0.0])
    entry[0] += 1
    entry[1] += time.perf_counter() - started
    return Outcome(list(argv), code, out_buf.getvalue(), err_buf.getvalue())


def check_contract(r: Outcome, *, allowed=(0, 1, 2), report: bool = False, warnings: bool = False) -> None:
    """Exit 0/1/2; no traceback; an error is one short line (``report``: a validation
    report, one short line per problem); a bug is not hidden."""
    err = r.err_text
    shown = [a if len(a) < 120 else a[:117] + "..." for a in map(repr, r.argv)]
    assert r.code in allowed, (shown, r.code, err[:1000])
    assert "Traceback" not in err, (shown, err[:2000])
    assert "internal error" not in err, (shown, err[:1000])
    if r.code != 0 and report:  # validate: one short line per problem
        lines = err.splitlines()
        assert lines and all(line.startswith("rnnref: ") and len(line) < MAX_ERROR_CHARS for line in lines), (shown, err[:1000])
    elif r.code != 0:
        lines = err.splitlines()
        assert len(lines) == 1, (shown, err[:1000])
        assert lines[0].startswith("rnnref: error: "), (shown, err[:500])
        assert len(err) < MAX_ERROR_CHARS, (shown, len(err), err[:600])
    elif warnings:  # a success may warn: one short line per warning
        assert all(line.startswith("rnnref: ") and len(line) < MAX_ERROR_CHARS for line in err.splitlines()), (shown, err[:1000])
    else:
        assert len(err) < 4000, (shown, err[:600])


# -- speed-ups --------------------------------------------------------------------------------


class GraphCache:
    """Patch ``rnnref.graph.KnowledgeGraph`` (what ``open_graph`` builds) to load each
    root once. Undo with ``restore()``."""

    def __init__(self):
        import rnnref.graph as graph_pkg
        from rnnref.graph.kg import KnowledgeGraph

        self._pkg, self._real = graph_pkg, KnowledgeGraph
        self._graphs: dict[Path, KnowledgeGraph] = {}
        cache = self

        def cached(root=None):
            from rnnref.graph.paths import project_root

            key = project_root(root)
            if key not in cache._graphs:
                cache._graphs[key] = cache._real(key)
            return cache._graphs[key]

        graph_pkg.KnowledgeGraph = cached

    def restore(self) -> None:
        self._pkg.KnowledgeGraph = self._real


class SlowWorkStubs:
    """Replace the demo of ``run`` and the timing loop of ``bench`` with instant stubs."""

    def __init__(self):
        import rnnref.bench.workloads as wl
        import rnnref.demos as demos
        from rnnref.demos._common import Demo

        self._saved = [(demos, "run_demo", demos.run_demo), (wl, "run_workload", wl.run_workload)]
        self.calls: list[tuple] = []

        def fake_demo(slug: str, seed: int = 0):
            self.calls.append(("run", slug, seed))
            return _fake_demo(Demo, slug, seed)

        def fake_workload(spec, shape, device, timing, progress=None):
            import torch

            self.calls.append(("bench", shape, device))
            torch.device(device)  # the first thing the real loop does with the device string
            return {"results": [], "ratios": [], "notes": ["stub"]}

        demos.run_demo = fake_demo
        wl.run_workload = fake_workload

    def restore(self) -> None:
        for module, name, value in self._saved:
            setattr(module, name, value)


def _fake_demo(Demo, slug: str, seed: int):
    import dataclasses

    fields = {f.name for f in dataclasses.fields(Demo)}
    values = {"title": f"{slug} stub", "task": "stub", "columns": ["step", "loss"], "rows": [[0, 1.0]],
              "summary": f"seed {seed}"}
    return Demo(**{k: v for k, v in values.items() if k in fields})


# -- "nothing written" --------------------------------------------------------------------------


_DIRS: dict[Path, list[str]] = {}


def fingerprint(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every folder under ``root``: creating, renaming or deleting any
    file (an atomic write, a temporary file) changes its folder's. Cheap enough to take
    around each call; ``content_hash`` at the end of a module catches the rest."""
    if root not in _DIRS:
        _DIRS[root] = [dirpath for dirpath, _dirs, _files in os.walk(root)]
    out = {}
    for p in _DIRS[root]:
        st = os.lstat(p)
        out[p] = (st.st_size, st.st_mtime_ns)
    return out


def content_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()
