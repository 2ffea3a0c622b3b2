"""What every demo module shares: the `Demo` record and seeding helpers.

Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Demo:
    """What a demo ran and what came out."""

    title: str  #: heading, e.g. "Elman network: delayed recall"
    task: str  #: the task in one or two sentences
    columns: list[str]  #: table header
    rows: list[list[Any]] = field(default_factory=list)  #: table body, one list per row, numbers unrounded
    summary: str = ""  #: one or two sentences drawn from the numbers in ``rows``


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch for the block without disturbing the caller's RNG; one thread."""
    import torch

    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def generator(seed: int):
    """The data generator of a demo: seeded apart from the weight initialisation."""
    import torch

    return torch.Generator().manual_seed(10_000 + seed)
