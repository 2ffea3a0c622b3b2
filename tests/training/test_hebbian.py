"""Hebbian learning: storing orthogonal ±1 patterns gives exactly the weights of HopfieldNetwork.store and
makes every pattern a fixed point; presentation order does not matter; plain Hebbian growth on a linear
unit is unbounded while Oja's rule converges to the unit first principal component of a known covariance."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.hopfield import HopfieldNetwork
from rnnref.training.hebbian import TERM_IRI, HebbianLearning, OjaRule, hebbian_update, oja_update

torch.set_num_threads(1)
F64 = torch.float64


def _hadamard(n: int) -> torch.Tensor:
    H = torch.ones(1, 1, dtype=F64)
    while H.size(0) < n:
        H = torch.cat([torch.cat([H, H], 1), torch.cat([H, -H], 1)], 0)
    return H


@pytest.mark.parametrize("N, P", [(8, 3), (16, 5), (32, 8)])
def test_orthogonal_patterns_give_the_hopfield_weights(N, P):
    patterns = _hadamard(N)[1 : P + 1]  # mutually orthogonal ±1 rows
    assert torch.equal(patterns @ patterns.T, N * torch.eye(P, dtype=F64))
    weights = HebbianLearning(lr=1 / N, zero_diagonal=True).store(patterns)
    hopfield = HopfieldNetwork(N)
    hopfield.store(patterns)
    torch.testing.assert_close(weights, hopfield.weight, rtol=0, atol=1e-15)
    # each stored pattern is a fixed point: the local field has its sign everywhere
    field = patterns @ weights.T
    assert bool((torch.sign(field) == patterns).all())
    assert torch.equal(hopfield.recall(patterns), patterns)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), P=st.integers(1, 6), N=st.integers(2, 12))
def test_incremental_equals_batch_and_is_order_free(seed, P, N):
    g = torch.Generator().manual_seed(seed)
    patterns = torch.randint(0, 2, (P, N), generator=g).to(F64) * 2 - 1
    rule = HebbianLearning(lr=1 / N, zero_diagonal=True)
    one_by_one = rule.store(patterns)
    shuffled = rule.store(patterns[torch.randperm(P, generator=g)])
    batch = hebbian_update(patterns, patterns, 1 / N)
    batch.fill_diagonal_(0)
    torch.testing.assert_close(one_by_one, batch, rtol=0, atol=1e-14)
    torch.testing.assert_close(shuffled, batch, rtol=0, atol=1e-14)
    torch.testing.assert_close(one_by_one, one_by_one.T, rtol=0, atol=0)
    hopfield = HopfieldNetwork(N)
    hopfield.store(patterns)
    torch.testing.assert_close(one_by_one, hopfield.weight, rtol=0, atol=1e-14)


def test_hetero_associative_step_is_the_outer_product():
    W = torch.zeros(2, 3, dtype=F64)
    pre, post = torch.tensor([1.0, -2.0, 0.5], dtype=F64), torch.tensor([2.0, -1.0], dtype=F64)
    HebbianLearning(lr=0.1).step(W, pre, post)
    torch.testing.assert_close(W, 0.1 * torch.outer(post, pre))


def _covariance_samples(g, n):
    """Zero-mean samples with covariance Q diag(5, 2, 1, 0.5) Q^T for a fixed rotation Q."""
    Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(7), dtype=F64))
    scales = torch.tensor([5.0, 2.0, 1.0, 0.5], dtype=F64).sqrt()
    return (torch.randn(n, 4, generator=g, dtype=F64) * scales) @ Q.T, Q[:, 0]


def test_oja_converges_to_the_first_principal_component():
    g = torch.Generator().manual_seed(0)
    x, first_pc = _covariance_samples(g, 4000)
    w = torch.randn(4, generator=g, dtype=F64) * 0.1
    rule = OjaRule(lr=0.005)
    for x_t in x:
        rule.step(w, x_t)
    assert abs(float(w @ first_pc)) / w.norm() > 0.995  # the right direction
    assert abs(w.norm().item() - 1.0) < 0.05  # and unit length


def test_plain_hebbian_growth_is_unbounded():
    g = torch.Generator().manual_seed(1)
    x, _ = _covariance_samples(g, 300)
    w = torch.randn(4, generator=g, dtype=F64) * 0.1
    for x_t in x:
        w = w + 0.005 * (x_t @ w) * x_t  # Delta w = eta y x, no decay
    assert w.norm() > 100


def test_oja_fixed_point():
    """For the top unit eigenvector q of C, E[y (x - y q)] = C q - (q^T C q) q = 0."""
    C = torch.diag(torch.tensor([3.0, 1.0], dtype=F64))
    L = torch.linalg.cholesky(C)
    z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]], dtype=F64)  # E[z z^T] = I exactly
    x = z @ L.T
    q = torch.tensor([1.0, 0.0], dtype=F64)
    torch.testing.assert_close(oja_update(q, x, 1.0) / 4, torch.zeros(2, dtype=F64))
    assert oja_update(torch.tensor([0.0, 1.0], dtype=F64) * 1.1, x, 1.0).norm() > 0  # off the fixed point


def test_term_iri_and_invalid_arguments():
    assert HebbianLearning.term_iri == OjaRule.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/hebbian-learning"
    for bad in (0, -1.0, True, "0.1", math.nan):
        with pytest.raises(ValueError, match="learning rate"):
            HebbianLearning(lr=bad)
    with pytest.raises(ValueError, match="batch size"):
        hebbian_update(torch.zeros(2, 3), torch.zeros(3, 2), 0.1)
    with pytest.raises(ValueError, match="weight must have shape"):
        HebbianLearning(0.1).step(torch.zeros(3, 3), torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="pre must have shape"):
        hebbian_update(torch.zeros(1, 2, 3), torch.zeros(2), 0.1)
    with pytest.raises(ValueError, match="weight must have shape"):
        oja_update(torch.zeros(3), torch.zeros(4), 0.1)
