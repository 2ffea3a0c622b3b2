"""``rnnref site serve``: mkdocs' live server on the generated site, regenerating the
pages when the graph changes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1.0)
    return False


def test_serve_previews_and_follows_the_graph(graph_copy):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RNNREF_ROOT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnref", "site", "serve", "--port", str(port), "--host", "127.0.0.1", "--root", str(graph_copy)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/terms/lstm/"
    try:
        assert wait_until(lambda: fetch(url) is not None, 180), "the preview server did not come up"
        page = fetch(url)
        assert "long short-term memory" in page and "mjx" not in page  # served, math left to the browser
        # Edit the graph: the page follows.
        lstm = graph_copy / "kg" / "terms" / "lstm.ttl"
        lstm.write_text(
            lstm.read_text(encoding="utf-8") + '\nterm:lstm <http://www.w3.org/2004/02/skos/core#altLabel> "served fresh label"@en .\n',
            encoding="utf-8",
        )
        assert wait_until(lambda: "served fresh label" in (fetch(url) or ""), 180), "the page was not regenerated"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        output = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    assert "Traceback" not in output, output[-2000:]
