"""The typer application: one command per file, composed here."""

from __future__ import annotations

import os

import typer

from rnnref.cli import bench, export, logseq, lookup, query, run, serve, site, stats, terms, validate
from rnnref.cli.common import RootOption
from rnnref.graph.paths import ROOT_ENV

app = typer.Typer(
    name="rnnref",
    help="A reference for recurrent neural networks: look up terms, query the graph, validate, run models, build the site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _global_options(root: RootOption = None) -> None:
    """A reference for recurrent neural networks: look up terms, query the graph, validate, run models, build the site."""
    # `rnnref --root DIR CMD` and `rnnref CMD --root DIR` both work; the latter wins.
    if root is not None:
        os.environ[ROOT_ENV] = str(root)


app.command("lookup")(lookup.lookup)
app.command("terms")(terms.terms)
app.command("query")(query.query)
app.command("validate")(validate.validate)
app.command("run")(run.run)
app.command("stats")(stats.stats)
app.command("bench")(bench.bench)
app.add_typer(site.app, name="site")
app.add_typer(export.export_app, name="export")
export.export_app.command("logseq")(logseq.export_logseq)
app.add_typer(logseq.import_app, name="import")
app.command("serve")(serve.serve)
