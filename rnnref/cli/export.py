"""``rnnref export``: the whole graph as one RDF file, or its VoID description.

``export`` is a command group: with no subcommand, its own options export the graph
(``rnnref export --format nq --out build/rnnref.nq``); subcommands export other views
(``export_app.command("logseq")`` and the like register on ``export_app``).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnref.cli.common import RootOption
from rnnref.cli.output import open_graph

export_app = typer.Typer(
    name="export",
    help="Export the graph: the whole graph in a standard RDF format (default), or another view (subcommands).",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
)


class ExportFormat(str, Enum):
    ttl = "ttl"
    nt = "nt"
    nq = "nq"
    trig = "trig"
    jsonld = "jsonld"
    xml = "xml"
    void = "void"


@export_app.callback(invoke_without_command=True)
def export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="ttl, nt, xml (RDF/XML) and jsonld hold each triple once; nq and trig keep each file's named graph; "
            "void is the VoID description of the dataset (Turtle).",
        ),
    ] = ExportFormat.ttl,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Write to this file (atomically; folders are created). Default: stdout.")
    ] = None,
    endpoint_url: Annotated[
        Optional[str], typer.Option("--endpoint-url", help="For --format void: the SPARQL endpoint URL to advertise.")
    ] = None,
    root: RootOption = None,
) -> None:
    """Export the whole graph in a standard RDF format, or its VoID description."""
    if ctx.invoked_subcommand is not None:
        return
    from rnnref.errors import InputError
    from rnnref.atomic import atomic_write
    from rnnref.graph.export import FORMATS, serialize

    if endpoint_url is not None and fmt is not ExportFormat.void:
        raise InputError("--endpoint-url goes with --format void")
    kg = open_graph(root)
    if fmt is ExportFormat.void:
        from rnnref.graph.void import void_turtle

        data = void_turtle(kg.store, kg.root, endpoint_url)
        what = "VoID description"
    else:
        data = serialize(kg.store, fmt.value)
        keeps = FORMATS[fmt.value][1]
        what = f"{len(kg.store)} quads in their named graphs" if keeps else "the union graph"
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    atomic_write(out, data)
    print(f"wrote {out} ({fmt.value}, {what}, {len(data)} bytes)")
