"""Hierarchical RNN: k = 1 without top-down is a two-layer torch.nn.RNN; the upper level only moves
at segment ends and equals an RNN run on the lower states at those ends; fast = readable;
gradcheck and gradgradcheck; learns to report the previous segment's mean."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.hierarchical import TERM_IRI, HierarchicalRNN

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _copy_into_rnn(net: HierarchicalRNN, rnn: nn.RNN) -> None:
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(net.weight_x)
        rnn.weight_hh_l0.copy_(net.weight_lower)
        rnn.bias_ih_l0.copy_(net.bias_lower)
        rnn.bias_hh_l0.zero_()
        rnn.weight_ih_l1.copy_(net.weight_up)
        rnn.weight_hh_l1.copy_(net.weight_upper)
        rnn.bias_ih_l1.copy_(net.bias_upper)
        rnn.bias_hh_l1.zero_()


def test_period_one_without_top_down_is_two_stacked_torch_rnns():
    """Different widths (torch.nn.RNN needs one width for all layers): two single-layer RNNs, stacked."""
    torch.manual_seed(0)
    net = HierarchicalRNN(3, 5, 4, period=1, top_down=False, dtype=F64)
    lower = nn.RNN(3, 5, batch_first=True, dtype=F64)
    upper = nn.RNN(5, 4, batch_first=True, dtype=F64)
    with torch.no_grad():
        for rnn, (w_ih, w_hh, b) in ((lower, ("weight_x", "weight_lower", "bias_lower")),
                                     (upper, ("weight_up", "weight_upper", "bias_upper"))):
            rnn.weight_ih_l0.copy_(getattr(net, w_ih))
            rnn.weight_hh_l0.copy_(getattr(net, w_hh))
            rnn.bias_ih_l0.copy_(getattr(net, b))
            rnn.bias_hh_l0.zero_()
    x = torch.randn(2, 6, 3, dtype=F64)
    y, (h_lower, h_upper) = net(x)
    lower_ref, _ = lower(x)
    upper_ref, _ = upper(lower_ref)
    torch.testing.assert_close(h_lower, lower_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_upper, upper_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(y, torch.cat([lower_ref, upper_ref], -1), atol=1e-12, rtol=0)


def test_same_width_period_one_matches_torch_two_layer_rnn_directly():
    torch.manual_seed(1)
    net = HierarchicalRNN(3, 4, 4, period=1, top_down=False, dtype=F64)
    rnn = nn.RNN(3, 4, num_layers=2, batch_first=True, dtype=F64)
    _copy_into_rnn(net, rnn)
    x = torch.randn(2, 5, 3, dtype=F64)
    _, (h_lower, h_upper) = net(x)
    h, h_n = rnn(x)
    torch.testing.assert_close(h_upper, h, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_lower[:, -1], h_n[0], atol=1e-12, rtol=0)


def test_upper_level_moves_only_at_segment_ends_and_is_an_rnn_over_them():
    torch.manual_seed(2)
    net = HierarchicalRNN(2, 5, 3, period=3, top_down=False, dtype=F64)
    x = torch.randn(2, 12, 2, dtype=F64)
    boundaries = torch.zeros(2, 12, dtype=torch.bool)
    boundaries[0, [1, 5, 6, 11]] = True  # irregular segments, different per sequence
    boundaries[1, [3, 9]] = True
    for bounds in (None, boundaries):
        _, (h_lower, h_upper) = net(x, boundaries=bounds)
        ends = net.default_boundaries(2, 12) if bounds is None else bounds
        moved = (h_upper.diff(dim=1).abs().amax(-1) > 0)
        assert torch.equal(moved, ends[:, 1:])  # changes exactly where a segment ends
        upper_rnn = nn.RNN(5, 3, batch_first=True, dtype=F64)
        with torch.no_grad():
            upper_rnn.weight_ih_l0.copy_(net.weight_up)
            upper_rnn.weight_hh_l0.copy_(net.weight_upper)
            upper_rnn.bias_ih_l0.copy_(net.bias_upper)
            upper_rnn.bias_hh_l0.zero_()
        for b in range(2):
            at_ends = h_lower[b][ends[b]]  # the lower states where segments end
            expected, _ = upper_rnn(at_ends[None])
            torch.testing.assert_close(h_upper[b][ends[b]], expected[0], atol=1e-12, rtol=0)
    assert net.default_boundaries(1, 7).tolist() == [[False, False, True, False, False, True, False]]


def test_top_down_feedback_reaches_the_lower_level():
    torch.manual_seed(3)
    net = HierarchicalRNN(1, 3, 2, period=2, dtype=F64)
    x = torch.randn(1, 4, 1, dtype=F64)
    state = (torch.zeros(1, 3, dtype=F64), torch.ones(1, 2, dtype=F64))
    _, (lower_a, _) = net(x, state)
    _, (lower_b, _) = net(x, (state[0], -state[1]))
    assert (lower_a[:, 0] - lower_b[:, 0]).abs().max() > 1e-3
    no_feedback = HierarchicalRNN(1, 3, 2, period=2, top_down=False, dtype=F64)
    _, (lower_c, _) = no_feedback(x, state)
    _, (lower_d, _) = no_feedback(x, (state[0], -state[1]))
    torch.testing.assert_close(lower_c, lower_d, atol=0, rtol=0)


def test_fast_path_equals_readable_path():
    torch.manual_seed(4)
    net = HierarchicalRNN(2, 4, 3, output_size=2, period=3, dtype=F64)
    x = torch.randn(3, 10, 2, dtype=F64)
    state = (torch.randn(3, 4, dtype=F64), torch.randn(3, 3, dtype=F64))
    y_fast, (l_fast, u_fast) = net(x, state)
    y_slow, (l_slow, u_slow) = net.forward_stepwise(x, state)
    for a, b in ((y_fast, y_slow), (l_fast, l_slow), (u_fast, u_slow)):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(5)
    net = HierarchicalRNN(1, 2, 2, output_size=1, period=2, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 4, 1, dtype=F64, requires_grad=True)
    h_l = torch.randn(2, 2, dtype=F64, requires_grad=True)
    h_u = torch.randn(2, 2, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, h_l, h_u, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (x, (h_l, h_u)))[0]

    assert torch.autograd.gradcheck(fn, (x, h_l, h_u, *params))
    assert torch.autograd.gradgradcheck(fn, (x, h_l, h_u, *params))


def _previous_segment_mean(generator, B, T, k):
    """Inputs uniform in [-1, 1]; at every step of segment s the target is the mean of segment s - 1."""
    x = torch.rand(B, T, 1, generator=generator) * 2 - 1
    means = x.view(B, T // k, k).mean(-1)
    previous = torch.cat([torch.zeros(B, 1), means[:, :-1]], 1)
    return x, previous.repeat_interleave(k, 1)[..., None]


def test_learns_to_report_the_previous_segment_mean():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    k = 5
    net = HierarchicalRNN(1, 16, 8, output_size=1, period=k)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(80):
        x, y = _previous_segment_mean(g, 32, 30, k)
        loss = ((net(x)[0][:, k:] - y[:, k:]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = _previous_segment_mean(g, 256, 60, k)  # twice as long as in training
    with torch.no_grad():
        mse = ((net(x)[0][:, k:] - y[:, k:]) ** 2).mean().item()
    assert mse < 0.05 * y[:, k:].var().item()


def test_invalid_arguments_and_inputs():
    with pytest.raises(ValueError, match="period"):
        HierarchicalRNN(1, 2, 2, period=0)
    with pytest.raises(TypeError, match="top_down"):
        HierarchicalRNN(1, 2, 2, top_down=None)
    net = HierarchicalRNN(2, 3, 2)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="state"):
        net(torch.zeros(1, 4, 2), (torch.zeros(1, 3), torch.zeros(1, 3)))
    with pytest.raises(ValueError, match="boundaries"):
        net(torch.zeros(1, 4, 2), boundaries=torch.zeros(1, 4))


def test_term_iri():
    assert HierarchicalRNN.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/hierarchical-rnn"
