"""LSTM: parity with torch.nn.LSTM (values and gradients, with projections), gradcheck, properties."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.func import functional_call

from rnnref.models.lstm import LSTM, TERM_IRI, LSTMCell

F64 = torch.float64
T, B, I, H, P = 4, 3, 3, 4, 2  # length, batch, input size, hidden size, projection size


def _pair(**config):
    """A torch.nn.LSTM at float64 and our copy of it."""
    ref = nn.LSTM(I, H, dtype=F64, **config)
    return LSTM.from_torch(ref), ref


def _input(batch_first: bool = False):
    return torch.randn(B, T, I, dtype=F64) if batch_first else torch.randn(T, B, I, dtype=F64)


def _hx(LD: int, proj_size: int, *batch: int):
    """(h_0, c_0): h has O = P or H units, c has H."""
    O = proj_size or H
    return torch.randn(LD, *batch, O, dtype=F64), torch.randn(LD, *batch, H, dtype=F64)


@pytest.mark.parametrize("proj_size", [0, P])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("given_hx", [False, True])
def test_matches_torch(assert_matches_torch, proj_size, num_layers, bidirectional, batch_first, bias, given_hx):
    torch.manual_seed(0)
    ours, ref = _pair(
        num_layers=num_layers,
        proj_size=proj_size,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    D = 2 if bidirectional else 1
    hx = _hx(num_layers * D, proj_size, B) if given_hx else None
    assert_matches_torch(ours, ref, _input(batch_first), hx)


@pytest.mark.parametrize("proj_size", [0, P])
@pytest.mark.parametrize("given_hx", [False, True])
def test_unbatched_matches_torch(assert_matches_torch, proj_size, given_hx):
    torch.manual_seed(1)
    ours, ref = _pair(num_layers=2, bidirectional=True, proj_size=proj_size, batch_first=True)
    hx = _hx(4, proj_size) if given_hx else None
    assert_matches_torch(ours, ref, torch.randn(T, I, dtype=F64), hx)
    output, (h_n, c_n) = ours(torch.randn(T, I, dtype=F64), hx)
    O = proj_size or H
    assert output.shape == (T, 2 * O) and h_n.shape == (4, O) and c_n.shape == (4, H)


@pytest.mark.parametrize("proj_size", [0, P])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("given_hx", [False, True])
def test_packed_matches_torch(assert_matches_torch, proj_size, num_layers, bidirectional, given_hx):
    torch.manual_seed(2)
    ours, ref = _pair(num_layers=num_layers, bidirectional=bidirectional, proj_size=proj_size, batch_first=True)
    D = 2 if bidirectional else 1
    hx = _hx(num_layers * D, proj_size, B) if given_hx else None
    lengths = torch.tensor([2, T, 1])  # unsorted, so sorted_indices is a real permutation
    assert_matches_torch(ours, ref, _input(batch_first=True), hx, lengths=lengths)


def test_packed_final_state_is_at_each_true_last_step():
    torch.manual_seed(3)
    lstm = LSTM(I, H, proj_size=P, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    lengths = [2, T, 1]
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    _, (h_n, c_n) = lstm(packed)
    for b, length in enumerate(lengths):
        _, (h_b, c_b) = lstm(x[:length, b])  # the sequence alone, unbatched
        torch.testing.assert_close(h_n[:, b], h_b, atol=1e-12, rtol=0)
        torch.testing.assert_close(c_n[:, b], c_b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("proj_size", [0, P])
def test_init_and_names_match_torch(proj_size):
    torch.manual_seed(4)
    ref = nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=proj_size)
    torch.manual_seed(4)
    ours = LSTM(I, H, num_layers=2, bidirectional=True, proj_size=proj_size)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for (name, p), q in zip(ours.named_parameters(), ref.parameters(), strict=True):
        assert p.shape == q.shape, name
        assert torch.equal(p, q), name  # same RNG stream in the same order


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_from_torch_round_trip():
    torch.manual_seed(5)
    ref = nn.LSTM(I, H, num_layers=2, proj_size=P, bias=False, batch_first=True, bidirectional=True)
    ours = LSTM.from_torch(ref)
    assert (ours.proj_size, ours.bias, ours.batch_first, ours.num_layers) == (P, False, True, 2)
    back = ours.to_torch()
    assert type(back) is nn.LSTM and back.proj_size == P
    for state in (ours.state_dict(), back.state_dict()):
        assert state.keys() == ref.state_dict().keys()
        for key, value in ref.state_dict().items():
            assert torch.equal(state[key], value), key
    x = torch.randn(B, T, I)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-6, rtol=0)  # float32 here
    with pytest.raises(TypeError, match="expects LSTM"):
        LSTM.from_torch(nn.RNN(I, H))


def test_dropout_in_eval_matches_torch_and_in_training_drops(assert_matches_torch):
    torch.manual_seed(6)
    ours, ref = _pair(num_layers=2, dropout=0.5)
    ours.eval()
    ref.eval()
    x = _input()
    assert_matches_torch(ours, ref, x)
    eval_output, _ = ours.eval()(x)
    train_output, _ = ours.train()(x)
    assert not torch.allclose(train_output, eval_output)


def test_gradcheck_cell():
    torch.manual_seed(7)
    for proj_size in (0, 1):
        cell = LSTMCell(3, 2, proj_size=proj_size, dtype=F64)
        params = dict(cell.named_parameters())
        x = torch.randn(2, 3, dtype=F64, requires_grad=True)
        h = torch.randn(2, cell.output_size, dtype=F64, requires_grad=True)
        c = torch.randn(2, 2, dtype=F64, requires_grad=True)

        def step(x, h, c, *weights):
            y_t, (h_t, c_t) = functional_call(cell, dict(zip(params, weights, strict=True)), (x, (h, c)))
            return y_t, c_t

        weights = [p.detach().requires_grad_() for p in params.values()]
        assert torch.autograd.gradcheck(step, (x, h, c, *weights))


def test_gradcheck_network_packed():
    torch.manual_seed(8)
    lstm = LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1, dtype=F64)
    names = [n for n, _ in lstm.named_parameters()]
    x = torch.randn(3, 2, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(4, 2, 1, dtype=F64, requires_grad=True)
    c0 = torch.randn(4, 2, 3, dtype=F64, requires_grad=True)

    def run(x, h0, c0, *weights):
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([2, 3]), enforce_sorted=False)
        output, (h_n, c_n) = functional_call(lstm, dict(zip(names, weights, strict=True)), (packed, (h0, c0)))
        return output.data, h_n, c_n

    weights = [p.detach().requires_grad_() for p in lstm.parameters()]
    assert torch.autograd.gradcheck(run, (x, h0, c0, *weights))


def test_cell_matches_torch_cell_and_follows_the_protocol():
    torch.manual_seed(9)
    ref = nn.LSTMCell(I, H, dtype=F64)
    cell = LSTMCell.from_torch(ref)
    assert (cell.input_size, cell.hidden_size, cell.output_size) == (I, H, H)
    h0, c0 = cell.init_state(B, dtype=F64, device="cpu")
    assert torch.equal(h0, torch.zeros(B, H, dtype=F64)) and torch.equal(c0, torch.zeros(B, H, dtype=F64))
    x_t = torch.randn(B, I, dtype=F64)
    state = (torch.randn(B, H, dtype=F64), torch.randn(B, H, dtype=F64))
    y_t, (h_t, c_t) = cell.step(x_t, state)
    assert y_t is h_t
    expected_h, expected_c = ref(x_t, state)
    torch.testing.assert_close(h_t, expected_h, atol=1e-12, rtol=0)
    torch.testing.assert_close(c_t, expected_c, atol=1e-12, rtol=0)
    projected = LSTMCell(I, H, proj_size=P)
    h0, c0 = projected.init_state(B)
    assert projected.output_size == P and h0.shape == (B, P) and c0.shape == (B, H) and h0.dtype == torch.float32


def test_cell_view_runs_its_layer_on_the_network_parameters():
    torch.manual_seed(10)
    lstm = LSTM(I, H, num_layers=2, proj_size=P, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    output, _ = lstm(x)
    first, second = lstm.cell(0), lstm.cell(1)
    assert second.input_size == P and second.weight_hr is lstm.weight_hr_l1
    s1, s2 = first.init_state(B), second.init_state(B)
    for t in range(T):
        y1, s1 = first.step(x[t], s1)
        y2, s2 = second.step(y1, s2)
        torch.testing.assert_close(y2, output[t], atol=1e-12, rtol=0)


def test_forget_gate_bias_controls_memory():
    """With f = 1 and i = 0 (saturated gates), the cell state is carried unchanged."""
    torch.manual_seed(11)
    cell = LSTMCell(I, H, dtype=F64)
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        cell.bias_hh.zero_()
        i, f, g, o = cell.bias_ih.view(4, H)
        i.fill_(-1e3)  # input gate closed
        f.fill_(1e3)  # forget gate open: keep
    c0 = torch.randn(B, H, dtype=F64)
    state = (torch.zeros(B, H, dtype=F64), c0)
    for _ in range(T):
        _, state = cell.step(torch.randn(B, I, dtype=F64), state)
    torch.testing.assert_close(state[1], c0, atol=0, rtol=0)


def test_term_iri():
    assert LSTM.term_iri == LSTMCell.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/lstm"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden_size": 0}, ValueError, "hidden_size must be at least 1"),
        ({"num_layers": 0}, ValueError, "num_layers must be at least 1"),
        ({"proj_size": H}, ValueError, "proj_size must be smaller than hidden_size"),
        ({"proj_size": -1}, ValueError, "proj_size must be at least 0"),
        ({"dropout": -0.1}, ValueError, "dropout must be a probability"),
        ({"bidirectional": "yes"}, TypeError, "bidirectional must be a bool"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=match):
            LSTM(**{"input_size": I, "hidden_size": H, **kwargs})


def test_invalid_forward_inputs():
    lstm = LSTM(I, H, num_layers=2, proj_size=P, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    h0, c0 = _hx(2, P, B)
    with pytest.raises(ValueError, match="input_size=3"):
        lstm(torch.randn(T, B, I + 1, dtype=F64))
    with pytest.raises(ValueError, match="hx as a tuple of 2 Tensors"):
        lstm(x, h0)
    with pytest.raises(ValueError, match=r"hx of shape \(2, 3, 2\)"):
        lstm(x, (c0, c0))  # h_0 must have P units, not H
    with pytest.raises(ValueError, match=r"hx of shape \(2, 3, 4\)"):
        lstm(x, (h0, h0))
    with pytest.raises(ValueError, match="dtype"):
        lstm(x, (h0.float(), c0))
