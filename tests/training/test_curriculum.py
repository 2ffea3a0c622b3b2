"""The curriculum schedule is monotone, deterministic and bounded; with it a GRU learns parity of
10-bit strings within a fixed budget, without it the same network stays at chance."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.curriculum import KINDS, TERM_IRI, Curriculum


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 20),
    span=st.integers(0, 50),
    steps=st.integers(1, 500),
    kind=st.sampled_from(KINDS),
    stages=st.one_of(st.none(), st.integers(2, 10)),
)
def test_schedule_is_monotone_bounded_and_deterministic(start, span, steps, kind, stages) -> None:
    curriculum = Curriculum(start, start + span, steps, kind=kind, stages=stages)
    values = [curriculum(n) for n in range(steps + 20)]
    assert values == [Curriculum(start, start + span, steps, kind=kind, stages=stages)(n) for n in range(steps + 20)]
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert values[0] == start
    assert all(start <= v <= start + span for v in values)
    assert all(v == start + span for v in values[steps:])  # the hardest level from step N on


def test_shapes_of_the_three_kinds() -> None:
    linear = Curriculum(2, 10, 100)
    assert [linear(n) for n in (0, 25, 50, 75, 100)] == [2, 4, 6, 8, 10]
    root = Curriculum(2, 10, 100, kind="root")
    assert root(25) == 6  # sqrt(0.25) = 0.5: half way after a quarter of the steps
    stairs = Curriculum(0, 4, 100, kind="stairs", stages=5)
    assert sorted(set(stairs(n) for n in range(100))) == [0, 1, 2, 3, 4]
    assert [stairs(n) for n in (0, 19, 20, 39, 40)] == [0, 0, 1, 1, 2]


def test_sampling_stays_within_the_allowed_range_and_mixes() -> None:
    curriculum = Curriculum(2, 10, 100)
    g = torch.Generator().manual_seed(0)
    samples = [curriculum.sample(60, g) for _ in range(500)]
    assert min(samples) == 2 and max(samples) == curriculum(60) == 6
    assert Curriculum(2, 10, 100, mix=False).sample(60, g) == 6
    g_again = torch.Generator().manual_seed(0)
    assert [Curriculum(2, 10, 100).sample(60, g_again) for _ in range(500)] == samples  # same generator, same draws


def _parity_accuracy(curriculum: Curriculum | None, length: int = 10, steps: int = 300, seed: int = 0) -> float:
    """Train GRU(1, 16) + linear on the parity of random bit strings; accuracy at ``length`` after."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(100 + seed)
    gru, readout = torch.nn.GRU(1, 16, batch_first=True), torch.nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*gru.parameters(), *readout.parameters()], lr=1e-2)
    for step in range(steps):
        n = length if curriculum is None else curriculum.sample(step, g)
        x = torch.randint(0, 2, (32, n, 1), generator=g).float()
        y = x.sum(dim=1) % 2
        loss = F.binary_cross_entropy_with_logits(readout(gru(x)[0][:, -1]), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test = torch.randint(0, 2, (500, length, 1), generator=g).float()
    with torch.no_grad():
        predicted = readout(gru(test)[0][:, -1]) > 0
    return (predicted == (test.sum(dim=1) % 2 > 0.5)).float().mean().item()


def test_curriculum_reaches_the_target_accuracy_and_no_curriculum_does_not() -> None:
    """Parity of 10 bits, 300 Adam steps of 32 strings each. Lengths growing linearly from 2 to 10 over
    the first 180 steps (mixed with shorter ones): >95% right. Length 10 from the start: <65%."""
    assert _parity_accuracy(Curriculum(2, 10, 180)) > 0.95
    assert _parity_accuracy(None) < 0.65


@pytest.mark.parametrize(
    "args,match",
    [
        ((5, 3, 10), "end"),
        ((0, 3, 0), "steps"),
        ((0, 3, 10, "cosine"), "kind"),
        ((0, 3, 10, "stairs", 1), "stages"),
        ((0.5, 3, 10), "start"),
    ],
)
def test_bad_arguments(args, match) -> None:
    with pytest.raises(ValueError, match=match):
        Curriculum(*args)
    with pytest.raises(ValueError, match="step"):
        Curriculum(0, 3, 10)(-1)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/curriculum-learning"
    assert Curriculum.term_iri == TERM_IRI
