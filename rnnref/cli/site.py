"""``rnnref site build``: the documentation site, generated from the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.output import open_graph, print_json

app = typer.Typer(help="Build or preview the documentation site.", no_args_is_help=True)


@app.command("build")
def build(
    out: Annotated[Path, typer.Option("--out", help="Output directory for the static site.")] = Path("build/site"),
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """Generate one page per term and build the site in strict mode."""
    from rnnref.site.build import build_site

    report = build_site(open_graph(root), out)
    if json_out:
        print_json({"out": str(out), "pages": report.pages, "seconds": round(report.seconds, 3)})
    else:
        print(f"built {report.pages} pages into {out} in {report.seconds:.1f} s")


@app.command("serve")
def serve(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.", min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open the site in a browser.")] = False,
    root: RootOption = None,
) -> None:
    """Preview the site with live reload; pages are regenerated when the graph changes."""
    from rnnref.site.serve import serve_site

    serve_site(root, host=host, port=port, open_browser=open_browser)
