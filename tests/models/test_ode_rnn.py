"""ODE-RNN: with zero time gaps it is exactly torch.nn.GRU; RK4 on a linear ODE matches the matrix
exponential with fourth-order convergence; the ODE moves the state only across gaps; gradcheck and
gradgradcheck; learning to predict irregularly sampled sinusoids."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.ode_rnn import ODERNN, TERM_IRI, irregular_sinusoids, rk4

torch.set_num_threads(1)
F64 = torch.float64


def _gru_twin(model: ODERNN) -> nn.GRU:
    gru = nn.GRU(model.input_size, model.hidden_size, batch_first=True, dtype=F64)
    gru.load_state_dict({name + "_l0": p for name, p in model.cell.state_dict().items()})
    return gru


def test_zero_gaps_reduce_to_a_gru():
    torch.manual_seed(0)
    model = ODERNN(3, 4, dtype=F64)
    x, h0 = torch.randn(2, 6, 3, dtype=F64), torch.randn(2, 4, dtype=F64)
    times = torch.full((2, 6), 1.7, dtype=F64)  # every observation at the same instant
    h, h_pre = model(x, times, h0)
    expected, _ = _gru_twin(model)(x, h0.unsqueeze(0))
    torch.testing.assert_close(h, expected, rtol=0, atol=1e-14)
    torch.testing.assert_close(h_pre[:, 1:], h[:, :-1], rtol=0, atol=0)  # nothing happens between them


def test_nonzero_gaps_move_the_state_by_the_ode():
    torch.manual_seed(1)
    model = ODERNN(2, 3, dtype=F64)
    x = torch.randn(1, 3, 2, dtype=F64)
    times = torch.tensor([[0.0, 0.5, 1.5]], dtype=F64)
    h, h_pre = model(x, times)
    torch.testing.assert_close(h_pre[:, 1], model.evolve(h[:, 0], torch.tensor([0.5], dtype=F64)))
    torch.testing.assert_close(h_pre[:, 2], model.evolve(h[:, 1], torch.tensor([1.0], dtype=F64)))
    assert (h_pre[:, 1] - h[:, 0]).abs().max() > 1e-3
    # the gap is what matters, not the absolute time
    torch.testing.assert_close(model(x, times + 10.0)[0], h)


def test_rk4_matches_the_matrix_exponential_on_a_linear_ode():
    torch.manual_seed(2)
    A = torch.randn(4, 4, dtype=F64) - 2 * torch.eye(4, dtype=F64)
    h0 = torch.randn(3, 4, dtype=F64)
    dt = torch.tensor([0.3, 1.0, 2.0], dtype=F64)
    exact = torch.stack([torch.linalg.matrix_exp(A * dt[b]) @ h0[b] for b in range(3)])
    errors = [(rk4(lambda h: h @ A.T, h0, dt, steps) - exact).abs().max().item() for steps in (8, 16, 32)]
    assert errors[-1] < 1e-6
    assert 12 < errors[0] / errors[1] < 20 and 12 < errors[1] / errors[2] < 20  # halving the step: error / 16
    torch.testing.assert_close(rk4(lambda h: h @ A.T, h0, torch.zeros(3, dtype=F64), 4), h0, rtol=0, atol=0)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    model = ODERNN(1, 2, ode_hidden_size=3, ode_steps=2, output_size=1, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    times = torch.tensor([[0.0, 0.4, 0.5]], dtype=F64)

    def f(x, *params):
        return torch.func.functional_call(model, dict(zip(names, params)), (x, times))

    inputs = (torch.randn(1, 3, 1, dtype=F64, requires_grad=True), *model.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)


def test_learns_to_predict_irregular_samples():
    """Predicting x_i from the state evolved to t_i: MSE below 30% of repeating the last value."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = ODERNN(1, 16, 32, ode_steps=2, output_size=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        x, times = irregular_sinusoids(g, 32)
        loss = ((model.predict(x, times)[:, 2:] - x[:, 2:]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, times = irregular_sinusoids(g, 256)
    with torch.no_grad():
        mse = ((model.predict(x, times)[:, 2:] - x[:, 2:]) ** 2).mean().item()
    last_value = ((x[:, 1:-1] - x[:, 2:]) ** 2).mean().item()
    assert mse < 0.3 * last_value


def test_term_iri_and_invalid_arguments():
    assert ODERNN.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/ode-rnn"
    model = ODERNN(2, 3)
    x = torch.zeros(1, 3, 2)
    with pytest.raises(ValueError, match="non-decreasing"):
        model(x, torch.tensor([[0.0, 1.0, 0.5]]))
    with pytest.raises(ValueError, match="times of shape"):
        model(x, torch.zeros(1, 2))
    with pytest.raises(ValueError, match="x of shape"):
        model(torch.zeros(1, 3, 5), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="no readout"):
        model.predict(x, torch.zeros(1, 3))
    with pytest.raises(ValueError, match="ode_steps"):
        ODERNN(2, 3, ode_steps=0)
