"""Where the project tree (ontology/ and kg/) is.

Precedence: an explicit root (``--root``), then ``RNNREF_ROOT``, then the tree this
package was installed from (an editable install), then the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnref.errors import InputError

ROOT_ENV = "RNNREF_ROOT"


def is_project_root(path: Path) -> bool:
    return (path / "ontology").is_dir() and (path / "kg").is_dir()


def project_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the project tree to read, or raise InputError naming what was tried."""
    if root is None:
        root = os.environ.get(ROOT_ENV) or None
    if root is not None:
        path = Path(root).expanduser().resolve()
        if not is_project_root(path):
            raise InputError(f"{path} is not an rnnref tree: it needs ontology/ and kg/ folders")
        return path
    installed = Path(__file__).resolve().parents[2]
    if is_project_root(installed):
        return installed
    cwd = Path.cwd()
    if is_project_root(cwd):
        return cwd
    raise InputError(
        f"no rnnref tree found (tried {installed} and {cwd}); pass --root DIR or set {ROOT_ENV}"
    )


SHAPES_FILE = Path("ontology") / "shapes.ttl"


def graph_files(root: Path) -> list[Path]:
    """Every Turtle file of the graph, schema first, in a stable order.

    The SHACL shapes are not part of the graph: they describe it, and are read by
    validation only.
    """
    files = sorted((root / "ontology").rglob("*.ttl")) + sorted((root / "kg").rglob("*.ttl"))
    return [
        f
        for f in files
        if f.relative_to(root) != SHAPES_FILE
        and not any(part.startswith(".") for part in f.relative_to(root).parts)
    ]
