"""Output helpers shared by the commands; no typer, so the fast path can use them.

Heavy imports (rich) happen inside the functions that need them.
"""

from __future__ import annotations

import json
import sys
from typing import Any


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
