"""Hopfield network: Hebbian weights, energy never rises under async updates, stored patterns are
fixed points and attractors, synchronous updates can cycle."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models.hopfield import TERM_IRI, HopfieldNetwork

F64 = torch.float64


def _hadamard(n: int) -> torch.Tensor:
    """Sylvester Hadamard matrix (n a power of two): mutually orthogonal ±1 rows."""
    h = torch.ones(1, 1)
    while h.size(0) < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def _random_state(generator, *shape):
    return torch.randint(0, 2, shape, generator=generator).double() * 2 - 1


def test_hebbian_weights_by_hand():
    patterns = torch.tensor([[1, -1, 1], [1, 1, -1]])
    net = HopfieldNetwork(3)
    net.store(patterns)
    expected = torch.zeros(3, 3, dtype=F64)
    for i in range(3):
        for j in range(3):
            if i != j:
                expected[i, j] = sum(float(p[i] * p[j]) for p in patterns) / 3
    torch.testing.assert_close(net.weight, expected, atol=0, rtol=0)
    assert torch.equal(net.weight, net.weight.T)


def test_energy_by_hand():
    torch.manual_seed(0)
    net = HopfieldNetwork(5)
    w = torch.randn(5, 5, dtype=F64)
    w = (w + w.T) / 2
    w.fill_diagonal_(0)
    theta = torch.randn(5, dtype=F64)
    net.set_weights(w, theta)
    s = torch.tensor([1.0, -1, -1, 1, 1], dtype=F64)
    expected = -0.5 * sum(w[i, j] * s[i] * s[j] for i in range(5) for j in range(5)) + sum(theta * s)
    torch.testing.assert_close(net.energy(s), expected, atol=1e-12, rtol=0)
    batch = torch.stack([s, -s])
    torch.testing.assert_close(net.energy(batch)[0], expected, atol=1e-12, rtol=0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**31 - 1), with_threshold=st.booleans())
def test_energy_never_increases_under_asynchronous_updates(n, seed, with_threshold):
    """Any symmetric, zero-diagonal weights (not only Hebbian ones), any start, any order."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n, n, generator=g, dtype=F64)
    w = w + w.T
    w.fill_diagonal_(0)
    theta = torch.randn(n, generator=g, dtype=F64) if with_threshold else None
    net = HopfieldNetwork(n)
    net.set_weights(w, theta)
    s = _random_state(g, 3, n)
    energy = net.energy(s)
    for _ in range(4):
        for i in torch.randperm(n, generator=g).tolist():
            s = net.update_unit(s, i)
            new_energy = net.energy(s)
            assert bool((new_energy <= energy + 1e-12).all())
            energy = new_energy
    # after enough sweeps the state is a fixed point (finite states, energy strictly drops on each change)
    final = net.recall(s, max_sweeps=200, generator=g)
    assert bool(net.is_fixed_point(final).all())


def test_stored_orthogonal_patterns_are_fixed_points_sync_and_async():
    patterns = _hadamard(32)[1:6]  # five orthogonal ±1 patterns of 32 units
    net = HopfieldNetwork(32)
    net.store(patterns)
    assert bool(net.is_fixed_point(patterns.double()).all())
    torch.testing.assert_close(net.update_synchronous(patterns.double()), patterns.double(), atol=0, rtol=0)
    g = torch.Generator().manual_seed(0)
    for p in patterns.double():
        assert torch.equal(net.sweep(p, generator=g), p)


def test_recall_from_corrupted_patterns():
    g = torch.Generator().manual_seed(1)
    patterns = _hadamard(64)[[3, 10, 21, 40]].double()  # four orthogonal patterns of 64 units
    net = HopfieldNetwork(64)
    net.store(patterns)
    recovered = {"async": 0, "sync": 0}
    trials = 0
    for p in patterns:
        for _ in range(5):
            probe = p.clone()
            flip = torch.randperm(64, generator=g)[:12]  # 12 of 64 bits (19%) flipped
            probe[flip] *= -1
            trials += 1
            for mode in recovered:
                recovered[mode] += int(torch.equal(net.recall(probe, mode=mode, generator=g), p))
    assert recovered["async"] == trials
    assert recovered["sync"] == trials
    # a random probe ends in *some* fixed point, with lower energy than it started
    probe = _random_state(g, 64)
    final = net.recall(probe, generator=g)
    assert bool(net.is_fixed_point(final)) and net.energy(final) <= net.energy(probe)


def test_synchronous_updates_can_cycle_where_asynchronous_ones_settle():
    """Two units that want to disagree: from (+1, +1) sync flips both forever; async settles."""
    net = HopfieldNetwork(2)
    net.set_weights(torch.tensor([[0.0, -1.0], [-1.0, 0.0]], dtype=F64))
    s = torch.tensor([1.0, 1.0], dtype=F64)
    s1 = net.update_synchronous(s)
    assert s1.tolist() == [-1.0, -1.0]
    assert net.update_synchronous(s1).tolist() == [1.0, 1.0]
    settled = net.sweep(s, order=torch.tensor([0, 1]))
    assert settled.tolist() == [-1.0, 1.0] and bool(net.is_fixed_point(settled))
    assert net.energy(settled) < net.energy(s)


def test_zero_field_keeps_the_unit():
    net = HopfieldNetwork(3)  # all weights zero: every field is 0
    s = torch.tensor([1.0, -1.0, 1.0], dtype=F64)
    assert torch.equal(net.update_synchronous(s), s)
    assert torch.equal(net.sweep(s, order=torch.tensor([2, 0, 1])), s)


def test_invalid_arguments():
    net = HopfieldNetwork(4)
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        net.store(torch.tensor([[1, 0, 1, -1]]))
    with pytest.raises(ValueError, match="shape"):
        net.energy(torch.ones(3))
    with pytest.raises(ValueError, match="symmetric"):
        net.set_weights(torch.triu(torch.ones(4, 4), 1))
    with pytest.raises(ValueError, match="zero diagonal"):
        net.set_weights(torch.ones(4, 4))
    with pytest.raises(ValueError, match="unit index"):
        net.update_unit(torch.ones(4), 4)
    with pytest.raises(ValueError, match="mode"):
        net.recall(torch.ones(4), mode="parallel")
    with pytest.raises(ValueError, match="num_units"):
        HopfieldNetwork(0)


def test_term_iri():
    assert HopfieldNetwork.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/hopfield-network"
