"""Bidirectional RNN: parity with torch.nn.RNN / torch.nn.LSTM (bidirectional=True)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.bidirectional import TERM_IRI, Bidirectional
from rnnref.models.elman import ElmanCell
from rnnref.models.jordan import JordanNetwork
from rnnref.models.lstm import LSTMCell

from tests.models.torch_cell import TorchCell

F64 = torch.float64


def _cells_from(rnn: nn.RNN | nn.LSTM, kind: str = "adapter") -> tuple[nn.Module, nn.Module]:
    """Two protocol cells carrying the forward and reverse weights of a bidirectional torch RNN.

    ``kind`` "adapter" wraps torch's own cells; "rnnref" copies them into this
    package's `ElmanCell` / `LSTMCell`.
    """
    cells = []
    for suffix in ("l0", "l0_reverse"):
        if isinstance(rnn, nn.LSTM):
            cell = nn.LSTMCell(rnn.input_size, rnn.hidden_size, dtype=F64)
        else:
            cell = nn.RNNCell(rnn.input_size, rnn.hidden_size, nonlinearity=rnn.nonlinearity, dtype=F64)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(rnn, f"{name}_{suffix}"))
        if kind == "rnnref":
            cells.append((LSTMCell if isinstance(cell, nn.LSTMCell) else ElmanCell).from_torch(cell))
        else:
            cells.append(TorchCell(cell))
    return cells[0], cells[1]


def _grads(loss, tensors):
    return torch.autograd.grad(loss, tensors)


def _flat_params(rnn: nn.Module) -> list[torch.Tensor]:
    """torch's parameters in the order our adapters list them: forward cell, then backward cell."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(rnn, f"{n}_{s}") for s in ("l0", "l0_reverse") for n in names]


CELL_KINDS = ["adapter", "rnnref"]


@pytest.mark.parametrize("kind", CELL_KINDS)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("B,T,I,H", [(3, 7, 4, 5), (1, 1, 2, 3), (2, 12, 3, 6)])
def test_elman_cells_equal_torch_rnn(kind: str, nonlinearity: str, B: int, T: int, I: int, H: int) -> None:
    torch.manual_seed(B * 100 + T)
    ref = nn.RNN(I, H, nonlinearity=nonlinearity, batch_first=True, bidirectional=True, dtype=F64)
    birnn = Bidirectional(*_cells_from(ref, kind))
    x = torch.randn(B, T, I, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, B, H, dtype=F64)

    y_ref, h_n_ref = ref(x, h0)
    y, (h_fwd, h_bwd) = birnn(x, (h0[0], h0[1]))
    torch.testing.assert_close(y, y_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.stack([h_fwd, h_bwd]), h_n_ref, atol=1e-10, rtol=0)

    # Gradients of the same scalar with respect to the input and every weight.
    w_y = torch.randn_like(y_ref)
    w_h = torch.randn_like(h_n_ref)
    ours = _grads((y * w_y).sum() + (torch.stack([h_fwd, h_bwd]) * w_h).sum(), [x, *birnn.parameters()])
    theirs = _grads((y_ref * w_y).sum() + (h_n_ref * w_h).sum(), [x, *_flat_params(ref)])
    for g, g_ref in zip(ours, theirs, strict=True):
        torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", CELL_KINDS)
@pytest.mark.parametrize("B,T,I,H", [(3, 6, 4, 5), (2, 1, 3, 2)])
def test_lstm_cells_equal_torch_lstm(kind: str, B: int, T: int, I: int, H: int) -> None:
    torch.manual_seed(7 + T)
    ref = nn.LSTM(I, H, batch_first=True, bidirectional=True, dtype=F64)
    birnn = Bidirectional(*_cells_from(ref, kind))
    x = torch.randn(B, T, I, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, B, H, dtype=F64)
    c0 = torch.randn(2, B, H, dtype=F64)

    y_ref, (h_n_ref, c_n_ref) = ref(x, (h0, c0))
    y, ((h_f, c_f), (h_b, c_b)) = birnn(x, ((h0[0], c0[0]), (h0[1], c0[1])))
    torch.testing.assert_close(y, y_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.stack([h_f, h_b]), h_n_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.stack([c_f, c_b]), c_n_ref, atol=1e-10, rtol=0)

    w_y, w_c = torch.randn_like(y_ref), torch.randn_like(c_n_ref)
    ours = _grads((y * w_y).sum() + (torch.stack([c_f, c_b]) * w_c).sum(), [x, *birnn.parameters()])
    theirs = _grads((y_ref * w_y).sum() + (c_n_ref * w_c).sum(), [x, *_flat_params(ref)])
    for g, g_ref in zip(ours, theirs, strict=True):
        torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=0)


def test_default_state_is_zeros() -> None:
    torch.manual_seed(1)
    ref = nn.RNN(3, 4, batch_first=True, bidirectional=True, dtype=F64)
    birnn = Bidirectional(*_cells_from(ref))
    x = torch.randn(2, 5, 3, dtype=F64)
    torch.testing.assert_close(birnn(x)[0], ref(x)[0], atol=1e-10, rtol=0)


def test_output_at_t_sees_the_future_only_through_the_backward_half() -> None:
    """Perturbing x_T changes every backward output but no forward output before T."""
    torch.manual_seed(2)
    birnn = Bidirectional(JordanNetwork(3, 5, 2, dtype=F64), JordanNetwork(3, 4, 3, dtype=F64))
    assert birnn.output_size == 5
    x = torch.randn(2, 6, 3, dtype=F64)
    x2 = x.clone()
    x2[:, -1] += 1.0
    y, _ = birnn(x)
    y2, _ = birnn(x2)
    assert torch.equal(y[:, :-1, :2], y2[:, :-1, :2])  # forward half: causal
    assert (y[:, :, 2:] - y2[:, :, 2:]).abs().amin(dim=-1).amin() > 0  # backward half: every step moved


def test_mismatched_cells_rejected() -> None:
    with pytest.raises(ValueError, match="same input size"):
        Bidirectional(JordanNetwork(3, 4, 2), JordanNetwork(2, 4, 2))
    with pytest.raises(ValueError, match="cell protocol"):
        Bidirectional(nn.RNNCell(3, 4), JordanNetwork(3, 4, 2))
    birnn = Bidirectional(JordanNetwork(3, 4, 2), JordanNetwork(3, 4, 2))
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        birnn(torch.zeros(2, 5, 4))


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/bidirectional-rnn"
    assert Bidirectional.term_iri == TERM_IRI
