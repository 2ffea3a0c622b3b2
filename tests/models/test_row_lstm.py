"""Row LSTM: exact receptive field (a triangle above, nothing after the pixel), gradients, masked conv."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from rnnref.models.row_lstm import TERM_IRI, MaskedConv2d, RowLSTM

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def dependency_map(fn, x: torch.Tensor, i: int, j: int) -> torch.Tensor:
    """(R, W) bool: which input pixels the output at (i, j) depends on (autograd Jacobian is nonzero)."""
    x = x.detach().clone().requires_grad_()
    (grad,) = torch.autograd.grad(fn(x)[..., i, j].sum(), x)
    return grad.abs().sum(dim=(0, 1)) > 0


def raster_before(R: int, W: int, i: int, j: int, *, inclusive: bool) -> torch.Tensor:
    """(R, W) bool: the pixels before (i, j) in raster order (and (i, j) itself if inclusive)."""
    index = torch.arange(R * W).reshape(R, W)
    return index <= i * W + j if inclusive else index < i * W + j


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/row-lstm"
    assert RowLSTM.term_iri == TERM_IRI


def test_masked_convolution_masks() -> None:
    a = MaskedConv2d(1, 1, 3, mask="A")
    b = MaskedConv2d(1, 1, (1, 5), mask="B")
    assert a.mask.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.mask.tolist() == [[1, 1, 1, 0, 0]]
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2d(1, 1, 2, mask="A")
    with pytest.raises(ValueError, match="mask"):
        MaskedConv2d(1, 1, 3, mask="C")


@pytest.mark.parametrize("i, j", [(0, 0), (0, 4), (3, 0), (3, 3), (5, 6)])
def test_receptive_field_is_the_triangle_above_and_nothing_after(i: int, j: int) -> None:
    """With k = k_s = 3, h at (i, j) reads x at (i, j-1..j) and, d rows up, x at columns j-d-1 .. j+d."""
    torch.manual_seed(0)
    layer = RowLSTM(2, 3, dtype=F64)
    R, W = 6, 7
    depends = dependency_map(layer, torch.randn(1, 2, R, W, dtype=F64), i, j)
    expected = torch.zeros(R, W, dtype=torch.bool)
    for d in range(i + 1):
        expected[i - d, max(0, j - d - 1) : min(W, j + d + 1)] = True
    assert torch.equal(depends, expected)
    assert not torch.any(depends & ~raster_before(R, W, i, j, inclusive=True))  # never a later pixel


def test_perturbing_later_pixels_leaves_earlier_outputs_unchanged() -> None:
    torch.manual_seed(1)
    layer = RowLSTM(2, 4, kernel_size=5, dtype=F64)
    x = torch.randn(3, 2, 5, 6, dtype=F64)
    y = layer(x)
    for i, j in [(0, 0), (2, 3), (4, 5)]:
        changed = x.clone().reshape(3, 2, -1)
        changed[:, :, i * 6 + j + 1 :] += torch.randn_like(changed[:, :, i * 6 + j + 1 :])
        y_changed = layer(changed.reshape(3, 2, 5, 6)).reshape(3, 4, -1)
        torch.testing.assert_close(y_changed[:, :, : i * 6 + j + 1], y.reshape(3, 4, -1)[:, :, : i * 6 + j + 1], atol=0, rtol=0)


def test_first_row_is_a_one_dimensional_lstm_over_the_masked_row() -> None:
    """Row 0 has no state above: c_0 = sigma(iota) g, h_0 = sigma(o) tanh(c_0), gates from K^is x_0 + K^ss bias."""
    torch.manual_seed(2)
    layer = RowLSTM(2, 3, dtype=F64)
    x = torch.randn(2, 2, 4, 5, dtype=F64)
    gates = layer.input_to_state(x)[:, :, 0] + layer.state_to_state.bias[None, :, None]
    o, f, iota, g = gates.chunk(4, dim=1)
    c0 = torch.sigmoid(iota) * torch.tanh(g)
    torch.testing.assert_close(layer(x)[:, :, 0], torch.sigmoid(o) * torch.tanh(c0), atol=1e-14, rtol=0)


def test_invalid_input_raises() -> None:
    layer = RowLSTM(2, 3)
    with pytest.raises(ValueError, match=r"\(B, 2, rows, columns\)"):
        layer(torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match="state_kernel_size"):
        RowLSTM(2, 3, state_kernel_size=2)


def test_gradcheck_and_gradgradcheck() -> None:
    torch.manual_seed(3)
    layer = RowLSTM(1, 2, dtype=F64)
    names = [name for name, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(1, 1, 3, 3, dtype=F64, requires_grad=True)

    def fn(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps, strict=True)), (x,))

    assert gradcheck(fn, (x, *params), eps=1e-6, atol=1e-6)
    assert gradgradcheck(fn, (x, *params), eps=1e-6, atol=1e-5)
