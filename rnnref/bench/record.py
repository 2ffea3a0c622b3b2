"""Benchmark results -> RDF in ``kg/benchmarks/<term>.ttl`` (ML-Schema runs and evaluations).

One file per term; each ``rnnref bench --record`` appends one run to it. A run is

```turtle
run:lstm-20261122T101500Z-3f9a1c2b a rnn:BenchmarkRun ;
    rnn:benchmarks term:lstm ;            # the term measured
    mls:executes impl:lstm ;              # the implementation that ran
    rnn:device "cpu: AMD EPYC, 2 threads" ;
    rnn:workload "B=32 T=128 I=256 H=256 float32" ;
    rnn:torchVersion "2.13.0+cpu" ; rnn:gitCommit "8c8c1d2..." ;
    dcterms:date "2026-11-22T10:15:00Z"^^xsd:dateTime ;
    mls:hasOutput <.../fast-fwd-bwd-median> , ... .
<.../fast-fwd-bwd-median> a mls:ModelEvaluation ;
    rnn:metric "fast fwd+bwd median time" ; mls:hasValue "1.2e-3"^^xsd:double ;
    rnn:unit "s" ; rnn:baseline "torch" ; rnn:ratio "1.1"^^xsd:double .
```

with a median, p20 and p80 time and the peak memory per implementation and pass;
the median carries the ratio to the baseline timed in the same run.

Writes are safe against crashes and against each other: under an exclusive
``fcntl.flock`` on ``kg/benchmarks/.lock`` the existing file is read, the new run is
appended as text (earlier runs stay byte for byte), the result is parsed as a
check, written to a temporary file in the same folder (a dot file, which the graph
loader skips), fsynced, and moved over the old file with ``os.replace``. A process
killed at any point leaves either the old file or the new one.
"""

from __future__ import annotations

import math
import platform
import re
import subprocess
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from rnnref.atomic import PAUSE_ENV, atomic_write, locked_dir
from rnnref.errors import InputError

RUN_NS = "https://w3id.org/rnnref/run/"
BENCH_DIR = Path("kg") / "benchmarks"
LOCK_NAME = ".lock"
# PAUSE_ENV (from rnnref.atomic): tests set it to a number of seconds to pause between
# writing the temporary file and replacing the old one, so that they can kill the process.

HEADER = """\
# Benchmark runs of {term}, appended by `rnnref bench {term} --record`.
# One rnn:BenchmarkRun per run; regenerate rather than edit by hand.
@prefix rnn:     <https://w3id.org/rnnref/ontology#> .
@prefix term:    <https://w3id.org/rnnref/term/> .
@prefix impl:    <https://w3id.org/rnnref/impl/> .
@prefix run:     <https://w3id.org/rnnref/run/> .
@prefix mls:     <http://www.w3.org/ns/mls#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""


# -- the environment of a run ------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_label(device: str) -> str:
    """``cpu: <model>, N threads`` or ``cuda:0: <GPU name>``."""
    import torch

    if device.startswith("cuda"):
        dev = torch.device(device)
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index}: {torch.cuda.get_device_name(index)}"
    threads = torch.get_num_threads()
    return f"cpu: {cpu_model()}, {threads} thread{'s' if threads != 1 else ''}"


def git_commit(code_dir: Path | None = None) -> str:
    """The commit of the code that ran (the rnnref package's checkout), with ``-dirty``
    when its files differ from that commit; ``unknown`` outside a git checkout."""
    code_dir = code_dir or Path(__file__).resolve().parents[1]

    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", *args], cwd=code_dir, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    commit = head.stdout.strip() if head and head.returncode == 0 else ""
    if not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return "unknown"
    changed = git("diff", "--quiet", "HEAD", "--", ".")
    return commit + "-dirty" if changed is not None and changed.returncode == 1 else commit


def environment(device: str) -> dict:
    import torch

    return {
        "device": device_label(device),
        "torch_version": torch.__version__,
        "git_commit": git_commit(),
        "date": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


# -- Turtle -----------------------------------------------------------------------------------


def _string(text: str) -> str:
    """A Turtle string literal, escaped."""
    escaped = (
        str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _double(value: float) -> str:
    return f'"{float(value)!r}"^^xsd:double'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def new_run_id(term: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"{_slug(term)}-{stamp}-{uuid.uuid4().hex[:8]}"


def evaluations(results: list[dict], ratios: list[dict]) -> list[dict]:
    """The evaluations of a run: median (with its ratio), p20, p80 time and peak memory."""
    ratio_of = {(r["a"], r["pass"]): r for r in ratios}
    out = []
    for r in results:
        impl, pass_ = r["impl"], r["pass"]
        base = f"{impl}-{_slug(pass_)}"
        ratio = ratio_of.get((impl, pass_))
        out.append({"id": f"{base}-median", "metric": f"{impl} {pass_} median time", "value": r["median_s"], "unit": "s",
                    "baseline": ratio["b"] if ratio else None, "ratio": ratio["ratio"] if ratio else None})
        out.append({"id": f"{base}-p20", "metric": f"{impl} {pass_} p20 time", "value": r["p20_s"], "unit": "s"})
        out.append({"id": f"{base}-p80", "metric": f"{impl} {pass_} p80 time", "value": r["p80_s"], "unit": "s"})
        if r.get("peak_bytes") is not None:
            out.append({"id": f"{base}-peak-memory", "metric": f"{impl} {pass_} peak memory", "value": r["peak_bytes"],
                        "unit": "bytes"})
    return [e for e in out if e["value"] is not None and math.isfinite(e["value"])]


def run_turtle(run_id: str, term_iri: str, impl_iri: str | None, workload: str, env: dict, evals: list[dict],
               notes: list[str] = ()) -> str:
    """One run and its evaluations as a Turtle block (prefixes of HEADER)."""
    run = f"<{RUN_NS}{run_id}>"
    lines = [f"{run} a rnn:BenchmarkRun ;", f"    rnn:benchmarks <{term_iri}> ;"]
    if impl_iri:
        lines.append(f"    mls:executes <{impl_iri}> ;")
    lines += [
        f"    rnn:device {_string(env['device'])} ;",
        f"    rnn:workload {_string(workload)} ;",
        f"    rnn:torchVersion {_string(env['torch_version'])} ;",
        f"    rnn:gitCommit {_string(env['git_commit'])} ;",
        f'    dcterms:date "{env["date"]}"^^xsd:dateTime ;',
    ]
    for note in notes:
        lines.append(f"    rdfs:comment {_string(note)}@en ;")
    outputs = ",\n        ".join(f"<{RUN_NS}{run_id}/{e['id']}>" for e in evals)
    lines.append(f"    mls:hasOutput {outputs} .")
    for e in evals:
        block = [f"<{RUN_NS}{run_id}/{e['id']}> a mls:ModelEvaluation ;",
                 f"    rnn:metric {_string(e['metric'])} ;",
                 f"    mls:hasValue {_double(e['value'])} ;"]
        if e.get("baseline") is not None and e.get("ratio") is not None and math.isfinite(e["ratio"]):
            block += [f"    rnn:baseline {_string(e['baseline'])} ;", f"    rnn:ratio {_double(e['ratio'])} ;"]
        block.append(f"    rnn:unit {_string(e['unit'])} .")
        lines += [""] + block
    return "\n".join(lines) + "\n"


# -- writing ------------------------------------------------------------------------------------


@contextmanager
def locked(folder: Path):
    """An exclusive lock on ``folder/.lock`` for the ``with`` block (released if the process dies)."""
    with locked_dir(folder):
        yield


def _check_turtle(text: str, path: Path) -> None:
    import pyoxigraph as ox

    try:
        list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: the file would not parse after appending the run ({exc}); nothing written") from None


def append_run(root: Path, term_id: str, block: str) -> Path:
    """Append one run's Turtle block to ``kg/benchmarks/<term>.ttl`` under ``root``, safely."""
    folder = root / BENCH_DIR
    path = folder / f"{term_id}.ttl"
    with locked(folder):
        old = path.read_text(encoding="utf-8") if path.exists() else HEADER.format(term=term_id)
        new = old.rstrip("\n") + "\n\n" + block
        _check_turtle(new, path)
        atomic_write(path, new)
    return path


def record(kg, term, device: str, workload: str, results: list[dict], ratios: list[dict], notes: list[str] = ()) -> tuple[str, Path]:
    """Record one benchmark run of ``term`` (a Term record) into ``kg``'s tree; returns (run IRI, file)."""
    import pyoxigraph as ox

    rows = kg.named("term-implementation", term=ox.NamedNode(term.iri))
    impl_iri = rows[0]["impl"] if rows else None
    env = environment(device)
    run_id = new_run_id(term.id)
    block = run_turtle(run_id, term.iri, impl_iri, workload, env, evaluations(results, ratios), notes)
    return RUN_NS + run_id, append_run(kg.root, term.id, block)
