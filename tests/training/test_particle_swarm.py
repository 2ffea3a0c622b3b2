"""Particle swarm optimisation: the global best never gets worse, runs are reproducible, and it finds
weights for running parity."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.genetic import ParityObjective
from rnnref.training.particle_swarm import TERM_IRI, ParticleSwarm

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _sphere(x: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(dim=1)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    inertia=st.floats(0.0, 1.2),
    cognitive=st.floats(0.0, 3.0),
    social=st.floats(0.0, 3.0),
    max_velocity=st.sampled_from([None, 0.1, 1.0]),
)
def test_global_best_never_gets_worse(seed, inertia, cognitive, social, max_velocity) -> None:
    """Whatever the coefficients, even ones that make the swarm diverge."""
    objective = ParityObjective()
    pso = ParticleSwarm(15, inertia, cognitive, social, max_velocity=max_velocity)
    history = pso.run(objective.mse, objective.dim, 30, torch.Generator().manual_seed(seed)).history
    assert len(history) == 31
    assert all(later <= earlier for earlier, later in zip(history, history[1:]))


def test_converges_on_a_sphere() -> None:
    result = ParticleSwarm(20).run(_sphere, 5, 300, torch.Generator().manual_seed(0))
    assert result.history[0] > 1.0
    assert result.best_loss < 1e-6
    assert result.best_loss == pytest.approx(_sphere(result.best[None]).item())


def test_deterministic_under_a_generator() -> None:
    objective = ParityObjective()
    pso = ParticleSwarm(10)
    a = pso.run(objective.mse, objective.dim, 20, torch.Generator().manual_seed(3))
    b = pso.run(objective.mse, objective.dim, 20, torch.Generator().manual_seed(3))
    c = pso.run(objective.mse, objective.dim, 20, torch.Generator().manual_seed(4))
    assert a.history == b.history and torch.equal(a.best, b.best)
    assert a.history != c.history


def test_nan_losses_never_become_the_best() -> None:
    def sometimes_nan(x):
        loss = _sphere(x)
        return torch.where(x[:, 0] > 0, torch.full_like(loss, float("nan")), loss)

    result = ParticleSwarm(10).run(sometimes_nan, 3, 30, torch.Generator().manual_seed(5))
    assert result.best[0] <= 0 and all(h == h for h in result.history)


def test_solves_running_parity() -> None:
    """40 particles find an Elman network (4 hidden units) with MSE <= 0.01 that gets all 24
    running-parity outputs right, within 500 iterations."""
    objective = ParityObjective(length=3, hidden_size=4)
    result = ParticleSwarm(40).run(objective.mse, objective.dim, 500, torch.Generator().manual_seed(0), target_loss=0.01)
    assert result.history[0] > 0.1
    assert result.best_loss <= 0.01
    assert objective.accuracy(result.best) == 1.0
    assert len(result.history) < 500


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(n_particles=0), "n_particles"), (dict(inertia=-1.0), "inertia"), (dict(max_velocity=0.0), "max_velocity")],
)
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        ParticleSwarm(**kwargs)
    with pytest.raises(ValueError, match="loss_fn must return"):
        ParticleSwarm(4).run(lambda x: x.sum(), 3, 2, torch.Generator())


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/particle-swarm-optimization"
    assert ParticleSwarm.term_iri == TERM_IRI
