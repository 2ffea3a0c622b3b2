"""MTRNN: with all time constants 1 it is torch.nn.RNN with a block-structured W_hh plus a readout;
leaky integration decays at each group's own rate; the slow units never see the input directly;
fast = readable; gradcheck and gradgradcheck; learns a two-timescale prediction task."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnref.models.mtrnn import TERM_IRI, MTRNN

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_all_time_constants_one_is_a_block_structured_torch_rnn():
    torch.manual_seed(0)
    I, Fn, S, O = 2, 4, 3, 2
    net = MTRNN(I, Fn, S, O, tau_fast=1.0, tau_slow=1.0, tau_output=1.0, dtype=F64)
    rnn = nn.RNN(I, Fn + S, batch_first=True, dtype=F64)
    with torch.no_grad():
        rnn.weight_ih_l0.zero_()
        rnn.weight_ih_l0[:Fn] = net.weight_fx  # the input reaches the fast units only
        rnn.weight_hh_l0[:Fn, :Fn] = net.weight_ff
        rnn.weight_hh_l0[:Fn, Fn:] = net.weight_fs
        rnn.weight_hh_l0[Fn:, :Fn] = net.weight_sf
        rnn.weight_hh_l0[Fn:, Fn:] = net.weight_ss
        rnn.bias_ih_l0.copy_(torch.cat([net.bias_f, net.bias_s]))
        rnn.bias_hh_l0.zero_()
    x = torch.randn(3, 7, I, dtype=F64)
    y, (c_fast, c_slow), _ = net(x)
    h, _ = rnn(x)
    torch.testing.assert_close(torch.cat([c_fast, c_slow], -1), h, atol=1e-12, rtol=0)
    torch.testing.assert_close(y, h[..., :Fn] @ net.weight_of.T + net.bias_o, atol=1e-12, rtol=0)


def test_each_group_decays_with_its_own_time_constant():
    """No weights, no biases: every potential decays as (1 - 1/tau)^t."""
    net = MTRNN(1, 2, 2, 1, tau_fast=4.0, tau_slow=50.0, tau_output=2.0, dtype=F64)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    state = (torch.ones(1, 2, dtype=F64), torch.ones(1, 2, dtype=F64), torch.ones(1, 1, dtype=F64))
    _, _, (u_f, u_s, u_o) = net(torch.zeros(1, 10, 1, dtype=F64), state)
    assert u_f[0, 0].item() == pytest.approx(0.75**10, abs=1e-14)
    assert u_s[0, 0].item() == pytest.approx(0.98**10, abs=1e-14)
    assert u_o[0, 0].item() == pytest.approx(0.5**10, abs=1e-14)


def test_slow_units_change_slowly_and_do_not_see_the_input_directly():
    torch.manual_seed(1)
    net = MTRNN(2, 6, 3, 1, tau_fast=2.0, tau_slow=40.0, dtype=F64)
    x = torch.randn(4, 30, 2, dtype=F64, requires_grad=True)
    _, (c_fast, c_slow), _ = net(x)
    # a slow potential moves by at most (|u| + |drive|) / tau_slow per step; the slow contexts move far less
    assert (c_slow.diff(dim=1).abs().mean() * 5) < c_fast.diff(dim=1).abs().mean()
    # the slow units at step t depend on x_t only through the fast units at step t, which they read at t+1
    t = 10
    grad_now = torch.autograd.grad(c_slow[:, t].sum(), x, retain_graph=True)[0]
    assert bool((grad_now[:, t:] == 0).all())
    assert grad_now[:, t - 1].abs().sum() > 0


def test_fast_path_equals_readable_path():
    torch.manual_seed(2)
    net = MTRNN(2, 5, 3, 2, dtype=F64)
    x = torch.randn(3, 12, 2, dtype=F64)
    y, _, final = net(x)
    state = net.init_state(3)
    for t in range(12):
        y_t, state = net.step(x[:, t], state)
        torch.testing.assert_close(y_t, y[:, t], atol=1e-14, rtol=0)
    for a, b in zip(state, final, strict=True):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    net = MTRNN(1, 2, 2, 1, tau_fast=2.0, tau_slow=5.0, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 3, 1, dtype=F64, requires_grad=True)
    u_f0 = torch.randn(2, 2, dtype=F64, requires_grad=True)
    u_s0 = torch.randn(2, 2, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, u_f0, u_s0, *weights):
        state = (u_f0, u_s0, torch.zeros(2, 1, dtype=F64))
        y, (c_fast, c_slow), _ = torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, state))
        return y, c_slow

    assert torch.autograd.gradcheck(fn, (x, u_f0, u_s0, *params))
    assert torch.autograd.gradgradcheck(fn, (x, u_f0, u_s0, *params))


def _two_timescale_signal(generator, B, T):
    """A fast oscillation (period 8) whose amplitude is modulated slowly (period 60); random phases."""
    t = torch.arange(T + 1).float()
    fast_phase = torch.rand(B, 1, generator=generator) * 2 * math.pi
    slow_phase = torch.rand(B, 1, generator=generator) * 2 * math.pi
    s = torch.sin(2 * math.pi * t / 8 + fast_phase) * (0.6 + 0.4 * torch.sin(2 * math.pi * t / 60 + slow_phase))
    return s[:, :-1, None], s[:, 1:, None]


def test_learns_one_step_prediction_of_a_two_timescale_signal():
    torch.manual_seed(4)
    g = torch.Generator().manual_seed(4)
    net = MTRNN(1, 16, 4, 1, tau_fast=2.0, tau_slow=20.0, tau_output=1.0)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(80):
        x, target = _two_timescale_signal(g, 16, 30)
        y, _, _ = net(x)
        loss = ((y[:, 5:] - target[:, 5:]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, target = _two_timescale_signal(g, 128, 40)
    with torch.no_grad():
        y, _, _ = net(x)
    mse = ((y[:, 5:] - target[:, 5:]) ** 2).mean().item()
    assert mse < 0.03 * target.var().item()


@pytest.mark.parametrize("name", ["tau_fast", "tau_slow", "tau_output"])
def test_invalid_time_constants(name):
    with pytest.raises(ValueError, match=name):
        MTRNN(1, 2, 2, 1, **{name: 0.5})


def test_invalid_inputs():
    net = MTRNN(2, 3, 2, 1)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="state"):
        net(torch.zeros(1, 3, 2), (torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(1, 1)))
    with pytest.raises(ValueError, match="fast_size"):
        MTRNN(1, 0, 2, 1)


def test_term_iri():
    assert MTRNN.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/multiple-timescales-rnn"
