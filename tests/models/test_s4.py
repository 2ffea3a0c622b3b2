"""S4 (S4D form): recurrence == convolution == parallel scan (float64, both inits); the diagonal ZOH system
equals the dense state-space model of rnnref.models.ssm on its real 2N-state realisation; the kernel is
the Vandermonde product; gradcheck and gradgradcheck; learning a 40-step delay line."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.s4 import TERM_IRI, S4D, s4d_eigenvalues
from rnnref.models.ssm import StateSpaceModel

torch.set_num_threads(1)
F64 = torch.float64


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), T=st.integers(1, 40), init=st.sampled_from(["lin", "inv"]))
def test_recurrence_equals_convolution_and_scan(seed, T, init):
    torch.manual_seed(seed)
    layer = S4D(2, 6, init=init, dtype=F64)
    u = torch.randn(3, T, 2, dtype=F64)
    conv = layer(u)
    torch.testing.assert_close(layer(u, mode="recurrent"), conv, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(layer(u, mode="scan"), conv, rtol=1e-9, atol=1e-10)


def test_kernel_is_the_impulse_response():
    torch.manual_seed(0)
    layer = S4D(2, 5, dtype=F64)
    T = 30
    impulse = torch.zeros(1, T, 2, dtype=F64)
    impulse[0, 0] = 1.0
    response = layer(impulse, mode="recurrent")[0] - layer.D * impulse[0]
    torch.testing.assert_close(response.T, layer.kernel(T), rtol=1e-10, atol=1e-12)
    # and, mode by mode, K_l = 2 Re sum_n C_n B̄_n Ā_n^l
    A_bar, B_bar = layer.discretize()
    C = torch.view_as_complex(layer.C)
    expected = torch.stack([2 * (C * B_bar * A_bar**l).sum(-1).real for l in range(T)], 1)
    torch.testing.assert_close(layer.kernel(T), expected, rtol=1e-10, atol=1e-12)


def test_matches_dense_zoh_state_space_model():
    """Each conjugate pair (a + ib) is the real 2x2 block [[a, -b], [b, a]]; ssm.StateSpaceModel discretises it by expm."""
    torch.manual_seed(1)
    N, T = 4, 25
    layer = S4D(1, N, init="inv", dtype=F64)
    A = layer.eigenvalues()[0]
    B = torch.view_as_complex(layer.B)[0]
    C = torch.view_as_complex(layer.C)[0]
    dense = StateSpaceModel(1, 2 * N, 1, dtype=F64)
    with torch.no_grad():
        dense.A.zero_()
        for n in range(N):
            a, b = A[n].real, A[n].imag
            dense.A[2 * n : 2 * n + 2, 2 * n : 2 * n + 2] = torch.stack([torch.stack([a, -b]), torch.stack([b, a])])
            dense.B[2 * n : 2 * n + 2, 0] = torch.stack([B[n].real, B[n].imag])
            dense.C[0, 2 * n : 2 * n + 2] = 2 * torch.stack([C[n].real, -C[n].imag])
        dense.D.fill_(layer.D.item())
        dense.log_dt.copy_(layer.log_dt[0])
    u = torch.randn(2, T, 1, dtype=F64)
    torch.testing.assert_close(layer(u), dense(u, mode="recurrent"), rtol=1e-9, atol=1e-10)


def test_initialisations():
    N = 6
    lin, inv = s4d_eigenvalues(N, "lin"), s4d_eigenvalues(N, "inv")
    assert torch.all(lin.real == -0.5) and torch.all(inv.real == -0.5)
    torch.testing.assert_close(lin.imag, math.pi * torch.arange(N, dtype=F64))
    torch.testing.assert_close(inv.imag, N / math.pi * (N / (2 * torch.arange(N, dtype=F64) + 1) - 1))
    layer = S4D(3, N, init="inv", dtype=F64)
    torch.testing.assert_close(layer.eigenvalues(), inv.expand(3, N))
    dt = torch.exp(layer.log_dt)
    assert bool(((dt >= 1e-3) & (dt <= 1e-1)).all())
    # stable: |Ā| < 1 for every mode, and it stays so for any parameters (Re A = -exp(.) < 0)
    with torch.no_grad():
        layer.log_A_real.normal_(0, 3)
    assert bool((layer.discretize()[0].abs() < 1).all())


@pytest.mark.parametrize("mode", ["convolution", "recurrent"])
def test_gradcheck_and_gradgradcheck(mode):
    torch.manual_seed(2)
    layer = S4D(1, 2, dtype=F64)
    names = [n for n, _ in layer.named_parameters()]

    def f(u, *params):
        return torch.func.functional_call(layer, dict(zip(names, params)), (u,), {"mode": mode})

    inputs = (torch.randn(1, 4, 1, dtype=F64, requires_grad=True), *layer.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)


def test_learns_a_long_delay():
    """y_t = u_{t-40} on white noise, T = 128: one S4D-Lin channel with 32 modes gets MSE < 0.05 (start ~3)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    layer = S4D(1, 32, init="lin", dt_min=0.01, dt_max=0.1)
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-2)
    delay = 40
    for _ in range(300):
        u = torch.randn(16, 128, 1, generator=g)
        loss = ((layer(u)[:, delay:] - u[:, :-delay]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    u = torch.randn(64, 128, 1, generator=g)
    with torch.no_grad():
        mse = ((layer(u)[:, delay:] - u[:, :-delay]) ** 2).mean().item()
    assert mse < 0.05


def test_term_iri_and_invalid_arguments():
    assert S4D.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/s4"
    with pytest.raises(ValueError, match="init"):
        S4D(2, 4, init="legs")
    with pytest.raises(ValueError, match="dt_min"):
        S4D(2, 4, dt_min=0.5, dt_max=0.1)
    layer = S4D(2, 4)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        layer(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="dtype"):
        layer(torch.zeros(1, 3, 2, dtype=F64))
    with pytest.raises(ValueError, match="mode"):
        layer(torch.zeros(1, 3, 2), mode="fft")
    with pytest.raises(ValueError, match="at least one"):
        layer(torch.zeros(1, 0, 2))
