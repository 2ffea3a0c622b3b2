"""GRU: parity with torch.nn.GRU (values and gradients), gradcheck, properties."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.func import functional_call

from rnnref.models.gru import GRU, TERM_IRI, GRUCell

F64 = torch.float64
T, B, I, H = 4, 3, 3, 4  # length, batch, input size, hidden size


def _pair(**config):
    """A torch.nn.GRU at float64 and our copy of it."""
    ref = nn.GRU(I, H, dtype=F64, **config)
    return GRU.from_torch(ref), ref


def _input(batch_first: bool = False):
    return torch.randn(B, T, I, dtype=F64) if batch_first else torch.randn(T, B, I, dtype=F64)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("given_hx", [False, True])
def test_matches_torch(assert_matches_torch, num_layers, bidirectional, batch_first, bias, given_hx):
    torch.manual_seed(0)
    ours, ref = _pair(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    hx = torch.randn(num_layers * D, B, H, dtype=F64) if given_hx else None
    assert_matches_torch(ours, ref, _input(batch_first), hx)


@pytest.mark.parametrize("given_hx", [False, True])
def test_unbatched_matches_torch(assert_matches_torch, given_hx):
    torch.manual_seed(1)
    ours, ref = _pair(num_layers=2, bidirectional=True)
    hx = torch.randn(4, H, dtype=F64) if given_hx else None
    assert_matches_torch(ours, ref, torch.randn(T, I, dtype=F64), hx)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("given_hx", [False, True])
def test_packed_matches_torch(assert_matches_torch, num_layers, bidirectional, given_hx):
    torch.manual_seed(2)
    ours, ref = _pair(num_layers=num_layers, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    hx = torch.randn(num_layers * D, B, H, dtype=F64) if given_hx else None
    lengths = torch.tensor([2, T, 1])  # unsorted, so sorted_indices is a real permutation
    assert_matches_torch(ours, ref, _input(), hx, lengths=lengths)


def test_packed_sorted_without_indices_matches_torch():
    """A PackedSequence built with enforce_sorted=True has no sorted_indices."""
    torch.manual_seed(3)
    ours, ref = _pair(bidirectional=True)
    x = _input()
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([T, 3, 1]))
    (out, h_n), (ref_out, ref_h_n) = ours(packed), ref(packed)
    assert out.sorted_indices is None and torch.equal(out.batch_sizes, ref_out.batch_sizes)
    torch.testing.assert_close(out.data, ref_out.data, atol=1e-10, rtol=0)
    torch.testing.assert_close(h_n, ref_h_n, atol=1e-10, rtol=0)


def test_init_and_names_match_torch():
    torch.manual_seed(4)
    ref = nn.GRU(I, H, num_layers=2, bidirectional=True)
    torch.manual_seed(4)
    ours = GRU(I, H, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for (name, p), q in zip(ours.named_parameters(), ref.parameters(), strict=True):
        assert torch.equal(p, q), name  # same RNG stream in the same order


def test_from_torch_round_trip():
    torch.manual_seed(5)
    ref = nn.GRU(I, H, num_layers=2, bias=False, batch_first=True, bidirectional=True)
    ours = GRU.from_torch(ref)
    back = ours.to_torch()
    assert type(back) is nn.GRU
    for state in (ours.state_dict(), back.state_dict()):
        assert state.keys() == ref.state_dict().keys()
        for key, value in ref.state_dict().items():
            assert torch.equal(state[key], value), key
    with pytest.raises(TypeError, match="expects GRU"):
        GRU.from_torch(nn.LSTM(I, H))


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
    cell = GRUCell(3, 2, dtype=F64)
    params = dict(cell.named_parameters())
    x = torch.randn(2, 3, dtype=F64, requires_grad=True)
    h = torch.randn(2, 2, dtype=F64, requires_grad=True)

    def step(x, h, *weights):
        return functional_call(cell, dict(zip(params, weights, strict=True)), (x, h))[0]

    assert torch.autograd.gradcheck(step, (x, h, *(p.detach().requires_grad_() for p in params.values())))


def test_gradcheck_network_packed():
    torch.manual_seed(8)
    gru = GRU(2, 2, num_layers=2, bidirectional=True, dtype=F64)
    names = [n for n, _ in gru.named_parameters()]
    x = torch.randn(3, 2, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(4, 2, 2, dtype=F64, requires_grad=True)

    def run(x, h0, *weights):
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([2, 3]), enforce_sorted=False)
        output, h_n = functional_call(gru, dict(zip(names, weights, strict=True)), (packed, h0))
        return output.data, h_n

    weights = [p.detach().requires_grad_() for p in gru.parameters()]
    assert torch.autograd.gradcheck(run, (x, h0, *weights))


def test_cell_matches_torch_cell_and_follows_the_protocol():
    torch.manual_seed(9)
    ref = nn.GRUCell(I, H, dtype=F64)
    cell = GRUCell.from_torch(ref)
    assert (cell.input_size, cell.hidden_size, cell.output_size) == (I, H, H)
    assert torch.equal(cell.init_state(B, dtype=F64, device="cpu"), torch.zeros(B, H, dtype=F64))
    x_t = torch.randn(B, I, dtype=F64)
    h = torch.randn(B, H, dtype=F64)
    y_t, h_t = cell.step(x_t, h)
    assert y_t is h_t
    torch.testing.assert_close(h_t, ref(x_t, h), atol=1e-12, rtol=0)


def test_reset_gate_acts_after_the_hidden_product():
    """torch's GRU: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), not tanh(W_in x + W_hn (r * h) + ...).

    With W_hn = 0 but b_hn != 0, the reset gate still reaches n through b_hn; in
    Cho et al.'s placement it would not. So r must change the result.
    """
    torch.manual_seed(10)
    cell = GRUCell(I, H, dtype=F64)
    x_t, h = torch.randn(B, I, dtype=F64), torch.randn(B, H, dtype=F64)
    with torch.no_grad():
        cell.weight_hh.view(3, H, H)[2].zero_()  # W_hn = 0
        cell.bias_hh.view(3, H)[2].fill_(1.0)  # b_hn = 1
    y_open, _ = cell.step(x_t, h)
    with torch.no_grad():
        cell.bias_ih.view(3, H)[0].fill_(-1e3)  # r -> 0
    y_closed, _ = cell.step(x_t, h)
    assert not torch.allclose(y_open, y_closed)


def test_update_gate_one_keeps_the_state():
    torch.manual_seed(11)
    cell = GRUCell(I, H, dtype=F64)
    with torch.no_grad():
        cell.bias_ih.view(3, H)[1].fill_(1e3)  # z -> 1
    h = torch.randn(B, H, dtype=F64)
    y_t, _ = cell.step(torch.randn(B, I, dtype=F64), h)
    torch.testing.assert_close(y_t, h, atol=0, rtol=0)


def test_term_iri():
    assert GRU.term_iri == GRUCell.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/gru"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden_size": 0}, ValueError, "hidden_size must be at least 1"),
        ({"input_size": 0}, ValueError, "input_size must be at least 1"),
        ({"num_layers": -2}, ValueError, "num_layers must be at least 1"),
        ({"dropout": 2}, ValueError, "dropout must be a probability"),
        ({"batch_first": None}, TypeError, "batch_first must be a bool"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=match):
            GRU(**{"input_size": I, "hidden_size": H, **kwargs})
    with pytest.raises(TypeError):
        GRU(I, H, proj_size=2)  # projections are LSTM-only


def test_invalid_forward_inputs():
    gru = GRU(I, H, batch_first=True, dtype=F64)
    x = torch.randn(B, T, I, dtype=F64)
    with pytest.raises(ValueError, match="input_size=3"):
        gru(torch.randn(B, T, 2, dtype=F64))
    with pytest.raises(ValueError, match=r"hx of shape \(1, 3, 4\)"):
        gru(x, torch.zeros(1, B + 1, H, dtype=F64))
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([2, T, 1]), batch_first=True, enforce_sorted=False)
    with pytest.raises(ValueError, match=r"hx of shape \(1, 3, 4\)"):
        gru(packed, torch.zeros(1, 2, H, dtype=F64))
