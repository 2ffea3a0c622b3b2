"""Small runnable demonstrations, one per runnable term (`rnnref run TERM`).

Each module in this package (other than those starting with ``_``) defines a
``DEMOS`` dict mapping term slugs to functions ``seed -> Demo``; they are collected
here on first use, so adding a module is all it takes to register new demos.
`run_demo(slug, seed)` runs one. Importing this package does not import torch;
running a demo does.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from rnnref.demos._common import Demo

__all__ = ["Demo", "all_demos", "run_demo"]

_REGISTRY: dict[str, Callable[[int], Demo]] | None = None


def all_demos() -> dict[str, Callable[[int], Demo]]:
    """Every registered demo, slug -> function; a slug defined twice is an error."""
    global _REGISTRY
    if _REGISTRY is None:
        registry: dict[str, Callable[[int], Demo]] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for slug, fn in getattr(module, "DEMOS", {}).items():
                if slug in registry:
                    raise RuntimeError(f"demo {slug!r} is defined twice (second in {module.__name__})")
                registry[slug] = fn
        _REGISTRY = registry
    return _REGISTRY


def run_demo(slug: str, seed: int = 0) -> Demo:
    """Run the demo of term ``slug`` with ``seed``; KeyError naming the known slugs if there is none."""
    demos = all_demos()
    if slug not in demos:
        raise KeyError(f"no demo for {slug!r}; known demos: {', '.join(sorted(demos))}")
    return demos[slug](seed)
