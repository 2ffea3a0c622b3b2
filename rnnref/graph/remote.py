"""A SPARQL 1.1 protocol client for any endpoint (Oxigraph, Fuseki, QLever, Virtuoso,
``rnnref serve``), with the standard library only.

A short query goes as ``GET URL?query=...``, a long one as ``POST`` with
``Content-Type: application/sparql-query``. Results are asked for as SPARQL JSON (or
N-Triples / Turtle for CONSTRUCT and DESCRIBE) and come back as the same ``Outcome``
a local query gives, so the CLI prints both the same way.

Exit codes: the server refusing the request (HTTP 4xx) or a timeout is an input error
(2); an unreachable endpoint, a 404 or a server failure (5xx) is 1.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pyoxigraph as ox

from rnnref.errors import InputError, RnnrefError
from rnnref.graph.readonly import check_read_only
from rnnref.graph.runner import Outcome, QueryTimeout, decode, solutions_payload, triples_payload

ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "application/n-triples;q=0.9, text/turtle;q=0.8, application/rdf+xml;q=0.5"
)
GET_LIMIT = 2000  # longer URLs go as POST: some servers cut URLs at 2-8 kB
USER_AGENT = "rnnref (SPARQL 1.1 protocol client)"


class EndpointError(RnnrefError):
    """The endpoint could not be reached or failed (exit 1)."""

    exit_code = 1


def query_endpoint(
    url: str,
    text: str,
    *,
    timeout: float | None = 10.0,
    limit: int | None = 10_000,
    allow_service: bool = False,
) -> Outcome:
    """Send one query; refuse updates (this client speaks the query protocol only)."""
    check_read_only(text, allow_service=allow_service)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # raises ValueError for a malformed host or port
    except ValueError as exc:
        raise InputError(f"--endpoint is not a valid URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"--endpoint must be an http:// or https:// URL, got {url!r}")
    encoded = urllib.parse.urlencode({"query": text})
    headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
    if len(url) + len(encoded) < GET_LIMIT:
        request = urllib.request.Request(f"{url}{'&' if parts.query else '?'}{encoded}", headers=headers)
    else:
        headers["Content-Type"] = "application/sparql-query; charset=utf-8"
        request = urllib.request.Request(url, data=text.encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout or None) as response:
            content_type = response.headers.get_content_type()
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise _http_error(url, exc) from None
    except (TimeoutError, socket.timeout):
        raise QueryTimeout(f"the endpoint did not answer within {timeout:g} s; narrow the query or raise --timeout") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise QueryTimeout(f"the endpoint did not answer within {timeout:g} s; narrow the query or raise --timeout") from None
        raise EndpointError(f"cannot reach {url}: {getattr(exc.reason, 'strerror', None) or exc.reason}") from None
    except OSError as exc:
        raise EndpointError(f"cannot reach {url}: {exc.strerror or exc}") from None
    return _outcome(content_type, body, limit)


def _http_error(url: str, exc: urllib.error.HTTPError) -> RnnrefError:
    try:
        detail = exc.read().decode("utf-8", errors="replace")
    except OSError:
        detail = ""
    detail = " ".join(detail.split())[:300] or exc.reason
    message = f"{url} answered HTTP {exc.code}: {detail}"
    if exc.code == 404:
        return EndpointError(message)
    if 400 <= exc.code < 500:
        return InputError(message)
    return EndpointError(message)


_RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


def _outcome(content_type: str, body: bytes, limit: int | None) -> Outcome:
    try:
        if content_type in _RESULT_TYPES:
            results = ox.parse_query_results(body, format=_RESULT_TYPES[content_type])
            if isinstance(results, ox.QueryBoolean):
                return Outcome("boolean", json.dumps({"head": {}, "boolean": bool(results)}).encode())
            return decode(*solutions_payload(results, limit))
        if content_type in _GRAPH_TYPES:
            parsed: Any = ox.parse(body, format=_GRAPH_TYPES[content_type])
            triples = (q.triple if isinstance(q, ox.Quad) else q for q in parsed)
            return decode(*triples_payload(triples, limit))
    except (SyntaxError, ValueError) as exc:
        raise EndpointError(f"the endpoint's {content_type} answer does not parse: {' '.join(str(exc).split())[:200]}") from None
    raise EndpointError(f"the endpoint answered with {content_type or 'no content type'}, which is not a SPARQL result format")
