"""State-space model: recurrent mode == convolutional mode, ZOH against closed forms, gradcheck, learning."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.ssm import TERM_IRI, StateSpaceModel

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@settings(max_examples=20, deadline=None)
@given(
    B=st.integers(1, 3), T=st.integers(1, 50), I=st.integers(1, 3), N=st.integers(1, 5), O=st.integers(1, 3),
    dt=st.floats(0.01, 1.0), with_x0=st.booleans(), seed=st.integers(0, 2**16),
)
def test_recurrent_mode_equals_convolutional_mode(B, T, I, N, O, dt, with_x0, seed):
    torch.manual_seed(seed)
    model = StateSpaceModel(I, N, O, dt=dt, dtype=F64)
    with torch.no_grad():
        model.D.normal_()
    u = torch.randn(B, T, I, dtype=F64)
    x0 = torch.randn(B, N, dtype=F64) if with_x0 else None
    torch.testing.assert_close(model(u, x0), model(u, x0, mode="convolution"), atol=1e-10, rtol=1e-9)


def test_kernel_is_C_Abar_power_Bbar():
    torch.manual_seed(0)
    model = StateSpaceModel(2, 3, 2, dtype=F64)
    A_bar, B_bar = model.discretize()
    K = model.kernel(6)
    for j in range(6):
        torch.testing.assert_close(K[j], model.C @ torch.linalg.matrix_power(A_bar, j) @ B_bar, atol=1e-14, rtol=0)


def test_zoh_matches_the_textbook_formula_and_the_singular_case():
    torch.manual_seed(1)
    model = StateSpaceModel(2, 3, dt=0.3, dtype=F64)
    A_bar, B_bar = model.discretize()
    A, B, dt = model.A.detach(), model.B.detach(), 0.3
    torch.testing.assert_close(A_bar, torch.linalg.matrix_exp(dt * A), atol=1e-13, rtol=0)
    # $$\bar B = A^{-1}(e^{\Delta A} - I) B$$
    torch.testing.assert_close(B_bar, torch.linalg.solve(A, (A_bar - torch.eye(3, dtype=F64)) @ B), atol=1e-12, rtol=0)
    with torch.no_grad():
        model.A.zero_()  # singular A: the integral is \Delta B
    A_bar, B_bar = model.discretize()
    torch.testing.assert_close(A_bar, torch.eye(3, dtype=F64), atol=0, rtol=0)
    torch.testing.assert_close(B_bar, dt * B, atol=1e-15, rtol=0)


@pytest.mark.parametrize("mode", ["recurrent", "convolution"])
def test_scalar_system_step_response_is_exact(mode):
    """x' = a x + b u, y = c x + d u, u = 1 from x(0) = 0: y(k dt) = c b / (-a) (1 - e^{a k dt}) + d."""
    a, b, c, d, dt, T = -0.7, 1.3, 0.9, 0.2, 0.25, 40
    model = StateSpaceModel(1, 1, 1, dt=dt, dtype=F64)
    with torch.no_grad():
        model.A.fill_(a)
        model.B.fill_(b)
        model.C.fill_(c)
        model.D.fill_(d)
    k = torch.arange(1, T + 1, dtype=F64)
    expected = c * b / -a * (1 - torch.exp(a * k * dt)) + d
    y = model(torch.ones(1, T, 1, dtype=F64), mode=mode)
    torch.testing.assert_close(y[0, :, 0], expected, atol=1e-13, rtol=0)
    assert model.term_iri == TERM_IRI


@pytest.mark.parametrize("mode", ["recurrent", "convolution"])
def test_gradcheck_and_gradgradcheck(mode):
    torch.manual_seed(2)
    model = StateSpaceModel(1, 2, 1, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    u = torch.randn(1, 4, 1, dtype=F64, requires_grad=True)
    x0 = torch.randn(1, 2, dtype=F64, requires_grad=True)
    params = [p.detach().clone().requires_grad_(True) for p in model.parameters()]

    def run(u, x0, *params):
        return torch.func.functional_call(model, dict(zip(names, params, strict=True)), (u, x0), {"mode": mode})

    assert torch.autograd.gradcheck(run, (u, x0, *params))
    assert torch.autograd.gradgradcheck(run, (u, x0, *params))


def test_identifies_a_damped_spring():
    """From random A, B, C, the model reproduces a damped spring to < 1% of the signal power in 150 steps."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    spring = StateSpaceModel(1, 2, 1, dt=0.1)
    with torch.no_grad():
        spring.A.copy_(torch.tensor([[0.0, 1.0], [-4.0, -0.4]]))
        spring.B.copy_(torch.tensor([[0.0], [1.0]]))
        spring.C.copy_(torch.tensor([[1.0, 0.0]]))
    spring.requires_grad_(False)
    model = StateSpaceModel(1, 2, 1, dt=0.1)
    model.log_dt.requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    for _ in range(150):
        u = torch.randn(16, 48, 1, generator=g)
        loss = ((model(u, mode="convolution") - spring(u, mode="convolution")) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    u = torch.randn(32, 48, 1, generator=g)
    with torch.no_grad():
        target = spring(u)
        relative = ((model(u) - target) ** 2).mean() / (target**2).mean()
    assert relative < 0.01


def test_errors():
    with pytest.raises(ValueError, match="dt"):
        StateSpaceModel(1, 2, dt=0.0)
    with pytest.raises(ValueError, match="shape"):
        StateSpaceModel(1, 2)(torch.randn(1, 4, 2))
    with pytest.raises(ValueError, match="mode"):
        StateSpaceModel(1, 2)(torch.randn(1, 4, 1), mode="fast")
    with pytest.raises(ValueError, match="x0"):
        StateSpaceModel(1, 2)(torch.randn(1, 4, 1), torch.zeros(1, 3))
    assert math.isclose(StateSpaceModel(1, 2, dt=0.5).log_dt.exp().item(), 0.5, rel_tol=1e-6)
