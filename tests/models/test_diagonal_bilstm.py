"""Diagonal BiLSTM: skewing, the full causal receptive field of both directions, gradients."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from rnnref.models.diagonal_bilstm import TERM_IRI, DiagonalBiLSTM, skew, unskew
from tests.models.test_row_lstm import dependency_map, raster_before

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/diagonal-bilstm"
    assert DiagonalBiLSTM.term_iri == TERM_IRI


def test_skew_shifts_row_i_by_i_and_unskew_inverts_it() -> None:
    x = torch.arange(1, 7, dtype=F64).reshape(1, 1, 2, 3)  # [[1, 2, 3], [4, 5, 6]]
    assert skew(x)[0, 0].tolist() == [[1, 2, 3, 0], [0, 4, 5, 6]]
    y = torch.randn(2, 3, 4, 5, dtype=F64)
    assert torch.equal(unskew(skew(y), 5), y)
    # A diagonal of the image is a column of the skewed map: (i, j) -> (i, i + j)
    s = skew(y)
    for i in range(4):
        for j in range(5):
            assert torch.equal(s[:, :, i, i + j], y[:, :, i, j])


@pytest.mark.parametrize("i, j", [(0, 0), (0, 3), (2, 0), (2, 4), (4, 5), (3, 2)])
def test_output_depends_on_exactly_the_pixels_up_to_it_in_raster_order(i: int, j: int) -> None:
    """Left-to-right covers rows <= i, columns <= j; the right-to-left map, shifted down a row, covers
    rows < i, columns >= j: together every pixel up to (i, j), and nothing after it."""
    torch.manual_seed(0)
    layer = DiagonalBiLSTM(2, 3, dtype=F64)
    R, W = 5, 6
    depends = dependency_map(layer, torch.randn(1, 2, R, W, dtype=F64), i, j)
    assert torch.equal(depends, raster_before(R, W, i, j, inclusive=True))


def test_without_the_shift_the_right_to_left_direction_would_see_the_future() -> None:
    """The reason for the shift: the unshifted right-to-left state at (i, j) depends on (i, j + 1)."""
    torch.manual_seed(1)
    layer = DiagonalBiLSTM(2, 3, dtype=F64)

    def unshifted(x):
        return layer.right_to_left(x.flip(3)).flip(3)

    depends = dependency_map(unshifted, torch.randn(1, 2, 4, 5, dtype=F64), 2, 1)
    assert depends[2, 2] and depends[2, 4]
    assert not depends[3].any()


def test_perturbing_later_pixels_leaves_earlier_outputs_unchanged() -> None:
    torch.manual_seed(2)
    layer = DiagonalBiLSTM(2, 3, dtype=F64)
    x = torch.randn(2, 2, 4, 5, dtype=F64)
    y = layer(x).reshape(2, 3, -1)
    for p in (0, 7, 13, 19):
        changed = x.clone().reshape(2, 2, -1)
        changed[:, :, p + 1 :] += torch.randn_like(changed[:, :, p + 1 :])
        y_changed = layer(changed.reshape(2, 2, 4, 5)).reshape(2, 3, -1)
        torch.testing.assert_close(y_changed[:, :, : p + 1], y[:, :, : p + 1], atol=0, rtol=0)
        if p < 19:
            assert not torch.allclose(y_changed[:, :, p + 1 :], y[:, :, p + 1 :])


def test_invalid_input_raises() -> None:
    layer = DiagonalBiLSTM(2, 3)
    with pytest.raises(ValueError, match=r"\(B, 2, rows, columns\)"):
        layer(torch.randn(2, 4, 4))
    with pytest.raises(ValueError, match="dtype"):
        layer(torch.randn(1, 2, 3, 3, dtype=F64))


def test_gradcheck_and_gradgradcheck() -> None:
    torch.manual_seed(3)
    layer = DiagonalBiLSTM(1, 2, dtype=F64)
    names = [name for name, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(1, 1, 3, 3, dtype=F64, requires_grad=True)

    def fn(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps, strict=True)), (x,))

    assert gradcheck(fn, (x, *params), eps=1e-6, atol=1e-6)
    assert gradgradcheck(fn, (x, *params), eps=1e-6, atol=1e-5)
