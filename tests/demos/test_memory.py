"""The M2 demos (rnnref.demos.memory): each runs, is deterministic for a seed, and shows its claim."""

from __future__ import annotations

import pytest

from rnnref.demos import Demo, all_demos, run_demo
from rnnref.demos.memory import DEMOS

SLUGS = [
    "neural-turing-machine",
    "differentiable-neural-computer",
    "neural-network-pushdown-automaton",
    "neural-history-compressor",
    "pixelrnn",
    "row-lstm",
    "diagonal-bilstm",
    "attention-mechanism",
]

_results: dict[str, Demo] = {}


def _demo(slug: str) -> Demo:
    """run_demo(slug, seed=0), once per test session."""
    if slug not in _results:
        _results[slug] = run_demo(slug, seed=0)
    return _results[slug]


def _column(demo: Demo, name: str) -> list:
    i = demo.columns.index(name)
    return [row[i] for row in demo.rows]


def test_the_memory_demo_slugs_are_registered() -> None:
    assert list(DEMOS) == SLUGS
    assert set(SLUGS) <= set(all_demos())


#: Training budgets for the determinism check of the slow demos (same code path, fewer steps).
SHORT = {
    "neural-turing-machine": 20,
    "differentiable-neural-computer": 35,
    "neural-network-pushdown-automaton": 15,
    "pixelrnn": 20,
    "attention-mechanism": 50,
}


@pytest.mark.parametrize("slug", SLUGS)
def test_runs_and_is_deterministic(slug: str) -> None:
    demo = _demo(slug)
    assert demo.title and demo.task and demo.summary
    assert demo.rows and all(len(row) == len(demo.columns) for row in demo.rows)
    assert all(isinstance(v, (int, float, str)) for row in demo.rows for v in row)
    if slug in SHORT:
        short = DEMOS[slug](0, steps=SHORT[slug])
        assert DEMOS[slug](0, steps=SHORT[slug]) == short  # same seed, same numbers to the last bit
        assert short.rows == demo.rows[: len(short.rows)]  # and it repeats the start of the full run exactly
    else:
        assert run_demo(slug, seed=0) == demo


def test_another_seed_gives_other_numbers() -> None:
    slug = "neural-network-pushdown-automaton"
    assert DEMOS[slug](1, steps=15).rows != DEMOS[slug](0, steps=15).rows


@pytest.mark.parametrize("slug, floor", [("neural-turing-machine", 0.98), ("differentiable-neural-computer", 0.9)])
def test_memory_networks_learn_to_copy(slug: str, floor: float) -> None:
    accuracy = _column(_demo(slug), "bit accuracy")
    assert accuracy[0] < 0.6
    assert accuracy[-1] >= floor
    assert f"{100 * accuracy[-1]:.1f}%" in _demo(slug).summary


def test_pushdown_automaton_recognises_balanced_parentheses() -> None:
    accuracy = _column(_demo("neural-network-pushdown-automaton"), "held-out accuracy")
    assert accuracy[0] <= 0.6 and accuracy[-1] >= 0.95


def test_history_compressor_passes_up_exactly_the_jumps() -> None:
    demo = _demo("neural-history-compressor")
    passed_up = _column(demo, "fraction of steps passed up")
    exact = _column(demo, "sequences where passed up = jumps")
    assert passed_up[0] > 0.3
    assert passed_up[-1] < 0.1
    assert exact[0] < 0.5 and exact[-1] == 1.0


def test_pixelrnn_approaches_the_entropy() -> None:
    demo = _demo("pixelrnn")
    bits, exact = _column(demo, "bits per pixel"), _column(demo, "pixels below row 0 predicted exactly")
    assert bits[0] > 7.5
    assert bits[-1] < 0.5
    assert exact[-1] == 1.0


def test_receptive_fields_are_causal_row_lstm_partial_diagonal_full() -> None:
    row, diagonal = _demo("row-lstm"), _demo("diagonal-bilstm")
    for demo in (row, diagonal):
        assert all(v == 0 for v in _column(demo, "later pixels it depends on"))
    earlier = _column(diagonal, "earlier pixels")
    assert _column(diagonal, "earlier pixels it depends on") == earlier
    row_seen = _column(row, "earlier pixels it depends on")
    assert all(s <= e for s, e in zip(row_seen, earlier, strict=True))
    assert sum(row_seen) < 0.7 * sum(earlier)


def test_attention_beats_the_plain_encoder_decoder() -> None:
    demo = _demo("attention-mechanism")
    plain, attentive = _column(demo, "token accuracy, plain"), _column(demo, "token accuracy, attention")
    assert attentive[-1] >= 0.85
    assert plain[-1] < 0.7
