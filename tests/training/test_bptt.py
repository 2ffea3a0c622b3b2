"""Hand-written BPTT equals torch.autograd on the same Elman network and loss."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnref.training.bptt as bptt_module
from rnnref.training.bptt import TERM_IRI, bptt_gradients

F64 = torch.float64
NAMES = ("W_x", "W_h", "b", "W_y", "b_y", "h0")


def _problem(seed: int, B: int, T: int, I: int, H: int, O: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=F64)

    return {
        "W_x": randn(H, I) * scale / I**0.5,
        "W_h": randn(H, H) * scale / H**0.5,
        "b": randn(H) * 0.1,
        "W_y": randn(O, H) / H**0.5,
        "b_y": randn(O) * 0.1,
        "xs": randn(B, T, I),
        "targets": randn(B, T, O),
        "h0": randn(B, H) * 0.5,
    }


def _autograd(p: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The same network and loss, written with torch.nn.RNN and differentiated by autograd."""
    H, I = p["W_x"].shape
    O = p["W_y"].size(0)
    rnn = torch.nn.RNN(I, H, batch_first=True, dtype=F64)
    readout = torch.nn.Linear(H, O, dtype=F64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(p["W_x"])
        rnn.weight_hh_l0.copy_(p["W_h"])
        rnn.bias_ih_l0.copy_(p["b"])
        rnn.bias_hh_l0.zero_()
        readout.weight.copy_(p["W_y"])
        readout.bias.copy_(p["b_y"])
    h0 = p["h0"].clone().requires_grad_()
    hs, _ = rnn(p["xs"], h0.unsqueeze(0))
    loss = 0.5 * ((readout(hs) - p["targets"]) ** 2).sum()
    leaves = [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, readout.weight, readout.bias, h0]
    return loss, dict(zip(NAMES, torch.autograd.grad(loss, leaves)))


def _check(p: dict[str, torch.Tensor]) -> None:
    loss, grads = bptt_gradients(**p)
    loss_ref, grads_ref = _autograd(p)
    torch.testing.assert_close(loss, loss_ref.detach(), atol=1e-10, rtol=0)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        assert grads[name].shape == p[name].shape
        torch.testing.assert_close(grads[name], grads_ref[name], atol=1e-10, rtol=0, msg=name)


def _own_outputs(p: dict[str, torch.Tensor]) -> torch.Tensor:
    """The network's outputs for p, as targets that it already fits exactly."""
    h, outputs = p["h0"], []
    for t in range(p["xs"].size(1)):
        h = torch.tanh(p["xs"][:, t] @ p["W_x"].T + h @ p["W_h"].T + p["b"])
        outputs.append(h @ p["W_y"].T + p["b_y"])
    return torch.stack(outputs, 1)


@pytest.mark.parametrize(
    "seed,B,T,I,H,O",
    [(0, 3, 8, 4, 5, 2), (1, 1, 1, 1, 1, 1), (2, 5, 20, 3, 7, 4), (3, 2, 50, 2, 16, 3), (4, 4, 6, 8, 3, 5)],
)
def test_equals_autograd(seed: int, B: int, T: int, I: int, H: int, O: int) -> None:
    _check(_problem(seed, B, T, I, H, O))


def test_equals_autograd_with_saturating_weights() -> None:
    """Large weights push tanh into saturation, where 1 - h^2 is tiny; the recursion still matches."""
    _check(_problem(7, 3, 15, 3, 6, 2, scale=4.0))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    B=st.integers(1, 4),
    T=st.integers(1, 12),
    I=st.integers(1, 5),
    H=st.integers(1, 6),
    O=st.integers(1, 4),
    scale=st.floats(0.1, 3.0),
)
def test_equals_autograd_property(seed: int, B: int, T: int, I: int, H: int, O: int, scale: float) -> None:
    _check(_problem(seed, B, T, I, H, O, scale))


def test_does_not_use_autograd() -> None:
    """Inputs that require grad give plain tensors back: nothing was recorded for autograd."""
    p = {k: v.requires_grad_() for k, v in _problem(0, 2, 4, 3, 3, 2).items()}
    loss, grads = bptt_gradients(**p)
    assert loss.grad_fn is None and all(g.grad_fn is None and not g.requires_grad for g in grads.values())
    source = inspect.getsource(bptt_module)
    assert ".backward(" not in source and "autograd.grad" not in source


def test_zero_error_gives_zero_gradients() -> None:
    """If the targets are the network's own outputs, the loss and every gradient are zero."""
    p = _problem(5, 2, 6, 3, 4, 2)
    p["targets"] = _own_outputs(p)
    loss, grads = bptt_gradients(**p)
    assert loss.abs() < 1e-24
    assert all(g.abs().max() < 1e-12 for g in grads.values())


def test_no_truncation() -> None:
    """Full BPTT only: an error at the last step reaches h0 through all T steps.

    Truncated BPTT is a different method with its own module; this one has no
    truncation argument, and with every target matched except the last one, the
    gradient at h0 (T = 12 steps back) is nonzero and equals autograd's.
    """
    assert list(inspect.signature(bptt_gradients).parameters) == [*NAMES[:5], "xs", "targets", "h0"]
    p = _problem(6, 2, 12, 2, 4, 1, scale=1.5)
    p["targets"] = _own_outputs(p)
    p["targets"][:, -1] += 1.0
    loss, grads = bptt_gradients(**p)
    torch.testing.assert_close(loss, torch.tensor(1.0, dtype=F64), atol=1e-12, rtol=0)  # 1/2 * 1^2 * B
    assert grads["h0"].abs().max() > 1e-8
    torch.testing.assert_close(grads["h0"], _autograd(p)[1]["h0"], atol=1e-12, rtol=0)


def test_bad_shapes() -> None:
    p = _problem(0, 2, 3, 4, 5, 2)
    p["W_h"] = p["W_h"][:, :4]
    with pytest.raises(ValueError, match="W_h must have shape"):
        bptt_gradients(**p)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/backpropagation-through-time"
    assert bptt_gradients.term_iri == TERM_IRI
