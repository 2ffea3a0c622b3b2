"""xLSTM: stabilised sLSTM/mLSTM equal the naive exponential-gating forms (float64, small inputs) and stay
finite where the naive form overflows; the mLSTM parallel form equals its recurrence; gradcheck and
gradgradcheck; an associative-recall learning task."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnref.models.xlstm import TERM_IRI, XLSTM, MLSTMCell, SLSTMCell, associative_recall_batch

torch.set_num_threads(1)
F64 = torch.float64


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.1, 4.0), forget=st.sampled_from(["sigmoid", "exp"]))
def test_stabilised_equals_naive(seed, scale, forget):
    torch.manual_seed(seed)
    x = scale * torch.randn(2, 5, 3, dtype=F64)
    s = SLSTMCell(3, 4, forget=forget, dtype=F64)
    m = MLSTMCell(3, 4, forget=forget, dtype=F64)
    torch.testing.assert_close(s(x)[0], s(x, stabilized=False)[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(m.recurrent(x)[0], m.recurrent(x, stabilized=False)[0], rtol=1e-9, atol=1e-12)
    # the stabilised states are the naive ones scaled by exp(-m_t)
    _, (h, c, n, stab) = s(x)
    _, (h0, c0, n0, _) = s(x, stabilized=False)
    torch.testing.assert_close(c * torch.exp(stab), c0, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(n * torch.exp(stab), n0, rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), T=st.integers(1, 7), forget=st.sampled_from(["sigmoid", "exp"]))
def test_mlstm_parallel_equals_recurrent(seed, T, forget):
    torch.manual_seed(seed)
    m = MLSTMCell(3, 4, forget=forget, dtype=F64)
    x = 2 * torch.randn(2, T, 3, dtype=F64)
    torch.testing.assert_close(m.parallel(x), m.recurrent(x)[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(m(x), m(x, mode="recurrent"), rtol=1e-9, atol=1e-12)


def test_stabiliser_keeps_large_gates_finite():
    """With input-gate pre-activations near 1000 exp overflows; the stabilised cells stay finite and correct."""
    torch.manual_seed(0)
    s = SLSTMCell(1, 2, dtype=F64)
    with torch.no_grad():
        s.weight_ih.zero_()
        s.weight_hh.zero_()
        s.bias.zero_()
        s.weight_ih[:2] = 1000.0  # i-tilde = 1000 x
        s.weight_ih[4:6] = 1.0  # z = tanh(x)
    x = torch.tensor([[[1.0], [0.9], [1.1]]], dtype=F64)
    naive = s(x, stabilized=False)[0]
    stable = s(x)[0]
    assert not torch.isfinite(naive).all()
    assert torch.isfinite(stable).all()
    # h = o * weighted average of z, weights exp(1000 x_s) * f^(t-s): dominated by the largest x so far
    o = torch.sigmoid(torch.tensor(0.0, dtype=F64))
    torch.testing.assert_close(stable[0, 2, 0], o * torch.tanh(torch.tensor(1.1, dtype=F64)))
    m = MLSTMCell(2, 3, dtype=F64)
    with torch.no_grad():
        m.bias_if[0] = 900.0
    x = torch.randn(1, 4, 2, dtype=F64)
    assert not torch.isfinite(m.recurrent(x, stabilized=False)[0]).all()
    assert torch.isfinite(m.parallel(x)).all()
    torch.testing.assert_close(m.parallel(x), m.recurrent(x)[0], rtol=1e-9, atol=1e-12)


def test_mlstm_memory_is_a_sum_of_outer_products():
    """C_T = sum_s (prod_{r>s} f_r) i_s v_s k_s^T, n_T likewise (unstabilised, m = 0)."""
    torch.manual_seed(1)
    m = MLSTMCell(3, 4, dtype=F64)
    x = torch.randn(1, 5, 3, dtype=F64)
    _, (C, n, _) = m.recurrent(x, stabilized=False)
    q, k, v, o, i_tilde, log_f = m.projections(x[0])
    C_expected, n_expected = torch.zeros(4, 4, dtype=F64), torch.zeros(4, dtype=F64)
    for s in range(5):
        weight = torch.exp(i_tilde[s] + log_f[s + 1 :].sum())
        C_expected += weight * torch.outer(v[s], k[s])
        n_expected += weight * k[s]
    torch.testing.assert_close(C[0], C_expected)
    torch.testing.assert_close(n[0], n_expected)


def _gradchecks(module, x, **kwargs):
    names = [n for n, _ in module.named_parameters()]

    def f(x, *params):
        out = torch.func.functional_call(module, dict(zip(names, params)), (x,), kwargs)
        return (out[0], *out[1]) if isinstance(out, tuple) else out  # sLSTM: h and the final (h, c, n, m)

    inputs = (x.requires_grad_(True), *module.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)


def test_gradcheck_slstm():
    torch.manual_seed(2)
    _gradchecks(SLSTMCell(2, 2, dtype=F64), torch.randn(1, 3, 2, dtype=F64))


@pytest.mark.parametrize("mode", ["parallel", "recurrent"])
def test_gradcheck_mlstm(mode):
    torch.manual_seed(3)
    _gradchecks(MLSTMCell(2, 2, forget="exp", dtype=F64), torch.randn(1, 3, 2, dtype=F64), mode=mode)


def test_gradcheck_xlstm_stack():
    torch.manual_seed(4)
    model = XLSTM(2, 3, 2, 1, "ms", dtype=F64)
    x = torch.randn(1, 3, 2, dtype=F64)
    torch.testing.assert_close(model(x), model(x, mode="recurrent"))
    names = [n for n, _ in model.named_parameters()]
    assert torch.autograd.gradcheck(
        lambda x, *p: torch.func.functional_call(model, dict(zip(names, p)), (x,)), (x.requires_grad_(True), *model.parameters())
    )


def test_causal():
    """Outputs at step t do not depend on inputs after t (both block kinds)."""
    torch.manual_seed(5)
    model = XLSTM(2, 4, 3, 2, "ms", dtype=F64)
    x = torch.randn(1, 5, 2, dtype=F64)
    jac = torch.autograd.functional.jacobian(lambda x: model(x)[0], x)[:, :, 0]  # (T, O, T, I)
    influence = jac.abs().sum(dim=(1, 3))
    later = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    assert influence[later].max() == 0 and influence[~later].min() > 0


def test_learns_associative_recall():
    """One mLSTM block: recall the value stored under a queried key (8 keys, 4 pairs; chance 12.5%)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = XLSTM(17, 32, 32, 8, "m")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        x, y = associative_recall_batch(g, 64)
        loss = nn.functional.cross_entropy(model(x)[:, -1], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = associative_recall_batch(g, 500)
    with torch.no_grad():
        accuracy = (model(x)[:, -1].argmax(-1) == y).float().mean().item()
    assert accuracy >= 0.85


def test_term_iri_and_invalid_arguments():
    assert XLSTM.term_iri == SLSTMCell.term_iri == MLSTMCell.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/xlstm"
    with pytest.raises(ValueError, match="forget"):
        SLSTMCell(2, 3, forget="tanh")
    with pytest.raises(ValueError, match="blocks"):
        XLSTM(2, 3, 3, 1, "mx")
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        MLSTMCell(2, 3)(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="mode"):
        MLSTMCell(2, 3)(torch.zeros(1, 4, 2), mode="fast")
    with pytest.raises(ValueError, match="at least one time step"):
        SLSTMCell(2, 3)(torch.zeros(1, 0, 2))
    with pytest.raises(ValueError, match="pairs"):
        associative_recall_batch(torch.Generator(), 2, num_keys=3, pairs=4)
