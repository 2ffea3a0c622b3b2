"""Neural network pushdown automaton: continuous-stack properties, gradients, and Dyck-1 recognition."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck
from torch.nn import functional as F

from rnnref.models.nnpda import NNPDA, TERM_IRI, dyck1_batch, stack_step

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _empty(B: int = 1, Z: int = 2):
    return torch.zeros(B, 0, Z, dtype=F64), torch.zeros(B, 0, dtype=F64)


def _op(values, strengths, push: float, pop: float, value):
    return stack_step(
        values, strengths, torch.tensor([push], dtype=F64), torch.tensor([pop], dtype=F64),
        torch.tensor([value], dtype=F64),
    )  # fmt: skip


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/neural-network-pushdown-automaton"
    assert NNPDA.term_iri == TERM_IRI


def test_pushing_then_popping_returns_the_value_below() -> None:
    a, b, c = [0.1, -0.4], [0.7, 0.2], [0.0, 0.0]
    V, s = _empty()
    V, s, r = _op(V, s, 1.0, 0.0, a)  # push a
    assert r.tolist() == [a]
    V, s, r = _op(V, s, 1.0, 0.0, b)  # push b: the read is the top, b
    assert r.tolist() == [b]
    V, s, r = _op(V, s, 0.0, 1.0, c)  # pop 1, push nothing: the read is a again
    torch.testing.assert_close(r, torch.tensor([a], dtype=F64), atol=0, rtol=0)
    assert s.tolist() == [[1.0, 0.0, 0.0]]
    V, s, r = _op(V, s, 0.0, 1.0, c)  # pop again: empty stack, zero read
    assert r.tolist() == [[0.0, 0.0]]


def test_fractional_strengths_mix_the_top_unit() -> None:
    """Push a (0.6), then b (0.7): the top unit of depth 1 is 0.7 of b and 0.3 of a; popping 0.5
    removes half of b, leaving 0.2 of b over 0.6 of a, read 0.2 b + 0.6 a (plus nothing pushed)."""
    a, b = [1.0, 0.0], [0.0, 1.0]
    V, s = _empty()
    V, s, _ = _op(V, s, 0.6, 0.0, a)
    V, s, r = _op(V, s, 0.7, 0.0, b)
    torch.testing.assert_close(r, torch.tensor([[0.3, 0.7]], dtype=F64))
    V, s, r = _op(V, s, 0.0, 0.5, [5.0, 5.0])
    torch.testing.assert_close(s, torch.tensor([[0.6, 0.2, 0.0]], dtype=F64))
    torch.testing.assert_close(r, torch.tensor([[0.6, 0.2]], dtype=F64))
    V, s, r = _op(V, s, 0.0, 0.5, [5.0, 5.0])  # pop 0.5 more: all of b (0.2) and 0.3 of a
    torch.testing.assert_close(s, torch.tensor([[0.3, 0.0, 0.0, 0.0]], dtype=F64))
    torch.testing.assert_close(r, torch.tensor([[0.3, 0.0]], dtype=F64))


@settings(max_examples=40, deadline=None)
@given(
    actions=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=12),
    seed=st.integers(0, 1000),
)
def test_strengths_stay_in_unit_interval_and_read_weights_sum_to_at_most_one(actions, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    V, s = _empty(Z=3)
    for push, pop in actions:
        value = (torch.rand(3, generator=g, dtype=F64) * 2 - 1).tolist()
        previous_total = float(s.sum())
        V, s, r = _op(V, s, push, pop, value)
        assert torch.all((s >= 0) & (s <= 1))
        # A pop removes at most u of strength (all there is, if less), then the push adds d.
        assert float(s.sum()) == pytest.approx(max(0.0, previous_total - pop) + push, abs=1e-12)
        # |r| <= max |V|: the read weights are non-negative and sum to at most 1.
        assert float(r.abs().max()) <= float(V.abs().max()) + 1e-12


def test_automaton_step_actions_are_strengths_in_unit_interval() -> None:
    torch.manual_seed(0)
    pda = NNPDA(2, 1, hidden_size=6, stack_size=3)
    _, state, pushes, pops = pda(torch.randn(9, 4, 2) * 3, return_actions=True)
    for a in (pushes, pops, state.stack_strengths):
        assert torch.all((a >= 0) & (a <= 1))
    assert state.stack_values.shape == (4, 9, 3)
    torch.testing.assert_close(state.stack_strengths[:, -1], pushes[-1])


def test_invalid_input_raises() -> None:
    pda = NNPDA(2, 1, hidden_size=4, stack_size=2)
    with pytest.raises(ValueError, match="expects x of shape"):
        pda(torch.randn(3, 2, 5))
    with pytest.raises(ValueError, match="dtype"):
        pda(torch.randn(3, 2, 2, dtype=F64))


def test_gradcheck_and_gradgradcheck() -> None:
    torch.manual_seed(1)
    pda = NNPDA(2, 1, hidden_size=3, stack_size=2, dtype=F64)
    x = torch.randn(4, 2, 2, dtype=F64, requires_grad=True)
    names = [name for name, _ in pda.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in pda.parameters()]

    def fn(x, *ps):
        y, state = torch.func.functional_call(pda, dict(zip(names, ps, strict=True)), (x,))
        return y, state.stack_strengths, state.read

    assert gradcheck(fn, (x, *params), eps=1e-6, atol=1e-6)
    assert gradgradcheck(fn, (x, *params), eps=1e-6, atol=1e-5, fast_mode=True)


def test_stack_step_gradcheck_and_gradgradcheck() -> None:
    g = torch.Generator().manual_seed(2)
    values = torch.randn(2, 3, 2, generator=g, dtype=F64, requires_grad=True)
    strengths = (torch.rand(2, 3, generator=g, dtype=F64) * 0.8 + 0.1).requires_grad_()
    push = torch.tensor([0.3, 0.8], dtype=F64, requires_grad=True)
    pop = torch.tensor([0.45, 0.2], dtype=F64, requires_grad=True)
    value = torch.randn(2, 2, generator=g, dtype=F64, requires_grad=True)
    args = (values, strengths, push, pop, value)
    assert gradcheck(stack_step, args)
    assert gradgradcheck(stack_step, args)


def test_dyck1_data_is_labelled_correctly() -> None:
    x, labels = dyck1_batch(torch.Generator().manual_seed(0), 64, 4, dtype=F64)
    for b in range(64):
        steps = x[:, b]
        depth, ok = 0, True
        for open_, close in steps.tolist():
            depth += int(open_) - int(close)
            ok = ok and depth >= 0
        assert depth == 0  # near misses have as many ")" as "("
        assert labels[b] == float(ok)
    assert labels.mean() == 0.5


def test_learns_balanced_parentheses() -> None:
    """Dyck-1 on strings of length 2..10, balanced vs near misses with equal counts; fixed budget
    (60 Adam steps, batch 32) and seed; >= 98% right on 400 held-out strings (chance 50%)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    pda = NNPDA(2, 1, hidden_size=16, stack_size=2)
    optimizer = torch.optim.Adam(pda.parameters(), lr=2e-2)
    x_test, labels_test = dyck1_batch(g, 400, 5)

    def accuracy() -> float:
        with torch.no_grad():
            logits = pda(x_test)[0][-1, :, 0]
        return ((logits > 0).float() == labels_test).float().mean().item()

    before = accuracy()
    for _ in range(60):
        x, labels = dyck1_batch(g, 32, 5)
        loss = F.binary_cross_entropy_with_logits(pda(x)[0][-1, :, 0], labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert before <= 0.6
    assert accuracy() >= 0.98
