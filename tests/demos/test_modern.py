"""The demos of rnnref.demos.modern run, are deterministic for a seed, and show what they claim."""

from __future__ import annotations

import pytest

from rnnref.demos import Demo, all_demos, run_demo
from rnnref.demos.modern import DEMOS

SLUGS = ["minimal-gated-unit", "mingru", "minlstm", "linear-rnn", "state-space-model", "mamba", "rwkv"]

_results: dict[str, Demo] = {}


def _demo(slug: str) -> Demo:
    if slug not in _results:
        _results[slug] = run_demo(slug, seed=0)
    return _results[slug]


def _column(demo: Demo, name: str) -> list:
    i = demo.columns.index(name)
    return [row[i] for row in demo.rows]


def test_the_modern_demo_slugs_are_registered():
    assert list(DEMOS) == SLUGS
    assert set(SLUGS) <= set(all_demos())


@pytest.mark.parametrize("slug", SLUGS)
def test_runs_and_has_a_table(slug):
    demo = _demo(slug)
    assert demo.title and demo.task and demo.summary
    assert demo.rows and all(len(row) == len(demo.columns) for row in demo.rows)
    assert all(isinstance(v, (int, float)) for row in demo.rows for v in row)


@pytest.mark.parametrize("slug", ["mingru", "minlstm"])
def test_deterministic_for_a_seed(slug):
    assert run_demo(slug, seed=0) == _demo(slug)  # same numbers to the last bit


def test_another_seed_gives_other_numbers():
    assert run_demo("mingru", seed=1).rows != _demo("mingru").rows


@pytest.mark.parametrize("slug", ["mingru", "minlstm", "mamba", "rwkv"])
def test_flagged_recall_is_learned(slug):
    demo = _demo(slug)
    loss, accuracy = _column(demo, "test loss"), _column(demo, "sign accuracy")
    assert accuracy[0] < 0.7  # chance is about 0.5
    assert accuracy[-1] > 0.99
    assert loss[-1] < 0.05 * loss[0]
    assert f"{100 * accuracy[-1]:.1f}%" in demo.summary


def test_mgu_learns_delayed_recall():
    demo = _demo("minimal-gated-unit")
    loss, recalled = _column(demo, "loss"), _column(demo, "bits recalled")
    assert loss[-1] < 0.02 * loss[0]
    assert recalled[0] < 0.7 and recalled[-1] > 0.99


def test_complex_eigenvalues_fit_the_oscillating_filter_and_real_ones_cannot():
    demo = _demo("linear-rnn")
    complex_, real = _column(demo, "relative loss, complex"), _column(demo, "relative loss, real")
    assert complex_[-1] < 0.01
    assert real[-1] > 0.1
    assert complex_[-1] < 0.1 * real[-1]


def test_ssm_identifies_the_spring_and_the_modes_agree():
    demo = _demo("state-space-model")
    loss, gap = _column(demo, "relative loss"), _column(demo, "max |recurrent - convolution|")
    assert loss[0] > 0.5 and loss[-1] < 0.01
    assert max(gap) < 1e-5
