"""``query --endpoint``: what is refused is refused before anything leaves the machine.

tests/cli/test_sparql_safety.py covers the local graph and tests/cli/test_sparql_serve.py
the server (``rnnref serve``); this adds the client side of ``--endpoint``: a SPARQL
Update or a SERVICE query never opens a connection to the endpoint (a listening socket
here counts the connections), and a malformed endpoint URL is one error line.
"""

from __future__ import annotations

import socket

import pytest

from tests.fuzz.harness import call, check_contract


@pytest.fixture
def listener():
    """A TCP socket that accepts nothing: any connection attempt shows up in its backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"
    sock.close()


def _connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("DELETE WHERE { ?s ?p ?o }", "SPARQL Update (DELETE) is refused"),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "SPARQL Update (INSERT) is refused"),
        ("DROP ALL", "SPARQL Update (DROP) is refused"),
        ("LOAD <http://example.org/data.ttl>", "SPARQL Update (LOAD) is refused"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE (federated query) is refused"),
        ("select * where { service silent <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE (federated query) is refused"),
    ],
)
def test_refused_queries_never_reach_the_endpoint(listener, text, fragment):
    sock, url = listener
    r = call(["query", "--endpoint", url, text])
    check_contract(r)
    assert r.code == 2 and fragment in r.err_text, r.err_text
    assert _connections(sock) == 0


def test_an_allowed_query_does_reach_it(listener):
    """The counter works: a plain SELECT connects (and then fails, as nothing answers)."""
    sock, url = listener
    r = call(["query", "--endpoint", url, "--timeout", "1", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"])
    check_contract(r)
    assert r.code in (1, 2)
    assert _connections(sock) == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/sparql",
        "javascript:alert(1)",
        "",
        "   ",
        "http://",
        "http:///sparql",
        "http://[::1",
        "http://localhost:99999/query",
    ],
)
def test_malformed_endpoint_urls_are_one_error_line(url):
    r = call(["query", "--endpoint", url, "ASK { ?s ?p ?o }"])
    check_contract(r)
    assert r.code == 2, r.err_text
