"""Recurrent multilayer perceptron: all-recurrent = torch.nn.RNN(num_layers=L) + Linear, feedforward
layers = Linear + activation, fast = readable, gradcheck and gradgradcheck, identifies a plant."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.rmlp import TERM_IRI, RecurrentMLP

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_all_recurrent_layers_are_torch_rnn_plus_linear():
    torch.manual_seed(0)
    net = RecurrentMLP(3, [5, 5, 5], output_size=2, dtype=F64)
    rnn = nn.RNN(3, 5, num_layers=3, batch_first=True, dtype=F64)
    out = nn.Linear(5, 2, dtype=F64)
    with torch.no_grad():
        for l in range(3):
            getattr(rnn, f"weight_ih_l{l}").copy_(getattr(net, f"weight_l{l}"))
            getattr(rnn, f"weight_hh_l{l}").copy_(getattr(net, f"weight_rec_l{l}"))
            getattr(rnn, f"bias_ih_l{l}").copy_(getattr(net, f"bias_l{l}"))
            getattr(rnn, f"bias_hh_l{l}").zero_()
        out.weight.copy_(net.weight_out)
        out.bias.copy_(net.bias_out)
    x = torch.randn(4, 6, 3, dtype=F64)
    h0 = torch.randn(3, 4, 5, dtype=F64)
    y, finals = net(x, list(h0))
    h, h_n = rnn(x, h0)
    torch.testing.assert_close(y, out(h), atol=1e-12, rtol=0)
    torch.testing.assert_close(torch.stack(finals), h_n, atol=1e-12, rtol=0)
    weights = torch.randn_like(y)
    (y * weights).sum().backward()
    (out(h) * weights).sum().backward()
    torch.testing.assert_close(net.weight_rec_l1.grad, rnn.weight_hh_l1.grad, atol=1e-10, rtol=0)
    torch.testing.assert_close(net.weight_l0.grad, rnn.weight_ih_l0.grad, atol=1e-10, rtol=0)


def test_feedforward_then_recurrent_subnetwork():
    """recurrent=[False, True]: a Linear + tanh layer, then an Elman layer, then the output."""
    torch.manual_seed(1)
    net = RecurrentMLP(2, [4, 3], output_size=1, recurrent=[False, True], dtype=F64)
    assert not hasattr(net, "weight_rec_l0")
    first = nn.Linear(2, 4, dtype=F64)
    rnn = nn.RNN(4, 3, batch_first=True, dtype=F64)
    with torch.no_grad():
        first.weight.copy_(net.weight_l0)
        first.bias.copy_(net.bias_l0)
        rnn.weight_ih_l0.copy_(net.weight_l1)
        rnn.weight_hh_l0.copy_(net.weight_rec_l1)
        rnn.bias_ih_l0.copy_(net.bias_l1)
        rnn.bias_hh_l0.zero_()
    x = torch.randn(3, 5, 2, dtype=F64)
    y, finals = net(x)
    h, _ = rnn(torch.tanh(first(x)))
    torch.testing.assert_close(y, h @ net.weight_out.T + net.bias_out, atol=1e-12, rtol=0)
    assert len(finals) == 1 and finals[0].shape == (3, 3)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid"])
def test_fast_path_equals_readable_path(nonlinearity):
    torch.manual_seed(2)
    net = RecurrentMLP(2, [4, 3, 5], output_size=2, recurrent=[True, False, True], nonlinearity=nonlinearity,
                       dtype=F64)
    x = torch.randn(3, 6, 2, dtype=F64)
    states = [torch.randn(3, 4, dtype=F64), torch.randn(3, 5, dtype=F64)]
    y_fast, s_fast = net(x, states)
    y_slow, s_slow = net.forward_stepwise(x, states)
    torch.testing.assert_close(y_fast, y_slow, atol=1e-14, rtol=0)
    for a, b in zip(s_fast, s_slow, strict=True):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)


def test_no_output_layer_and_no_bias():
    net = RecurrentMLP(2, [3], bias=False)
    y, _ = net(torch.zeros(1, 4, 2))
    assert y.shape == (1, 4, 3) and torch.equal(y, torch.zeros(1, 4, 3))


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    net = RecurrentMLP(2, [3, 2], output_size=1, recurrent=[True, True], dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 3, 2, dtype=F64, requires_grad=True)
    s0 = torch.randn(2, 3, dtype=F64, requires_grad=True)
    s1 = torch.randn(2, 2, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, s0, s1, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, [s0, s1]))[0]

    assert torch.autograd.gradcheck(fn, (x, s0, s1, *params))
    assert torch.autograd.gradgradcheck(fn, (x, s0, s1, *params))


def _plant(generator, B, T):
    """A plant with an internal state: s_t = 0.8 s_{t-1} + 0.5 u_t, y_t = tanh(2 s_t) (1 + 0.5 u_t)."""
    u = torch.rand(B, T, 1, generator=generator) * 2 - 1
    s, ys = torch.zeros(B, 1), []
    for t in range(T):
        s = 0.8 * s + 0.5 * u[:, t]
        ys.append(torch.tanh(2 * s) * (1 + 0.5 * u[:, t]))
    return u, torch.stack(ys, 1)


def test_identifies_a_nonlinear_plant():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net = RecurrentMLP(1, [8, 8], output_size=1, recurrent=[False, True])
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(150):
        u, y = _plant(g, 32, 25)
        loss = ((net(u)[0] - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    u, y = _plant(g, 256, 50)  # twice as long as in training
    with torch.no_grad():
        mse = ((net(u)[0] - y) ** 2).mean().item()
    assert mse < 0.05 * y.var().item()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layer_sizes": []}, ValueError, "non-empty"),
        ({"layer_sizes": [3, 0]}, ValueError, r"layer_sizes\[1\]"),
        ({"recurrent": [True]}, ValueError, "one per layer"),
        ({"recurrent": [True, 1]}, TypeError, r"recurrent\[1\]"),
        ({"nonlinearity": "gelu"}, ValueError, "nonlinearity"),
        ({"output_size": 0}, ValueError, "output_size"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    config = {"input_size": 2, "layer_sizes": [3, 3], **kwargs}
    with pytest.raises(error, match=match):
        RecurrentMLP(**config)


def test_invalid_inputs():
    net = RecurrentMLP(2, [3, 3], recurrent=[False, True])
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="one state per recurrent layer"):
        net(torch.zeros(1, 4, 2), [torch.zeros(1, 3), torch.zeros(1, 3)])


def test_term_iri():
    assert RecurrentMLP.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/recurrent-multilayer-perceptron"
