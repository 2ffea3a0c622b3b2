"""``rnnref run``: every runnable term runs its demo; results depend only on the seed."""

from __future__ import annotations

import pytest


def test_run_lstm_shows_loss_falling_and_is_deterministic(cli):
    first = cli("run", "lstm", "--seed", "3", "--json")
    assert first.code == 0, first.err
    data = first.json()
    assert data["term"] == "lstm" and data["implementation"] == "rnnref.models.lstm:LSTM"
    loss = data["columns"].index("loss")
    losses = [row[loss] for row in data["rows"]]
    assert losses[-1] < 0.1 * losses[0]
    again = cli("run", "LSTM", "--seed", "3", "--json")
    assert again.json()["rows"] == data["rows"]


def test_every_term_with_an_implementation_has_a_demo(kg):
    from rnnref.demos import all_demos

    runnable = {t.id for t in kg.terms() if t.implementation is not None}
    assert len(runnable) >= 9
    demos = set(all_demos())
    assert runnable <= demos, f"no demo for {sorted(runnable - demos)}"


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["run", "hidden-state"], 1, "component"),
        (["run", "recurrent-neural-network"], 1, "umbrella"),
        (["run", "no-such-term"], 1, "no term matches"),
        (["run", "lstm", "--seed", "-1"], 2, "--seed"),
        (["run", "lstm", "--seed", "abc"], 2, "seed"),
    ],
)
def test_run_refuses_cleanly(cli, args, code, fragment):
    r = cli(*args)
    assert r.code == code, r.err
    assert fragment in r.err
    assert "Traceback" not in r.err and len(r.err.splitlines()) == 1
