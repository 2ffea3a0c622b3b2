"""Differentiable neural computer: usage, allocation, temporal links, read modes, gradients, learning."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck
from torch.nn import functional as F

from rnnref.models.dnc import (
    DNC,
    TERM_IRI,
    allocation_weighting,
    link_update,
    precedence_update,
    temporal_weightings,
    usage_update,
)
from rnnref.models.ntm import copy_task_batch

F64 = torch.float64
TOL = 1e-12


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/differentiable-neural-computer"
    assert DNC.term_iri == TERM_IRI


# -- independent loop versions of the paper's formulas -----------------------------------


def _allocation_loop(u: list[float]) -> list[float]:
    """a[phi[j]] = (1 - u[phi[j]]) prod_{i<j} u[phi[i]], phi = argsort(u) ascending (ties by index)."""
    phi = sorted(range(len(u)), key=lambda i: (u[i], i))
    a = [0.0] * len(u)
    product = 1.0
    for j in phi:
        a[j] = (1 - u[j]) * product
        product *= u[j]
    return a


def _link_loop(link, w, p):
    N = len(w)
    return [
        [0.0 if i == j else (1 - w[i] - w[j]) * link[i][j] + w[i] * p[j] for j in range(N)] for i in range(N)
    ]


@settings(max_examples=50, deadline=None)
@given(usage=st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_allocation_matches_the_formula_and_goes_to_the_least_used_location(usage: list[float]) -> None:
    u = torch.tensor([usage], dtype=F64)
    a = allocation_weighting(u)
    torch.testing.assert_close(a[0], torch.tensor(_allocation_loop(usage), dtype=F64), atol=TOL, rtol=0)
    assert torch.all(a >= 0) and a.sum() <= 1 + TOL
    least = min(range(len(usage)), key=lambda i: (usage[i], i))
    assert a[0, least] == pytest.approx(1 - usage[least], abs=TOL)
    if usage[least] < 1:
        assert int(a.argmax()) == least


def test_allocation_of_a_full_memory_with_one_free_slot_is_one_hot() -> None:
    u = torch.tensor([[1.0, 1.0, 0.0, 1.0], [0.3, 0.9, 0.2, 0.95]], dtype=F64)
    a = allocation_weighting(u)
    torch.testing.assert_close(a[0], torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=F64), atol=0, rtol=0)
    assert int(a[1].argmax()) == 2
    assert a[1, 2] == pytest.approx(0.8)  # 1 - 0.2
    assert a[1, 0] == pytest.approx(0.7 * 0.2)  # second least used: (1 - 0.3) * 0.2


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), N=st.integers(2, 7))
def test_link_update_matches_the_formula(seed: int, N: int) -> None:
    g = torch.Generator().manual_seed(seed)
    w = torch.softmax(torch.randn(1, N, generator=g, dtype=F64), -1) * torch.rand(1, 1, generator=g, dtype=F64)
    p = torch.softmax(torch.randn(1, N, generator=g, dtype=F64), -1) * torch.rand(1, 1, generator=g, dtype=F64)
    link = torch.rand(1, N, N, generator=g, dtype=F64) / N
    expected = torch.tensor(_link_loop(link[0].tolist(), w[0].tolist(), p[0].tolist()), dtype=F64)
    torch.testing.assert_close(link_update(link, w, p)[0], expected, atol=TOL, rtol=0)


def test_links_record_write_order_and_read_modes_follow_them() -> None:
    """Writing locations 2, 0, 3 in turn (one-hot) links 0 -> 2 and 3 -> 0; the forward weighting from
    location 2 is location 0, the backward weighting from location 3 is location 0."""
    N = 4
    link = torch.zeros(1, N, N, dtype=F64)
    precedence = torch.zeros(1, N, dtype=F64)
    for location in (2, 0, 3):
        w = F.one_hot(torch.tensor([location]), N).to(F64)
        link = link_update(link, w, precedence)
        precedence = precedence_update(precedence, w)
    assert link[0, 0, 2] == 1 and link[0, 3, 0] == 1
    assert link.sum() == 2  # nothing else
    read_w = F.one_hot(torch.tensor([[2, 3]]), N).to(F64)  # two read heads, at 2 and at 3
    forward, backward = temporal_weightings(link, read_w)
    assert torch.equal(forward[0, 0], F.one_hot(torch.tensor(0), N).to(F64))  # after 2 came 0
    assert torch.equal(backward[0, 1], F.one_hot(torch.tensor(0), N).to(F64))  # before 3 came 0
    assert forward[0, 1].sum() == 0  # nothing was written after 3


def test_usage_rises_with_writes_and_falls_when_freed() -> None:
    u = torch.tensor([[0.5, 0.0, 0.2]], dtype=F64)
    w_write = torch.tensor([[0.0, 1.0, 0.5]], dtype=F64)
    w_read = torch.tensor([[[1.0, 0.0, 0.0]]], dtype=F64)
    no_free = usage_update(u, w_write, w_read, torch.zeros(1, 1, dtype=F64))
    torch.testing.assert_close(no_free, torch.tensor([[0.5, 1.0, 0.6]], dtype=F64))
    freed = usage_update(u, w_write, w_read, torch.ones(1, 1, dtype=F64))
    torch.testing.assert_close(freed, torch.tensor([[0.0, 1.0, 0.6]], dtype=F64))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_a_running_computer_keeps_every_invariant(seed: int) -> None:
    """Over a random run: usage in [0, 1]; write, read, precedence weightings non-negative with sums <= 1;
    read modes make each read weighting a convex mix, and content weightings sum to 1; link entries in
    [0, 1], zero diagonal, rows and columns summing to <= 1."""
    torch.manual_seed(seed)
    dnc = DNC(3, 2, hidden_size=8, memory_size=5, word_size=4, num_reads=2, dtype=F64)
    with torch.no_grad():
        for parameter in dnc.parameters():
            parameter.mul_(3)  # large weights: gates near 0 and 1, the edge cases
        _, _, states = dnc(torch.randn(8, 3, 3, dtype=F64) * 2, return_states=True)
    eps = 1e-12
    for s in states:
        assert torch.all((s.usage >= 0) & (s.usage <= 1 + eps))
        for w in (s.write_weights, s.read_weights, s.precedence):
            assert torch.all(w >= 0) and torch.all(w.sum(-1) <= 1 + eps)
        assert torch.all(s.link >= 0) and torch.all(s.link <= 1 + eps)
        assert torch.all(torch.diagonal(s.link, dim1=-2, dim2=-1) == 0)
        assert torch.all(s.link.sum(-1) <= 1 + eps) and torch.all(s.link.sum(-2) <= 1 + eps)


def test_write_weighting_is_exactly_the_gated_mix() -> None:
    """With the write gate open and the allocation gate at 1, a write goes to the allocation weighting;
    the first write of a fresh computer (all usage 0) goes to location 0."""
    torch.manual_seed(0)
    dnc = DNC(2, 2, hidden_size=4, memory_size=5, word_size=3, dtype=F64)
    with torch.no_grad():
        dnc.interface.weight.zero_()
        bias = torch.zeros_like(dnc.interface.bias)
        offsets = torch.tensor(dnc._split).cumsum(0)
        bias[offsets[6] : offsets[8]] = 50.0  # allocation gate and write gate fully open
        dnc.interface.bias.copy_(bias)
    _, state = dnc(torch.randn(1, 1, 2, dtype=F64))
    torch.testing.assert_close(state.write_weights, F.one_hot(torch.tensor([0]), 5).to(F64), atol=1e-12, rtol=0)
    _, state = dnc(torch.randn(1, 1, 2, dtype=F64), state)  # location 0 is now used: next one is 1
    assert int(state.write_weights.argmax()) == 1 and state.write_weights.max() > 0.99


def test_invalid_input_raises() -> None:
    dnc = DNC(3, 2, hidden_size=4, memory_size=4, word_size=2)
    with pytest.raises(ValueError, match="expects x of shape"):
        dnc(torch.randn(2, 3))
    with pytest.raises(ValueError, match="at least one time step"):
        dnc(torch.randn(0, 2, 3))


def test_gradcheck_and_gradgradcheck() -> None:
    torch.manual_seed(5)
    dnc = DNC(2, 2, hidden_size=2, memory_size=3, word_size=2, num_reads=1, dtype=F64)
    x = torch.randn(3, 1, 2, dtype=F64, requires_grad=True)
    names = [name for name, _ in dnc.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in dnc.parameters()]

    def fn(x, *ps):
        y, state = torch.func.functional_call(dnc, dict(zip(names, ps, strict=True)), (x,))
        return y, state.memory, state.link, state.usage

    assert gradcheck(fn, (x, *params), eps=1e-6, atol=1e-6)
    assert gradgradcheck(fn, (x, *params), eps=1e-6, atol=1e-5, fast_mode=True)


def test_allocation_gradcheck_and_gradgradcheck() -> None:
    u = torch.tensor([[0.3, 0.9, 0.1, 0.6]], dtype=F64, requires_grad=True)
    assert gradcheck(allocation_weighting, (u,))
    assert gradgradcheck(allocation_weighting, (u,))


def test_learns_the_copy_task() -> None:
    """Copy 3 vectors of 3 bits; fixed budget (140 Adam steps, batch 32) and seed; >= 95% of bits right."""
    L, width = 3, 3
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    dnc = DNC(width + 1, width, hidden_size=32, memory_size=8, word_size=8)
    optimizer = torch.optim.Adam(dnc.parameters(), lr=3e-2)
    x_test, target_test = copy_task_batch(g, 200, L, width)

    def accuracy() -> float:
        with torch.no_grad():
            logits = dnc(x_test)[0][L + 1 :]
        return ((logits > 0).float() == target_test).float().mean().item()

    before = accuracy()
    for _ in range(140):
        x, target = copy_task_batch(g, 32, L, width)
        loss = F.binary_cross_entropy_with_logits(dnc(x)[0][L + 1 :], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert before < 0.65
    assert accuracy() >= 0.95
