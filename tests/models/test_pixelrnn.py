"""PixelRNN: causal per-pixel 256-way softmax (Jacobian and perturbation), gradients, learning."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.nn import functional as F

from rnnref.models.pixelrnn import TERM_IRI, PixelRNN
from tests.models.test_row_lstm import dependency_map, raster_before

F64 = torch.float64
LAYERS = ["row", "diagonal"]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def reachable_through_mask_a(R: int, W: int, i: int, j: int) -> torch.Tensor:
    """(R, W) bool: pixels inside the 7x7 mask-A window of some position up to (i, j) in raster order.

    A pixel reaches the recurrent layers only through the mask-A features of positions after it, so
    this is the most any stack of causal layers over those features can see from (i, j)."""
    seen = torch.zeros(R, W, dtype=torch.bool)
    for r in range(i * W + j + 1):
        ri, rj = divmod(r, W)
        seen[max(0, ri - 3) : ri, max(0, rj - 3) : rj + 4] = True  # rows above, 7 columns
        seen[ri, max(0, rj - 3) : rj] = True  # same row, left of it
    return seen


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/pixelrnn"
    assert PixelRNN.term_iri == TERM_IRI


@pytest.mark.parametrize("layer", LAYERS)
def test_logits_are_a_256_way_distribution_per_pixel_and_channel(layer: str) -> None:
    torch.manual_seed(0)
    model = PixelRNN(3, 4, num_layers=2, layer=layer, dtype=F64)
    images = torch.randint(0, 256, (2, 3, 4, 5))
    logits = model(images)
    assert logits.shape == (2, 256, 3, 4, 5)
    # The loss is the mean -log p of the true intensities, computed by hand.
    log_p = torch.log_softmax(logits, dim=1).gather(1, images.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(model.loss(images), -log_p.mean(), atol=1e-12, rtol=0)
    assert model.bits_per_dim(images) == pytest.approx(model.loss(images).item() / math.log(2))


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("i, j", [(0, 0), (0, 5), (2, 0), (3, 3), (4, 5)])
def test_output_never_depends_on_the_pixel_itself_or_later_ones(layer: str, i: int, j: int) -> None:
    torch.manual_seed(1)
    model = PixelRNN(2, 3, num_layers=2, layer=layer, dtype=F64)
    R, W = 5, 6
    depends = dependency_map(model.logits_from_values, torch.rand(1, 2, R, W, dtype=F64), i, j)
    assert not torch.any(depends & ~raster_before(R, W, i, j, inclusive=False))
    if layer == "diagonal":  # the Diagonal BiLSTM passes on everything the first layer lets through
        assert torch.equal(depends, reachable_through_mask_a(R, W, i, j))


def test_row_lstm_sees_a_triangle_and_diagonal_bilstm_the_rows_above_in_full() -> None:
    """At the left edge, two rows down, Row LSTM does not see the far right of the rows above;
    the Diagonal BiLSTM sees every pixel of them."""
    torch.manual_seed(2)
    R, W, i, j = 4, 10, 3, 0
    x = torch.rand(1, 1, R, W, dtype=F64)
    row = dependency_map(PixelRNN(1, 3, layer="row", dtype=F64).logits_from_values, x, i, j)
    diagonal = dependency_map(PixelRNN(1, 3, layer="diagonal", dtype=F64).logits_from_values, x, i, j)
    assert row[1, 0] and not row[1, W - 1] and not row[0, W - 1]
    assert diagonal[:2].all()
    assert row.sum() < diagonal.sum()


@pytest.mark.parametrize("layer", LAYERS)
def test_perturbing_a_pixel_and_later_ones_leaves_its_logits_unchanged(layer: str) -> None:
    torch.manual_seed(3)
    model = PixelRNN(1, 4, layer=layer, dtype=F64)
    g = torch.Generator().manual_seed(4)
    images = torch.randint(0, 256, (2, 1, 4, 5), generator=g)
    logits = model(images).flatten(3)  # (B, 256, C, R W)
    for p in (0, 6, 13, 19):
        changed = images.clone().flatten(2)
        changed[:, :, p:] = torch.randint(0, 256, changed[:, :, p:].shape, generator=g)
        logits_changed = model(changed.reshape(2, 1, 4, 5)).flatten(3)
        torch.testing.assert_close(logits_changed[..., : p + 1], logits[..., : p + 1], atol=0, rtol=0)
        if p < 19:
            assert not torch.allclose(logits_changed[..., p + 1 :], logits[..., p + 1 :])


def test_invalid_input_raises() -> None:
    model = PixelRNN(1, 2)
    with pytest.raises(ValueError, match="long tensor"):
        model(torch.rand(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        model(torch.full((1, 1, 3, 3), 256))
    with pytest.raises(ValueError, match="layer"):
        PixelRNN(1, 2, layer="column")


@pytest.mark.parametrize("layer", LAYERS)
def test_gradcheck_and_gradgradcheck(layer: str) -> None:
    """W.r.t. the input and every parameter but the last 1x1 convolution (256 output levels: a plain
    torch Conv2d, kept fixed so the check stays small)."""
    torch.manual_seed(5)
    model = PixelRNN(1, 1, layer=layer, dtype=F64)
    model.forward = model.logits_from_values  # real-valued input for the check
    checked = {name: p for name, p in model.named_parameters() if not name.startswith("output_convs.3.")}
    names = list(checked)
    params = [p.detach().clone().requires_grad_() for p in checked.values()]
    x = torch.rand(1, 1, 2, 3, dtype=F64, requires_grad=True)

    def fn(x, *ps):
        logits = torch.func.functional_call(model, dict(zip(names, ps, strict=True)), (x,), strict=False)
        return logits[:, ::37]  # a spread of the 256 levels

    assert gradcheck(fn, (x, *params), eps=1e-6, atol=1e-6)
    assert gradgradcheck(fn, (x, *params), eps=1e-6, atol=1e-5, fast_mode=True)


def test_learns_vertical_stripes() -> None:
    """5x5 images whose first row is random black/white and whose other rows repeat it: 5 bits per
    image, 0.2 bits per pixel at best (a uniform model: 8). Fixed budget and seed: below 0.5 bits per
    pixel, and every pixel below the first row predicted exactly (argmax) on 200 fresh images.
    Diagonal BiLSTM layer, 70 steps (the Row LSTM version is the `rnnref run pixelrnn` demo)."""
    layer, steps = "diagonal", 70
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)

    def stripes(B: int) -> torch.Tensor:
        return (torch.randint(0, 2, (B, 1, 1, 5), generator=g) * 255).expand(B, 1, 5, 5).clone()

    model = PixelRNN(1, 8, layer=layer)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    test = stripes(200)
    before = model.bits_per_dim(test)
    for _ in range(steps):
        loss = model.loss(stripes(32))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert before > 7.5
    assert model.bits_per_dim(test) < 0.5
    with torch.no_grad():
        predicted = model(test).argmax(dim=1)
    assert torch.equal(predicted[:, :, 1:], test[:, :, 1:])
