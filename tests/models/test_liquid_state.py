"""Liquid state machine: LIF dynamics by hand, reset keeps the membrane below threshold, spikes are
0/1, Dale's law and sparsity, determinism, fast = readable, and a readout that solves spike-rate
XOR where a linear readout of the filtered input cannot."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.echo_state import ridge_regression
from rnnref.models.liquid_state import TERM_IRI, LiquidStateMachine

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _spikes(generator, B, T, I, rate=0.2):
    return (torch.rand(B, T, I, generator=generator) < rate).double()


def test_single_neuron_by_hand():
    """One neuron, constant input current 0.3: integrate, fire at threshold, reset, refractory."""
    lsm = LiquidStateMachine(1, 1, 1, tau_m=10.0, threshold=1.0, refractory=1, connectivity=0.0, input_connectivity=1.0)
    with torch.no_grad():
        lsm.weight_in.fill_(0.3)
    run = lsm.simulate(torch.ones(1, 12, 1, dtype=F64))
    v, expected_spikes, expected_v, refractory = 0.0, [], [], 0
    for _ in range(12):
        v_pre = v + 0.1 * (0.0 - v) + 0.3
        if refractory > 0:
            v_pre, refractory = 0.0, refractory - 1
        spike = v_pre >= 1.0
        v = 0.0 if spike else v_pre
        refractory = 1 if spike else refractory
        expected_spikes.append(float(spike))
        expected_v.append(v)
    assert run.spikes[0, :, 0].tolist() == expected_spikes
    assert sum(expected_spikes) >= 2  # it did fire, more than once
    torch.testing.assert_close(run.voltage[0, :, 0], torch.tensor(expected_v, dtype=F64), atol=1e-12, rtol=0)
    decay = math.exp(-1 / lsm.tau_s)
    trace = [0.0]
    for s in expected_spikes:
        trace.append(decay * trace[-1] + s)
    torch.testing.assert_close(run.trace[0, :, 0], torch.tensor(trace[1:], dtype=F64), atol=1e-12, rtol=0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rate=st.floats(0.0, 0.6), refractory=st.integers(0, 3),
       weight_scale=st.floats(0.0, 2.0))
def test_membrane_below_threshold_after_reset_and_spikes_are_binary(seed, rate, refractory, weight_scale):
    g = torch.Generator().manual_seed(seed)
    lsm = LiquidStateMachine(3, 30, 1, refractory=refractory, weight_scale=weight_scale, input_scale=1.5,
                             connectivity=0.3, generator=g)
    run = lsm.simulate(_spikes(g, 2, 40, 3, rate))
    assert bool((run.voltage < lsm.threshold).all())
    assert bool(((run.spikes == 0) | (run.spikes == 1)).all())
    # a spike happens exactly where the pre-reset potential reached threshold
    assert torch.equal(run.spikes.bool(), run.potential >= lsm.threshold)
    # after a spike a neuron is silent for `refractory` steps
    for k in range(1, refractory + 1):
        assert not bool((run.spikes[:, k:] * run.spikes[:, :-k]).any())


def test_connectivity_is_sparse_signed_by_dale_and_seeded():
    a = LiquidStateMachine(4, 200, 1, connectivity=0.1, inhibitory_fraction=0.2, generator=torch.Generator().manual_seed(0))
    b = LiquidStateMachine(4, 200, 1, connectivity=0.1, inhibitory_fraction=0.2, generator=torch.Generator().manual_seed(0))
    c = LiquidStateMachine(4, 200, 1, connectivity=0.1, inhibitory_fraction=0.2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.weight, b.weight) and torch.equal(a.weight_in, b.weight_in)
    assert not torch.equal(a.weight, c.weight)
    assert 0.09 < (a.weight != 0).double().mean().item() < 0.11
    assert bool((a.weight.diagonal() == 0).all())
    assert 0.15 < a.inhibitory.double().mean().item() < 0.25
    assert bool((a.weight[:, a.inhibitory] <= 0).all()) and bool((a.weight[:, ~a.inhibitory] >= 0).all())


def test_deterministic_and_fast_path_equals_readable_path():
    g = torch.Generator().manual_seed(2)
    lsm = LiquidStateMachine(3, 40, 1, generator=g, input_scale=1.0)
    u = _spikes(g, 2, 30, 3)
    run = lsm.simulate(u)
    assert torch.equal(lsm.simulate(u).spikes, run.spikes)
    assert run.spikes.sum() > 10  # the liquid is active
    state = lsm.init_state(2)
    for t in range(30):
        s_t, state = lsm.step(u[:, t], state)
        assert torch.equal(s_t, run.spikes[:, t])
        torch.testing.assert_close(state.voltage, run.voltage[:, t], atol=1e-14, rtol=0)
        torch.testing.assert_close(state.trace, run.trace[:, t], atol=1e-14, rtol=0)


def _rate_xor(generator, n, T=40, lines=4, low=0.02, high=0.15):
    """Two groups of input lines, each firing at a low or a high rate; label = (A high) xor (B high)."""
    a = torch.randint(0, 2, (n,), generator=generator)
    b = torch.randint(0, 2, (n,), generator=generator)
    rate_a = torch.where(a > 0, high, low)[:, None, None].expand(n, T, lines)
    rate_b = torch.where(b > 0, high, low)[:, None, None].expand(n, T, lines)
    x = (torch.rand(n, T, 2 * lines, generator=generator) < torch.cat([rate_a, rate_b], -1)).double()
    return x, a ^ b


def test_readout_learns_rate_xor_that_a_linear_readout_of_the_input_cannot():
    g = torch.Generator().manual_seed(0)
    T, K, n = 40, 20, 400  # read out over the last K steps
    x_train, y_train = _rate_xor(g, n)
    x_test, y_test = _rate_xor(g, n)
    lsm = LiquidStateMachine(8, 100, 1, generator=torch.Generator().manual_seed(1))
    targets = (y_train.double() * 2 - 1)[:, None, None].expand(n, T, 1).contiguous()
    mask = torch.zeros(n, T, dtype=torch.bool)
    mask[:, -K:] = True
    lsm.fit(x_train, targets, mask=mask, ridge=0.1)
    y, run = lsm(x_test)
    accuracy = ((y[:, -K:, 0].mean(1) > 0).long() == y_test).double().mean().item()
    assert accuracy > 0.85
    assert 0.005 < run.spikes.mean().item() < 0.2  # sparse but active
    # Baseline: the same readout on the input filtered the same way, without the liquid.
    decay = math.exp(-1 / lsm.tau_s)

    def filtered(x):
        r, out = torch.zeros(x.size(0), x.size(2), dtype=F64), []
        for t in range(T):
            r = decay * r + x[:, t]
            out.append(r)
        return LiquidStateMachine.features(torch.stack(out, 1))

    z = filtered(x_train)[mask]
    w = ridge_regression(z, targets[mask], 0.1)
    baseline = (((filtered(x_test) @ w.T)[:, -K:, 0].mean(1) > 0).long() == y_test).double().mean().item()
    assert baseline < 0.65
    assert accuracy > baseline + 0.2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"v_reset": 1.0}, "v_reset must be below threshold"),
        ({"tau_m": 0.5}, "tau_m"),
        ({"connectivity": 1.5}, "connectivity"),
        ({"refractory": -1}, "refractory"),
        ({"dt": 0}, "dt"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LiquidStateMachine(2, 10, 1, **kwargs)


def test_invalid_inputs():
    lsm = LiquidStateMachine(2, 10, 1)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        lsm(torch.zeros(5, 2, dtype=F64))
    with pytest.raises(ValueError, match="T = 0"):
        lsm(torch.zeros(1, 0, 2, dtype=F64))
    with pytest.raises(ValueError, match="targets"):
        lsm.fit(torch.zeros(1, 5, 2, dtype=F64), torch.zeros(1, 5, 2, dtype=F64))
    with pytest.raises(ValueError, match="mask"):
        lsm.fit(torch.zeros(1, 5, 2, dtype=F64), torch.zeros(1, 5, 1, dtype=F64), mask=torch.ones(5, dtype=torch.bool))


def test_term_iri():
    assert LiquidStateMachine.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/liquid-state-machine"
