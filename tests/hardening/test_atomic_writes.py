"""Writes are all or nothing and writers take turns (rnnref.atomic).

- ``atomic_write``: a kill -9 while the new data exists only in the temporary file
  leaves the previous file byte for byte; a failed write leaves nothing behind.
- ``export --out``, ``export logseq --out`` and ``import logseq`` (they write through
  rnnref.atomic.atomic_write) keep the same promise: a kill -9 just before the
  rename leaves the previous file intact.
- Several processes appending benchmark runs at once lose none (``file_lock``).
- ``replace_dir`` swaps a folder in one step and repairs a fallback swap cut short.

The kill -9 of ``bench --record`` itself is tests/bench/test_record.py; the kill -9 of
``site build`` is tests/hardening/test_site_hardening.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rnnref.atomic import PAUSE_ENV, atomic_write, file_lock, recover_dir, replace_dir, temp_path_pattern
from rnnref.errors import InputError
from tests.conftest import ROOT

ENV = {k: v for k, v in os.environ.items() if k != "RNNREF_ROOT"} | {"OMP_NUM_THREADS": "1"}


def _wait_for(predicate, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the writer ended ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_atomic_write_replaces_keeps_the_mode_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "out" / "data.ttl"
    atomic_write(path, "one\n")
    assert path.read_text() == "one\n"
    path.chmod(0o640)
    atomic_write(path, b"two\n")
    assert path.read_bytes() == b"two\n" and (path.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["data.ttl"]
    with pytest.raises(InputError, match="is a folder"):
        atomic_write(tmp_path, b"x")
    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # type: ignore[arg-type]
    assert path.read_bytes() == b"two\n" and sorted(p.name for p in path.parent.iterdir()) == ["data.ttl"]


def test_kill_during_atomic_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "result.ttl"
    path.write_bytes(b"previous\n" * 1000)
    before = path.read_bytes()
    code = f"from rnnref.atomic import atomic_write; atomic_write({str(path)!r}, b'new\\n' * 100000)"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=ENV | {PAUSE_ENV: "120"},
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: any(p.stat().st_size == 400000 for p in tmp_path.glob(temp_path_pattern(path))), proc,
                  "the temporary file was complete")
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert path.read_bytes() == before
    leftovers = list(tmp_path.glob(temp_path_pattern(path)))
    assert leftovers and all(p.name.startswith(".") for p in leftovers)  # dot files: the graph loader skips them


SEED_PAGE = ROOT / "tests" / "logseq" / "pages" / "logseq-ontology-page-AI-0033-recurrent-neural-network.md"


def _previous_import(tmp_path: Path, out: Path) -> None:
    """An earlier import of the seed page, which a later import may replace."""
    r = subprocess.run([sys.executable, "-m", "rnnref", "import", "logseq", str(SEED_PAGE), "--out", str(out)], cwd=ROOT,
                       env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    page = tmp_path / "page.md"  # the same page, changed: its import differs from the previous one
    page.write_text(SEED_PAGE.read_text(encoding="utf-8").replace("recurrent", "recurrent (changed)", 3), encoding="utf-8")


WRITERS = {
    "export --out": (lambda tmp, out: ["export", "--format", "nt", "--out", str(out)], None),
    "export logseq --out": (lambda tmp, out: ["export", "logseq", "lstm", "--out", str(out)], None),
    "import logseq --out": (lambda tmp, out: ["import", "logseq", str(tmp / "page.md"), "--out", str(out)], _previous_import),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_kill_at_the_rename_leaves_the_previous_output(tmp_path, writer):
    """Hold the writer at its rename (os.replace made to wait) and kill it there: the
    previous file is intact. Without the kill, the write does replace the file."""
    argv_for, prepare = WRITERS[writer]
    out = tmp_path / ("out.ttl" if writer.startswith("import") else "out.txt")
    if writer != "export --out" and argv_for(tmp_path, out)[0] not in _commands():
        pytest.skip(f"`rnnref {argv_for(tmp_path, out)[0]}` does not exist yet")
    if prepare is not None:
        if not SEED_PAGE.is_file():
            pytest.skip("no Logseq seed page on this machine")
        prepare(tmp_path, out)
    else:
        out.write_bytes(b"<urn:a> <urn:b> <urn:c> .\n")
    before = out.read_bytes()
    argv = argv_for(tmp_path, out)
    code = textwrap.dedent(f"""
        import os, time
        real = os.replace
        def slow_replace(a, b, **kw):
            open({str(tmp_path / 'at-rename')!r}, 'w').close()
            time.sleep(120)
            return real(a, b, **kw)
        os.replace = slow_replace
        from rnnref.cli import main
        main({argv!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for((tmp_path / "at-rename").exists, proc, f"{writer} reached its rename")
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.read_bytes() == before
    r = subprocess.run([sys.executable, "-m", "rnnref", *argv], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() != before and len(out.read_bytes()) > 100


def _commands() -> set[str]:
    r = subprocess.run([sys.executable, "-m", "rnnref", "export", "--help"], cwd=ROOT, env=ENV, capture_output=True, text=True)
    found = {"export"} if "logseq" in r.stdout else set()
    r = subprocess.run([sys.executable, "-m", "rnnref", "--help"], cwd=ROOT, env=ENV, capture_output=True, text=True)
    return found | ({"import"} if "\n  import" in r.stdout else set())


def test_concurrent_record_appends_lose_nothing(tmp_path):
    """Four processes append five runs each to one benchmark file at the same time."""
    (tmp_path / "kg").mkdir()
    code = textwrap.dedent("""
        import sys
        from rnnref.bench import record as rec
        root, who = sys.argv[1], sys.argv[2]
        env = {"device": "cpu: test", "torch_version": "0", "git_commit": "unknown", "date": "2026-01-01T00:00:00Z"}
        for i in range(5):
            evals = [{"id": "m", "metric": "fast fwd median time", "value": float(i), "unit": "s"}]
            block = rec.run_turtle(f"gru-{who}-{i}", "https://w3id.org/rnnref/term/gru", None, "B=1", env, evals)
            rec.append_run(__import__("pathlib").Path(root), "gru", block)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(n)], cwd=ROOT, env=ENV,
                              stderr=subprocess.PIPE, text=True) for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    import pyoxigraph as ox

    path = tmp_path / "kg" / "benchmarks" / "gru.ttl"
    triples = list(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))
    runs = {t.subject.value for t in triples if t.predicate.value.endswith("#type") and t.object.value.endswith("#BenchmarkRun")}
    assert runs == {f"https://w3id.org/rnnref/run/gru-{n}-{i}" for n in range(4) for i in range(5)}
    assert not list(path.parent.glob(temp_path_pattern(path)))


def test_file_lock_excludes_other_processes_and_times_out_clearly(tmp_path):
    lock = tmp_path / ".lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import time; from rnnref.atomic import file_lock\nwith file_lock({str(lock)!r}):\n"
                               f"    open({str(tmp_path / 'held')!r}, 'w').close(); time.sleep(60)"],
        cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for((tmp_path / "held").exists, holder, "the lock was held")
        with pytest.raises(InputError, match="another rnnref process holds the lock"):
            with file_lock(lock, timeout=0.3):
                pass
        _kill(holder)  # the kernel releases a dead process's lock
        with file_lock(lock, timeout=5):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()


def test_replace_dir_swaps_in_one_step_and_recovers_a_cut_fallback(tmp_path, monkeypatch):
    target, staging = tmp_path / "site", tmp_path / ".site.new-1"
    target.mkdir()
    (target / "index.html").write_text("old")
    staging.mkdir()
    (staging / "index.html").write_text("new")
    replace_dir(staging, target)
    assert (target / "index.html").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["site"]

    # The fallback (no RENAME_EXCHANGE) killed between its two renames: the old tree is aside.
    aside = tmp_path / ".site.old-abc"
    target.rename(aside)
    assert recover_dir(target) == target and (target / "index.html").read_text() == "new"
    assert not aside.exists()

    import rnnref.atomic as atomic

    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    staging.mkdir()
    (staging / "index.html").write_text("newer")
    replace_dir(staging, target)
    assert (target / "index.html").read_text() == "newer" and sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_bench_plot_is_replaced_only_by_a_finished_drawing(tmp_path):
    from rnnref.cli.bench import _plot_atomically

    plot = tmp_path / "plots" / "lstm.svg"
    plot.parent.mkdir()
    plot.write_text("<svg>previous</svg>")

    def broken(path: Path) -> Path:
        path.write_text("<svg>half")
        raise RuntimeError("matplotlib failed")

    with pytest.raises(RuntimeError):
        _plot_atomically(plot, broken)
    assert plot.read_text() == "<svg>previous</svg>" and sorted(p.name for p in plot.parent.iterdir()) == ["lstm.svg"]

    def draw(path: Path) -> Path:
        assert path.suffix == ".svg" and path.parent == plot.parent and path.name.startswith(".")
        path.write_text("<svg>new</svg>")
        return path

    assert _plot_atomically(plot, draw) == plot
    assert plot.read_text() == "<svg>new</svg>" and sorted(p.name for p in plot.parent.iterdir()) == ["lstm.svg"]
