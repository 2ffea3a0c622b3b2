"""The EXTRA demos (rnnref.demos.extra): each runs, is deterministic for a seed, and shows what its summary says."""

from __future__ import annotations

import pytest

from rnnref.demos import Demo, all_demos, run_demo
from rnnref.demos.extra import DEMOS

SLUGS = [
    "bidirectional-lstm",
    "stacked-lstm",
    "elmo",
    "multidimensional-rnn",
    "xlstm",
    "ode-rnn",
    "s4",
    "narx-network",
    "hebbian-learning",
    "backpropagation-through-structure",
]

#: Shorter training budgets for the determinism check (same code path, fewer steps).
SHORT = {
    "bidirectional-lstm": 5,
    "stacked-lstm": 40,
    "elmo": 20,
    "multidimensional-rnn": 30,
    "xlstm": 50,
    "ode-rnn": 20,
    "s4": 50,
    "narx-network": 50,
}

_results: dict[str, Demo] = {}


def _demo(slug: str) -> Demo:
    if slug not in _results:
        _results[slug] = run_demo(slug, seed=0)
    return _results[slug]


def _column(demo: Demo, name: str) -> list:
    i = demo.columns.index(name)
    return [row[i] for row in demo.rows]


def test_the_extra_demo_slugs_are_registered():
    assert list(DEMOS) == SLUGS
    assert set(SLUGS) <= set(all_demos())


@pytest.mark.parametrize("slug", SLUGS)
def test_runs_and_is_deterministic(slug):
    demo = _demo(slug)
    assert demo.title and demo.task and demo.summary
    assert demo.rows and all(len(row) == len(demo.columns) for row in demo.rows)
    assert all(isinstance(v, (int, float, str)) for row in demo.rows for v in row)
    if slug in SHORT:
        short = DEMOS[slug](0, steps=SHORT[slug])
        assert DEMOS[slug](0, steps=SHORT[slug]) == short
        if slug == "xlstm":  # rows per block: the short run repeats each block's first rows
            assert short.rows == [row for row in demo.rows if row[1] <= SHORT[slug]]
        elif slug != "bidirectional-lstm":  # that table has one row per model, after training
            assert short.rows == demo.rows[: len(short.rows)]
    else:
        assert run_demo(slug, seed=0) == demo


def test_another_seed_gives_other_numbers():
    assert DEMOS["narx-network"](1, steps=50).rows != DEMOS["narx-network"](0, steps=50).rows


def test_bidirectional_beats_forward_only():
    forward, bi = _demo("bidirectional-lstm").rows
    assert forward[3] < 0.6 and bi[3] > 0.95
    assert f"{100 * bi[3]:.1f}%" in _demo("bidirectional-lstm").summary


@pytest.mark.parametrize("slug", ["stacked-lstm", "multidimensional-rnn"])
def test_accuracy_rises(slug):
    accuracy = _column(_demo(slug), "test accuracy")
    assert accuracy[0] < 0.6 and accuracy[-1] >= 0.97
    assert f"{100 * accuracy[-1]:.1f}%" in _demo(slug).summary


def test_elmo_learns_both_directions():
    last = _demo("elmo").rows[-1]
    assert last[2] >= 0.95 and last[3] >= 0.95
    assert "cosine similarity" in _demo("elmo").summary


def test_xlstm_mlstm_recalls():
    rows = [r for r in _demo("xlstm").rows if r[0] == "mLSTM block"]
    assert rows[0][2] < 0.25 and rows[-1][2] >= 0.9


def test_ode_rnn_beats_the_last_value():
    last = _demo("ode-rnn").rows[-1]
    assert last[1] < 0.3 * last[2]


def test_s4_learns_the_delay_and_modes_agree():
    rows = _demo("s4").rows
    assert rows[-1][1] < 0.05 < rows[0][1]
    assert max(r[2] for r in rows) < 1e-3


def test_narx_closed_loop_simulates_the_system():
    assert _demo("narx-network").rows[-1][2] < 0.01


def test_hebbian_oja_converges_and_plain_hebb_diverges():
    last = _demo("hebbian-learning").rows[-1]
    assert last[1] > 0.99 and abs(last[2] - 1) < 0.05 and last[3] > 1e6
    assert "largest difference 0.0e+00" in _demo("hebbian-learning").summary


def test_bpts_matches_autograd():
    assert max(_column(_demo("backpropagation-through-structure"), "max |BPTS - autograd|")) < 1e-12
