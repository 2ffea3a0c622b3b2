"""How the graph and its queries scale: the real graph plus a synthetic one of at least
a million triples, queried in the embedded store and through ``rnnref serve``.

    python -m rnnref.bench.scale [--triples 1000000] [--repeats 7] [--no-server] [--json]

The synthetic triples are benchmark runs over the real architecture and training
method terms, in the shape ``rnnref.bench.record`` writes to ``kg/benchmarks/``
(an ``rnn:BenchmarkRun`` per run with device, workload, torch version, commit and
date, and an ``mls:ModelEvaluation`` per median / p20 / p80 time and peak memory of
each implementation and pass). They go, as Turtle files, into ``kg/benchmarks/`` of a
temporary copy of the tree, so loading them is the real load path
(``KnowledgeGraph(root)``) and the server is the real ``rnnref serve --root COPY``.

It prints:

- load time of the real graph and of the scaled one (parse + insert), and the
  server's time from start to its first answer;
- for each named query (with its example values): the median latency in the embedded
  store (``rnnref.graph.queries.select``, as the library runs it) on the real graph
  and on the scaled one, and over HTTP (``GET /named/NAME?...``, values bound on the
  server) on the scaled one;
- ``rnnref lookup lstm --json`` wall time on the real graph, end to end.

and checks the real-graph numbers against DESIGN.md's bars: named queries under
20 ms, lookup under 0.25 s. Timings are medians of ``--repeats`` runs after one
warm-up; nothing here is a pass/fail test, but ``--check`` exits 1 when a bar is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

QUERY_BAR_MS = 20.0
LOOKUP_BAR_S = 0.25
TRIPLES_PER_FILE = 100_000
BYTES_PER_TRIPLE = 1_500  # store + parse buffers, measured: ~0.6 kB in the store, more while loading

DEVICES = [
    "cpu: AMD EPYC 7B13, 2 threads",
    "cpu: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 8 threads",
    "cpu: Apple M2, 8 threads",
    "cuda:0: NVIDIA A100-SXM4-40GB",
    "cuda:0: NVIDIA GeForce RTX 4090",
    "cuda:0: NVIDIA H100 80GB HBM3",
]
WORKLOADS = [
    f"B={b} T={t} I={h} H={h} float32"
    for b, t, h in [(32, 128, 256), (1, 128, 256), (32, 512, 256), (32, 128, 1024), (64, 1024, 512), (8, 4096, 128)]
]
IMPLS = ["fast", "step", "torch"]
PASSES = ["fwd", "fwd+bwd"]


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def mem_available_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# -- the synthetic graph ------------------------------------------------------------------


def synthetic_runs(terms: list[tuple[str, str | None]], triples: int, seed: int = 0):
    """Yield lists of triples, one list per benchmark run, until ``triples`` are made."""
    import pyoxigraph as ox

    rnn = "https://w3id.org/rnnref/ontology#"
    mls = "http://www.w3.org/ns/mls#"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    n = ox.NamedNode
    a = n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    p = {name: n(rnn + name) for name in ("benchmarks", "device", "workload", "torchVersion", "gitCommit", "metric", "unit", "baseline", "ratio")}
    has_output, has_value, executes = n(mls + "hasOutput"), n(mls + "hasValue"), n(mls + "executes")
    date, run_class, eval_class = n("http://purl.org/dc/terms/date"), n(rnn + "BenchmarkRun"), n(mls + "ModelEvaluation")
    double, datetime_ = n(xsd + "double"), n(xsd + "dateTime")
    rng = random.Random(seed)
    made, index = 0, 0
    while made < triples:
        term, impl = terms[index % len(terms)]
        device, workload = rng.choice(DEVICES), rng.choice(WORKLOADS)
        slug = term.rsplit("/", 1)[1]
        run = n(f"https://w3id.org/rnnref/run/{slug}-synthetic-{index:07d}")
        out = [
            ox.Triple(run, a, run_class),
            ox.Triple(run, p["benchmarks"], n(term)),
            ox.Triple(run, p["device"], ox.Literal(device)),
            ox.Triple(run, p["workload"], ox.Literal(workload)),
            ox.Triple(run, p["torchVersion"], ox.Literal("2.13.0+cpu" if device.startswith("cpu") else "2.13.0+cu128")),
            ox.Triple(run, p["gitCommit"], ox.Literal(f"{rng.getrandbits(160):040x}")),
            ox.Triple(run, date, ox.Literal(f"2026-{1 + index % 12:02d}-{1 + index % 28:02d}T10:00:00Z", datatype=datetime_)),
        ]
        if impl:
            out.append(ox.Triple(run, executes, n(impl)))
        base_time = rng.lognormvariate(-6.0, 1.0) * (0.1 if device.startswith("cuda") else 1.0)
        for impl_name in IMPLS:
            for pass_name in PASSES:
                t = base_time * (1.0 if impl_name == "torch" else rng.uniform(0.8, 3.0)) * (2.5 if "bwd" in pass_name else 1.0)
                for stat, value, unit in (("median time", t, "s"), ("p20 time", t * 0.95, "s"), ("p80 time", t * 1.08, "s"),
                                          ("peak memory", float(rng.randrange(1 << 20, 1 << 30)), "bytes")):
                    ev = n(f"{run.value}/{impl_name}-{pass_name.replace('+', '-')}-{stat.split()[0]}")
                    out += [
                        ox.Triple(run, has_output, ev),
                        ox.Triple(ev, a, eval_class),
                        ox.Triple(ev, p["metric"], ox.Literal(f"{impl_name} {pass_name} {stat}")),
                        ox.Triple(ev, has_value, ox.Literal(repr(value), datatype=double)),
                        ox.Triple(ev, p["unit"], ox.Literal(unit)),
                    ]
                    if stat == "median time" and impl_name != "torch":
                        out += [ox.Triple(ev, p["baseline"], ox.Literal("torch")),
                                ox.Triple(ev, p["ratio"], ox.Literal(repr(t / base_time), datatype=double))]
        made += len(out)
        index += 1
        yield out


def build_tree(real_root: Path, dest: Path, triples: int) -> tuple[int, int]:
    """A copy of ontology/ and kg/ with synthetic runs in kg/benchmarks/; returns (runs, triples)."""
    import pyoxigraph as ox

    from rnnref.graph import KnowledgeGraph

    for part in ("ontology", "kg"):
        shutil.copytree(real_root / part, dest / part, ignore=shutil.ignore_patterns(".*"))
    kg = KnowledgeGraph(real_root)
    impls = {row["term"]: None for row in kg.named("term-implementations")}
    impl_iri = {row["term"]: row["impl"] for row in _impl_rows(kg)}
    terms = [(e.iri, impl_iri.get(e.iri)) for e in kg.index if {"Architecture", "TrainingMethod"} & set(kg._types.get(e.iri, []))]
    terms.sort(key=lambda t: (t[0] not in impls, t[0]))
    folder = dest / "kg" / "benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    from rnnref.graph.catalogue import PREFIXES

    chunk: list = []
    files = runs = made = 0
    for run in synthetic_runs(terms, triples):
        chunk += run
        runs += 1
        made += len(run)
        if len(chunk) >= TRIPLES_PER_FILE:
            ox.serialize(chunk, output=folder / f"synthetic-{files:03d}.ttl", format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
            files, chunk = files + 1, []
    if chunk:
        ox.serialize(chunk, output=folder / f"synthetic-{files:03d}.ttl", format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return runs, made


def _impl_rows(kg) -> list[dict]:
    from rnnref.graph.queries import select

    return select(kg.store, "SELECT ?term ?impl WHERE { ?term <https://w3id.org/rnnref/ontology#hasImplementation> ?impl }")


# -- measuring ----------------------------------------------------------------------------


def named_latencies(kg, repeats: int) -> dict[str, float]:
    from rnnref.graph import catalogue
    from rnnref.graph.queries import select

    out = {}
    binder = catalogue.Binder(kg.store, kg.resolve)
    for named in catalogue.catalogue(kg.root):
        if not named.declared:
            continue
        subs = binder.bind(named, named.text, named.example_params())
        out[named.name] = _median_ms(lambda: select(kg.store, named.text, subs), repeats)
    return out


def start_server(root: Path) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnref", "serve", "--root", str(root), "--port", "0", "--quiet", "--timeout", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://") and w.endswith("/query")), None)
    if url is None:
        proc.kill()
        raise SystemExit(f"rnnref serve did not start: {line!r}")
    return proc, url, time.perf_counter() - started


def http_latencies(url: str, root: Path, repeats: int) -> dict[str, float]:
    from rnnref.graph import catalogue

    base = url.rsplit("/", 1)[0]
    out = {}
    for named in catalogue.catalogue(root):
        if not named.declared:
            continue
        target = f"{base}/named/{named.name}?{urllib.parse.urlencode(named.example_params())}"

        def fetch(target=target):
            request = urllib.request.Request(target, headers={"Accept": "application/sparql-results+json"})
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()

        out[named.name] = _median_ms(fetch, repeats)
    return out


def count_query_ms(kg, url: str | None, repeats: int) -> tuple[float, float | None]:
    from rnnref.graph.queries import select

    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    local = _median_ms(lambda: select(kg.store, text), repeats)
    if url is None:
        return local, None

    def fetch():
        with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode({'query': text})}", timeout=300) as response:
            response.read()

    return local, _median_ms(fetch, repeats)


def lookup_seconds(repeats: int) -> float:
    argv = [sys.executable, "-m", "rnnref", "lookup", "lstm", "--json"]
    env = {k: v for k, v in os.environ.items() if k != "RNNREF_ROOT"}
    return _median_ms(lambda: subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env), repeats) / 1000


# -- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="synthetic triples to add (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median reported)")
    parser.add_argument("--no-server", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--check", action="store_true", help="exit 1 if the real graph misses a DESIGN.md bar")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.triples < 0 or args.repeats < 1:
        parser.error("--triples must be >= 0 and --repeats >= 1")

    from rnnref.graph import KnowledgeGraph
    from rnnref.graph.paths import project_root

    need = args.triples * BYTES_PER_TRIPLE * (1 if args.no_server else 2)
    available = mem_available_bytes()
    if available is not None and need > 0.7 * available:
        sys.stderr.write(
            f"scale: {args.triples} triples need about {need / 1e9:.1f} GB but {available / 1e9:.1f} GB is free; "
            "use fewer --triples or --no-server\n"
        )
        return 2

    root = project_root()
    report: dict = {"triples_requested": args.triples, "repeats": args.repeats}
    log = (lambda *_: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))

    log("loading the real graph ...")
    start = time.perf_counter()
    real = KnowledgeGraph(root)
    report["real"] = {"quads": len(real.store), "load_s": time.perf_counter() - start}
    log("timing named queries on the real graph ...")
    report["real"]["named_ms"] = named_latencies(real, args.repeats)
    report["real"]["count_ms"], _ = count_query_ms(real, None, args.repeats)
    log("timing rnnref lookup lstm --json ...")
    report["lookup_s"] = lookup_seconds(args.repeats)
    report["python_startup_s"] = _median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.repeats) / 1000

    with tempfile.TemporaryDirectory(prefix="rnnref-scale-") as tmp:
        tree = Path(tmp) / "tree"
        log(f"writing {args.triples} synthetic triples ...")
        start = time.perf_counter()
        runs, made = build_tree(root, tree, args.triples)
        report["synthetic"] = {"runs": runs, "triples": made, "generate_s": time.perf_counter() - start}
        del real
        log("loading the scaled graph ...")
        start = time.perf_counter()
        big = KnowledgeGraph(tree)
        report["scaled"] = {"quads": len(big.store), "load_s": time.perf_counter() - start}
        report["scaled"]["load_triples_per_s"] = len(big.store) / report["scaled"]["load_s"]
        log("timing named queries on the scaled graph ...")
        report["scaled"]["named_ms"] = named_latencies(big, args.repeats)
        url = None
        proc = None
        try:
            if not args.no_server:
                log("starting rnnref serve on the scaled graph ...")
                proc, url, ready_s = start_server(tree)
                report["server"] = {"ready_s": ready_s}
                log("timing named queries over HTTP ...")
                report["server"]["named_ms"] = http_latencies(url, tree, args.repeats)
            report["scaled"]["count_ms"], count_http = count_query_ms(big, url, args.repeats)
            if url:
                report["server"]["count_ms"] = count_http
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)

    over = {k: v for k, v in report["real"]["named_ms"].items() if v >= QUERY_BAR_MS}
    report["bars"] = {
        "named_query_ms": QUERY_BAR_MS,
        "named_queries_over_bar": sorted(over),
        "lookup_s": LOOKUP_BAR_S,
        "lookup_within_bar": report["lookup_s"] < LOOKUP_BAR_S,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 1 if args.check and (over or not report["bars"]["lookup_within_bar"]) else 0


def print_report(r: dict) -> None:
    real, big, server = r["real"], r["scaled"], r.get("server")
    print(f"real graph:   {real['quads']:>9,} quads, loaded in {real['load_s']:.2f} s")
    print(f"synthetic:    {r['synthetic']['triples']:>9,} triples in {r['synthetic']['runs']:,} benchmark runs "
          f"(written in {r['synthetic']['generate_s']:.1f} s)")
    print(f"scaled graph: {big['quads']:>9,} quads, loaded in {big['load_s']:.2f} s ({big['load_triples_per_s']:,.0f} triples/s)")
    if server:
        print(f"rnnref serve: ready (loaded and listening) after {server['ready_s']:.2f} s")
    print()
    print(f"median latency in ms over {r['repeats']} runs (bar: {QUERY_BAR_MS:g} ms on the real graph)")
    head = f"{'named query':38s} {'real':>8s} {'scaled':>9s} {'scaled/HTTP':>12s}  bar"
    print(head)
    print("-" * len(head))
    for name, ms in real["named_ms"].items():
        http = server["named_ms"].get(name) if server else None
        mark = "ok" if ms < QUERY_BAR_MS else "OVER"
        print(f"{name:38s} {ms:8.2f} {big['named_ms'][name]:9.2f} {'' if http is None else f'{http:12.2f}':>12s}  {mark}")
    count_http = server.get("count_ms") if server else None
    print(f"{'COUNT(*) of all triples':38s} {real['count_ms']:8.2f} {big['count_ms']:9.2f} "
          f"{'' if count_http is None else f'{count_http:12.2f}':>12s}")
    print()
    print(f"rnnref lookup lstm --json (real graph, end to end): {r['lookup_s']:.3f} s "
          f"(bar {LOOKUP_BAR_S} s: {'ok' if r['bars']['lookup_within_bar'] else 'OVER'}; "
          f"a bare python start takes {r['python_startup_s']:.3f} s on this machine now)")
    over = r["bars"]["named_queries_over_bar"]
    print(f"named queries over {QUERY_BAR_MS:g} ms on the real graph: {', '.join(over) if over else 'none'}")


if __name__ == "__main__":
    raise SystemExit(main())
