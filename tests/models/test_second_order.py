"""Second-order RNN: each step equals torch.nn.Bilinear, one-hot inputs select one transition matrix
per symbol, fast = readable, gradcheck and gradgradcheck, Tomita membership against regular
expressions, and learning Tomita grammar 4 with generalisation to longer strings."""

from __future__ import annotations

import itertools
import re

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from rnnref.models.second_order import TERM_IRI, SecondOrderRNN, tomita

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
def test_every_step_is_torch_bilinear(nonlinearity):
    torch.manual_seed(0)
    net = SecondOrderRNN(3, 5, nonlinearity=nonlinearity, dtype=F64)
    bilinear = nn.Bilinear(5, 3, 5, dtype=F64)
    with torch.no_grad():
        bilinear.weight.copy_(net.weight)
        bilinear.bias.copy_(net.bias)
    phi = torch.sigmoid if nonlinearity == "sigmoid" else torch.tanh
    x = torch.randn(4, 6, 3, dtype=F64)
    h0 = torch.randn(4, 5, dtype=F64)
    h, h_T = net(x, h0)
    prev = h0
    for t in range(6):
        prev = phi(bilinear(prev, x[:, t]))
        torch.testing.assert_close(h[:, t], prev, atol=1e-13, rtol=0)
    torch.testing.assert_close(h_T, prev, atol=1e-13, rtol=0)


def test_one_hot_input_selects_a_transition_matrix_per_symbol():
    torch.manual_seed(1)
    net = SecondOrderRNN(3, 4, bias=False, dtype=F64)
    symbols = torch.tensor([[2, 0, 1, 1, 2]])
    h, _ = net(F.one_hot(symbols, 3).to(F64))
    prev = net.init_state(1)
    assert prev.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    for t, k in enumerate(symbols[0].tolist()):
        prev = torch.sigmoid(prev @ net.weight[:, :, k].T)
        torch.testing.assert_close(h[:, t], prev, atol=1e-14, rtol=0)


def test_fast_path_equals_readable_path():
    torch.manual_seed(2)
    net = SecondOrderRNN(3, 4, dtype=F64)
    x = torch.randn(2, 7, 3, dtype=F64)
    for a, b in zip(net(x), net.forward_stepwise(x), strict=True):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    net = SecondOrderRNN(2, 3, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 3, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, h0, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, h0))[0]

    assert torch.autograd.gradcheck(fn, (x, h0, *params))
    assert torch.autograd.gradgradcheck(fn, (x, h0, *params))


_REGEX = {1: r"1*", 2: r"(10)*", 4: r"(?!.*000).*", 7: r"0*1*0*1*"}


def test_tomita_membership_against_regular_expressions_and_counts():
    for length in range(9):
        for bits in itertools.product("01", repeat=length):
            s = "".join(bits)
            for grammar, pattern in _REGEX.items():
                assert tomita(grammar, s) == bool(re.fullmatch(pattern, s)), (grammar, s)
            assert tomita(5, s) == (s.count("0") % 2 == 0 and s.count("1") % 2 == 0)
            assert tomita(6, [int(c) for c in s]) == ((s.count("0") - s.count("1")) % 3 == 0)
    with pytest.raises(ValueError, match="grammar must be one of"):
        tomita(3, "01")
    with pytest.raises(ValueError, match="only 0s and 1s"):
        tomita(1, "012")


def _balanced(generator, grammar, size, length):
    """Half accepted, half rejected random strings of one length (length >= 3 for grammar 4)."""
    strings, labels, accepted = [], [], 0
    while len(strings) < size:
        s = torch.randint(0, 2, (length,), generator=generator)
        ok = tomita(grammar, s.tolist())
        if ok and accepted < size // 2 or not ok and len(strings) - accepted < size - size // 2:
            strings.append(s)
            labels.append(float(ok))
            accepted += ok
    return F.one_hot(torch.stack(strings), 2).float(), torch.tensor(labels)


def test_learns_tomita_4_and_generalises_to_longer_strings():
    torch.manual_seed(4)
    g = torch.Generator().manual_seed(4)
    net = SecondOrderRNN(2, 4)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    for _ in range(150):
        length = int(torch.randint(3, 11, (1,), generator=g))  # trained on lengths 3..10
        x, y = _balanced(g, 4, 32, length)
        loss = F.binary_cross_entropy(net.accept_probability(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for length in (12, 30):
        x, y = _balanced(g, 4, 200, length)
        with torch.no_grad():
            accuracy = ((net.accept_probability(x) > 0.5).float() == y).float().mean().item()
        assert accuracy > 0.97, length


def test_invalid_arguments_and_inputs():
    with pytest.raises(ValueError, match="nonlinearity"):
        SecondOrderRNN(2, 3, nonlinearity="relu")
    with pytest.raises(TypeError, match="bias must be a bool"):
        SecondOrderRNN(2, 3, bias=1)
    net = SecondOrderRNN(2, 3)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="h0"):
        net(torch.zeros(1, 4, 2), torch.zeros(1, 2))


def test_term_iri():
    assert SecondOrderRNN.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/second-order-rnn"
