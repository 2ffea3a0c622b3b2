"""``rnnref terms``: every term, with its implementation."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rnnref.cli.common import JsonOption, RootOption
from rnnref.cli.views import terms_view


def terms(
    type_name: Annotated[
        Optional[str],
        typer.Option("--type", help="Only terms under this top class: architecture, training-method, loss-function, problem, property, component."),
    ] = None,
    json_out: JsonOption = False,
    root: RootOption = None,
) -> None:
    """List every term (optionally of one type)."""
    terms_view(type_name, json_out, root)
