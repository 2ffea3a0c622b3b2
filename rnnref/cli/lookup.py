"""``rnnref lookup TERM``: one term's card, or its JSON record."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.views import lookup_view


def lookup(
    term: Annotated[str, typer.Argument(help="A term's id, label or alternative label (any case).")],
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """Look a term up by id, label or alternative label."""
    lookup_view(term, json_out, root)
