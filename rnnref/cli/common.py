"""Options and output helpers shared by the command groups.

Heavy imports (rich, torch) happen inside the functions that need them, so the
lookup and query paths stay fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

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


def open_graph(root: Path | None):
    from rnnref.graph import KnowledgeGraph

    return KnowledgeGraph(root)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def console():
    from rich.console import Console

    return Console(highlight=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)
