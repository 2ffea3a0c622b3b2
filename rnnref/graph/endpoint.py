"""A read-only SPARQL 1.1 protocol endpoint over the in-memory graph.

The Oxigraph server (the ``oxigraph`` package's CLI) would serve a store just as well,
but it is a separate install and would need its own copy of the data; this endpoint
is the standard library's ``ThreadingHTTPServer`` over the store ``rnnref`` already
loaded, so ``rnnref serve`` needs nothing more. Moving to a real triple store later
means loading ``rnnref export --format nq`` into it and pointing ``rnnref query
--endpoint`` at it: clients do not change.

Protocol (https://www.w3.org/TR/sparql11-protocol/), at ``/query``:

- ``GET /query?query=...``; ``POST`` with ``application/sparql-query`` (the body is
  the query) or ``application/x-www-form-urlencoded`` (``query=...``);
  ``default-graph-uri`` / ``named-graph-uri`` as in the protocol (without them the
  default graph is the union of all files).
- Results by content negotiation (``Accept``, or ``?format=json|xml|csv|tsv|ttl|nt|jsonld``):
  SPARQL JSON (the default), XML, CSV, TSV; Turtle (default), N-Triples, RDF/XML or
  JSON-LD for CONSTRUCT and DESCRIBE.
- Read-only: SPARQL Update (``/update``, ``update=``, ``application/sparql-update`` or
  update keywords in a query) gets 403, and so does SERVICE unless allowed. Each query
  runs with a deadline and a row limit, in one of a few worker processes forked once
  after the graph is loaded (``runner.WorkerPool``): at the deadline the worker is
  killed (503) and replaced; ``X-Rnnref-Truncated`` says when rows were cut.
- ``GET /`` describes the endpoint; ``GET /void`` is the VoID description of the
  dataset, advertising this endpoint; ``GET /named`` lists the named queries and
  ``GET /named/NAME?person=sepp-hochreiter`` runs one with its values bound on the
  server (through substitutions, as ``rnnref query --name`` does).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox

from rnnref.errors import InputError
from rnnref.graph import runner
from rnnref.graph.readonly import update_keyword, uses_service

MAX_BODY = 1 << 20  # 1 MiB of query text is plenty
RESULT_MEDIA = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = {
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "text/plain": "nt",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
}
FORMAT_PARAM = {"json", "xml", "csv", "tsv", "ttl", "nt", "jsonld"}


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def negotiate(accept: str | None, kind: str, override: str | None = None) -> str | None:
    """The format to answer in: ``override`` if valid, else the best match of ``accept``; None: 406."""
    graph = kind == "graph"
    media = GRAPH_MEDIA if graph else RESULT_MEDIA
    default = "ttl" if graph else "json"
    if override:
        if graph and override in ("ttl", "nt", "xml", "jsonld"):
            return override
        if not graph and override in ("json", "xml", "csv", "tsv"):
            return override
        return default
    if not accept:
        return default
    choices = []
    for position, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        mime, q = parts[0].lower(), 1.0
        for p in parts[1:]:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            choices.append((-q, position, mime))
    for _, _, mime in sorted(choices):
        if mime in media:
            return media[mime]
        if mime in ("*/*", "application/*", "text/*"):
            return default
    return None


def _media_type(kind: str, fmt: str) -> str:
    if kind == "graph":
        mime = runner.GRAPH_FORMATS[fmt][1]
    else:
        mime = runner.RESULT_FORMATS[fmt][1]
    return mime + ("; charset=utf-8" if mime.startswith("text/") or mime.endswith("json") else "")


class SparqlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store: ox.Store, root: Path, *, timeout: float, limit: int | None,
                 allow_service: bool = False, quiet: bool = False, max_running: int | None = None, resolve_term=None):
        host = address[0]
        if ":" in host.strip("[]"):
            self.address_family = socket.AF_INET6
        super().__init__((host.strip("[]"), address[1]), SparqlHandler)
        self.store = store
        self.root = root
        self.query_timeout = timeout
        self.row_limit = limit
        self.allow_service = allow_service
        self.quiet = quiet
        self.resolve_term = resolve_term  # KnowledgeGraph.resolve, for term parameters of named queries
        max_running = max_running or min(4, os.cpu_count() or 2)
        self.slots = threading.BoundedSemaphore(max_running)
        # Queries run in forked workers that can be killed at the deadline (see
        # runner.WorkerPool); without a deadline, or without fork, in the request's thread.
        self.pool = runner.WorkerPool(store, max_running) if timeout and hasattr(os, "fork") else None
        self._void: bytes | None = None
        self._void_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"

    def void(self) -> bytes:
        with self._void_lock:
            if self._void is None:
                from rnnref.graph.void import void_turtle

                self._void = void_turtle(self.store, self.root, self.url + "/query")
            return self._void

    def server_close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        runner.kill_children()
        super().server_close()


class SparqlHandler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = "rnnref-sparql/0.1"
    protocol_version = "HTTP/1.1"

    # -- routing ---------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._started = time.perf_counter()
        parts = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        if parts.path in ("/query", "/sparql"):
            if "update" in params:
                return self._refuse_update()
            queries = params.get("query", [])
            if len(queries) != 1:
                return self._error(HTTPStatus.BAD_REQUEST, "give exactly one query= parameter")
            return self._answer(queries[0], params)
        if parts.path == "/update":
            return self._refuse_update()
        if parts.path == "/named" or parts.path.startswith("/named/"):
            return self._named(parts.path.removeprefix("/named").strip("/"), params)
        if parts.path in ("/void", "/.well-known/void"):
            return self._send(HTTPStatus.OK, "text/turtle; charset=utf-8", self.server.void())
        if parts.path in ("/", "/index.html"):
            return self._send(HTTPStatus.OK, "text/plain; charset=utf-8", self._about())
        return self._error(HTTPStatus.NOT_FOUND, f"no such path {parts.path!r}; the SPARQL endpoint is /query")

    def do_POST(self) -> None:  # noqa: N802
        self._started = time.perf_counter()
        parts = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        if parts.path == "/update":
            self._discard_body()
            return self._refuse_update()
        if parts.path not in ("/query", "/sparql"):
            self._discard_body()
            return self._error(HTTPStatus.NOT_FOUND, f"no such path {parts.path!r}; the SPARQL endpoint is /query")
        body = self._body()
        if body is None:
            return
        content_type = (self.headers.get_content_type() or "").lower()
        if content_type == "application/sparql-update":
            return self._refuse_update()
        if content_type == "application/sparql-query":
            try:
                text = body.decode(self.headers.get_content_charset() or "utf-8")
            except (UnicodeDecodeError, LookupError):
                return self._error(HTTPStatus.BAD_REQUEST, "the query is not valid UTF-8")
            return self._answer(text, params)
        if content_type == "application/x-www-form-urlencoded":
            try:
                form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return self._error(HTTPStatus.BAD_REQUEST, "the form is not valid UTF-8")
            if "update" in form:
                return self._refuse_update()
            queries = form.get("query", [])
            if len(queries) != 1:
                return self._error(HTTPStatus.BAD_REQUEST, "give exactly one query= field")
            for key, values in form.items():
                if key != "query":
                    params.setdefault(key, []).extend(values)
            return self._answer(queries[0], params)
        return self._error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "POST a query as application/sparql-query or application/x-www-form-urlencoded",
        )

    def do_OPTIONS(self) -> None:  # noqa: N802 - CORS preflight for browser query editors
        self._started = time.perf_counter()
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:  # noqa: N802
        self._started = time.perf_counter()
        self._discard_body()
        self._refuse_update()

    do_DELETE = do_PUT  # noqa: N815
    do_PATCH = do_PUT  # noqa: N815

    # -- answering -------------------------------------------------------------------

    def _answer(self, text: str, params: dict[str, list[str]], substitutions: dict | None = None) -> None:
        keyword = update_keyword(text)
        if keyword:
            return self._error(HTTPStatus.FORBIDDEN, f"SPARQL Update ({keyword}) is refused: this endpoint is read-only")
        if not self.server.allow_service and uses_service(text):
            return self._error(HTTPStatus.FORBIDDEN, "SERVICE (federated query) is refused by this endpoint")
        try:
            default_graph = [ox.NamedNode(g) for g in params.get("default-graph-uri", [])]
            named_graphs = [ox.NamedNode(g) for g in params.get("named-graph-uri", [])]
        except ValueError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, f"bad graph IRI: {exc}")
        override = (params.get("format") or params.get("output") or [None])[0]
        if override is not None and override not in FORMAT_PARAM:
            return self._error(HTTPStatus.BAD_REQUEST, f"unknown format {override!r}; use one of {', '.join(sorted(FORMAT_PARAM))}")
        options = dict(
            substitutions=substitutions,
            limit=self.server.row_limit,
            allow_service=self.server.allow_service,
            default_graph=default_graph or None,
            named_graphs=named_graphs or None,
        )
        try:
            if self.server.pool is not None:
                outcome = self.server.pool.run(text, timeout=self.server.query_timeout, **options)
            else:
                with self.server.slots:
                    outcome = runner.run(self.server.store, text, timeout=None, **options)
        except runner.QueryTimeout as exc:
            return self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
        except InputError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except runner.WorkerError as exc:
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
        fmt = negotiate(self.headers.get("Accept"), outcome.kind, override)
        if fmt is None:
            return self._error(HTTPStatus.NOT_ACCEPTABLE, "no acceptable result format; ask for application/sparql-results+json")
        try:
            data = outcome.render(fmt)
        except (ValueError, SyntaxError) as exc:
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"cannot write the results as {fmt}: {exc}")
        extra = {"X-Rnnref-Truncated": str(outcome.rows)} if outcome.truncated else {}
        self._send(HTTPStatus.OK, _media_type(outcome.kind, fmt), data, extra)

    def _named(self, name: str, params: dict[str, list[str]]) -> None:
        """``/named`` lists the named queries (JSON); ``/named/NAME?key=value`` runs one with
        its values bound server-side, typed as ``rnnref query --param`` types them."""
        import json

        from rnnref.errors import NotFoundError
        from rnnref.graph import catalogue

        if not name:
            listing = [q.as_dict() for q in catalogue.catalogue(self.server.root)]
            return self._send(HTTPStatus.OK, "application/json", json.dumps(listing, ensure_ascii=False).encode())
        try:
            named = catalogue.load(self.server.root, name)
        except NotFoundError as exc:
            hint = f"; did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else ""
            return self._error(HTTPStatus.NOT_FOUND, f"{exc}{hint}")
        except InputError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, str(exc))
        raw = {}
        for key, values in params.items():
            if key in ("format", "output"):
                continue
            if len(values) != 1:
                return self._error(HTTPStatus.BAD_REQUEST, f"give {key}= once")
            raw[key] = values[0]
        try:
            substitutions = catalogue.Binder(self.server.store, self.server.resolve_term).bind(named, named.text, raw)
        except NotFoundError as exc:
            hint = f"; did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else ""
            return self._error(HTTPStatus.NOT_FOUND, f"{exc}{hint}")
        except InputError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, str(exc))
        self._answer(named.text, {k: v for k, v in params.items() if k in ("format", "output")}, substitutions)

    def _about(self) -> bytes:
        url = self.server.url
        lines = [
            "rnnref SPARQL 1.1 endpoint (read-only)",
            "",
            f"query:  {url}/query   (GET ?query=..., or POST application/sparql-query / form-encoded)",
            f"VoID:   {url}/void",
            f"named:  {url}/named (the named queries), {url}/named/NAME?key=value (one, with its values bound)",
            f"graph:  {len(self.server.store)} quads, one named graph per source file; the default graph is their union",
            f"limits: {self.server.query_timeout:g} s per query, {self.server.row_limit or 'no'} rows",
            "",
            "example:",
            f"  curl -H 'Accept: application/sparql-results+json' --data-urlencode 'query=SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }}' {url}/query",
        ]
        return ("\n".join(lines) + "\n").encode()

    # -- plumbing --------------------------------------------------------------------

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None:
            self._error(HTTPStatus.LENGTH_REQUIRED, "a POST needs Content-Length")
            return None
        try:
            size = int(length)
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "bad Content-Length")
            return None
        if size > MAX_BODY:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the request body is over {MAX_BODY} bytes")
            return None
        return self.rfile.read(size)

    def _discard_body(self) -> None:
        try:
            size = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            size = 0
        if 0 < size <= MAX_BODY:
            self.rfile.read(size)
        elif size:
            self.close_connection = True

    def _refuse_update(self) -> None:
        self._error(HTTPStatus.FORBIDDEN, "this endpoint is read-only: SPARQL Update is refused")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, "text/plain; charset=utf-8", (message + "\n").encode())

    def _send(self, status: HTTPStatus, content_type: str, data: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Vary", "Accept")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_request(self, code="-", size="-") -> None:
        if self.server.quiet:
            return
        millis = (time.perf_counter() - getattr(self, "_started", time.perf_counter())) * 1000
        line = self.requestline if len(self.requestline) <= 120 else self.requestline[:117] + "..."
        sys.stderr.write(f"{self.address_string()} {int(code) if str(code).isdigit() else code} {millis:.1f} ms \"{line}\"\n")

    def log_error(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} error: {format % args}\n")


def make_server(store: ox.Store, root: Path, host: str = "127.0.0.1", port: int = 0, **options) -> SparqlServer:
    """A server bound to (host, port); port 0 picks a free one. Call ``serve_forever()``."""
    try:
        return SparqlServer((host, port), store, root, **options)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
