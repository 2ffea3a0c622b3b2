"""``rnnref query``: SPARQL over the graph, read-only."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnref.cli.common import RootOption
from rnnref.cli.output import console, open_graph
from rnnref.errors import InputError, NotFoundError


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def query(
    sparql: Annotated[Optional[str], typer.Argument(help="SPARQL query text (or use --file / --name).", show_default=False)] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the query from this file.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Run the named query ontology/queries/NAME.rq.")] = None,
    param: Annotated[
        Optional[list[str]],
        typer.Option("--param", "-p", help="Bind a variable: key=value (value <...> for an IRI). Repeatable."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format; json is SPARQL 1.1 JSON results.")] = Format.table,
    root: RootOption = None,
) -> None:
    """Run a read-only SPARQL query over the graph."""
    import pyoxigraph as ox

    from rnnref.graph import queries as q
    from rnnref.graph.readonly import check_read_only

    sources = [s for s in (sparql, file, name) if s is not None]
    if len(sources) != 1:
        raise InputError("give exactly one of: a query, --file F, --name N")
    kg = open_graph(root)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(f"query file not found: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read query file {file}: {exc}") from None
    elif name is not None:
        text = q.read_named_query(kg.root, name)
    else:
        text = sparql
    check_read_only(text)
    bindings = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param needs key=value, got {item!r}")
        bindings[key.lstrip("?$")] = ox.NamedNode(value[1:-1]) if value.startswith("<") and value.endswith(">") else ox.Literal(value)
    try:
        result = kg.store.query(
            text,
            substitutions={ox.Variable(k): v for k, v in bindings.items()} or None,
            use_default_graph_as_union=True,
        )
    except SyntaxError as exc:
        raise InputError(f"bad SPARQL: {_short_syntax_message(exc)}") from None
    except (RuntimeError, ValueError, OSError) as exc:
        raise InputError(f"query failed: {' '.join(str(exc).split())}") from None
    _print(result, fmt)


def _short_syntax_message(exc: SyntaxError) -> str:
    """The parser's message without its list of every acceptable token."""
    text = " ".join(str(exc).split())
    head, sep, _ = text.partition(": expected one of")
    if sep:
        return f"{head}: unexpected token or end of query"
    return text if len(text) <= 200 else text[:197] + "..."


def _print(result, fmt: Format) -> None:
    import pyoxigraph as ox

    from rnnref.graph.queries import to_python

    if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
        if fmt is Format.json:
            sys.stdout.buffer.write(result.serialize(format=ox.QueryResultsFormat.JSON) + b"\n")
            return
        if fmt is Format.csv:
            sys.stdout.buffer.write(result.serialize(format=ox.QueryResultsFormat.CSV))
            return
        if isinstance(result, ox.QueryBoolean):
            print("true" if bool(result) else "false")
            return
        from rich.markup import escape
        from rich.table import Table

        names = [v.value for v in result.variables]
        table = Table()
        for n in names:
            table.add_column(n)
        count = 0
        for sol in result:
            count += 1
            table.add_row(*(escape("" if sol[n] is None else str(to_python(sol[n]))) for n in names))
        out = console()
        out.print(table)
        out.print(f"{count} row{'s' if count != 1 else ''}")
        return
    # CONSTRUCT / DESCRIBE: the triples as N-Triples, whatever the format.
    sys.stdout.buffer.write(ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b"")
