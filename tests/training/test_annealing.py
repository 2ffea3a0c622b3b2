"""Simulated annealing: the schedule falls, at temperature 0 it never accepts a worse vector, the same
generator gives the same run, and it finds weights for running parity."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.annealing import TERM_IRI, SimulatedAnnealing
from rnnref.training.genetic import ParityObjective

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rastrigin(w: torch.Tensor) -> float:
    """A bumpy test function with many local minima and its global minimum 0 at w = 0."""
    return float(10 * w.numel() + (w * w - 10 * torch.cos(2 * math.pi * w)).sum())


@pytest.mark.parametrize("schedule", ["geometric", "linear"])
def test_schedule_is_monotone_with_the_stated_ends(schedule: str) -> None:
    sa = SimulatedAnnealing(2.0, 0.01, steps=50, schedule=schedule)
    temperatures = [sa.temperature(k) for k in range(50)]
    assert temperatures[0] == 2.0 and temperatures[-1] == pytest.approx(0.01, rel=1e-12)
    assert all(b <= a for a, b in zip(temperatures, temperatures[1:]))
    if schedule == "geometric":  # a constant ratio between steps
        ratios = [b / a for a, b in zip(temperatures, temperatures[1:])]
        assert max(ratios) - min(ratios) < 1e-12


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), step_std=st.floats(0.05, 2.0))
def test_at_temperature_zero_never_accepts_worse(seed: int, step_std: float) -> None:
    sa = SimulatedAnnealing(0.0, 0.0, steps=200, step_std=step_std)
    g = torch.Generator().manual_seed(seed)
    x0 = 3 * torch.randn(4, generator=g, dtype=F64)
    result = sa.run(_rastrigin, x0, g)
    assert result.accepted_worse == 0
    assert all(later <= earlier for earlier, later in zip([_rastrigin(x0), *result.losses], result.losses))
    assert set(result.temperatures) == {0.0}
    assert result.best_loss == result.losses[-1]  # the current vector is the best one


def test_hot_annealing_does_accept_worse_moves_and_escapes_local_minima() -> None:
    """On Rastrigin from the same start, annealing (which climbs out of local minima) ends lower than
    a zero-temperature descent that gets stuck."""
    start = torch.full((3,), 3.0, dtype=F64)  # a local minimum near (3, 3, 3), loss about 27
    hot = SimulatedAnnealing(10.0, 0.01, steps=3000, step_std=0.3).run(_rastrigin, start, torch.Generator().manual_seed(1))
    cold = SimulatedAnnealing(0.0, 0.0, steps=3000, step_std=0.3).run(_rastrigin, start, torch.Generator().manual_seed(1))
    assert hot.accepted_worse > 20 and cold.accepted_worse == 0
    assert hot.best_loss < 3.0 < cold.best_loss


def test_deterministic_under_a_generator() -> None:
    objective = ParityObjective()
    x0 = torch.randn(objective.dim, generator=torch.Generator().manual_seed(0), dtype=F64)
    sa = SimulatedAnnealing(0.01, 1e-5, steps=200, step_std=0.2)
    a = sa.run(objective.mse, x0, torch.Generator().manual_seed(5))
    b = sa.run(objective.mse, x0, torch.Generator().manual_seed(5))
    c = sa.run(objective.mse, x0, torch.Generator().manual_seed(6))
    assert a.losses == b.losses and torch.equal(a.best, b.best)
    assert a.losses != c.losses


def test_solves_running_parity() -> None:
    """From random weights, annealing (T from 0.01 down to 1e-5, proposals of std 0.2) finds an Elman
    network with MSE <= 0.01 that gets all 24 running-parity outputs right, within 3000 steps."""
    objective = ParityObjective(length=3, hidden_size=4)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(objective.dim, generator=g, dtype=F64)
    result = SimulatedAnnealing(0.01, 1e-5, steps=3000, step_std=0.2).run(objective.mse, x0, g, target_loss=0.01)
    assert objective.mse(x0).item() > 0.2
    assert result.best_loss <= 0.01
    assert objective.accuracy(result.best) == 1.0
    assert len(result.losses) < 3000


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(schedule="cosine"), "schedule"),
        (dict(initial_temperature=1.0, final_temperature=2.0), "final_temperature"),
        (dict(initial_temperature=1.0, final_temperature=0.0), "geometric"),
        (dict(steps=0), "steps"),
    ],
)
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        SimulatedAnnealing(**kwargs)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/simulated-annealing"
    assert SimulatedAnnealing.term_iri == TERM_IRI
