"""NARX network: open loop equals an MLP on an independently built delay embedding; closed loop feeds its
own predictions back (equal to open loop when teacher = its own output) and never looks ahead; gradcheck
and gradgradcheck; identifying a known NARX system and simulating it in closed loop."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.narx import NARX, TERM_IRI, narx_system

torch.set_num_threads(1)
F64 = torch.float64


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), dx=st.integers(0, 3), dy=st.integers(1, 3), T=st.integers(1, 8), init=st.booleans())
def test_open_loop_is_an_mlp_on_the_delay_embedding(seed, dx, dy, T, init):
    torch.manual_seed(seed)
    I, O, B = 2, 3, 2
    model = NARX(I, O, dx, dy, 5, dtype=F64)
    x, y = torch.randn(B, T, I, dtype=F64), torch.randn(B, T, O, dtype=F64)
    x_init = torch.randn(B, dx, I, dtype=F64) if init else None
    y_init = torch.randn(B, dy, O, dtype=F64) if init else None

    def x_at(t):  # x_t, with the initial delay line (or zeros) before t = 0
        if t >= 0:
            return x[:, t]
        return x_init[:, dx + t] if init else torch.zeros(B, I, dtype=F64)

    def y_at(t):
        if t >= 0:
            return y[:, t]
        return y_init[:, dy + t] if init else torch.zeros(B, O, dtype=F64)

    z = torch.stack(
        [torch.cat([x_at(t - k) for k in range(dx + 1)] + [y_at(t - k) for k in range(1, dy + 1)], -1) for t in range(T)], 1
    )
    W1, b1, W2, b2 = model.mlp[0].weight, model.mlp[0].bias, model.mlp[2].weight, model.mlp[2].bias
    expected = torch.tanh(z @ W1.T + b1) @ W2.T + b2
    torch.testing.assert_close(model(x, y, x_init=x_init, y_init=y_init), expected, rtol=0, atol=1e-13)
    torch.testing.assert_close(model.embedding(x, y, x_init, y_init), z, rtol=0, atol=0)


def test_closed_loop_feeds_back_its_own_predictions():
    torch.manual_seed(1)
    model = NARX(2, 1, 2, 3, 6, dtype=F64)
    x = torch.randn(3, 10, 2, dtype=F64)
    y_init = torch.randn(3, 3, 1, dtype=F64)
    free = model(x, y_init=y_init)
    # teacher forcing with the free-running outputs reproduces them: the closed loop is a fixed point
    torch.testing.assert_close(model(x, free, y_init=y_init), free, rtol=0, atol=1e-13)
    # and differs from teacher forcing with other targets
    assert not torch.allclose(model(x, torch.randn_like(free), y_init=y_init), free)


def test_closed_loop_is_causal():
    torch.manual_seed(2)
    model = NARX(1, 1, 1, 2, 4, dtype=F64)
    x = torch.randn(6, 1, dtype=F64)
    jac = torch.autograd.functional.jacobian(lambda x: model(x.unsqueeze(0))[0, :, 0], x)[:, :, 0]  # (T, T)
    assert jac.triu(1).abs().max() == 0 and jac.diagonal().abs().min() > 0


@pytest.mark.parametrize("teacher", [False, True])
def test_gradcheck_and_gradgradcheck(teacher):
    torch.manual_seed(3)
    model = NARX(1, 1, 1, 2, 3, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    y = torch.randn(1, 4, 1, dtype=F64) if teacher else None

    def f(x, *params):
        return torch.func.functional_call(model, dict(zip(names, params)), (x, y))

    inputs = (torch.randn(1, 4, 1, dtype=F64, requires_grad=True), *model.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)


def test_identifies_a_known_narx_system():
    """Trained in open loop for 200 steps; simulated in closed loop on new inputs: MSE < 0.01 (output variance ~0.8)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = NARX(1, 1, input_delays=1, output_delays=2, hidden_size=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        x = torch.randn(32, 40, 1, generator=g)
        y = narx_system(x)
        loss = ((model(x, y) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x = torch.randn(64, 100, 1, generator=g)
    y = narx_system(x)
    with torch.no_grad():
        closed = ((model(x) - y) ** 2).mean().item()
    assert y.var().item() > 0.5
    assert closed < 0.01


def test_term_iri_and_invalid_arguments():
    assert NARX.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/narx-network"
    with pytest.raises(ValueError, match="output_delays"):
        NARX(1, 1, 1, 0)
    with pytest.raises(ValueError, match="input_delays"):
        NARX(1, 1, -1, 1)
    model = NARX(2, 1, 1, 2)
    with pytest.raises(ValueError, match="x of shape"):
        model(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="y_teacher"):
        model(torch.zeros(1, 3, 2), torch.zeros(1, 2, 1))
    with pytest.raises(ValueError, match="y_init"):
        model(torch.zeros(1, 3, 2), y_init=torch.zeros(1, 1, 1))
    with pytest.raises(ValueError, match="narx_system"):
        narx_system(torch.zeros(1, 3, 2))
