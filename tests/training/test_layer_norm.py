"""LayerNorm equals torch.nn.LayerNorm (values and gradients); the layer-normalised LSTM cell works and learns."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.stacked import Stacked
from rnnref.training.layer_norm import TERM_IRI, LayerNorm, LayerNormLSTMCell, layer_norm

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pair(shape, seed: int, **kwargs):
    g = torch.Generator().manual_seed(seed)
    ours = LayerNorm(shape, dtype=F64, **kwargs)
    theirs = torch.nn.LayerNorm(shape, dtype=F64, **kwargs)
    with torch.no_grad():
        for p, p_ref in zip(ours.parameters(), theirs.parameters()):
            p.copy_(torch.randn(p.shape, generator=g, dtype=F64))
            p_ref.copy_(p)
    return ours, theirs


@pytest.mark.parametrize(
    "x_shape,normalized,kwargs",
    [
        ((4, 7), 7, {}),
        ((2, 3, 5), (3, 5), {}),
        ((2, 3, 5), 5, dict(eps=1e-3)),
        ((6, 4), 4, dict(elementwise_affine=False)),
        ((6, 4), 4, dict(bias=False)),
        ((5,), 5, {}),
    ],
)
def test_matches_torch_layer_norm(x_shape, normalized, kwargs) -> None:
    ours, theirs = _pair(normalized, 0, **kwargs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    g = torch.Generator().manual_seed(1)
    x = (3 * torch.randn(x_shape, generator=g, dtype=F64) + 2).requires_grad_()
    weighting = torch.randn(x_shape, generator=g, dtype=F64)
    y, y_ref = ours(x), theirs(x)
    torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=0)
    params, params_ref = list(ours.parameters()), list(theirs.parameters())
    grads = torch.autograd.grad((weighting * y).sum(), [x, *params])
    grads_ref = torch.autograd.grad((weighting * y_ref).sum(), [x, *params_ref])
    for got, expected in zip(grads, grads_ref):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
    # the functional form against torch's
    w, b = (ours.weight, ours.bias) if ours.weight is not None else (None, None)
    torch.testing.assert_close(
        layer_norm(x, normalized, w, b, ours.eps),
        torch.nn.functional.layer_norm(x, ours.normalized_shape, w, b, ours.eps),
        atol=1e-12,
        rtol=0,
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    batch=st.integers(1, 4),
    features=st.integers(1, 9),
    shift=st.floats(-100, 100),
    scale=st.floats(1e-2, 1e2),
)
def test_normalised_statistics_property(seed, batch, features, shift, scale) -> None:
    """Without gain/bias the output has mean 0 and variance sigma^2/(sigma^2+eps) per row; equals torch."""
    g = torch.Generator().manual_seed(seed)
    x = shift + scale * torch.randn(batch, features, generator=g, dtype=F64)
    y = layer_norm(x, features, eps=1e-5)
    torch.testing.assert_close(y, torch.nn.functional.layer_norm(x, (features,), eps=1e-5), atol=1e-9, rtol=0)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(batch, dtype=F64), atol=1e-9, rtol=0)
    torch.testing.assert_close(y.var(dim=1, unbiased=False, keepdim=True), var / (var + 1e-5), atol=1e-9, rtol=0)


def test_gradcheck_and_gradgradcheck() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 5, generator=g, dtype=F64, requires_grad=True)
    w = torch.randn(5, generator=g, dtype=F64, requires_grad=True)
    b = torch.randn(5, generator=g, dtype=F64, requires_grad=True)
    fn = lambda x, w, b: layer_norm(x, 5, w, b, 1e-5)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))


def _cell(seed: int, I: int = 3, H: int = 4, eps: float = 1e-5) -> LayerNormLSTMCell:
    torch.manual_seed(seed)
    cell = LayerNormLSTMCell(I, H, eps=eps, dtype=F64)
    with torch.no_grad():  # move the LN gains/biases away from their 1/0 start so every parameter matters
        for p in (cell.ln_ih.weight, cell.ln_hh.weight, cell.ln_c.weight, cell.ln_c.bias, cell.bias):
            p.add_(0.3 * torch.randn(p.shape, dtype=F64))
    return cell


def _manual_step(cell: LayerNormLSTMCell, x_t, h, c):
    """Ba et al.'s equations written with torch.nn.functional.layer_norm, as the reference."""
    F = torch.nn.functional
    H = cell.hidden_size
    gates = (
        F.layer_norm(h @ cell.weight_hh.T, (4 * H,), cell.ln_hh.weight, None, cell.ln_hh.eps)
        + F.layer_norm(x_t @ cell.weight_ih.T, (4 * H,), cell.ln_ih.weight, None, cell.ln_ih.eps)
        + cell.bias
    )
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(F.layer_norm(c, (H,), cell.ln_c.weight, cell.ln_c.bias, cell.ln_c.eps))
    return h, c


def test_ln_lstm_cell_follows_the_equations() -> None:
    cell = _cell(0)
    g = torch.Generator().manual_seed(3)
    xs = torch.randn(6, 2, 3, generator=g, dtype=F64)
    state = cell.init_state(2)
    h, c = state
    for t in range(6):
        y, state = cell.step(xs[t], state)
        h, c = _manual_step(cell, xs[t], h, c)
        torch.testing.assert_close(state[0], h, atol=1e-12, rtol=0)
        torch.testing.assert_close(state[1], c, atol=1e-12, rtol=0)
        assert torch.equal(y, state[0])


def test_ln_lstm_cell_gradcheck_and_gradgradcheck() -> None:
    cell = _cell(1, I=2, H=3)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 2, generator=g, dtype=F64, requires_grad=True)
    h = torch.randn(2, 3, generator=g, dtype=F64, requires_grad=True)
    c = torch.randn(2, 3, generator=g, dtype=F64, requires_grad=True)
    W = cell.weight_hh.detach().clone().requires_grad_()

    def fn(x, h, c, W):
        y, (h1, c1) = torch.func.functional_call(cell, {"weight_hh": W}, args=(x, (h, c)))
        return h1, c1

    assert torch.autograd.gradcheck(fn, (x, h, c, W))
    assert torch.autograd.gradgradcheck(fn, (x, h, c, W))


@pytest.mark.parametrize("which", ["weight_ih", "weight_hh"])
def test_ln_lstm_is_invariant_to_weight_rescaling_and_recentering(which: str) -> None:
    """LN(a W v) = LN(W v) for a > 0 and LN((W + 1 u^T) v) = LN(W v): exact with eps -> 0 (Ba et al., Table 1)."""
    cell = _cell(2, eps=1e-12)
    g = torch.Generator().manual_seed(5)
    xs = torch.randn(2, 8, 3, generator=g, dtype=F64)
    net = Stacked([cell])
    y, _ = net(xs)
    W = getattr(cell, which)
    with torch.no_grad():
        original = W.clone()
        W.mul_(7.5)
        y_scaled, _ = net(xs)
        W.copy_(original + torch.randn(1, W.size(1), generator=g, dtype=F64))  # the same row added to every row
        y_shifted, _ = net(xs)
        W.copy_(original)
    torch.testing.assert_close(y_scaled, y, atol=1e-9, rtol=0)
    torch.testing.assert_close(y_shifted, y, atol=1e-9, rtol=0)
    # a plain LSTM has neither invariance
    plain = torch.nn.LSTM(3, 4, batch_first=True, dtype=F64)
    out, _ = plain(xs)
    with torch.no_grad():
        getattr(plain, which + "_l0").mul_(7.5)
    assert (plain(xs)[0] - out).abs().max() > 1e-2


def test_ln_lstm_learns_delayed_recall() -> None:
    """Stacked([LayerNormLSTMCell]) + readout learns to output the bit from 3 steps back within 100 Adam steps."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(6)
    net = Stacked([LayerNormLSTMCell(1, 16)])
    readout = torch.nn.Linear(16, 1)
    opt = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=2e-2)
    losses = []
    for step in range(100):
        x = torch.randint(0, 2, (32, 10, 1), generator=g).float() * 2 - 1
        loss = ((readout(net(x)[0])[:, 3:] - x[:, :-3]) ** 2).mean()
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[0] > 0.5  # about 1: predicting 0 scores 1
    assert sum(losses[-10:]) / 10 < 0.05


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="normalized_shape"):
        LayerNorm(0)
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(3, eps=0.0)
    with pytest.raises(ValueError, match="last dimensions"):
        layer_norm(torch.zeros(2, 3), 4)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/layer-normalization"
    assert LayerNorm.term_iri == LayerNormLSTMCell.term_iri == TERM_IRI
