"""Mamba: selective scan == loop, reduction to the LTI SSM, causality, gradcheck, learning."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.demos.modern import train_flagged_recall
from rnnref.models.mamba import TERM_IRI, Mamba, selective_scan
from rnnref.models.ssm import StateSpaceModel

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _inputs(B, T, D, N, seed):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(B, T, D, generator=g, dtype=F64)
    delta = torch.rand(B, T, D, generator=g, dtype=F64) + 0.01
    A = -torch.rand(D, N, generator=g, dtype=F64) * 2 - 0.1
    Bm, Cm = torch.randn(B, T, N, generator=g, dtype=F64), torch.randn(B, T, N, generator=g, dtype=F64)
    return u, delta, A, Bm, Cm, torch.randn(D, generator=g, dtype=F64), torch.randn(B, D, N, generator=g, dtype=F64)


@settings(max_examples=20, deadline=None)
@given(
    B=st.integers(1, 2), T=st.integers(1, 30), D=st.integers(1, 3), N=st.integers(1, 4),
    discretization=st.sampled_from(["zoh", "euler"]), with_h0=st.booleans(), seed=st.integers(0, 2**16),
)
def test_selective_scan_equals_loop(B, T, D, N, discretization, with_h0, seed):
    u, delta, A, Bm, Cm, Dskip, h0 = _inputs(B, T, D, N, seed)
    h0 = h0 if with_h0 else None
    y_loop, h_loop = selective_scan(u, delta, A, Bm, Cm, Dskip, h0, mode="loop", b_discretization=discretization)
    y_scan, h_scan = selective_scan(u, delta, A, Bm, Cm, Dskip, h0, mode="scan", b_discretization=discretization)
    torch.testing.assert_close(y_scan, y_loop, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(h_scan, h_loop, atol=1e-12, rtol=1e-10)


def test_constant_delta_B_C_reduce_to_the_zoh_lti_ssm():
    """With Delta, B, C fixed in time, each channel is the LTI SSM (A = diag(A_d)) with ZOH."""
    T, N, dt = 20, 3, 0.37
    u, _, A, _, _, _, _ = _inputs(1, T, 2, N, seed=1)
    B_vec, C_vec = torch.randn(N, dtype=F64), torch.randn(N, dtype=F64)
    y, _ = selective_scan(
        u, torch.full_like(u, dt), A, B_vec.expand(1, T, N), C_vec.expand(1, T, N), mode="scan"
    )
    for d in range(2):
        lti = StateSpaceModel(1, N, 1, dt=dt, dtype=F64)
        with torch.no_grad():
            lti.A.copy_(torch.diag(A[d]))
            lti.B.copy_(B_vec.unsqueeze(1))
            lti.C.copy_(C_vec.unsqueeze(0))
        torch.testing.assert_close(y[0, :, d], lti(u[:, :, d : d + 1])[0, :, 0], atol=1e-12, rtol=0)


def test_large_delta_resets_and_tiny_delta_keeps_the_state():
    u, _, A, Bm, Cm, _, h0 = _inputs(1, 1, 2, 3, seed=2)
    _, h_keep = selective_scan(u, torch.full_like(u, 1e-9), A, Bm, Cm, h0=h0)
    torch.testing.assert_close(h_keep, h0, atol=1e-8, rtol=0)
    _, h_reset = selective_scan(u, torch.full_like(u, 1e3), A, Bm, Cm, h0=h0)
    # e^{Delta A} -> 0 and expm1(Delta A) / A -> -1 / A: h = -B u / A, the fixed point for input u
    expected = -Bm[:, 0].unsqueeze(1) * u[:, 0].unsqueeze(-1) / A
    torch.testing.assert_close(h_reset, expected, atol=1e-10, rtol=0)


@settings(max_examples=8, deadline=None)
@given(t0=st.integers(0, 9), seed=st.integers(0, 2**16))
def test_block_is_causal(t0, seed):
    torch.manual_seed(seed)
    block = Mamba(4, d_state=3, d_conv=3, dtype=F64)
    x = torch.randn(2, 10, 4, dtype=F64)
    changed = x.clone()
    changed[:, t0:] += torch.randn(2, 10 - t0, 4, dtype=F64)
    y, y_changed = block(x), block(changed)
    torch.testing.assert_close(y[:, :t0], y_changed[:, :t0], atol=0, rtol=0)
    assert (y[:, t0] - y_changed[:, t0]).abs().max() > 1e-6  # and the present does matter


def test_block_scan_equals_loop():
    torch.manual_seed(3)
    block = Mamba(4, d_state=3, dtype=F64)
    with torch.no_grad():
        block.dt_proj.bias.normal_()  # larger steps than the init, so the state moves
    x = torch.randn(2, 9, 4, dtype=F64)
    torch.testing.assert_close(block(x), block(x, mode="loop"), atol=1e-12, rtol=1e-10)
    assert block.term_iri == TERM_IRI


def test_selective_scan_gradcheck_and_gradgradcheck():
    u, delta, A, Bm, Cm, Dskip, h0 = _inputs(1, 4, 2, 2, seed=4)
    inputs = [t.clone().requires_grad_(True) for t in (u, delta, A, Bm, Cm, Dskip, h0)]
    assert torch.autograd.gradcheck(selective_scan, inputs)
    assert torch.autograd.gradgradcheck(selective_scan, inputs)


def test_block_gradcheck_and_gradgradcheck():
    torch.manual_seed(5)
    block = Mamba(2, d_state=2, d_conv=2, expand=1, dtype=F64)
    names = [n for n, _ in block.named_parameters()]
    x = torch.randn(1, 3, 2, dtype=F64, requires_grad=True)
    params = [p.detach().clone().requires_grad_(True) for p in block.parameters()]

    def run(x, *params):
        return torch.func.functional_call(block, dict(zip(names, params, strict=True)), (x,))

    assert torch.autograd.gradcheck(run, (x, *params))
    assert torch.autograd.gradgradcheck(run, (x, *params))


def test_learns_flagged_recall():
    """Embedding + Mamba(8, N=4) + readout: sign right > 97% of the time after 100 Adam steps."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), Mamba(8, d_state=4, d_conv=2))
    rows = train_flagged_recall(
        model, torch.nn.Linear(8, 1), torch.Generator().manual_seed(0),
        steps=100, batch=32, length=24, lr=1e-2, report_every=100,
    )
    assert rows[0][2] < 0.7
    assert rows[-1][2] > 0.97


def test_errors():
    u, delta, A, Bm, Cm, _, _ = _inputs(1, 4, 2, 3, seed=6)
    with pytest.raises(ValueError, match="delta"):
        selective_scan(u, delta[:, :2], A, Bm, Cm)
    with pytest.raises(ValueError, match="A must be"):
        selective_scan(u, delta, A.T, Bm, Cm)
    with pytest.raises(ValueError, match="B must be"):
        selective_scan(u, delta, A, Bm[:, :2], Cm)
    with pytest.raises(ValueError, match="b_discretization"):
        selective_scan(u, delta, A, Bm, Cm, b_discretization="bilinear")
    with pytest.raises(ValueError, match="shape"):
        Mamba(4)(torch.randn(1, 3, 5))
    with pytest.raises(ValueError, match="dt_min"):
        Mamba(4, dt_min=0.5, dt_max=0.1)
