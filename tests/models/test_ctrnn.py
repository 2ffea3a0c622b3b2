"""CTRNN: Euler step by hand, first-order convergence to an RK4 solution of the ODE, the exact
linear case, fast = readable, gradcheck and gradgradcheck, and a learned flip-flop memory."""

from __future__ import annotations

import pytest
import torch

from rnnref.models._recurrent import Cell
from rnnref.models.ctrnn import TERM_IRI, CTRNN

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rk4(net: CTRNN, y0: torch.Tensor, current: torch.Tensor, horizon: float, h: float) -> torch.Tensor:
    """Classical 4th-order Runge-Kutta for tau dy/dt = -y + W sigma(y + theta) + I, written independently."""
    W, theta, tau = net.weight.detach(), net.bias.detach(), net.tau

    def f(y):
        return (-y + torch.sigmoid(y + theta) @ W.T + current) / tau

    y = y0
    for _ in range(round(horizon / h)):
        k1 = f(y)
        k2 = f(y + 0.5 * h * k1)
        k3 = f(y + 0.5 * h * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def test_one_euler_step_by_hand():
    torch.manual_seed(0)
    net = CTRNN(2, 3, tau=[1.0, 2.0, 4.0], dt=0.5, dtype=F64)
    x = torch.randn(1, 1, 2, dtype=F64)
    y0 = torch.randn(1, 3, dtype=F64)
    W, theta, W_in = net.weight.detach(), net.bias.detach(), net.weight_in.detach()
    expected = []
    for i in range(3):
        drive = sum(W[i, j] * torch.sigmoid(y0[0, j] + theta[j]) for j in range(3))
        current = sum(W_in[i, k] * x[0, 0, k] for k in range(2))
        expected.append(y0[0, i] + 0.5 / net.tau[i] * (-y0[0, i] + drive + current))
    y, _ = net(x, y0)
    torch.testing.assert_close(y[0, 0], torch.stack(expected), atol=1e-14, rtol=0)


def test_euler_converges_to_the_ode_solution_at_first_order():
    torch.manual_seed(1)
    net = CTRNN(2, 5, tau=[0.5, 1.0, 1.0, 2.0, 3.0], dt=0.1, dtype=F64)
    with torch.no_grad():
        net.weight.mul_(6)  # strong recurrence, so the trajectory is far from trivial
    x = torch.randn(2, 2, dtype=F64)
    y0 = torch.randn(2, 5, dtype=F64)
    horizon = 4.0
    current = x @ net.weight_in.detach().T
    reference = _rk4(net, y0, current, horizon, 4e-3)  # RK4 error ~ h^4, far below the Euler errors
    assert (reference - y0).abs().max() > 0.3  # it moved
    errors = []
    for dt in (0.1, 0.05, 0.025, 0.0125):
        net.dt = dt
        steps = round(horizon / dt)
        with torch.no_grad():
            _, y_T = net(x[:, None].expand(2, steps, 2), y0)
        errors.append((y_T - reference).abs().max().item())
    for coarse, fine in zip(errors, errors[1:]):
        assert 1.7 < coarse / fine < 2.3  # halving dt halves the error: first order
    assert errors[-1] < 5e-3


def test_without_recurrence_euler_is_the_exact_geometric_decay_to_the_input():
    """W = 0: y_n = I + (y0 - I)(1 - dt/tau)^n exactly, and y -> I."""
    net = CTRNN(1, 3, tau=[1.0, 2.0, 5.0], dt=0.25, dtype=F64)
    with torch.no_grad():
        net.weight.zero_()
        net.weight_in.copy_(torch.tensor([[1.0], [-2.0], [0.5]], dtype=F64))
    x = torch.full((1, 40, 1), 0.8, dtype=F64)
    y0 = torch.tensor([[1.0, 0.0, -1.0]], dtype=F64)
    y, _ = net(x, y0)
    current = torch.tensor([0.8, -1.6, 0.4], dtype=F64)
    n = torch.arange(1, 41, dtype=F64)[:, None]
    expected = current + (y0[0] - current) * (1 - 0.25 / net.tau) ** n
    torch.testing.assert_close(y[0], expected, atol=1e-13, rtol=0)


def test_dt_equal_to_tau_is_a_discrete_network():
    torch.manual_seed(2)
    net = CTRNN(2, 4, tau=0.5, dt=0.5, dtype=F64)
    x = torch.randn(3, 6, 2, dtype=F64)
    y, _ = net(x)
    prev = torch.zeros(3, 4, dtype=F64)
    for t in range(6):
        prev = torch.sigmoid(prev + net.bias) @ net.weight.T + x[:, t] @ net.weight_in.T
        torch.testing.assert_close(y[:, t], prev, atol=1e-13, rtol=0)


def test_fast_path_equals_readable_path_and_cell_protocol():
    torch.manual_seed(3)
    net = CTRNN(2, 4, tau=[1.0, 1.0, 3.0, 3.0], dt=0.2, dtype=F64)
    assert isinstance(net, Cell)
    x = torch.randn(3, 10, 2, dtype=F64)
    y0 = torch.randn(3, 4, dtype=F64)
    for a, b in zip(net(x, y0), net.forward_stepwise(x, y0), strict=True):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)
    torch.testing.assert_close(
        net.derivative(y0, x[:, 0] @ net.weight_in.T), (net.step(x[:, 0], y0)[1] - y0) / net.dt, atol=1e-12, rtol=0
    )


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(4)
    net = CTRNN(2, 3, tau=[1.0, 2.0, 3.0], dt=0.5, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 4, 2, dtype=F64, requires_grad=True)
    y0 = torch.randn(2, 3, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, y0, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, y0))[0]

    assert torch.autograd.gradcheck(fn, (x, y0, *params))
    assert torch.autograd.gradgradcheck(fn, (x, y0, *params))


def _flip_flop(generator, B, T, p=0.1):
    """Input pulses of ±3 at random steps (always one at t = 0); target: the sign of the last pulse."""
    pulse = torch.rand(B, T, generator=generator) < p
    pulse[:, 0] = True
    sign = torch.randint(0, 2, (B, T), generator=generator).float() * 2 - 1
    x = (pulse * sign * 3)[..., None]
    last = torch.zeros(B)
    target = torch.zeros(B, T, 1)
    for t in range(T):
        last = torch.where(pulse[:, t], sign[:, t], last)
        target[:, t, 0] = last
    return x, target


def test_learns_a_flip_flop_memory():
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(5)
    net = CTRNN(1, 16, tau=1.0, dt=0.5)
    readout = torch.nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=0.03)
    for _ in range(150):
        x, target = _flip_flop(g, 32, 20)
        loss = ((torch.tanh(readout(net(x)[0])) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, target = _flip_flop(g, 256, 60)  # three times longer than in training
    with torch.no_grad():
        out = torch.tanh(readout(net(x)[0]))
    assert (out.sign() == target).float().mean().item() > 0.95
    assert loss.item() < 0.02


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dt": 0.0}, "dt must be a positive number"),
        ({"dt": 2.0}, "larger than the smallest time constant"),
        ({"tau": -1.0}, "tau must be positive"),
        ({"tau": [1.0, 2.0]}, "tau must be a number or 3 numbers"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CTRNN(2, 3, **kwargs)


def test_invalid_inputs():
    net = CTRNN(2, 3)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="y0"):
        net(torch.zeros(1, 4, 2), torch.zeros(1, 2))


def test_term_iri():
    assert CTRNN.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/continuous-time-rnn"
