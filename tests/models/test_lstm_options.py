"""LSTM options: peephole connections (Gers & Schmidhuber 2000) and layer normalisation (Ba et al. 2016).

Checks: a step written out by hand equals the module; zero peephole weights give
the plain LSTM; each gate is normalised with its own statistics; float64 gradcheck
and gradgradcheck of the cell and the network; names, initialisation and the
torch.nn interop with the options on; the defaults leave torch parity alone.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from rnnref.models.lstm import LN_EPS, LSTM, LSTMCell, group_layer_norm

F64 = torch.float64
T, B, I, H = 4, 3, 3, 5
OPTIONS = [{"peephole": True}, {"layer_norm": True}, {"peephole": True, "layer_norm": True}]
IDS = ["peephole", "layer_norm", "both"]


def _randomise(module: nn.Module) -> None:
    """Random values for every parameter, LN gains and biases included (their init is 1 and 0)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.5)


def _ln(v: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Layer norm of one block of units, written out: (v - mean) / sqrt(biased var + eps) * gain + bias."""
    mean = v.sum(-1, keepdim=True) / v.size(-1)
    var = ((v - mean) ** 2).sum(-1, keepdim=True) / v.size(-1)
    out = (v - mean) / (var + LN_EPS).sqrt() * gain
    return out if bias is None else out + bias


def _by_hand(cell: LSTMCell, x, h, c):
    """One step from the equations in the module docstring, gate by gate (weights split per gate)."""
    gates = {}
    for k, name in enumerate("ifgo"):
        rows = slice(k * H, (k + 1) * H)
        from_x = x @ cell.weight_ih[rows].T
        from_h = h @ cell.weight_hh[rows].T
        if cell.layer_norm:
            from_x = _ln(from_x, cell.ln_ih_weight[rows])
            from_h = _ln(from_h, cell.ln_hh_weight[rows])
        gates[name] = from_x + from_h + cell.bias_ih[rows] + cell.bias_hh[rows]
    if cell.peephole:
        gates["i"] = gates["i"] + cell.weight_ci * c
        gates["f"] = gates["f"] + cell.weight_cf * c
    i, f, g = torch.sigmoid(gates["i"]), torch.sigmoid(gates["f"]), torch.tanh(gates["g"])
    c_t = f * c + i * g
    o_pre = gates["o"] + cell.weight_co * c_t if cell.peephole else gates["o"]
    cell_out = _ln(c_t, cell.ln_c_weight, cell.ln_c_bias) if cell.layer_norm else c_t
    h_t = torch.sigmoid(o_pre) * torch.tanh(cell_out)
    return h_t, c_t


@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_a_step_by_hand_equals_the_cell(options):
    torch.manual_seed(0)
    cell = LSTMCell(I, H, dtype=F64, **options)
    _randomise(cell)
    x, h, c = torch.randn(B, I, dtype=F64), torch.randn(B, H, dtype=F64), torch.randn(B, H, dtype=F64)
    y_t, (h_t, c_t) = cell.step(x, (h, c))
    expected_h, expected_c = _by_hand(cell, x, h, c)
    torch.testing.assert_close(h_t, expected_h, atol=1e-12, rtol=0)
    torch.testing.assert_close(c_t, expected_c, atol=1e-12, rtol=0)
    assert y_t is h_t


def test_zero_peephole_weights_give_the_plain_lstm():
    torch.manual_seed(1)
    plain = LSTM(I, H, num_layers=2, bidirectional=True, dtype=F64)
    peephole = LSTM(I, H, num_layers=2, bidirectional=True, dtype=F64, peephole=True)
    missing, unexpected = peephole.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and sorted(missing) == sorted(n for n, _ in peephole.named_parameters() if "weight_c" in n)
    with torch.no_grad():
        for name in missing:
            getattr(peephole, name).zero_()
    x = torch.randn(T, B, I, dtype=F64, requires_grad=True)
    outputs = [net(x) for net in (plain, peephole)]
    torch.testing.assert_close(outputs[1][0], outputs[0][0], atol=1e-14, rtol=0)
    torch.testing.assert_close(outputs[1][1], outputs[0][1], atol=1e-14, rtol=0)
    # ... and so do the gradients of the shared parameters and the input.
    g_plain = torch.autograd.grad(outputs[0][0].square().sum(), [x, *plain.parameters()])
    shared = [getattr(peephole, n) for n, _ in plain.named_parameters()]
    g_peep = torch.autograd.grad(outputs[1][0].square().sum(), [x, *shared])
    for a, b in zip(g_peep, g_plain, strict=True):
        torch.testing.assert_close(a, b, atol=1e-13, rtol=0)


def test_peephole_weights_act_on_the_cell_as_the_equations_say():
    """w_co sees c_t and w_ci, w_cf see c_{t-1}: with zero weights except the peepholes, the gates read the cell."""
    torch.manual_seed(2)
    cell = LSTMCell(I, H, dtype=F64, peephole=True)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.weight_ci.fill_(2.0)
        cell.weight_co.fill_(-3.0)
    c = torch.randn(B, H, dtype=F64)
    _, (h_t, c_t) = cell.step(torch.randn(B, I, dtype=F64), (torch.zeros(B, H, dtype=F64), c))
    # g = tanh(0) = 0 so i does not matter; f = sigmoid(0) = 1/2.
    torch.testing.assert_close(c_t, 0.5 * c, atol=1e-15, rtol=0)
    torch.testing.assert_close(h_t, torch.sigmoid(-3.0 * c_t) * torch.tanh(c_t), atol=1e-15, rtol=0)


def test_layer_norm_normalises_each_gate_on_its_own():
    torch.manual_seed(3)
    cell = LSTMCell(I, H, dtype=F64, layer_norm=True)
    with torch.no_grad():
        cell.weight_hh.zero_()  # LN of a zero vector is zero: only the input part remains
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
        cell.weight_ih[2 * H : 3 * H] *= 100.0  # the g gate on a much larger scale
        gains = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=F64)  # one gain per gate
        cell.ln_ih_weight.copy_(gains.repeat_interleave(H))
    x = torch.randn(B, I, dtype=F64)
    blocks = cell.gate_preactivations(x, torch.zeros(B, H, dtype=F64)).view(B, 4, H)
    raw = (x @ cell.weight_ih.T).view(B, 4, H)
    var = raw.var(-1, unbiased=False)
    torch.testing.assert_close(blocks.mean(-1), torch.zeros(B, 4, dtype=F64), atol=1e-12, rtol=0)
    # Each gate's own statistics: variance gain^2 * var / (var + eps), whatever the other gates' scale.
    torch.testing.assert_close(blocks.var(-1, unbiased=False), gains**2 * var / (var + LN_EPS), atol=1e-12, rtol=1e-12)
    # One normalisation over all 4H units would leave the small gates near zero instead.
    joint = nn.functional.layer_norm(raw.view(B, 4 * H), (4 * H,)).view(B, 4, H)
    assert joint[:, 0].var(-1, unbiased=False).max() < 0.01


def test_layer_norm_of_the_cell_and_the_helper():
    torch.manual_seed(4)
    v = torch.randn(B, 3 * H, dtype=F64) * torch.tensor([1.0, 10.0, 100.0], dtype=F64).repeat_interleave(H)
    gain, bias = torch.randn(3 * H, dtype=F64), torch.randn(3 * H, dtype=F64)
    got = group_layer_norm(v, gain, bias, groups=3)
    for k in range(3):
        cols = slice(k * H, (k + 1) * H)
        expected = nn.functional.layer_norm(v[:, cols], (H,), gain[cols], bias[cols], eps=LN_EPS)
        torch.testing.assert_close(got[:, cols], expected, atol=1e-12, rtol=0)
    # In the cell: with the output gate saturated open, h_t = tanh(LN(c_t)), unit mean 0 and variance ~1.
    cell = LSTMCell(I, H, dtype=F64, layer_norm=True)
    with torch.no_grad():
        cell.bias_ih[3 * H :] = 1e3
    state = (torch.randn(B, H, dtype=F64), torch.randn(B, H, dtype=F64))
    _, (h_t, c_t) = cell.step(torch.randn(B, I, dtype=F64), state)
    normalised = torch.atanh(h_t)
    torch.testing.assert_close(normalised.mean(-1), torch.zeros(B, dtype=F64), atol=1e-10, rtol=0)
    var = c_t.var(-1, unbiased=False)
    torch.testing.assert_close(normalised.var(-1, unbiased=False), var / (var + LN_EPS), atol=1e-10, rtol=0)


@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_gradcheck_and_gradgradcheck_cell(options):
    torch.manual_seed(5)
    for proj_size in (0, 1):
        cell = LSTMCell(3, 2, proj_size=proj_size, dtype=F64, **options)
        _randomise(cell)
        names = [n for n, _ in cell.named_parameters()]
        x = torch.randn(2, 3, dtype=F64, requires_grad=True)
        h = torch.randn(2, cell.output_size, dtype=F64, requires_grad=True)
        c = torch.randn(2, 2, dtype=F64, requires_grad=True)

        def step(x, h, c, *weights):
            y_t, (_, c_t) = functional_call(cell, dict(zip(names, weights, strict=True)), (x, (h, c)))
            return y_t, c_t

        inputs = (x, h, c, *(p.detach().requires_grad_() for p in cell.parameters()))
        assert torch.autograd.gradcheck(step, inputs)
        assert torch.autograd.gradgradcheck(step, inputs)


def test_gradcheck_network_with_both_options_packed():
    torch.manual_seed(6)
    lstm = LSTM(2, 2, num_layers=2, proj_size=1, dtype=F64, peephole=True, layer_norm=True)
    _randomise(lstm)
    names = [n for n, _ in lstm.named_parameters()]
    x = torch.randn(3, 2, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 2, 1, dtype=F64, requires_grad=True)
    c0 = torch.randn(2, 2, 2, dtype=F64, requires_grad=True)

    def run(x, h0, c0, *weights):
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([2, 3]), enforce_sorted=False)
        output, (h_n, c_n) = functional_call(lstm, dict(zip(names, weights, strict=True)), (packed, (h0, c0)))
        return output.data, h_n, c_n

    assert torch.autograd.gradcheck(run, (x, h0, c0, *(p.detach().requires_grad_() for p in lstm.parameters())))


def test_names_initialisation_and_interop():
    torch.manual_seed(7)
    lstm = LSTM(I, H, num_layers=2, bidirectional=True, peephole=True, layer_norm=True)
    names = [n for n, _ in lstm.named_parameters()]
    plain = [n for n, _ in nn.LSTM(I, H, num_layers=2, bidirectional=True).named_parameters()]
    assert [n for n in names if n in plain] == plain  # torch's parameters first, in torch's order
    per_layer = ["weight_ci", "weight_cf", "weight_co", "ln_ih_weight", "ln_hh_weight", "ln_c_weight", "ln_c_bias"]
    suffixes = ("_l0", "_l0_reverse", "_l1", "_l1_reverse")
    assert set(names) - set(plain) == {name + suffix for name in per_layer for suffix in suffixes}
    bound = 1 / H**0.5
    assert lstm.weight_co_l1_reverse.shape == (H,) and lstm.weight_co_l1_reverse.abs().max() <= bound
    assert torch.equal(lstm.ln_ih_weight_l0, torch.ones(4 * H)) and torch.equal(lstm.ln_c_bias_l1, torch.zeros(H))
    cell = lstm.cell(1, 1)
    assert cell.peephole and cell.layer_norm and cell.ln_c_weight is lstm.ln_c_weight_l1_reverse
    assert "peephole=True" in repr(lstm) and "layer_norm=True" in repr(lstm) and "peephole=True" in repr(cell)
    own = LSTMCell(I, H, layer_norm=True)
    assert torch.equal(own.ln_hh_weight, torch.ones(4 * H)) and own.weight_ci is None
    with pytest.raises(ValueError, match="LSTM has no peephole, layer_norm option"):
        lstm.to_torch()
    with pytest.raises(TypeError, match="peephole must be a bool"):
        LSTM(I, H, peephole="yes")
    with pytest.raises(TypeError, match="layer_norm must be a bool"):
        LSTMCell(I, H, layer_norm=1)
    # Off by default: torch's parameters only, and from_torch leaves the options off.
    copy = LSTM.from_torch(nn.LSTM(I, H))
    assert not copy.peephole and not copy.layer_norm and [n for n, _ in copy.named_parameters()] == [
        n for n, _ in nn.LSTM(I, H).named_parameters()
    ]
