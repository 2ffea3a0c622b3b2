"""Hand-written backpropagation equals torch.autograd on MLPs; and it trains XOR."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnref.training.backpropagation as bp_module
from rnnref.training.backpropagation import TERM_IRI, backprop_gradients

F64 = torch.float64


def _mlp(seed: int, widths: list[int], batch: int, scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    weights = [scale * torch.randn(n_out, n_in, generator=g, dtype=F64) / n_in**0.5 for n_in, n_out in zip(widths, widths[1:])]
    biases = [0.1 * torch.randn(n_out, generator=g, dtype=F64) for n_out in widths[1:]]
    x = torch.randn(batch, widths[0], generator=g, dtype=F64)
    target = torch.randn(batch, widths[-1], generator=g, dtype=F64)
    return weights, biases, x, target


def _autograd(weights, biases, x, target, activation):
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    leaves_W = [W.clone().requires_grad_() for W in weights]
    leaves_b = [b.clone().requires_grad_() for b in biases]
    x = x.clone().requires_grad_()
    a = x
    for l, (W, b) in enumerate(zip(leaves_W, leaves_b)):
        z = torch.nn.functional.linear(a, W, b)
        a = f(z) if l < len(leaves_W) - 1 else z
    loss = 0.5 * ((a - target) ** 2).sum()
    grads = torch.autograd.grad(loss, [*leaves_W, *leaves_b, x])
    L = len(weights)
    return loss.detach(), list(grads[:L]), list(grads[L : 2 * L]), grads[-1]


def _check(weights, biases, x, target, activation):
    loss, grads = backprop_gradients(weights, biases, x, target, activation)
    loss_ref, gW, gb, gx = _autograd(weights, biases, x, target, activation)
    torch.testing.assert_close(loss, loss_ref, atol=1e-11, rtol=1e-12)
    for l in range(len(weights)):
        torch.testing.assert_close(grads["weights"][l], gW[l], atol=1e-11, rtol=1e-12, msg=f"W{l + 1}")
        torch.testing.assert_close(grads["biases"][l], gb[l], atol=1e-11, rtol=1e-12, msg=f"b{l + 1}")
    torch.testing.assert_close(grads["x"], gx, atol=1e-11, rtol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("widths", [[3, 1], [2, 4, 1], [5, 8, 6, 3], [4, 3, 3, 3, 3, 2]])
def test_equals_autograd(widths: list[int], activation: str) -> None:
    _check(*_mlp(len(widths), widths, batch=7), activation)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    widths=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    batch=st.integers(1, 5),
    scale=st.floats(0.1, 4.0),
    activation=st.sampled_from(["tanh", "sigmoid", "relu"]),
)
def test_equals_autograd_property(seed, widths, batch, scale, activation) -> None:
    _check(*_mlp(seed, widths, batch, scale), activation)


def test_does_not_use_autograd() -> None:
    weights, biases, x, target = _mlp(0, [3, 4, 2], 5)
    weights = [W.requires_grad_() for W in weights]
    loss, grads = backprop_gradients(weights, biases, x, target)
    assert loss.grad_fn is None and all(g.grad_fn is None for g in grads["weights"])
    source = inspect.getsource(bp_module)
    assert ".backward(" not in source and "autograd.grad" not in source


def test_trains_xor_by_gradient_descent() -> None:
    """A 2-4-1 tanh network trained with its own hand-computed gradients solves XOR within 2000 steps."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=F64)
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=F64)
    weights, biases, _, _ = _mlp(3, [2, 4, 1], 1, scale=2.0)
    first = None
    for step in range(2000):
        loss, grads = backprop_gradients(weights, biases, x, y)
        first = loss.item() if first is None else first
        weights = [W - 0.1 * g for W, g in zip(weights, grads["weights"])]
        biases = [b - 0.1 * g for b, g in zip(biases, grads["biases"])]
    output = torch.tanh(x @ weights[0].T + biases[0]) @ weights[1].T + biases[1]
    assert loss.item() < 1e-3 * first
    assert ((output > 0.5).to(F64) == y).all()


@pytest.mark.parametrize(
    "args,match",
    [
        (dict(activation="gelu"), "activation"),
        (dict(biases=[]), "biases"),
        (dict(x=torch.zeros(3, dtype=F64)), "x must be"),
        (dict(target=torch.zeros(5, 3, dtype=F64)), "target"),
    ],
)
def test_bad_arguments(args: dict, match: str) -> None:
    weights, biases, x, target = _mlp(0, [3, 4, 2], 5)
    kwargs = {**dict(weights=weights, biases=biases, x=x, target=target), **args}
    with pytest.raises(ValueError, match=match):
        backprop_gradients(**kwargs)


def test_mismatched_layer_shapes() -> None:
    weights, biases, x, target = _mlp(0, [3, 4, 2], 5)
    weights[1] = weights[1][:, :3]
    with pytest.raises(ValueError, match="layer 2"):
        backprop_gradients(weights, biases, x, target)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/backpropagation"
    assert backprop_gradients.term_iri == TERM_IRI
