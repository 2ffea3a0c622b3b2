"""Linear RNN (LRU): scan == loop, stability, initialisation, impulse response, gradcheck, learning."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.linear_rnn import TERM_IRI, LinearRNN

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3), T=st.integers(1, 40), I=st.integers(1, 3), N=st.integers(1, 5), O=st.integers(1, 3),
    complex_=st.booleans(), with_h0=st.booleans(), seed=st.integers(0, 2**16),
)
def test_scan_equals_loop(B, T, I, N, O, complex_, with_h0, seed):
    torch.manual_seed(seed)
    model = LinearRNN(I, N, O, complex=complex_, dtype=F64)
    x = torch.randn(B, T, I, dtype=F64)
    h0 = model.init_state(B) + torch.randn(B, N, dtype=F64) if with_h0 else None
    y_scan, h_scan = model(x, h0)
    y_loop, h_loop = model(x, h0, mode="loop")
    torch.testing.assert_close(y_scan, y_loop, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(h_scan, h_loop, atol=1e-12, rtol=1e-10)


@settings(max_examples=20, deadline=None)
@given(nu=st.floats(-20, 5), theta=st.floats(-20, 5))
def test_eigenvalues_are_inside_the_unit_disc_for_any_parameters(nu, theta):
    model = LinearRNN(1, 1, dtype=F64)
    with torch.no_grad():
        model.nu_log.fill_(nu)
        model.theta_log.fill_(theta)
    assert model.eigenvalues().abs().item() <= 1.0


def test_initialisation_on_the_ring_with_normalisation():
    torch.manual_seed(0)
    model = LinearRNN(2, 200, r_min=0.4, r_max=0.9, max_phase=math.pi / 4, dtype=F64)
    radius = model.eigenvalues().abs()
    assert radius.min() >= 0.4 - 1e-12 and radius.max() <= 0.9 + 1e-12
    phase = model.eigenvalues().angle()
    assert phase.min() >= 0 and phase.max() <= math.pi / 4 + 1e-12
    torch.testing.assert_close(torch.exp(model.gamma_log), torch.sqrt(1 - radius**2), atol=1e-12, rtol=0)
    assert model.term_iri == TERM_IRI


def test_impulse_response_is_the_closed_form():
    """x = delta at t = 1: y_k = Re(C diag(lambda^(k-1)) gamma B) + D [k = 1]."""
    torch.manual_seed(1)
    model = LinearRNN(1, 4, 2, dtype=F64)
    T = 12
    x = torch.zeros(1, T, 1, dtype=F64)
    x[0, 0, 0] = 1.0
    y, _ = model(x)
    lam, gamma = model.eigenvalues(), torch.exp(model.gamma_log)
    B = torch.complex(model.B_re, model.B_im)[:, 0]
    C = torch.complex(model.C_re, model.C_im)
    for k in range(T):
        expected = (C @ (lam**k * gamma * B)).real + (model.D[:, 0] if k == 0 else 0)
        torch.testing.assert_close(y[0, k], expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("complex_", [True, False])
def test_gradcheck_and_gradgradcheck(complex_):
    torch.manual_seed(2)
    model = LinearRNN(2, 2, 1, complex=complex_, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    x = torch.randn(1, 5, 2, dtype=F64, requires_grad=True)
    params = [p.detach().clone().requires_grad_(True) for p in model.parameters()]

    def run(x, *params):
        return torch.func.functional_call(model, dict(zip(names, params, strict=True)), (x,))[0]

    assert torch.autograd.gradcheck(run, (x, *params))
    assert torch.autograd.gradgradcheck(run, (x, *params))


def test_learns_an_oscillating_filter():
    """LinearRNN(1, 6, 1) fits y = (0.9^j cos 0.6j) * x to < 2% of the signal power in 120 Adam steps."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    T = 32
    lag = torch.arange(T, dtype=torch.float32)
    kernel = 0.9**lag * torch.cos(0.6 * lag)

    def target(u):
        return torch.fft.irfft(torch.fft.rfft(u[..., 0], n=2 * T) * torch.fft.rfft(kernel, n=2 * T), n=2 * T)[:, :T, None]

    model = LinearRNN(1, 6, 1, r_min=0.5, r_max=0.99, max_phase=3.14)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(120):
        u = torch.randn(16, T, 1, generator=g)
        loss = ((model(u)[0] - target(u)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    u = torch.randn(64, T, 1, generator=g)
    with torch.no_grad():
        relative = ((model(u)[0] - target(u)) ** 2).mean() / (target(u) ** 2).mean()
    assert relative < 0.02


def test_errors():
    with pytest.raises(ValueError, match="r_min"):
        LinearRNN(1, 2, r_min=0.9, r_max=0.5)
    with pytest.raises(ValueError, match="shape"):
        LinearRNN(2, 3)(torch.randn(1, 4, 3))
    with pytest.raises(ValueError, match="mode"):
        LinearRNN(2, 3)(torch.randn(1, 4, 2), mode="fft")
    with pytest.raises(ValueError, match="h0"):
        LinearRNN(2, 3)(torch.randn(1, 4, 2), torch.zeros(1, 3))  # real h0 for a complex state
