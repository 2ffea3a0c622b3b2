"""Typer options shared by the command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

RootOption = Annotated[
    Optional[Path],
    typer.Option(
        "--root",
        help="Project tree to read (with ontology/ and kg/); default: $RNNREF_ROOT or the installed tree.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
