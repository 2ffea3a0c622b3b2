"""``rnnref serve``: a read-only SPARQL 1.1 endpoint over the graph, at http://HOST:PORT/query."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from rnnref.cli.common import RootOption
from rnnref.cli.output import open_graph
from rnnref.cli.query import DEFAULT_LIMIT, DEFAULT_TIMEOUT

DEFAULT_PORT = 7878  # the Oxigraph server's default, so clients' examples carry over


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; anything but loopback exposes the graph to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).", min=0, max=65535)] = DEFAULT_PORT,
    timeout: Annotated[float, typer.Option("--timeout", help="Stop each query after this many seconds (0: no limit).", min=0)] = DEFAULT_TIMEOUT,
    limit: Annotated[int, typer.Option("--limit", help="Answer at most this many rows per query (0: no limit).", min=0)] = DEFAULT_LIMIT,
    allow_service: Annotated[bool, typer.Option("--allow-service", help="Let queries use SERVICE (federation to other endpoints).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request on stderr.")] = False,
    root: RootOption = None,
) -> None:
    """Serve the graph as a read-only SPARQL 1.1 endpoint until Ctrl-C."""
    from rnnref.graph.endpoint import is_loopback, make_server

    kg = open_graph(root)
    kg.index  # build the term index now, not inside the first request's thread
    server = make_server(
        kg.store, kg.root, host, port, timeout=timeout, limit=limit or None, allow_service=allow_service, quiet=quiet,
        resolve_term=kg.resolve,
    )
    if not is_loopback(host):
        sys.stderr.write(
            f"rnnref: warning: listening on {host}, not loopback: anyone who can reach this machine can query the graph\n"
        )
    # SIGTERM (a service manager, a test harness) stops the server like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"rnnref: serving {len(kg.store)} quads read-only at {server.url}/query (VoID at {server.url}/void); Ctrl-C to stop", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.stderr.write("rnnref: server stopped\n")


def _interrupt(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt
