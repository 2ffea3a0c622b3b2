"""Elman network: parity with torch.nn.RNN (values and gradients), gradcheck, properties."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch import nn
from torch.func import functional_call

from rnnref.models._recurrent import Cell, run_direction, run_layers
from rnnref.models.elman import RNN, TERM_IRI, ElmanCell

F64 = torch.float64
T, B, I, H = 4, 3, 3, 4  # length, batch, input size, hidden size


def _pair(**config):
    """A torch.nn.RNN at float64 and our copy of it."""
    ref = nn.RNN(I, H, dtype=F64, **config)
    return RNN.from_torch(ref), ref


def _input(batch_first: bool = False):
    return torch.randn(B, T, I, dtype=F64) if batch_first else torch.randn(T, B, I, dtype=F64)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("given_hx", [False, True])
def test_matches_torch(assert_matches_torch, nonlinearity, num_layers, bidirectional, batch_first, bias, given_hx):
    torch.manual_seed(0)
    ours, ref = _pair(
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    D = 2 if bidirectional else 1
    hx = torch.randn(num_layers * D, B, H, dtype=F64) if given_hx else None
    assert_matches_torch(ours, ref, _input(batch_first), hx)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("given_hx", [False, True])
def test_unbatched_matches_torch(assert_matches_torch, batch_first, given_hx):
    torch.manual_seed(1)
    ours, ref = _pair(num_layers=2, bidirectional=True, batch_first=batch_first)
    hx = torch.randn(4, H, dtype=F64) if given_hx else None
    assert_matches_torch(ours, ref, torch.randn(T, I, dtype=F64), hx)
    output, h_n = ours(torch.randn(T, I, dtype=F64), hx)
    assert output.shape == (T, 2 * H) and h_n.shape == (4, H)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("given_hx", [False, True])
def test_packed_matches_torch(assert_matches_torch, num_layers, bidirectional, batch_first, given_hx):
    torch.manual_seed(2)
    ours, ref = _pair(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    D = 2 if bidirectional else 1
    hx = torch.randn(num_layers * D, B, H, dtype=F64) if given_hx else None
    lengths = torch.tensor([2, T, 1])  # unsorted, so sorted_indices is a real permutation
    assert_matches_torch(ours, ref, _input(batch_first), hx, lengths=lengths)


def test_packed_final_state_is_at_each_true_last_step():
    torch.manual_seed(3)
    rnn = RNN(I, H, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    lengths = [2, T, 1]
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    _, h_n = rnn(packed)
    for b, length in enumerate(lengths):
        _, h_b = rnn(x[:length, b])  # the sequence alone, unbatched
        torch.testing.assert_close(h_n[:, b], h_b, atol=1e-12, rtol=0)


def test_init_and_names_match_torch():
    torch.manual_seed(4)
    ref = nn.RNN(I, H, num_layers=2, bidirectional=True)
    torch.manual_seed(4)
    ours = RNN(I, H, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for (name, p), q in zip(ours.named_parameters(), ref.parameters(), strict=True):
        assert p.shape == q.shape, name
        assert torch.equal(p, q), name  # same RNG stream in the same order
    bound = 1 / H**0.5
    assert all(p.abs().max() <= bound for p in ours.parameters())


def test_from_torch_round_trip():
    torch.manual_seed(5)
    ref = nn.RNN(I, H, num_layers=2, nonlinearity="relu", bias=False, batch_first=True, bidirectional=True)
    ours = RNN.from_torch(ref)
    assert (ours.nonlinearity, ours.bias, ours.batch_first, ours.num_layers) == ("relu", False, True, 2)
    back = ours.to_torch()
    assert type(back) is nn.RNN and back.nonlinearity == "relu"
    for state in (ours.state_dict(), back.state_dict()):
        assert state.keys() == ref.state_dict().keys()
        for key, value in ref.state_dict().items():
            assert torch.equal(state[key], value), key
    x = torch.randn(B, T, I)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-6, rtol=0)  # float32 here
    with pytest.raises(TypeError, match="expects RNN"):
        RNN.from_torch(nn.GRU(I, H))


def test_dropout_in_eval_matches_torch_and_in_training_drops(assert_matches_torch):
    torch.manual_seed(6)
    ours, ref = _pair(num_layers=2, dropout=0.5)
    ours.eval()
    ref.eval()
    x = _input()
    assert_matches_torch(ours, ref, x)
    ours.train()
    eval_output, _ = ours.eval()(x)
    train_output, _ = ours.train()(x)
    assert not torch.allclose(train_output, eval_output)
    # Dropout acts between layers only: the first layer's final state is unaffected.
    torch.testing.assert_close(ours.train()(x)[1][0], ours.eval()(x)[1][0], atol=0, rtol=0)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers=1"):
        RNN(I, H, dropout=0.3)


def test_gradcheck_cell():
    torch.manual_seed(7)
    for nonlinearity in ("tanh", "relu"):
        cell = ElmanCell(3, 2, nonlinearity=nonlinearity, dtype=F64)
        params = dict(cell.named_parameters())
        x = torch.randn(2, 3, dtype=F64, requires_grad=True)
        h = torch.randn(2, 2, dtype=F64, requires_grad=True)

        def step(x, h, *weights):
            return functional_call(cell, dict(zip(params, weights, strict=True)), (x, h))[0]

        assert torch.autograd.gradcheck(step, (x, h, *(p.detach().requires_grad_() for p in params.values())))


def test_gradcheck_network_packed():
    torch.manual_seed(8)
    rnn = RNN(2, 2, num_layers=2, bidirectional=True, dtype=F64)
    names = [n for n, _ in rnn.named_parameters()]
    x = torch.randn(3, 2, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(4, 2, 2, dtype=F64, requires_grad=True)

    def run(x, h0, *weights):
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([2, 3]), enforce_sorted=False)
        output, h_n = functional_call(rnn, dict(zip(names, weights, strict=True)), (packed, h0))
        return output.data, h_n

    weights = [p.detach().requires_grad_() for p in rnn.parameters()]
    assert torch.autograd.gradcheck(run, (x, h0, *weights))


def test_cell_matches_torch_cell_and_follows_the_protocol():
    torch.manual_seed(9)
    ref = nn.RNNCell(I, H, nonlinearity="relu", dtype=F64)
    cell = ElmanCell.from_torch(ref)
    assert (cell.input_size, cell.hidden_size, cell.output_size) == (I, H, H)
    h0 = cell.init_state(B, dtype=F64, device="cpu")
    assert torch.equal(h0, torch.zeros(B, H, dtype=F64))
    x_t = torch.randn(B, I, dtype=F64)
    h = torch.randn(B, H, dtype=F64)
    y_t, h_t = cell.step(x_t, h)
    assert y_t is h_t
    torch.testing.assert_close(h_t, ref(x_t, h), atol=1e-12, rtol=0)
    torch.testing.assert_close(cell(x_t)[0], ref(x_t), atol=1e-12, rtol=0)


def test_cell_view_runs_its_layer_on_the_network_parameters():
    torch.manual_seed(10)
    rnn = RNN(I, H, bidirectional=True, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    output, _ = rnn(x)
    backward = rnn.cell(0, direction=1)
    assert backward.weight_ih is rnn.weight_ih_l0_reverse
    h = backward.init_state(B)
    for t in reversed(range(T)):
        y_t, h = backward.step(x[t], h)
        torch.testing.assert_close(y_t, output[t, :, H:], atol=1e-12, rtol=0)
    h.sum().backward()
    assert rnn.weight_hh_l0_reverse.grad is not None and rnn.weight_hh_l0.grad is None


def test_term_iri():
    assert RNN.term_iri == ElmanCell.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/elman-network"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden_size": 0}, ValueError, "hidden_size must be at least 1"),
        ({"input_size": -1}, ValueError, "input_size must be at least 1"),
        ({"num_layers": 0}, ValueError, "num_layers must be at least 1"),
        ({"nonlinearity": "sigmoid"}, ValueError, "nonlinearity must be 'tanh' or 'relu'"),
        ({"dropout": 1.5}, ValueError, "dropout must be a probability"),
        ({"dropout": True}, ValueError, "dropout must be a probability"),
        ({"hidden_size": 2.0}, TypeError, "hidden_size must be an int"),
        ({"bias": 1}, TypeError, "bias must be a bool"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    config = {"input_size": I, "hidden_size": H, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=match):
            RNN(**config)
    cell_config = {k: v for k, v in config.items() if k in ("input_size", "hidden_size", "nonlinearity", "bias")}
    if cell_config != {"input_size": I, "hidden_size": H}:
        with pytest.raises(error, match=match):
            ElmanCell(**cell_config)


def test_invalid_forward_inputs():
    rnn = RNN(I, H, num_layers=2, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    with pytest.raises(ValueError, match="input_size=3"):
        rnn(torch.randn(T, B, I + 1, dtype=F64))
    with pytest.raises(ValueError, match="2-D .* or 3-D input, got 4-D"):
        rnn(x[None])
    with pytest.raises(ValueError, match="dtype"):
        rnn(x.float())
    with pytest.raises(ValueError, match=r"hx of shape \(2, 3, 4\)"):
        rnn(x, torch.zeros(1, B, H, dtype=F64))
    with pytest.raises(ValueError, match=r"hx of shape \(2, 4\) for this unbatched input"):
        rnn(x[:, 0], torch.zeros(2, B, H, dtype=F64))
    with pytest.raises(ValueError, match="hx as a Tensor"):
        rnn(x, (torch.zeros(2, B, H, dtype=F64),))
    with pytest.raises(ValueError, match="length 0"):
        rnn(x[:0])
    with pytest.raises(TypeError, match="Tensor or PackedSequence"):
        rnn(x.tolist())
    with pytest.raises(ValueError, match=r"x_t of shape \(B, 3\)"):
        ElmanCell(I, H)(torch.randn(B, I + 1))
    with pytest.raises(ValueError, match="no cell at layer=2"):
        rnn.cell(2)


def test_deepcopy_and_dtype_conversion_keep_working():
    torch.manual_seed(12)
    rnn = RNN(I, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, I)
    twin = copy.deepcopy(rnn)
    torch.testing.assert_close(twin(x)[0], rnn(x)[0], atol=0, rtol=0)
    rnn.double()
    assert rnn.cell(1, 1).weight_hh.dtype == F64
    torch.testing.assert_close(rnn(x.double())[0], twin(x)[0].double(), atol=1e-6, rtol=0)


# -- the generic runner (rnnref.models._recurrent), exercised through Elman cells ----


class _Accumulator:
    """A minimal protocol cell that is not an nn.Module: h_t = h_{t-1} + x_t."""

    input_size = hidden_size = output_size = 2

    def init_state(self, batch_size, *, dtype=None, device=None):
        return torch.zeros(batch_size, 2, dtype=dtype, device=device)

    def step(self, x_t, state):
        h_t = state + x_t
        return h_t, h_t


def test_runner_accepts_any_protocol_cell():
    cell = _Accumulator()
    assert isinstance(cell, Cell) and isinstance(ElmanCell(1, 1), Cell)
    x = torch.randn(T, B, 2, dtype=F64)
    zero = cell.init_state(B, dtype=F64)
    y, h_T = run_direction(cell, x, zero)
    torch.testing.assert_close(y, x.cumsum(0), atol=1e-12, rtol=0)
    y, finals = run_layers([[cell, cell]], x, [zero, zero])
    backward_sums = x.flip(0).cumsum(0).flip(0)
    torch.testing.assert_close(y, torch.cat([x.cumsum(0), backward_sums], dim=-1), atol=1e-12, rtol=0)
    torch.testing.assert_close(finals[1], x.sum(0), atol=1e-12, rtol=0)


def test_runner_with_lengths_holds_state_and_zeroes_padding():
    cell = _Accumulator()
    x = torch.randn(T, B, 2, dtype=F64)
    lengths = torch.tensor([2, T, 1])
    zero = cell.init_state(B, dtype=F64)
    for reverse in (False, True):
        y, h_T = run_direction(cell, x, zero, reverse=reverse, lengths=lengths)
        for b, length in enumerate(lengths.tolist()):
            torch.testing.assert_close(h_T[b], x[:length, b].sum(0), atol=1e-12, rtol=0)
            assert torch.equal(y[length:, b], torch.zeros_like(y[length:, b]))
