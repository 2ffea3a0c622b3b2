"""Run one SPARQL request against a store with a deadline and a row limit.

pyoxigraph cannot interrupt a running query, and a thread cannot be stopped from
outside. So on POSIX the query runs in a forked child process, which inherits the
loaded in-memory store copy-on-write (no reload, a few milliseconds to start); the
child sends its results back through a pipe, and when the deadline passes the parent
kills it: the work truly stops. Where ``fork`` is not available the query runs in a
daemon thread that is abandoned at the deadline (the CLI exits right after, which does
stop it; a long-running server would keep the thread busy).

Results travel as SPARQL 1.1 JSON results (SELECT, ASK) or N-Triples (CONSTRUCT,
DESCRIBE), cut to ``limit`` rows or triples, and ``Outcome.render`` turns them into
any of the result formats. A timeout of ``None`` or 0 runs the query in-process with
no deadline (the library's own named queries do this).

An update (``allow_update``) runs in the same way: in the child it changes only the
child's copy-on-write memory, in-process only the in-memory store. Nothing is ever
written to disk; the graph files are read once, at load.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from rnnref.errors import InputError, RnnrefError
from rnnref.graph.readonly import check_read_only, update_keyword

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# result format name -> (pyoxigraph format, media type)
RESULT_FORMATS: dict[str, tuple[Any, str]] = {
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values"),
}
GRAPH_FORMATS: dict[str, tuple[Any, str]] = {
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle"),
    "xml": (ox.RdfFormat.RDF_XML, "application/rdf+xml"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json"),
}


class QueryTimeout(InputError):
    """The query ran past its deadline and was stopped (exit 2: narrow it or raise --timeout)."""


@dataclass
class Outcome:
    """What a query produced: ``kind`` is solutions, boolean, graph or update."""

    kind: str
    payload: bytes  # SPARQL JSON results (solutions, boolean) or N-Triples (graph)
    rows: int = 0  # rows or triples kept
    truncated: bool = False  # whether more rows existed than the limit
    message: str = ""  # for updates: what changed

    def parsed(self):
        """The results as pyoxigraph objects (QuerySolutions / QueryBoolean / list of triples)."""
        if self.kind == "graph":
            return list(ox.parse(self.payload, format=ox.RdfFormat.N_TRIPLES))
        return ox.parse_query_results(self.payload, format=ox.QueryResultsFormat.JSON)

    def render(self, fmt: str) -> bytes:
        """The results in ``fmt``: json/xml/csv/tsv for solutions and booleans, nt/ttl/xml/jsonld for graphs."""
        if self.kind == "graph":
            rdf_format = GRAPH_FORMATS.get(fmt, GRAPH_FORMATS["nt"])[0]
            if rdf_format == ox.RdfFormat.N_TRIPLES:
                return self.payload
            from rnnref.graph.catalogue import PREFIXES

            prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
            return ox.serialize(self.parsed(), format=rdf_format, prefixes=prefixes) or b""
        if fmt == "json":
            return self.payload
        if self.kind == "boolean" and fmt == "csv":
            # CSV has no boolean form in SPARQL 1.1; write the value as one cell.
            return b"boolean\r\n" + (b"true" if json.loads(self.payload)["boolean"] else b"false") + b"\r\n"
        return self.parsed().serialize(format=RESULT_FORMATS[fmt][0])


def run(
    store: ox.Store,
    text: str,
    *,
    substitutions: dict[str, Any] | None = None,
    timeout: float | None = 10.0,
    limit: int | None = 10_000,
    allow_update: bool = False,
    allow_service: bool = False,
    union: bool = True,
    default_graph: list[ox.NamedNode] | None = None,
    named_graphs: list[ox.NamedNode] | None = None,
) -> Outcome:
    """Run a query (or, if allowed, an update) and return its results, cut to ``limit``.

    Raises InputError for refused or malformed requests, QueryTimeout at the deadline.
    """
    check_read_only(text, allow_service=allow_service, allow_update=allow_update)
    if limit is not None and limit < 0:
        raise InputError("the row limit must be 0 or more")
    job = _Job(store, text, substitutions or {}, limit, bool(update_keyword(text)), union, default_graph, named_graphs)
    if not timeout or timeout <= 0:
        return decode(*_guarded(job))
    if hasattr(os, "fork"):
        return decode(*_in_child(job, timeout))
    return decode(*_in_thread(job, timeout))


@dataclass
class _Job:
    store: ox.Store
    text: str
    substitutions: dict[str, Any]
    limit: int | None
    update: bool
    union: bool
    default_graph: list[ox.NamedNode] | None
    named_graphs: list[ox.NamedNode] | None

    def execute(self) -> tuple[dict[str, Any], bytes]:
        if self.update:
            before = len(self.store)
            self.store.update(self.text)
            after = len(self.store)
            message = f"update applied to the in-memory copy only ({before} -> {after} quads); nothing was written to disk"
            return {"kind": "update", "message": message}, b""
        kwargs: dict[str, Any] = {}
        if self.default_graph:
            kwargs["default_graph"] = self.default_graph
        else:
            kwargs["use_default_graph_as_union"] = self.union
        if self.named_graphs:
            kwargs["named_graphs"] = self.named_graphs
        subs = {ox.Variable(k): v for k, v in self.substitutions.items()}
        result = self.store.query(self.text, substitutions=subs or None, **kwargs)
        if isinstance(result, ox.QueryBoolean):
            return {"kind": "boolean"}, json.dumps({"head": {}, "boolean": bool(result)}).encode()
        if isinstance(result, ox.QuerySolutions):
            return solutions_payload(result, self.limit)
        return triples_payload(result, self.limit)


def solutions_payload(result: Any, limit: int | None) -> tuple[dict[str, Any], bytes]:
    """SELECT results (any iterable of QuerySolution with ``variables``) as SPARQL JSON, cut to ``limit``."""
    names = [v.value for v in result.variables]
    rows, truncated = [], False
    for solution in result:
        if limit is not None and len(rows) >= limit:
            truncated = True
            break
        rows.append({n: _term_json(solution[n]) for n in names if solution[n] is not None})
    body = {"head": {"vars": names}, "results": {"bindings": rows}}
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return {"kind": "solutions", "rows": len(rows), "truncated": truncated}, payload


def triples_payload(triples: Any, limit: int | None) -> tuple[dict[str, Any], bytes]:
    """CONSTRUCT / DESCRIBE results as N-Triples, cut to ``limit``."""
    kept, truncated = [], False
    for triple in triples:
        if limit is not None and len(kept) >= limit:
            truncated = True
            break
        kept.append(triple)
    payload = ox.serialize(kept, format=ox.RdfFormat.N_TRIPLES) or b""
    return {"kind": "graph", "rows": len(kept), "truncated": truncated}, payload


def _term_json(term: Any) -> dict[str, Any]:
    """One RDF term in the SPARQL 1.1 JSON results form."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):  # RDF-star / RDF 1.2 quoted triples
        return {
            "type": "triple",
            "value": {k: _term_json(getattr(term, k)) for k in ("subject", "predicate", "object")},
        }
    return {"type": "literal", "value": str(term)}


def _guarded(job: _Job) -> tuple[dict[str, Any], bytes]:
    """Run the job; turn pyoxigraph's errors into a header the parent understands."""
    try:
        return job.execute()
    except SyntaxError as exc:
        return {"error": "syntax", "message": short_syntax_message(exc)}, b""
    except (RuntimeError, ValueError, OSError, TypeError) as exc:
        return {"error": "query", "message": " ".join(str(exc).split())[:500]}, b""


def short_syntax_message(exc: SyntaxError) -> str:
    """The parser's message without its list of every acceptable token."""
    text = " ".join(str(exc).split())
    head, sep, _ = text.partition(": expected one of")
    if sep:
        return f"{head}: unexpected token or end of query"
    return text if len(text) <= 200 else text[:197] + "..."


def decode(header: dict[str, Any], payload: bytes) -> Outcome:
    if header.get("error") == "syntax":
        raise InputError(f"bad SPARQL: {header['message']}")
    if header.get("error") == "timeout":
        raise QueryTimeout(header["message"])
    if header.get("error"):
        raise InputError(f"query failed: {header['message']}")
    return Outcome(header["kind"], payload, header.get("rows", 0), header.get("truncated", False), header.get("message", ""))


# -- the deadline ------------------------------------------------------------------

_children: set[int] = set()  # live query processes, so a server can stop them on exit
_children_lock = threading.Lock()


def kill_children() -> None:
    """Stop every query process this process started (a server calls this on shutdown)."""
    with _children_lock:
        pids = list(_children)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _in_child(job: _Job, timeout: float) -> tuple[dict[str, Any], bytes]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, write, leave without running any of the parent's cleanup
        code = 0
        try:
            os.close(read_fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            header, payload = _guarded(job)
            head = json.dumps(header).encode()
            data = memoryview(struct.pack("!I", len(head)) + head + payload)
            while data:
                written = os.write(write_fd, data)
                data = data[written:]
            # Close before exiting: tearing down a big address space takes a while, and the
            # parent need not wait for it to read the answer.
            os.close(write_fd)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    with _children_lock:
        _children.add(pid)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            _kill(pid)
            _reap(pid)
        elif not _reaped_now(pid):
            threading.Thread(target=_reap, args=(pid,), daemon=True, name="rnnref-reap").start()
    if timed_out:
        return {"error": "timeout", "message": _timeout_message(timeout)}, b""
    data = b"".join(chunks)
    if len(data) < 4:
        return {"error": "query", "message": "the query process ended without an answer (out of memory?)"}, b""
    (size,) = struct.unpack("!I", data[:4])
    return json.loads(data[4 : 4 + size]), data[4 + size :]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reaped_now(pid: int) -> bool:
    """Reap the child if it has exited already; otherwise leave it to a reaper thread."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done = pid
    if done:
        with _children_lock:
            _children.discard(pid)
    return bool(done)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    with _children_lock:
        _children.discard(pid)


def _in_thread(job: _Job, timeout: float) -> tuple[dict[str, Any], bytes]:
    box: list[tuple[dict[str, Any], bytes]] = []
    worker = threading.Thread(target=lambda: box.append(_guarded(job)), daemon=True, name="rnnref-query")
    worker.start()
    worker.join(timeout)
    if not box:
        return {"error": "timeout", "message": _timeout_message(timeout)}, b""
    return box[0]


def _timeout_message(timeout: float) -> str:
    return f"the query ran longer than {timeout:g} s and was stopped; narrow it or raise --timeout"



# -- a pool of forked workers, for a server -------------------------------------------------


class WorkerPool:
    """Forked query processes that live across requests, for ``rnnref serve``.

    Forking per query costs little for a small graph, but the page tables of a
    process holding a million triples make each fork (and its copy-on-write faults)
    cost tens to hundreds of milliseconds. So a server forks its workers once, after
    the graph is loaded; each worker answers queries one at a time over a pipe, from
    the store it inherited. At a deadline the worker is killed, which truly stops the
    query, and a fresh one is forked in its place: only a timeout pays for a fork.
    A request waits up to its timeout for an idle worker, then is refused as busy.
    """

    def __init__(self, store: ox.Store, size: int = 2):
        import queue

        self.store = store
        self.size = max(1, size)
        self._idle: "queue.LifoQueue[_Worker]" = queue.LifoQueue()
        self._closed = False
        for _ in range(self.size):
            self._idle.put(_Worker.start(store))

    def run(
        self,
        text: str,
        *,
        substitutions: dict[str, Any] | None = None,
        timeout: float = 10.0,
        limit: int | None = 10_000,
        allow_service: bool = False,
        union: bool = True,
        default_graph: list[ox.NamedNode] | None = None,
        named_graphs: list[ox.NamedNode] | None = None,
    ) -> Outcome:
        import queue

        check_read_only(text, allow_service=allow_service)
        job = _Job(None, text, substitutions or {}, limit, False, union, default_graph, named_graphs)  # type: ignore[arg-type]
        started = time.monotonic()
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise QueryTimeout(f"every query worker stayed busy for {timeout:g} s; try again later") from None
        try:
            header, payload = worker.ask(job, max(0.05, timeout - (time.monotonic() - started)))
        except BaseException as exc:
            # A worker that timed out, died or was interrupted mid-answer is replaced.
            worker.stop()
            if not self._closed:
                worker = _Worker.start(self.store)
            if isinstance(exc, QueryTimeout):
                raise QueryTimeout(_timeout_message(timeout)) from None
            if isinstance(exc, _WorkerDied):
                raise WorkerError(str(exc)) from None
            raise
        finally:
            if not self._closed:
                self._idle.put(worker)
        return decode(header, payload)

    def close(self) -> None:
        import queue

        self._closed = True
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                break
        kill_children()


class _WorkerDied(Exception):
    pass


class WorkerError(RnnrefError):
    """A query process failed without an answer (a server error, not the query's fault)."""

    exit_code = 1


@dataclass
class _Worker:
    pid: int
    to_worker: int  # fd the parent writes requests to
    from_worker: int  # fd the parent reads answers from

    @classmethod
    def start(cls, store: ox.Store) -> "_Worker":
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                # Keep only this worker's two pipe ends: holding another worker's pipes
                # or a client's socket would keep them open after their owner closes them.
                low, high = sorted((req_r, ans_w))
                os.closerange(3, low)
                os.closerange(low + 1, high)
                os.closerange(high + 1, _max_fd())
                # Ctrl-C reaches the whole process group; the server decides when workers stop.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _serve_jobs(store, req_r, ans_w)
            except BaseException:  # noqa: BLE001 - nothing may escape a forked child
                code = 3
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(ans_w)
        with _children_lock:
            _children.add(pid)
        return cls(pid, req_w, ans_r)

    def ask(self, job: _Job, timeout: float) -> tuple[dict[str, Any], bytes]:
        import pickle

        request = pickle.dumps((job.text, job.substitutions, job.limit, job.union, job.default_graph, job.named_graphs))
        try:
            _write_all(self.to_worker, struct.pack("!Q", len(request)) + request)
        except OSError:
            raise _WorkerDied("the query worker is gone") from None
        deadline = time.monotonic() + timeout
        head_size = struct.unpack("!I", self._read(4, deadline))[0]
        header = json.loads(self._read(head_size, deadline))
        payload_size = struct.unpack("!Q", self._read(8, deadline))[0]
        return header, self._read(payload_size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, got = [], 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueryTimeout("the query ran past its deadline and was stopped")
            ready, _, _ = select.select([self.from_worker], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_worker, min(size - got, 1 << 20))
            if not chunk:
                raise _WorkerDied("the query worker ended without an answer (out of memory?)")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        _kill(self.pid)
        _reap(self.pid)


def _max_fd() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return soft if 0 < soft < 1 << 16 else 1 << 16
    except (ImportError, ValueError, OSError):
        return 1024


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _serve_jobs(store: ox.Store, requests: int, answers: int) -> None:
    """A worker's loop: one request in, one answer out, until the server closes the pipe."""
    import pickle

    while True:
        size = _read_exactly(requests, 8)
        if size is None:
            return
        body = _read_exactly(requests, struct.unpack("!Q", size)[0])
        if body is None:
            return
        text, subs, limit, union, default_graph, named_graphs = pickle.loads(body)
        header, payload = _guarded(_Job(store, text, subs, limit, False, union, default_graph, named_graphs))
        head = json.dumps(header).encode()
        _write_all(answers, struct.pack("!I", len(head)) + head + struct.pack("!Q", len(payload)) + payload)
