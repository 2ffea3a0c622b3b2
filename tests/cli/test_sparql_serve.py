"""`rnnref serve` is a SPARQL 1.1 protocol endpoint: a plain HTTP client, `rnnref query
--endpoint` and the local `rnnref query` agree on the answers."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest

from tests.conftest import ROOT

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def endpoint():
    """`rnnref serve --port 0` in a subprocess; yields its /query URL; stops it with SIGTERM."""
    env = {k: v for k, v in os.environ.items() if k != "RNNREF_ROOT"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnref", "serve", "--port", "0", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "rnnref serve printed nothing within 120 s"
        line = proc.stdout.readline()
        url = next(word for word in line.split() if word.startswith("http://") and word.endswith("/query"))
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0  # a clean stop


def get(url: str, query: str, accept: str | None = None, **extra: str):
    params = urllib.parse.urlencode({"query": query, **extra})
    request = urllib.request.Request(f"{url}?{params}", headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.headers.get_content_type(), response.read()


def post(url: str, body: bytes, content_type: str, accept: str = "application/sparql-results+json"):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type, "Accept": accept}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.headers.get_content_type(), response.read()


def http_error(fn, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(urllib.error.HTTPError) as info:
        fn(*args, **kwargs)
    return info.value.code, info.value.read().decode()


def count_of(results_json: bytes | str) -> int:
    return int(json.loads(results_json)["results"]["bindings"][0]["n"]["value"])


def test_triple_count_is_the_same_locally_over_plain_http_and_through_query_endpoint(endpoint, cli):
    local = cli("query", COUNT, "--json")
    assert local.code == 0, local.err
    content_type, body = get(endpoint, COUNT)  # a plain HTTP GET, no Accept header
    assert content_type == "application/sparql-results+json"
    remote = cli("query", COUNT, "--endpoint", endpoint, "--json")
    assert remote.code == 0, remote.err
    assert count_of(local.out) == count_of(body) == count_of(remote.out) > 1000


def test_named_query_rows_match_through_the_endpoint(endpoint, cli):
    local = cli("query", "--name", "term-counts-by-class", "--format", "csv")
    remote = cli("query", "--name", "term-counts-by-class", "--format", "csv", "--endpoint", endpoint)
    assert local.code == remote.code == 0, local.err + remote.err
    assert local.out == remote.out
    table = cli("query", "--name", "term-counts-by-class", "--endpoint", endpoint)
    assert table.code == 0 and "rnn:Architecture" in table.out


@pytest.mark.parametrize(
    "accept, media, check",
    [
        ("application/sparql-results+json", "application/sparql-results+json", lambda b: count_of(b) > 0),
        ("application/sparql-results+xml", "application/sparql-results+xml", lambda b: b"<sparql" in b),
        ("text/csv", "text/csv", lambda b: b.splitlines()[0] == b"n"),
        ("text/tab-separated-values", "text/tab-separated-values", lambda b: b.splitlines()[0] == b"?n"),
        ("text/html, */*;q=0.1", "application/sparql-results+json", lambda b: count_of(b) > 0),
    ],
)
def test_select_results_by_content_negotiation(endpoint, accept, media, check):
    content_type, body = get(endpoint, COUNT, accept)
    assert content_type == media
    assert check(body)


@pytest.mark.parametrize(
    "accept, media, fmt",
    [
        ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
        (None, "text/turtle", ox.RdfFormat.TURTLE),
    ],
)
def test_construct_results_by_content_negotiation(endpoint, accept, media, fmt):
    query = "CONSTRUCT { <https://w3id.org/rnnref/term/lstm> ?p ?o } WHERE { <https://w3id.org/rnnref/term/lstm> ?p ?o }"
    content_type, body = get(endpoint, query, accept)
    assert content_type == media
    triples = list(ox.parse(body, format=fmt))
    assert len(triples) > 10


def test_post_bodies_and_forms(endpoint):
    _, direct = post(endpoint, COUNT.encode(), "application/sparql-query")
    _, form = post(endpoint, urllib.parse.urlencode({"query": COUNT}).encode(), "application/x-www-form-urlencoded")
    _, got = get(endpoint, COUNT)
    assert count_of(direct) == count_of(form) == count_of(got)


def test_graph_parameters_of_the_protocol(endpoint):
    graph = "urn:rnnref:file:kg/terms/lstm.ttl"
    _, one_file = get(endpoint, COUNT, **{"default-graph-uri": graph})
    _, everything = get(endpoint, COUNT)
    assert 0 < count_of(one_file) < count_of(everything)


def test_updates_and_service_are_refused(endpoint):
    insert = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    code, message = http_error(get, endpoint, insert)
    assert code == 403 and "read-only" in message
    code, _ = http_error(post, endpoint, insert.encode(), "application/sparql-update")
    assert code == 403
    update_url = endpoint.rsplit("/", 1)[0] + "/update"
    code, _ = http_error(post, update_url, urllib.parse.urlencode({"update": insert}).encode(), "application/x-www-form-urlencoded")
    assert code == 403
    code, message = http_error(get, endpoint, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    assert code == 403 and "SERVICE" in message
    _, body = get(endpoint, "ASK { <urn:a> <urn:b> <urn:c> }")
    assert json.loads(body)["boolean"] is False


def test_bad_requests(endpoint):
    code, message = http_error(get, endpoint, "SELECT * WHERE { ?s ?p")
    assert code == 400 and "bad SPARQL" in message
    code, _ = http_error(post, endpoint, b"x", "text/plain")
    assert code == 415
    code, _ = http_error(get, endpoint.rsplit("/", 1)[0] + "/nowhere", COUNT)
    assert code == 404


def test_void_advertises_the_endpoint(endpoint):
    with urllib.request.urlopen(endpoint.rsplit("/", 1)[0] + "/void", timeout=60) as response:
        graph = list(ox.parse(response.read(), format=ox.RdfFormat.TURTLE))
    endpoints = {t.object.value for t in graph if t.predicate.value == "http://rdfs.org/ns/void#sparqlEndpoint"}
    assert endpoints == {endpoint}


def test_named_queries_run_on_the_server_with_values_bound_there(endpoint):
    base = endpoint.rsplit("/", 1)[0]
    with urllib.request.urlopen(base + "/named", timeout=60) as response:
        names = {q["name"] for q in json.loads(response.read())}
    assert "papers-by-person" in names
    url = base + "/named/papers-by-person?" + urllib.parse.urlencode({"person": "Sepp Hochreiter"})
    with urllib.request.urlopen(url, timeout=60) as response:
        rows = json.loads(response.read())["results"]["bindings"]
    assert "https://w3id.org/rnnref/paper/hochreiter-1997-lstm" in {r["paper"]["value"] for r in rows}
    url = base + "/named/papers-by-person?" + urllib.parse.urlencode({"person": 'x" } ; DROP ALL ; { "'})
    with urllib.request.urlopen(url, timeout=60) as response:
        assert json.loads(response.read())["results"]["bindings"] == []
    code, message = http_error(urllib.request.urlopen, base + "/named/paper-by-person", timeout=60)
    assert code == 404 and "papers-by-person" in message
    code, message = http_error(urllib.request.urlopen, base + "/named/papers-by-person", timeout=60)
    assert code == 400 and "needs --param person" in message


def test_query_endpoint_errors_are_one_line_with_exit_codes(endpoint, cli):
    r = cli("query", "SELECT * WHERE { ?s ?p", "--endpoint", endpoint)
    assert r.code == 2 and "HTTP 400" in r.err and len(r.err.splitlines()) == 1
    r = cli("query", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "--endpoint", endpoint)
    assert r.code == 2 and "read-only" in r.err  # refused before it is sent
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = cli("query", COUNT, "--endpoint", f"http://127.0.0.1:{port}/query")
    assert r.code == 1 and "cannot reach" in r.err and len(r.err.splitlines()) == 1
    r = cli("query", COUNT, "--endpoint", "file:///etc/passwd")
    assert r.code == 2
    r = cli("query", "--name", "papers-by-person", "--param", "person=sepp-hochreiter", "--endpoint", endpoint)
    assert r.code == 2 and "--param" in r.err


def test_the_endpoint_stops_a_slow_query(tmp_path):
    """A second server with a 1 s deadline answers 503 for a runaway query and keeps serving."""
    from rnnref.graph import KnowledgeGraph
    from rnnref.graph.endpoint import make_server
    import threading

    kg = KnowledgeGraph(ROOT)
    server = make_server(kg.store, kg.root, "127.0.0.1", 0, timeout=1.0, limit=100, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = server.url + "/query"
        started = time.monotonic()
        code, message = http_error(get, url, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
        assert code == 503 and "longer than 1 s" in message
        assert time.monotonic() - started < 60
        request = urllib.request.Request(url + "?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"}))
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.headers["X-Rnnref-Truncated"] == "100"
            assert len(json.loads(response.read())["results"]["bindings"]) == 100
    finally:
        server.shutdown()
        server.server_close()
