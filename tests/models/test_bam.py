"""Bidirectional associative memory: correlation matrix, recall both ways, energy never rises."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.bam import TERM_IRI, BidirectionalAssociativeMemory

F64 = torch.float64


def _hadamard(n: int) -> torch.Tensor:
    h = torch.ones(1, 1, dtype=F64)
    while h.size(0) < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def _bipolar(generator, *shape):
    return torch.randint(0, 2, shape, generator=generator).double() * 2 - 1


def _pairs():
    xs = _hadamard(32)[[1, 4, 7, 13]]  # orthogonal X patterns, n = 32
    ys = _hadamard(16)[[1, 2, 5, 6]]  # orthogonal Y patterns, p = 16
    return xs, ys


def test_correlation_matrix_by_hand():
    xs = torch.tensor([[1, -1, 1], [-1, -1, 1]])
    ys = torch.tensor([[1, -1], [1, 1]])
    bam = BidirectionalAssociativeMemory(3, 2)
    bam.store(xs, ys)
    expected = [[sum(xs[k, i].item() * ys[k, j].item() for k in range(2)) for j in range(2)] for i in range(3)]
    assert bam.weight.tolist() == expected


def test_recalls_every_stored_pair_in_both_directions():
    xs, ys = _pairs()
    bam = BidirectionalAssociativeMemory(32, 16)
    bam.store(xs, ys)
    torch.testing.assert_close(bam.forward_pass(xs), ys, atol=0, rtol=0)
    torch.testing.assert_close(bam.backward_pass(ys), xs, atol=0, rtol=0)
    x, y = bam.recall(x=xs)
    assert torch.equal(x, xs) and torch.equal(y, ys)
    x, y = bam.recall(y=ys)
    assert torch.equal(x, xs) and torch.equal(y, ys)


def test_recalls_the_partner_of_a_noisy_pattern():
    xs, ys = _pairs()
    bam = BidirectionalAssociativeMemory(32, 16)
    bam.store(xs, ys)
    g = torch.Generator().manual_seed(0)
    for k in range(4):
        for _ in range(5):
            probe = xs[k].clone()
            probe[torch.randperm(32, generator=g)[:4]] *= -1  # 4 of 32 bits wrong
            x, y = bam.recall(x=probe)
            assert torch.equal(y, ys[k]) and torch.equal(x, xs[k])
        y_probe = ys[k].clone()
        y_probe[torch.randperm(16, generator=g)[:2]] *= -1  # 2 of 16 bits wrong
        x, y = bam.recall(y=y_probe)
        assert torch.equal(x, xs[k]) and torch.equal(y, ys[k])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), p=st.integers(2, 8), pairs=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_energy_never_increases_and_recall_ends_stable(n, p, pairs, seed):
    """Random (not orthogonal) pairs and random starts: every half-step lowers or keeps E."""
    g = torch.Generator().manual_seed(seed)
    bam = BidirectionalAssociativeMemory(n, p)
    bam.store(_bipolar(g, pairs, n), _bipolar(g, pairs, p))
    x = _bipolar(g, 4, n)
    y = _bipolar(g, 4, p)
    energy = bam.energy(x, y)
    for _ in range(6):
        y = bam.forward_pass(x, y)
        after_y = bam.energy(x, y)
        assert bool((after_y <= energy + 1e-12).all())
        x = bam.backward_pass(y, x)
        energy = bam.energy(x, y)
        assert bool((energy <= after_y + 1e-12).all())
    x, y = bam.recall(x=x, max_steps=200)
    assert torch.equal(bam.forward_pass(x, y), y) and torch.equal(bam.backward_pass(y, x), x)


def test_invalid_arguments():
    bam = BidirectionalAssociativeMemory(4, 2)
    with pytest.raises(ValueError, match="same number of patterns"):
        bam.store(torch.ones(2, 4), torch.ones(3, 2))
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        bam.store(torch.zeros(1, 4), torch.ones(1, 2))
    with pytest.raises(ValueError, match=r"\(2,\) or \(B, 2\)"):
        bam.backward_pass(torch.ones(3))
    with pytest.raises(ValueError, match="exactly one"):
        bam.recall()
    with pytest.raises(ValueError, match="exactly one"):
        bam.recall(x=torch.ones(4), y=torch.ones(2))
    with pytest.raises(ValueError, match="y_size"):
        BidirectionalAssociativeMemory(3, 0)


def test_term_iri():
    assert BidirectionalAssociativeMemory.term_iri == TERM_IRI
    assert TERM_IRI == "https://w3id.org/rnnref/term/bidirectional-associative-memory"
