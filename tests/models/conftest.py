"""Shared checks for the reference networks that have a ``torch.nn`` counterpart.

`match_torch` runs a reference network and its ``torch.nn`` twin (same weights) on
the same input and initial state, and compares outputs, final states and the
gradients of a random weighting of both with respect to every parameter, the
input and the initial state.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

ATOL = 1e-10


def _parts(state) -> list[Tensor]:
    return [state] if isinstance(state, Tensor) else list(state)


def _leaf(t: Tensor) -> Tensor:
    return t.detach().clone().requires_grad_(True)


def _run(module: nn.Module, x: Tensor, hx, lengths):
    """Forward and backward once; everything that should match, by name."""
    x = _leaf(x)
    hx_leaves = None if hx is None else [_leaf(t) for t in _parts(hx)]
    hx_in = None if hx is None else (hx_leaves[0] if isinstance(hx, Tensor) else tuple(hx_leaves))
    if lengths is not None:
        input = pack_padded_sequence(x, lengths, batch_first=module.batch_first, enforce_sorted=False)
    else:
        input = x
    output, h_n = module(input, hx_in)
    results = {}
    if isinstance(output, PackedSequence):
        results["output"] = output.data
        for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            results[name] = getattr(output, name)
    else:
        results["output"] = output
    for i, part in enumerate(_parts(h_n)):
        results[f"h_n[{i}]"] = part
    # A fixed random weighting, so every output element gets its own gradient.
    generator = torch.Generator().manual_seed(1234)
    loss = sum(
        (torch.randn(t.shape, generator=generator, dtype=t.dtype) * t).sum()
        for t in [results["output"], *_parts(h_n)]
    )
    names, params = zip(*module.named_parameters(), strict=True)
    leaves = [x, *(hx_leaves or [])]
    grads = torch.autograd.grad(loss, [*leaves, *params])
    results["grad input"] = grads[0]
    for i in range(len(leaves) - 1):
        results[f"grad hx[{i}]"] = grads[1 + i]
    for name, grad in zip(names, grads[len(leaves) :], strict=True):
        results[f"grad {name}"] = grad
    return results


def match_torch(ours: nn.Module, ref: nn.Module, x: Tensor, hx=None, lengths=None) -> None:
    """Assert ``ours`` and ``ref`` agree on outputs, final states and all gradients."""
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    got = _run(ours, x, hx, lengths)
    expected = _run(ref, x, hx, lengths)
    assert got.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], atol=ATOL, rtol=0, msg=lambda m, key=key: f"{key}: {m}")


@pytest.fixture
def assert_matches_torch():
    """`match_torch`, as a fixture so the three test modules share it."""
    return match_torch
