"""Truncated BPTT: a window covering the sequence is full BPTT; a short window keeps exactly the last k steps."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.elman import ElmanCell
from rnnref.models.lstm import LSTMCell
from rnnref.training.truncated_bptt import TERM_IRI, TruncatedBPTT

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _mse(y, t):
    return 0.5 * ((y - t) ** 2).sum()


def _setup(seed: int, B=2, T=12, I=2, H=4, O=1, cell_type=ElmanCell, scale=1.0):
    torch.manual_seed(seed)
    cell = cell_type(I, H, dtype=F64)
    readout = torch.nn.Linear(H, O, dtype=F64)
    with torch.no_grad():
        for p in cell.parameters():
            p.mul_(scale)
    g = torch.Generator().manual_seed(seed + 1)
    xs = torch.randn(B, T, I, generator=g, dtype=F64)
    targets = torch.randn(B, T, O, generator=g, dtype=F64)
    return cell, readout, xs, targets


def _params(cell, readout):
    return [*cell.parameters(), *readout.parameters()]


def _grads(cell, readout):
    return [p.grad.clone() for p in _params(cell, readout)]


def _zero(cell, readout):
    for p in _params(cell, readout):
        p.grad = None


def _full_bptt(cell, readout, xs, targets, loss_fn=_mse):
    _zero(cell, readout)
    state = cell.init_state(xs.size(0))
    total = 0.0
    for t in range(xs.size(1)):
        y, state = cell.step(xs[:, t], state)
        total = total + loss_fn(readout(y), targets[:, t])
    total.backward()
    return total.item(), _grads(cell, readout)


@pytest.mark.parametrize("cell_type", [ElmanCell, LSTMCell])
@pytest.mark.parametrize("k1,k2", [(12, 12), (20, 20), (12, 30)])
def test_window_covering_the_sequence_is_full_bptt(cell_type, k1: int, k2: int) -> None:
    cell, readout, xs, targets = _setup(0, cell_type=cell_type)
    loss_ref, grads_ref = _full_bptt(cell, readout, xs, targets)
    _zero(cell, readout)
    result = TruncatedBPTT(k1, k2).run(cell, readout, xs, targets, _mse)
    assert result.update_points == [12]
    assert result.total_loss == pytest.approx(loss_ref, rel=1e-14)
    for got, expected in zip(_grads(cell, readout), grads_ref):
        torch.testing.assert_close(got, expected, atol=1e-13, rtol=0)


def _reference_truncated(cell, readout, xs, targets, k1: int, k2: int):
    """Brute force: for each step s with update point u (the first multiple of k1 at or after s, or T),
    the gradient of L_s alone, with the state at u - k2 detached."""
    B, T, _ = xs.shape
    # states of the untruncated forward pass, detached
    states = [cell.init_state(B)]
    with torch.no_grad():
        for t in range(T):
            states.append(cell.step(xs[:, t], states[-1])[1])
    total = [torch.zeros_like(p) for p in _params(cell, readout)]
    for s in range(1, T + 1):
        u = min(-(-s // k1) * k1, T)
        start = max(0, u - k2)
        h = states[start]
        for t in range(start + 1, s + 1):
            y, h = cell.step(xs[:, t - 1], h)
        grads = torch.autograd.grad(_mse(readout(y), targets[:, s - 1]), _params(cell, readout), allow_unused=True)
        total = [acc + (g if g is not None else 0) for acc, g in zip(total, grads)]
    return total


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 1000),
    T=st.integers(1, 14),
    k1=st.integers(1, 6),
    extra=st.integers(0, 5),
    lstm=st.booleans(),
)
def test_equals_brute_force_truncation(seed: int, T: int, k1: int, extra: int, lstm: bool) -> None:
    """BPTT(k1, k2) = sum over steps s of grad L_s with the state at (its update point - k2) held constant."""
    cell, readout, xs, targets = _setup(seed, T=T, cell_type=LSTMCell if lstm else ElmanCell)
    expected = _reference_truncated(cell, readout, xs, targets, k1, k1 + extra)
    _zero(cell, readout)
    result = TruncatedBPTT(k1, k1 + extra).run(cell, readout, xs, targets, _mse)
    for got, want in zip(_grads(cell, readout), expected):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    assert result.update_points[-1] == T


def _per_step_contributions(cell, readout, xs, targets):
    """Gradient of the last step's loss wrt W_hh through each time step separately: give every step its
    own copy of W_hh, so the gradient of copy t is step t's term of the BPTT sum."""
    B, T, _ = xs.shape
    copies = [cell.weight_hh.detach().clone().requires_grad_() for _ in range(T)]
    h = cell.init_state(B)
    for t in range(T):
        h = torch.tanh(xs[:, t] @ cell.weight_ih.T + cell.bias_ih + h @ copies[t].T + cell.bias_hh)
    loss = _mse(readout(h), targets[:, -1])
    return torch.autograd.grad(loss, copies)


@pytest.mark.parametrize("k", [1, 3, 5, 10])
def test_short_window_keeps_only_the_last_k_steps(k: int) -> None:
    """With the loss at the last step only, BPTT(k, k)'s gradient of W_hh is the sum of the last k steps'
    terms of the full BPTT sum, and differs from full BPTT by exactly the earlier terms."""
    T = 10
    cell, readout, xs, targets = _setup(3, T=T, scale=1.5)

    def last_step_only(y, t):
        return _mse(y, t) if torch.isfinite(t).all() else y.sum() * 0

    targets[:, :-1] = float("nan")  # no loss before the last step
    terms = _per_step_contributions(cell, readout, xs, targets)
    _zero(cell, readout)
    TruncatedBPTT(k).run(cell, readout, xs, targets, last_step_only)
    truncated = cell.weight_hh.grad.clone()
    torch.testing.assert_close(truncated, sum(terms[T - k :]), atol=1e-13, rtol=0)
    full = sum(terms)
    if k < T:
        torch.testing.assert_close(full - truncated, sum(terms[: T - k]), atol=1e-13, rtol=0)
        assert (full - truncated).abs().max() > 1e-6  # the cut-off terms are not negligible here


def test_state_is_carried_across_windows() -> None:
    """The forward pass is not truncated: the losses and the final state equal an untruncated run."""
    cell, readout, xs, targets = _setup(4, T=23)
    state = cell.init_state(xs.size(0))
    losses = []
    with torch.no_grad():
        for t in range(23):
            y, state = cell.step(xs[:, t], state)
            losses.append(_mse(readout(y), targets[:, t]).item())
    result = TruncatedBPTT(5).run(cell, readout, xs, targets, _mse)
    assert result.update_points == [5, 10, 15, 20, 23]
    assert result.losses == pytest.approx([sum(losses[i : i + 5]) for i in range(0, 25, 5)], rel=1e-12)
    torch.testing.assert_close(result.state, state, atol=1e-14, rtol=0)
    assert not result.state.requires_grad


def _delayed_recall(window: int, steps: int = 120, delay: int = 5) -> float:
    """Train an Elman network online with BPTT(window) on one long stream; return the final recall accuracy."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    cell, readout = ElmanCell(1, 16), torch.nn.Linear(16, 1)
    opt = torch.optim.Adam([*cell.parameters(), *readout.parameters()], lr=1e-2)
    tbptt = TruncatedBPTT(window)
    B = 16
    stream = torch.randint(0, 2, (B, steps * window + delay, 1), generator=g).float() * 2 - 1
    xs, targets = stream[:, delay:], stream[:, :-delay]  # target at t: the input delay steps back
    mse = lambda y, t: ((y - t) ** 2).mean()  # noqa: E731
    tbptt.run(cell, readout, xs, targets, mse, optimizer=opt)
    test = torch.randint(0, 2, (256, 40, 1), generator=g).float() * 2 - 1
    with torch.no_grad():
        h, correct = cell.init_state(256), []
        for t in range(40):
            y, h = cell.step(test[:, t], h)
            if t >= delay:
                correct.append((readout(y).sign() == test[:, t - delay]).float().mean())
    return torch.stack(correct).mean().item()


def test_window_longer_than_the_delay_learns_a_shorter_one_does_not_here() -> None:
    """Recalling the input from 5 steps back on a stream, 120 updates each: BPTT(12) learns it (>95%).
    BPTT(4) never sends an error back to the input it must recall; it can only use what the carried state
    happens to keep, and in this run it stays near chance (<65%)."""
    assert _delayed_recall(12, delay=5) > 0.95
    assert _delayed_recall(4, delay=5) < 0.65


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k1"):
        TruncatedBPTT(0)
    with pytest.raises(ValueError, match="k2"):
        TruncatedBPTT(5, 3)
    cell, readout, xs, targets = _setup(0)
    with pytest.raises(ValueError, match="same B and T"):
        TruncatedBPTT(3).run(cell, readout, xs, targets[:, :-1], _mse)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/truncated-bptt"
    assert TruncatedBPTT.term_iri == TERM_IRI
