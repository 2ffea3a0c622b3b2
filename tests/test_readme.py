"""The README stays true: every command it shows runs as written and exits 0, and
the Quickstart block is exactly the two lines .ci/run and the scripts agree on."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh|bash)?\n(.*?)```", text, flags=re.S)


def quickstart_block() -> list[str]:
    section = README.split("## Quickstart", 1)[1]
    return [line for line in fenced_blocks(section)[0].splitlines() if line.strip()]


def cli_examples() -> list[str]:
    usage = README.split("## Using the CLI", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for block in fenced_blocks(usage) for line in block.splitlines()]
    return [line for line in lines if line.startswith(("rnnref ", "python -m rnnref"))]


def test_quickstart_is_two_lines_and_ci_runs_the_second():
    lines = quickstart_block()
    assert lines == ["bash scripts/main.sh", "bash scripts/test.sh"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci
    main = (ROOT / "scripts" / "main.sh").read_text(encoding="utf-8")
    for step in ("rnnref validate", "rnnref site build", "rnnref lookup lstm"):
        assert step in main


def test_readme_shows_cli_examples():
    assert len(cli_examples()) >= 10


@pytest.mark.parametrize("line", cli_examples())
def test_every_readme_command_works_as_written(line, tmp_path):
    argv = shlex.split(line)
    if argv[0] == "rnnref":
        argv = [sys.executable, "-m", "rnnref", *argv[1:]]
    else:
        argv = [sys.executable, *argv[1:]]
    if "rnnref.bench.cli_latency" in argv:
        # A timing with --check belongs to the benchmark run, not to a loaded CI box:
        # here it must run and print its table.
        argv = [a for a in argv if a != "--check"] + ["--repeats", "1"]
    if "bench" in argv:
        # Benchmarks belong to a benchmark run, not to a loaded CI box: here each runs at
        # the quick preset's tiny sizes and records nothing.
        argv = _quick_bench(argv)
    if "site" in argv and "--out" in argv:
        argv[argv.index("--out") + 1] = str(tmp_path / "site")
    if "serve" in argv:
        _serves_until_interrupted(argv, line)
        return
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{line}\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip()


def _quick_bench(argv: list[str]) -> list[str]:
    """A README bench line at the quick preset: sizes, preset and --record dropped."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--preset", "--batch", "--length", "--hidden", "--input", "--budget", "--repeats"):
            skip = True
        elif arg != "--record" and not arg.startswith(("--preset=", "--batch=", "--length=", "--hidden=", "--input=")):
            out.append(arg)
    return out + ["--preset", "quick", "--repeats", "1"]


def _serves_until_interrupted(argv: list[str], line: str) -> None:
    """A README serve line runs until Ctrl-C: start it on a free port, wait until it
    answers HTTP, then interrupt it and expect a clean exit."""
    import signal
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = list(argv)
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(port)
    else:
        argv += ["--port", str(port)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"{line} exited early:\n{proc.stderr.read()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    if response.status < 500:
                        break
            except urllib.error.HTTPError:
                break  # listening: an error status from the server still means it is up
            except OSError:
                pass  # not listening yet
            assert time.monotonic() < deadline, f"{line} did not answer on port {port}"
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        assert proc.returncode == 0, f"{line} exited {proc.returncode} on Ctrl-C:\n{proc.stderr.read()[-2000:]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
