"""IndRNN: parity with torch.nn.RNN / RNNCell using diagonal recurrent weights, u = 0 is a per-step
Linear + activation, units are independent (diagonal Jacobian with the closed-form product),
fast = readable, gradcheck and gradgradcheck, and the adding problem."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models._recurrent import Cell
from rnnref.models.indrnn import TERM_IRI, IndRNN, IndRNNCell

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("nonlinearity", ["relu", "tanh"])
def test_matches_torch_rnn_with_diagonal_recurrent_weights(nonlinearity):
    torch.manual_seed(0)
    net = IndRNN(3, 5, num_layers=2, nonlinearity=nonlinearity, dtype=F64)
    ref = nn.RNN(3, 5, num_layers=2, nonlinearity=nonlinearity, batch_first=True, dtype=F64)
    with torch.no_grad():
        for l in range(2):
            getattr(ref, f"weight_ih_l{l}").copy_(getattr(net, f"weight_ih_l{l}"))
            getattr(ref, f"weight_hh_l{l}").copy_(torch.diag(getattr(net, f"weight_hh_l{l}")))
            getattr(ref, f"bias_ih_l{l}").copy_(getattr(net, f"bias_ih_l{l}"))
            getattr(ref, f"bias_hh_l{l}").zero_()
    x = torch.randn(4, 6, 3, dtype=F64)
    h0 = torch.rand(2, 4, 5, dtype=F64)
    y, h_n = net(x, h0)
    y_ref, h_ref = ref(x, h0)
    torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_n, h_ref, atol=1e-12, rtol=0)
    weights = torch.randn_like(y)
    (y * weights).sum().backward()
    (y_ref * weights).sum().backward()
    for l in range(2):
        torch.testing.assert_close(
            getattr(net, f"weight_hh_l{l}").grad, getattr(ref, f"weight_hh_l{l}").grad.diagonal(), atol=1e-10, rtol=0
        )
        torch.testing.assert_close(
            getattr(net, f"weight_ih_l{l}").grad, getattr(ref, f"weight_ih_l{l}").grad, atol=1e-10, rtol=0
        )


def test_cell_matches_torch_rnn_cell_and_follows_the_protocol():
    torch.manual_seed(1)
    cell = IndRNNCell(3, 4, dtype=F64)
    assert isinstance(cell, Cell)
    ref = nn.RNNCell(3, 4, nonlinearity="relu", dtype=F64)
    with torch.no_grad():
        ref.weight_ih.copy_(cell.weight_ih)
        ref.weight_hh.copy_(torch.diag(cell.weight_hh))
        ref.bias_ih.copy_(cell.bias_ih)
        ref.bias_hh.zero_()
    x_t = torch.randn(2, 3, dtype=F64)
    h = torch.rand(2, 4, dtype=F64)
    torch.testing.assert_close(cell.step(x_t, h)[1], ref(x_t, h), atol=1e-13, rtol=0)
    torch.testing.assert_close(cell(x_t)[1], ref(x_t), atol=1e-13, rtol=0)


def test_zero_recurrent_weights_is_a_linear_layer_per_step():
    torch.manual_seed(2)
    net = IndRNN(3, 4, dtype=F64)
    with torch.no_grad():
        net.weight_hh_l0.zero_()
    linear = nn.Linear(3, 4, dtype=F64)
    with torch.no_grad():
        linear.weight.copy_(net.weight_ih_l0)
        linear.bias.copy_(net.bias_ih_l0)
    x = torch.randn(2, 5, 3, dtype=F64)
    y, _ = net(x, torch.randn(1, 2, 4, dtype=F64))  # the initial state must not matter
    torch.testing.assert_close(y, torch.relu(linear(x)), atol=1e-13, rtol=0)


def test_each_unit_recurs_only_onto_itself():
    """d h_T / d h_0 is diagonal, and its diagonal is prod_t u_i * phi'(pre_t,i)."""
    torch.manual_seed(3)
    net = IndRNN(2, 5, nonlinearity="tanh", dtype=F64)
    x = torch.randn(1, 8, 2, dtype=F64)
    h0 = torch.randn(1, 1, 5, dtype=F64)

    def final(h0_flat):
        return net(x, h0_flat.view(1, 1, 5))[1].view(5)

    jacobian = torch.autograd.functional.jacobian(final, h0.view(5))
    off_diagonal = jacobian - torch.diag(jacobian.diagonal())
    assert off_diagonal.abs().max() == 0
    y, _ = net(x, h0)
    u = net.weight_hh_l0.detach()
    expected = torch.prod(u * (1 - y[0] ** 2), dim=0)  # tanh' = 1 - tanh^2
    torch.testing.assert_close(jacobian.diagonal(), expected, atol=1e-12, rtol=0)
    # perturbing one unit's initial state leaves every other unit of the layer unchanged at every step
    bumped = h0.clone()
    bumped[..., 2] += 1.0
    y_bumped, _ = net(x, bumped)
    changed = (y_bumped - y).abs().amax(dim=(0, 1)) > 0
    assert changed.tolist() == [False, False, True, False, False]


def test_fast_path_equals_readable_path_and_cell_views_share_parameters():
    torch.manual_seed(4)
    net = IndRNN(3, 4, num_layers=3, dtype=F64)
    x = torch.randn(2, 7, 3, dtype=F64)
    h0 = torch.rand(3, 2, 4, dtype=F64)
    for a, b in zip(net(x, h0), net.forward_stepwise(x, h0), strict=True):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)
    assert net.cell(1).weight_hh is net.weight_hh_l1
    net.forward_stepwise(x, h0)[0].sum().backward()
    assert net.weight_hh_l2.grad is not None


def test_clamp_recurrent_bounds_u():
    net = IndRNN(2, 6, num_layers=2)
    with torch.no_grad():
        net.weight_hh_l1.mul_(10)
    net.clamp_recurrent_(1.05)
    assert all(getattr(net, f"weight_hh_l{l}").abs().max() <= 1.05 for l in range(2))
    with pytest.raises(ValueError, match="bound"):
        net.clamp_recurrent_(-1)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(5)
    net = IndRNN(2, 3, num_layers=2, nonlinearity="tanh", dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 4, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, h0, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, h0))

    assert torch.autograd.gradcheck(fn, (x, h0, *params))
    assert torch.autograd.gradgradcheck(fn, (x, h0, *params))


def _adding(generator, B, T):
    """The adding problem: values in [0, 1] and two marked positions; target = sum of the marked values."""
    values = torch.rand(B, T, generator=generator)
    marks = torch.zeros(B, T)
    rows = torch.arange(B)
    marks[rows, torch.randint(0, T // 2, (B,), generator=generator)] = 1
    marks[rows, torch.randint(T // 2, T, (B,), generator=generator)] = 1
    return torch.stack([values, marks], -1), (values * marks).sum(1)


def test_learns_the_adding_problem():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    T = 20
    net = IndRNN(2, 32, num_layers=2)
    readout = nn.Linear(32, 1)
    optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=0.01)
    for _ in range(200):
        x, target = _adding(g, 32, T)
        loss = ((readout(net(x)[0][:, -1])[:, 0] - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        net.clamp_recurrent_(2 ** (1 / T))
    x, target = _adding(g, 512, T)
    with torch.no_grad():
        mse = ((readout(net(x)[0][:, -1])[:, 0] - target) ** 2).mean().item()
    assert mse < 0.1 * target.var().item()  # predicting the mean scores 1.0 times the variance


def test_invalid_arguments_and_inputs():
    with pytest.raises(ValueError, match="nonlinearity"):
        IndRNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="nonlinearity"):
        IndRNNCell(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="num_layers"):
        IndRNN(2, 3, num_layers=0)
    net = IndRNN(2, 3, num_layers=2)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="h0"):
        net(torch.zeros(1, 4, 2), torch.zeros(1, 1, 3))
    with pytest.raises(ValueError, match="no cell at layer=2"):
        net.cell(2)


def test_term_iri():
    assert IndRNN.term_iri == IndRNNCell.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/indrnn"
