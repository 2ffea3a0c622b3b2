"""RWKV: the three WKV computations agree, the stable one survives large keys, causality,
channel mixing by hand, gradcheck, learning."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.demos.modern import train_flagged_recall
from rnnref.models.rwkv import TERM_IRI, ChannelMixing, RWKVBlock, wkv_quadratic, wkv_recurrent, wkv_stable

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _wkv_inputs(B, T, C, seed, key_scale=1.0):
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(C, generator=g, dtype=F64) * 2
    u = torch.randn(C, generator=g, dtype=F64)
    k = torch.randn(B, T, C, generator=g, dtype=F64) * key_scale
    v = torch.randn(B, T, C, generator=g, dtype=F64)
    return w, u, k, v


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 2), T=st.integers(1, 25), C=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_recurrent_stable_and_quadratic_wkv_agree(B, T, C, seed):
    w, u, k, v = _wkv_inputs(B, T, C, seed, key_scale=3.0)
    naive = wkv_recurrent(w, u, k, v)
    torch.testing.assert_close(wkv_stable(w, u, k, v)[0], naive, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(wkv_quadratic(w, u, k, v), naive, atol=1e-12, rtol=1e-10)


def test_wkv_at_t1_and_t2_by_hand():
    w, u, k, v = _wkv_inputs(1, 2, 3, seed=0)
    out = wkv_stable(w, u, k, v)[0][0]
    torch.testing.assert_close(out[0], v[0, 0], atol=1e-15, rtol=0)  # only the current token
    e1, e2 = torch.exp(k[0, 0]), torch.exp(u + k[0, 1])
    torch.testing.assert_close(out[1], (e1 * v[0, 0] + e2 * v[0, 1]) / (e1 + e2), atol=1e-15, rtol=0)


def test_stable_wkv_survives_keys_that_overflow_the_naive_recurrence():
    w, u, k, v = _wkv_inputs(1, 12, 3, seed=1)
    big = k + 800.0  # e^800 overflows float64
    with torch.no_grad():
        assert not torch.isfinite(wkv_recurrent(w, u, big, v)).all()
    stable = wkv_stable(w, u, big, v)[0]
    # a shift of every key cancels in the weighted average
    torch.testing.assert_close(stable, wkv_stable(w, u, k, v)[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(wkv_quadratic(w, u, big, v), stable, atol=1e-12, rtol=0)


def test_stable_wkv_state_continues_a_sequence():
    w, u, k, v = _wkv_inputs(2, 10, 3, seed=2)
    whole, _ = wkv_stable(w, u, k, v)
    first, state = wkv_stable(w, u, k[:, :4], v[:, :4])
    rest, _ = wkv_stable(w, u, k[:, 4:], v[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, rest], 1), whole, atol=1e-14, rtol=0)


def test_channel_mixing_by_hand():
    torch.manual_seed(3)
    ffn = ChannelMixing(3, 5, dtype=F64)
    x = torch.randn(1, 2, 3, dtype=F64)
    mix = lambda mu: mu * x[0, 1] + (1 - mu) * x[0, 0]  # noqa: E731
    r = ffn.receptance.weight @ mix(ffn.time_mix_r)
    k = ffn.key.weight @ mix(ffn.time_mix_k)
    expected = torch.sigmoid(r) * (ffn.value.weight @ torch.clamp(k, min=0) ** 2)
    torch.testing.assert_close(ffn(x)[0, 1], expected, atol=1e-14, rtol=0)


@pytest.mark.parametrize("mode", ["recurrent", "quadratic"])
def test_block_modes_agree_and_block_is_causal(mode):
    torch.manual_seed(4)
    block = RWKVBlock(4, 8, dtype=F64)
    x = torch.randn(2, 9, 4, dtype=F64)
    y = block(x)
    torch.testing.assert_close(block(x, mode=mode), y, atol=1e-12, rtol=1e-10)
    changed = x.clone()
    changed[:, 5:] += 1.0
    torch.testing.assert_close(block(changed)[:, :5], y[:, :5], atol=0, rtol=0)
    assert block.term_iri == TERM_IRI


@pytest.mark.parametrize("wkv", [wkv_stable, wkv_quadratic])
def test_wkv_gradcheck_and_gradgradcheck(wkv):
    inputs = [t.clone().requires_grad_(True) for t in _wkv_inputs(1, 4, 2, seed=5)]

    def run(*args):
        out = wkv(*args)
        return out[0] if isinstance(out, tuple) else out

    assert torch.autograd.gradcheck(run, inputs)
    assert torch.autograd.gradgradcheck(run, inputs)


def test_block_gradcheck_and_gradgradcheck():
    torch.manual_seed(6)
    block = RWKVBlock(2, 2, dtype=F64)
    names = [n for n, _ in block.named_parameters()]
    x = torch.randn(1, 2, 2, dtype=F64, requires_grad=True)
    params = [p.detach().clone().requires_grad_(True) for p in block.parameters()]

    def run(x, *params):
        return torch.func.functional_call(block, dict(zip(names, params, strict=True)), (x,))

    assert torch.autograd.gradcheck(run, (x, *params))
    assert torch.autograd.gradgradcheck(run, (x, *params))


def test_learns_flagged_recall():
    """Embedding + RWKVBlock(16) + readout: sign right > 97% of the time after 60 Adam steps."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), RWKVBlock(16, 32))
    rows = train_flagged_recall(
        model, torch.nn.Linear(16, 1), torch.Generator().manual_seed(0),
        steps=60, batch=32, length=24, lr=1e-2, report_every=60,
    )
    assert rows[0][2] < 0.7
    assert rows[-1][2] > 0.97


def test_errors():
    w, u, k, v = _wkv_inputs(1, 4, 3, seed=7)
    with pytest.raises(ValueError, match="k and v"):
        wkv_stable(w, u, k, v[:, :2])
    with pytest.raises(ValueError, match="w and u"):
        wkv_quadratic(w[:2], u, k, v)
    with pytest.raises(ValueError, match="shape"):
        RWKVBlock(4)(torch.randn(1, 3, 5))
    with pytest.raises(ValueError, match="mode"):
        RWKVBlock(4)(torch.randn(1, 3, 4), mode="cuda")
