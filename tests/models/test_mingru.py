"""minGRU: loop == parallel scan == log-space scan, gradcheck, wrappers, a learning task."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.demos.modern import flagged_recall_batch, train_flagged_recall
from rnnref.models._recurrent import Cell
from rnnref.models.bidirectional import Bidirectional
from rnnref.models.mingru import TERM_IRI, MinGRU, g, log_g

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3), T=st.integers(1, 40), I=st.integers(1, 4), H=st.integers(1, 4),
    log_space=st.booleans(), with_h0=st.booleans(), seed=st.integers(0, 2**16),
)
def test_modes_agree(B, T, I, H, log_space, with_h0, seed):
    torch.manual_seed(seed)
    model = MinGRU(I, H, log_space=log_space, dtype=F64)
    x = 2 * torch.randn(B, T, I, dtype=F64)
    h0 = torch.rand(B, H, dtype=F64) + 0.05 if with_h0 else None
    y_loop, last_loop = model(x, h0, mode="loop")
    modes = ["scan", "log"] if log_space else ["scan"]
    for mode in modes:
        y, last = model(x, h0, mode=mode)
        torch.testing.assert_close(y, y_loop, atol=1e-12, rtol=1e-10)
        torch.testing.assert_close(last, last_loop, atol=1e-12, rtol=1e-10)


def test_one_step_matches_the_equations():
    torch.manual_seed(0)
    model = MinGRU(3, 4, dtype=F64)
    x, h = torch.randn(2, 3, dtype=F64), torch.randn(2, 4, dtype=F64)
    z = torch.sigmoid(x @ model.weight_ih[:4].T + model.bias_ih[:4])
    candidate = x @ model.weight_ih[4:].T + model.bias_ih[4:]
    torch.testing.assert_close(model.step(x, h)[1], (1 - z) * h + z * candidate, atol=1e-15, rtol=0)
    assert isinstance(model, Cell) and model.term_iri == TERM_IRI


def test_state_stays_between_previous_state_and_candidates():
    """h_t is a convex combination of h_{t-1} and the candidate: bounded by their range."""
    torch.manual_seed(1)
    model = MinGRU(2, 3, dtype=F64)
    x = torch.randn(4, 50, 2, dtype=F64)
    h0 = torch.randn(4, 3, dtype=F64)
    candidates = torch.nn.functional.linear(x, model.weight_ih[3:], model.bias_ih[3:])
    low = torch.minimum(candidates.min(1).values, h0)
    high = torch.maximum(candidates.max(1).values, h0)
    h, _ = model(x, h0)
    assert ((h >= low.unsqueeze(1) - 1e-12) & (h <= high.unsqueeze(1) + 1e-12)).all()


def test_g_is_positive_continuous_and_log_g_is_its_log():
    x = torch.linspace(-30, 30, 601, dtype=F64)
    assert (g(x) > 0).all()
    torch.testing.assert_close(log_g(x), torch.log(g(x)), atol=1e-12, rtol=1e-8)
    assert torch.allclose(g(torch.tensor([-1e-12, 0.0], dtype=F64)), torch.tensor([0.5, 0.5], dtype=F64))


@pytest.mark.parametrize("mode", ["scan", "log"])
def test_gradcheck_and_gradgradcheck(mode):
    torch.manual_seed(2)
    model = MinGRU(2, 2, log_space=True, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    x = torch.randn(2, 4, 2, dtype=F64, requires_grad=True)
    h0 = (torch.rand(2, 2, dtype=F64) + 0.1).requires_grad_(True)
    params = [p.detach().clone().requires_grad_(True) for p in model.parameters()]

    def run(x, h0, *params):
        return torch.func.functional_call(model, dict(zip(names, params, strict=True)), (x, h0), {"mode": mode})[0]

    assert torch.autograd.gradcheck(run, (x, h0, *params))
    assert torch.autograd.gradgradcheck(run, (x, h0, *params))


def test_bidirectional_wrapper_forward_half_equals_the_scan():
    torch.manual_seed(3)
    fwd, bwd = MinGRU(2, 3, dtype=F64), MinGRU(2, 3, dtype=F64)
    x = torch.randn(2, 7, 2, dtype=F64)
    y, _ = Bidirectional(fwd, bwd)(x)
    torch.testing.assert_close(y[..., :3], fwd(x)[0], atol=1e-13, rtol=0)
    torch.testing.assert_close(y[..., 3:], bwd(x.flip(1))[0].flip(1), atol=1e-13, rtol=0)


def test_learns_flagged_recall_with_the_scan():
    """MinGRU(2, 8) + readout: sign of the last flagged value right > 97% of the time after 80 steps."""
    torch.manual_seed(0)
    rows = train_flagged_recall(
        MinGRU(2, 8), torch.nn.Linear(8, 1), torch.Generator().manual_seed(0),
        steps=80, batch=32, length=24, lr=3e-2, report_every=80,
    )
    assert rows[0][2] < 0.7
    assert rows[-1][2] > 0.97
    assert rows[-1][1] < 0.2 * rows[0][1]


def test_flagged_recall_targets():
    x, y = flagged_recall_batch(torch.Generator().manual_seed(1), 2, 10)
    for b in range(2):
        last = None
        for t in range(10):
            if x[b, t, 1] == 1:
                last = x[b, t, 0]
            assert y[b, t, 0] == last


def test_errors():
    model = MinGRU(2, 3)
    with pytest.raises(ValueError, match="shape"):
        model(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match="length 0"):
        model(torch.randn(2, 0, 2))
    with pytest.raises(ValueError, match="log_space=True"):
        model(torch.randn(2, 5, 2), mode="log")
    with pytest.raises(ValueError, match="mode"):
        model(torch.randn(2, 5, 2), mode="fast")
    with pytest.raises(ValueError, match="h0"):
        model(torch.randn(2, 5, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="positive h0"):
        MinGRU(2, 3, log_space=True)(torch.randn(2, 5, 2), -torch.ones(2, 3), mode="log")
