"""Multidimensional RNN: the output at (i, j) depends exactly on the inputs in the rectangle scanned so far
(Jacobian, every corner, both cells); the wavefront fast path equals the cell-by-cell loop; a 1-row grid
is an ordinary RNN (torch.nn.RNN); gradcheck and gradgradcheck; learning a 2-D diagonal copy."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.mdrnn import CORNERS, MDRNN, TERM_IRI, diagonal_copy_batch

torch.set_num_threads(1)
F64 = torch.float64


@pytest.mark.parametrize("cell", ["tanh", "lstm"])
@pytest.mark.parametrize("corner", list(CORNERS))
def test_output_depends_exactly_on_the_scanned_rectangle(cell, corner):
    torch.manual_seed(0)
    model = MDRNN(2, 3, cell=cell, corner=corner, dtype=F64)
    R, C = 3, 4
    x = torch.randn(1, R, C, 2, dtype=F64)
    jac = torch.autograd.functional.jacobian(lambda x: model(x)[0], x)[:, :, :, 0]  # (R, C, H, R, C, I)
    influence = jac.abs().sum(dim=(2, 5))  # (i, j, i', j')
    i, j, i2, j2 = torch.meshgrid(*(torch.arange(n) for n in (R, C, R, C)), indexing="ij")
    rows_ok = (i2 >= i) if 1 in CORNERS[corner] else (i2 <= i)
    cols_ok = (j2 >= j) if 2 in CORNERS[corner] else (j2 <= j)
    inside = rows_ok & cols_ok
    assert influence[~inside].max() == 0
    assert influence[inside].min() > 0


@pytest.mark.parametrize("cell", ["tanh", "lstm"])
@pytest.mark.parametrize("corner", ["top-left", "bottom-right"])
def test_wavefront_equals_cell_by_cell(cell, corner):
    torch.manual_seed(1)
    model = MDRNN(2, 3, cell=cell, corner=corner, dtype=F64)
    for shape in [(2, 1, 1), (2, 4, 6), (2, 5, 2), (1, 1, 5)]:
        x = torch.randn(*shape, 2, dtype=F64)
        torch.testing.assert_close(model(x, fast=True), model(x), rtol=0, atol=1e-14)


def test_one_row_grid_is_an_elman_rnn():
    """With one row there is no upper neighbour: h_j = tanh(W x_j + U^left h_{j-1} + b), torch.nn.RNN."""
    torch.manual_seed(2)
    model = MDRNN(3, 4, dtype=F64)
    rnn = nn.RNN(3, 4, batch_first=True, dtype=F64)
    rnn.load_state_dict(
        {"weight_ih_l0": model.weight_ih, "weight_hh_l0": model.weight_left, "bias_ih_l0": model.bias, "bias_hh_l0": torch.zeros(4, dtype=F64)}
    )
    x = torch.randn(2, 1, 5, 3, dtype=F64)
    expected = rnn(x[:, 0])[0]
    torch.testing.assert_close(model(x)[:, 0], expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", ["tanh", "lstm"])
def test_gradcheck_and_gradgradcheck(cell):
    torch.manual_seed(3)
    model = MDRNN(1, 2, cell=cell, dtype=F64)
    names = [n for n, _ in model.named_parameters()]

    def f(x, *params):
        return torch.func.functional_call(model, dict(zip(names, params)), (x,), {"fast": True})

    inputs = (torch.randn(1, 2, 3, 1, dtype=F64, requires_grad=True), *model.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)


def test_learns_a_two_dimensional_diagonal_copy():
    """Output at (i, j) the bit at (i-2, j-2) of a 6 x 6 grid: >= 97% within 120 steps (chance 50%)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model, readout = MDRNN(1, 12), nn.Linear(12, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *readout.parameters()], lr=2e-2)
    for _ in range(120):
        x, y = diagonal_copy_batch(g, 32)
        loss = nn.functional.binary_cross_entropy_with_logits(readout(model(x, fast=True))[:, 2:, 2:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = diagonal_copy_batch(g, 200)
    with torch.no_grad():
        accuracy = ((readout(model(x, fast=True))[:, 2:, 2:, 0] > 0).float() == y).float().mean().item()
    assert accuracy >= 0.97


def test_term_iri_and_invalid_arguments():
    assert MDRNN.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/multidimensional-rnn"
    with pytest.raises(ValueError, match="cell"):
        MDRNN(1, 2, cell="gru")
    with pytest.raises(ValueError, match="corner"):
        MDRNN(1, 2, corner="middle")
    model = MDRNN(2, 3)
    with pytest.raises(ValueError, match=r"\(B, R, C, 2\)"):
        model(torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match="non-empty"):
        model(torch.zeros(1, 0, 3, 2))
    with pytest.raises(ValueError, match="dtype"):
        model(torch.zeros(1, 2, 2, 2, dtype=F64))
    with pytest.raises(ValueError, match="offset"):
        diagonal_copy_batch(torch.Generator(), 2, rows=2, cols=4, offset=2)
