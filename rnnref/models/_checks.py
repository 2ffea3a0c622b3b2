"""Opt-in checks for NaN and Inf in what the models read and return.

Off by default, at zero cost: nothing is registered and no model code runs a check.
Where the user asks for it (``rnnref run TERM --check-finite``, or a ``with
checking():`` block in their own code), every ``torch.nn.Module`` call inside the
block has its tensor inputs checked before ``forward`` runs and its tensor outputs
after, through torch's global module hooks, so the model files need no changes. The
first non-finite value raises ``NonFiniteError`` (a ``ValueError``) naming the module,
the argument, the kind of value and its index::

    with checking():
        model(x)   # ValueError: LSTM input 0 contains NaN at index (0, 3, 1) (...)

``check_finite(tensor, name)`` is the same check for one tensor, for explicit use.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["NonFiniteError", "check_finite", "check_tree", "checking", "is_checking"]


class NonFiniteError(ValueError):
    """A tensor holds NaN or Inf where finite values were required."""


def check_finite(tensor: Any, name: str = "tensor") -> Any:
    """Return ``tensor`` unchanged if every value is finite; raise NonFiniteError naming
    ``name``, the first bad value's kind (NaN, +Inf, -Inf) and index otherwise.
    Non-tensors and integer tensors are returned as they are."""
    import torch

    if not isinstance(tensor, torch.Tensor) or not (tensor.is_floating_point() or tensor.is_complex()):
        return tensor
    finite = torch.isfinite(tensor.detach())
    if bool(finite.all()):
        return tensor
    bad = ~finite
    index = tuple(int(i) for i in bad.nonzero()[0].tolist()) if tensor.dim() else ()
    value = tensor.detach()[index] if index else tensor.detach()
    value = complex(value.item()) if tensor.is_complex() else float(value.item())
    if isinstance(value, complex):
        kind = "NaN" if math.isnan(value.real) or math.isnan(value.imag) else "Inf"
    else:
        kind = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    where = f" at index {index}" if index else ""
    raise NonFiniteError(
        f"{name} contains {kind}{where} ({int(bad.sum())} non-finite of {tensor.numel()} values, "
        f"shape {tuple(tensor.shape)})"
    )


def check_tree(value: Any, name: str) -> None:
    """``check_finite`` on every tensor inside tuples, lists and dicts (e.g. ``(h, c)``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_tree(item, f"{name}[{key!r}]")
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            check_tree(item, f"{name}[{i}]" if len(value) > 1 or not name.endswith("input") else name)
    else:
        check_finite(value, name)


_lock = threading.Lock()
_depth = 0
_handles: list[Any] = []


def _pre_hook(module, args) -> None:
    for i, arg in enumerate(args):
        check_tree(arg, f"{type(module).__name__} input {i}")


def _post_hook(module, args, output) -> None:
    check_tree(output, f"{type(module).__name__} output")


def is_checking() -> bool:
    """Whether a ``checking()`` block is active."""
    return _depth > 0


@contextmanager
def checking(enabled: bool = True) -> Iterator[None]:
    """Check every module's tensor inputs and outputs for NaN/Inf inside the block.

    ``enabled=False`` makes the block a no-op (handy for a command-line flag). Blocks
    nest; the hooks are removed when the outermost one ends.
    """
    global _depth
    if not enabled:
        yield
        return
    from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

    with _lock:
        if _depth == 0:
            _handles[:] = [register_module_forward_pre_hook(_pre_hook), register_module_forward_hook(_post_hook)]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for handle in _handles:
                    handle.remove()
                _handles.clear()
