"""Stacked RNN: parity with torch.nn.RNN / GRU / LSTM (num_layers=3), and dropout placement."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.bidirectional import Bidirectional
from rnnref.models.elman import ElmanCell
from rnnref.models.gru import GRUCell
from rnnref.models.jordan import JordanNetwork
from rnnref.models.lstm import LSTMCell
from rnnref.models.stacked import TERM_IRI, Stacked

from tests.models.torch_cell import TorchCell

F64 = torch.float64


OURS = {nn.RNNCell: ElmanCell, nn.GRUCell: GRUCell, nn.LSTMCell: LSTMCell}


def _stack_from(rnn: nn.RNNBase, dropout: float = 0.0, kind: str = "adapter") -> Stacked:
    """A Stacked of protocol cells carrying the per-layer weights of a multi-layer torch RNN.

    ``kind`` "adapter" wraps torch's own cells; "rnnref" copies them into this
    package's `ElmanCell` / `GRUCell` / `LSTMCell`.
    """
    cells = []
    for l in range(rnn.num_layers):
        in_size = rnn.input_size if l == 0 else rnn.hidden_size
        if isinstance(rnn, nn.GRU):
            cell = nn.GRUCell(in_size, rnn.hidden_size, dtype=F64)
        elif isinstance(rnn, nn.LSTM):
            cell = nn.LSTMCell(in_size, rnn.hidden_size, dtype=F64)
        else:
            cell = nn.RNNCell(in_size, rnn.hidden_size, nonlinearity=rnn.nonlinearity, dtype=F64)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(rnn, f"{name}_l{l}"))
        cells.append(OURS[type(cell)].from_torch(cell) if kind == "rnnref" else TorchCell(cell))
    return Stacked(cells, dropout=dropout)


def _torch_params(rnn: nn.RNNBase) -> list[torch.Tensor]:
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(rnn, f"{n}_l{l}") for l in range(rnn.num_layers) for n in names]


CELL_KINDS = ["adapter", "rnnref"]


@pytest.mark.parametrize("cells", CELL_KINDS)
@pytest.mark.parametrize("kind", ["gru", "rnn"])
@pytest.mark.parametrize("B,T,I,H", [(3, 6, 4, 5), (1, 1, 2, 3), (2, 9, 3, 4)])
def test_equals_torch_three_layers(cells: str, kind: str, B: int, T: int, I: int, H: int) -> None:
    torch.manual_seed(B + 10 * T)
    ref = (nn.GRU if kind == "gru" else nn.RNN)(I, H, num_layers=3, batch_first=True, dtype=F64)
    stack = _stack_from(ref, kind=cells)
    x = torch.randn(B, T, I, dtype=F64, requires_grad=True)
    h0 = torch.randn(3, B, H, dtype=F64)

    y_ref, h_n_ref = ref(x, h0)
    y, states = stack(x, list(h0))
    torch.testing.assert_close(y, y_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.stack(states), h_n_ref, atol=1e-10, rtol=0)

    w_y, w_h = torch.randn_like(y_ref), torch.randn_like(h_n_ref)
    ours = torch.autograd.grad((y * w_y).sum() + (torch.stack(states) * w_h).sum(), [x, *stack.parameters()])
    theirs = torch.autograd.grad((y_ref * w_y).sum() + (h_n_ref * w_h).sum(), [x, *_torch_params(ref)])
    for g, g_ref in zip(ours, theirs, strict=True):
        torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("cells", CELL_KINDS)
def test_equals_torch_lstm_three_layers(cells: str) -> None:
    torch.manual_seed(11)
    ref = nn.LSTM(3, 4, num_layers=3, batch_first=True, dtype=F64)
    stack = _stack_from(ref, kind=cells)
    x = torch.randn(2, 5, 3, dtype=F64)
    y_ref, (h_n, c_n) = ref(x)
    y, states = stack(x)
    torch.testing.assert_close(y, y_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.stack([h for h, _ in states]), h_n, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.stack([c for _, c in states]), c_n, atol=1e-10, rtol=0)


@pytest.mark.parametrize("cells", CELL_KINDS)
def test_dropout_in_eval_is_identity(cells: str) -> None:
    torch.manual_seed(12)
    ref = nn.GRU(3, 5, num_layers=3, batch_first=True, dropout=0.5, dtype=F64).eval()
    stack = _stack_from(ref, dropout=0.5, kind=cells).eval()
    x = torch.randn(4, 7, 3, dtype=F64)
    y_eval, _ = stack(x)
    torch.testing.assert_close(y_eval, ref(x)[0], atol=1e-10, rtol=0)
    torch.testing.assert_close(y_eval, _stack_from(ref, dropout=0.0)(x)[0], atol=1e-10, rtol=0)
    stack.train()
    y_train, _ = stack(x)
    assert (y_train - y_eval).abs().max() > 1e-3  # and it does something in training mode


def test_dropout_sits_between_layers_not_on_the_input() -> None:
    """With p = 1 in training mode, layers 2..L read zeros: layer 1 sees x, the rest see nothing."""
    torch.manual_seed(13)
    ref = nn.RNN(3, 4, num_layers=2, batch_first=True, dtype=F64)
    stack = _stack_from(ref, dropout=1.0).train()
    x = torch.randn(2, 6, 3, dtype=F64)
    y, states = stack(x)
    top_alone = Stacked([stack.cells[1]])
    y_top_on_zeros, _ = top_alone(torch.zeros(2, 6, 4, dtype=F64))
    torch.testing.assert_close(y, y_top_on_zeros, atol=1e-12, rtol=0)
    first_alone, _ = Stacked([stack.cells[0]])(x)
    torch.testing.assert_close(states[0], first_alone[:, -1], atol=1e-12, rtol=0)  # layer 1 undisturbed


def test_stack_is_a_cell_mixing_kinds() -> None:
    """A stack follows the cell protocol: step-by-step equals forward, and it nests in Bidirectional."""
    torch.manual_seed(14)
    stack = Stacked([JordanNetwork(3, 6, 4, dtype=F64), TorchCell(nn.GRUCell(4, 5, dtype=F64))])
    assert (stack.input_size, stack.output_size, stack.num_layers) == (3, 5, 2)
    x = torch.randn(2, 5, 3, dtype=F64)
    states = stack.init_state(2, dtype=F64, device="cpu")
    ys = []
    for t in range(5):
        y_t, states = stack.step(x[:, t], states)
        ys.append(y_t)
    y, final = stack(x)
    assert torch.equal(torch.stack(ys, 1), y)
    assert all(torch.equal(a, b) for a, b in zip(states, final))
    birnn = Bidirectional(stack, Stacked([TorchCell(nn.RNNCell(3, 2, dtype=F64))]))
    assert birnn(x)[0].shape == (2, 5, 7)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Stacked([])
    with pytest.raises(ValueError, match="cell 1 reads input_size=5"):
        Stacked([JordanNetwork(3, 4, 2), JordanNetwork(5, 4, 2)])
    with pytest.raises(ValueError, match="dropout"):
        Stacked([JordanNetwork(3, 4, 2)], dropout=1.5)
    with pytest.raises(ValueError, match="cell protocol"):
        Stacked([nn.GRUCell(3, 4)])


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/stacked-rnn"
    assert Stacked.term_iri == TERM_IRI
