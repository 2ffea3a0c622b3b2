"""Fully recurrent network: torch.nn.RNN parity, embedded topologies, fast = readable, gradcheck, learning."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models._recurrent import Cell, run_direction
from rnnref.models.fully_recurrent import TERM_IRI, FullyRecurrentNetwork

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_all_units_match_torch_rnn_with_the_same_weights():
    """All N units of an FRNN are an Elman layer of N units: torch.nn.RNN with W_ih = W, W_hh = U."""
    torch.manual_seed(0)
    net = FullyRecurrentNetwork(3, 5, output_units=[4, 1], dtype=F64)
    ref = nn.RNN(3, 5, batch_first=True, dtype=F64)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(net.weight_in)
        ref.weight_hh_l0.copy_(net.weight)
        ref.bias_ih_l0.copy_(net.bias)
        ref.bias_hh_l0.zero_()
    x = torch.randn(2, 6, 3, dtype=F64)
    y0 = torch.randn(2, 5, dtype=F64)
    o, y = net(x, y0)
    y_ref, h_n = ref(x, y0[None])
    torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(y[:, -1], h_n[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(o, y_ref[..., [4, 1]], atol=1e-12, rtol=0)
    # gradients agree as well
    weights = torch.randn_like(y)
    (y * weights).sum().backward()
    (y_ref * weights).sum().backward()
    torch.testing.assert_close(net.weight.grad, ref.weight_hh_l0.grad, atol=1e-10, rtol=0)
    torch.testing.assert_close(net.weight_in.grad, ref.weight_ih_l0.grad, atol=1e-10, rtol=0)


def test_an_elman_network_with_readout_is_a_masked_frnn():
    """Zeroing connections gives the layered topology: H hidden units plus O output units that read
    the hidden layer one step later (o_t = tanh(V h_{t-1} + c))."""
    torch.manual_seed(1)
    I, H, O = 2, 4, 3
    elman = nn.RNN(I, H, batch_first=True, dtype=F64)
    V = torch.randn(O, H, dtype=F64)
    c = torch.randn(O, dtype=F64)
    mask = torch.zeros(H + O, H + O, dtype=F64)
    mask[:H, :H] = 1  # hidden <- hidden
    mask[H:, :H] = 1  # output <- hidden; nothing reads the output units
    net = FullyRecurrentNetwork(I, H + O, output_units=list(range(H, H + O)), mask=mask, dtype=F64)
    with torch.no_grad():
        net.weight.normal_()  # masked entries get arbitrary values: they must not matter
        net.weight[:H, :H] = elman.weight_hh_l0
        net.weight[H:, :H] = V
        net.weight_in.zero_()
        net.weight_in[:H] = elman.weight_ih_l0
        net.bias[:H] = elman.bias_ih_l0 + elman.bias_hh_l0
        net.bias[H:] = c
    x = torch.randn(3, 7, I, dtype=F64)
    o, _ = net(x)
    h, _ = elman(x)
    expected = torch.tanh(h[:, :-1] @ V.T + c)
    torch.testing.assert_close(o[:, 1:], expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(o[:, 0], torch.tanh(c).expand(3, O), atol=1e-12, rtol=0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_fast_path_equals_readable_path(activation):
    torch.manual_seed(2)
    mask = (torch.rand(6, 6) < 0.5).double()
    net = FullyRecurrentNetwork(3, 6, output_units=2, activation=activation, mask=mask, dtype=F64)
    x = torch.randn(4, 9, 3, dtype=F64)
    y0 = torch.randn(4, 6, dtype=F64)
    fast = net(x, y0)
    slow = net.forward_stepwise(x, y0)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, atol=1e-13, rtol=0)


def test_cell_protocol_and_runner():
    torch.manual_seed(3)
    net = FullyRecurrentNetwork(2, 5, output_units=[3], dtype=F64)
    assert isinstance(net, Cell)
    assert (net.input_size, net.hidden_size, net.output_size) == (2, 5, 1)
    x = torch.randn(3, 4, 2, dtype=F64)
    o, y = net(x)
    o_run, y_T = run_direction(net, x.transpose(0, 1), net.init_state(3))
    torch.testing.assert_close(o_run.transpose(0, 1), o, atol=1e-13, rtol=0)
    torch.testing.assert_close(y_T, y[:, -1], atol=1e-13, rtol=0)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(4)
    net = FullyRecurrentNetwork(2, 3, output_units=2, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 3, 2, dtype=F64, requires_grad=True)
    y0 = torch.randn(2, 3, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, y0, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, y0))

    assert torch.autograd.gradcheck(fn, (x, y0, *params))
    assert torch.autograd.gradgradcheck(fn, (x, y0, *params))


def test_learns_delayed_recall_on_an_output_unit():
    """One output unit among eight must report the input bit from two steps back."""
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(5)
    net = FullyRecurrentNetwork(1, 8, output_units=1)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(80):
        x = torch.randint(0, 2, (32, 12, 1), generator=g).float() * 2 - 1
        o, _ = net(x)
        loss = ((o[:, 2:] - x[:, :-2]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x = torch.randint(0, 2, (256, 12, 1), generator=g).float() * 2 - 1
    with torch.no_grad():
        o, _ = net(x)
    accuracy = (o[:, 2:].sign() == x[:, :-2]).float().mean().item()
    assert accuracy > 0.99
    assert ((o[:, 2:] - x[:, :-2]) ** 2).mean().item() < 0.05


def test_no_bias_and_zero_input_stays_at_rest():
    net = FullyRecurrentNetwork(2, 4, bias=False)
    o, y = net(torch.zeros(1, 5, 2))
    assert torch.equal(y, torch.zeros(1, 5, 4))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"output_units": 0}, "output_units must be between 1"),
        ({"output_units": 9}, "output_units must be between 1"),
        ({"output_units": [1, 1]}, "distinct"),
        ({"output_units": [7]}, "distinct"),
        ({"activation": "relu"}, "activation"),
        ({"mask": torch.ones(3, 3)}, "mask must be a tensor of shape"),
        ({"mask": torch.full((4, 4), 0.5)}, "only 0 and 1"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FullyRecurrentNetwork(2, 4, **kwargs)


def test_invalid_inputs():
    net = FullyRecurrentNetwork(2, 4)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="T = 0"):
        net(torch.zeros(1, 0, 2))
    with pytest.raises(ValueError, match="y0"):
        net(torch.zeros(1, 3, 2), torch.zeros(1, 3))


def test_term_iri():
    assert FullyRecurrentNetwork.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/fully-recurrent-network"
