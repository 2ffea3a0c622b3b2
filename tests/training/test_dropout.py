"""Inverted dropout matches torch's (same seed, same mask), keeps the expectation, is the identity in eval;
variational dropout keeps one mask for all time steps."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.elman import ElmanCell
from rnnref.models.lstm import LSTMCell
from rnnref.training.dropout import TERM_IRI, Dropout, VariationalDropout, VariationalDropoutRNN, dropout

F64 = torch.float64


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_same_as_torch_dropout_under_the_same_seed(p: float) -> None:
    x = torch.randn(40, 25, dtype=F64)
    torch.manual_seed(123)
    ours = dropout(x, p)
    torch.manual_seed(123)
    theirs = torch.nn.functional.dropout(x, p)
    assert torch.equal(ours, theirs)
    torch.manual_seed(123)
    module = Dropout(p).train()
    assert torch.equal(module(x), theirs)


def test_kept_units_are_scaled_by_one_over_keep_probability() -> None:
    x = torch.randn(1000, dtype=F64)
    y = dropout(x, 0.3, generator=torch.Generator().manual_seed(0))
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.7, atol=1e-15, rtol=1e-15)
    assert 0.25 < 1 - kept.double().mean().item() < 0.35


@settings(max_examples=10, deadline=None)
@given(p=st.floats(0.05, 0.9), seed=st.integers(0, 10_000))
def test_expectation_is_preserved(p: float, seed: int) -> None:
    """The mean of drop(x) over n = 20000 masks is x, within 5 standard errors."""
    n = 20_000
    g = torch.Generator().manual_seed(seed)
    x = torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    samples = dropout(x.expand(n, 3), p, generator=g)
    mean = samples.mean(dim=0)
    standard_error = x.abs() * ((p / (1 - p)) / n) ** 0.5  # Var[m x/(1-p)] = x^2 p/(1-p)
    assert ((mean - x).abs() < 5 * standard_error).all()
    # and the zero fraction is p
    assert abs((samples == 0).double().mean().item() - p) < 5 * (p * (1 - p) / (3 * n)) ** 0.5


def test_eval_mode_is_the_identity() -> None:
    x = torch.randn(5, 7, 3)
    assert dropout(x, 0.5, training=False) is x
    assert Dropout(0.5).eval()(x) is x
    assert VariationalDropout(0.5).eval()(x) is x
    cell = ElmanCell(3, 4)
    wrapped = VariationalDropoutRNN(cell, 0.5, 0.5).eval()
    y, h = wrapped(x)
    state = cell.init_state(5)
    for t in range(7):
        expected, state = cell.step(x[:, t], state)
        assert torch.equal(y[:, t], expected)


def test_gradcheck_with_a_fixed_mask() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 5, dtype=F64, requires_grad=True)
    mask = torch.empty(4, 5, dtype=F64).bernoulli_(0.6, generator=g)
    fn = lambda x: dropout(x, 0.4, mask=mask)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x,))
    assert torch.autograd.gradgradcheck(fn, (x,))
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    torch.testing.assert_close(grad, mask / 0.6)  # dropped units get no gradient


def test_variational_mask_is_constant_across_time() -> None:
    x = torch.ones(6, 50, 8)
    y = VariationalDropout(0.5, generator=torch.Generator().manual_seed(2))(x)
    dropped = y == 0
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # same pattern at every step
    assert 0.2 < dropped[:, 0].float().mean().item() < 0.8
    assert not torch.equal(dropped[0, 0], dropped[1, 0])  # but a different mask per sequence
    # ordinary dropout changes its mask from step to step
    z = Dropout(0.5, generator=torch.Generator().manual_seed(2))(x) == 0
    assert not torch.equal(z, z[:, :1].expand_as(z))


class _RecordingCell(torch.nn.Module):
    """An Elman cell that records the (dropped-out) x_t and h_{t-1} it is given."""

    def __init__(self, cell):
        super().__init__()
        self.cell, self.seen = cell, []
        self.input_size, self.hidden_size, self.output_size = cell.input_size, cell.hidden_size, cell.output_size

    def init_state(self, batch_size, **kwargs):
        return self.cell.init_state(batch_size, **kwargs)

    def step(self, x_t, state):
        self.seen.append((x_t.clone(), (state if isinstance(state, torch.Tensor) else state[0]).clone()))
        return self.cell.step(x_t, state)


@pytest.mark.parametrize("cell_type", [ElmanCell, LSTMCell])
def test_variational_rnn_uses_one_mask_for_inputs_and_hidden_state(cell_type) -> None:
    torch.manual_seed(0)
    cell = _RecordingCell(cell_type(5, 6, dtype=F64))
    net = VariationalDropoutRNN(cell, p_input=0.4, p_hidden=0.3, generator=torch.Generator().manual_seed(3)).train()
    x = torch.rand(4, 9, 5, dtype=F64) + 1.0  # never 0, so a 0 means dropped
    y, _ = net(x)
    xs_seen = torch.stack([s[0] for s in cell.seen], 1)
    hs_seen = torch.stack([s[1] for s in cell.seen], 1)
    x_dropped = xs_seen == 0
    assert torch.equal(x_dropped, x_dropped[:, :1].expand_as(x_dropped)) and x_dropped.any()
    torch.testing.assert_close(xs_seen[~x_dropped], x[~x_dropped] / 0.6)
    h_dropped = hs_seen[:, 1:] == 0  # h_0 = 0 everywhere; from t = 1 on, zeros are the mask
    assert torch.equal(h_dropped, h_dropped[:, :1].expand_as(h_dropped)) and h_dropped.any()
    # a second call samples new masks
    cell.seen.clear()
    net(x)
    assert not torch.equal(torch.stack([s[0] for s in cell.seen], 1) == 0, x_dropped)


def test_variational_rnn_without_dropout_is_the_plain_cell() -> None:
    torch.manual_seed(1)
    cell = LSTMCell(3, 4, dtype=F64)
    x = torch.randn(2, 5, 3, dtype=F64)
    y, (h, c) = VariationalDropoutRNN(cell).train()(x)
    ref = torch.nn.LSTM(3, 4, batch_first=True, dtype=F64)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(cell.weight_ih)
        ref.weight_hh_l0.copy_(cell.weight_hh)
        ref.bias_ih_l0.copy_(cell.bias_ih)
        ref.bias_hh_l0.copy_(cell.bias_hh)
    y_ref, (h_ref, c_ref) = ref(x)
    torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(c, c_ref[0], atol=1e-12, rtol=0)


def test_bad_arguments() -> None:
    for bad in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="probability"):
            Dropout(bad)
    with pytest.raises(ValueError, match="p_hidden"):
        VariationalDropoutRNN(ElmanCell(2, 2), p_hidden=2.0)
    with pytest.raises(ValueError, match="B, T, F"):
        VariationalDropout(0.5)(torch.zeros(3, 4))


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/dropout"
    assert Dropout.term_iri == VariationalDropoutRNN.term_iri == TERM_IRI
