"""``rnnref query``: SPARQL over the graph (or any SPARQL endpoint), read-only by default.

Local queries run with a deadline (``--timeout``, default 10 s) in a forked process
that is killed when the deadline passes (see ``rnnref.graph.runner``), and print at
most ``--limit`` rows (default 10 000; a note on stderr says when rows were cut).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnref.cli.common import RootOption
from rnnref.cli.output import console, open_graph
from rnnref.errors import InputError, NotFoundError

DEFAULT_TIMEOUT = 10.0
DEFAULT_LIMIT = 10_000


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    xml = "xml"


def query(
    sparql: Annotated[Optional[str], typer.Argument(help="SPARQL query text (or use --file / --name).", show_default=False)] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the query from this file.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Run the named query ontology/queries/NAME.rq (see --list).")] = None,
    param: Annotated[
        Optional[list[str]],
        typer.Option(
            "--param",
            "-p",
            help="Bind a variable: key=value. IRIs as <...>, prefix:local or a slug; typed per the query's header. Repeatable.",
        ),
    ] = None,
    list_queries: Annotated[bool, typer.Option("--list", help="List the named queries and the questions they answer.")] = False,
    fmt: Annotated[
        Format, typer.Option("--format", help="Output: a table, or SPARQL 1.1 results as json, csv, tsv or xml (CONSTRUCT prints N-Triples).")
    ] = Format.table,
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    endpoint: Annotated[
        Optional[str], typer.Option("--endpoint", help="Send the query to this SPARQL 1.1 endpoint URL instead of the local graph.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Stop the query after this many seconds (0: no limit).", min=0)] = DEFAULT_TIMEOUT,
    limit: Annotated[int, typer.Option("--limit", help="Print at most this many rows (0: no limit).", min=0)] = DEFAULT_LIMIT,
    allow_update: Annotated[
        bool, typer.Option("--allow-update", help="Run SPARQL Update on an in-memory copy (never written to disk).")
    ] = False,
    allow_service: Annotated[bool, typer.Option("--allow-service", help="Allow SERVICE (federated queries to other endpoints).")] = False,
    root: RootOption = None,
) -> None:
    """Run a read-only SPARQL query over the graph, or a named query with bound values."""
    from rnnref.graph import catalogue

    if json_out:
        fmt = Format.json
    if list_queries:
        if sparql is not None or file is not None or name is not None:
            raise InputError("--list takes no query")
        _list(root, fmt is Format.json)
        return
    sources = [s for s in (sparql, file, name) if s is not None]
    if len(sources) != 1:
        raise InputError("give exactly one of: a query, --file F, --name N (or --list)")
    raw = _raw_params(param or [])
    named = None
    if file is not None:
        text = _read_file(file)
    elif name is not None:
        named = catalogue.load(_root(root), name)
        text = named.text
    else:
        text = sparql or ""
    row_limit = limit or None
    if endpoint is not None:
        from rnnref.graph.remote import query_endpoint

        if allow_update:
            raise InputError("--allow-update works on the local in-memory graph only, not with --endpoint")
        if raw or (named is not None and any(p.required or p.default for p in named.parameters)):
            raise InputError(
                "--param binds values through local substitutions, which the SPARQL protocol has no way to send; "
                "write the values into the query for --endpoint"
            )
        outcome = query_endpoint(endpoint, text, timeout=timeout or None, limit=row_limit, allow_service=allow_service)
    else:
        from rnnref.graph import runner
        from rnnref.graph.readonly import check_read_only

        # Refuse before loading the graph: the answer does not depend on it.
        check_read_only(text, allow_service=allow_service, allow_update=allow_update)
        kg = open_graph(root)
        binder = catalogue.Binder(kg.store, kg.resolve)
        substitutions = binder.bind(named, text, raw)
        for note in binder.notes:
            sys.stderr.write(f"rnnref: note: {note}\n")
        outcome = runner.run(
            kg.store,
            text,
            substitutions=substitutions,
            timeout=timeout or None,
            limit=row_limit,
            allow_update=allow_update,
            allow_service=allow_service,
        )
    _print(outcome, fmt)
    if outcome.truncated:
        sys.stderr.write(
            f"rnnref: note: output cut to the first {outcome.rows} {'triples' if outcome.kind == 'graph' else 'rows'}"
            f" (--limit {limit}); more exist\n"
        )


def _root(root: Path | None) -> Path:
    from rnnref.graph.paths import project_root

    return project_root(root)


def _read_file(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"query file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read query file {file}: {exc}") from None


def _raw_params(items: list[str]) -> dict[str, str]:
    raw: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().lstrip("?$")
        if not sep or not key:
            raise InputError(f"--param needs key=value, got {item!r}")
        if key in raw:
            raise InputError(f"--param {key} is given twice")
        raw[key] = value
    return raw


def _list(root: Path | None, as_json: bool) -> None:
    from rnnref.graph import catalogue

    queries = catalogue.catalogue(_root(root))
    if as_json:
        from rnnref.cli.output import print_json

        print_json([q.as_dict() for q in queries])
        return
    lines = []
    for q in queries:
        lines.append(q.name)
        lines.append(f"    {q.question}")
        params = []
        for p in q.parameters:
            flag = "required" if p.required else (f"default {p.default}" if p.default else "optional")
            params.append(f"--param {p.name}={p.kind.upper()} ({flag})")
        if params:
            lines.append("    " + "  ".join(params))
    lines.append("")
    lines.append(f"{len(queries)} named queries in ontology/queries/; run one with: rnnref query --name NAME [--param key=value ...]")
    sys.stdout.write("\n".join(lines) + "\n")


def _print(outcome, fmt: Format) -> None:
    if outcome.kind == "update":
        sys.stderr.write(f"rnnref: {outcome.message}\n")
        return
    if outcome.kind == "graph":
        # CONSTRUCT / DESCRIBE: the triples as N-Triples, whatever the format.
        sys.stdout.buffer.write(outcome.payload)
        return
    if fmt is not Format.table:
        data = outcome.render(fmt.value)
        sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
        return
    results = outcome.parsed()
    if outcome.kind == "boolean":
        print("true" if bool(results) else "false")
        return
    from rich.markup import escape
    from rich.table import Table

    names = [v.value for v in results.variables]
    table = Table()
    for n in names:
        table.add_column(n)
    count = 0
    for sol in results:
        count += 1
        table.add_row(*(escape(_cell(sol[n])) for n in names))
    out = console()
    out.print(table)
    out.print(f"{count} row{'s' if count != 1 else ''}")


def _cell(term) -> str:
    """A table cell: IRIs under a known namespace as prefix:local, literals as plain values."""
    import pyoxigraph as ox

    from rnnref.graph.catalogue import PREFIXES
    from rnnref.graph.queries import to_python

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            local = term.value[len(ns) :]
            if term.value.startswith(ns) and local and all(c.isalnum() or c in "-_." for c in local):
                return f"{prefix}:{local}"
    return str(to_python(term))
