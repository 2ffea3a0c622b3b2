"""NaN and Inf are caught where the user asked for checking, and cost nothing otherwise."""

from __future__ import annotations

import math

import pytest
import torch

from rnnref.models._checks import NonFiniteError, check_finite, checking, is_checking
from tests.fuzz.harness import call, check_contract


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _hooks() -> int:
    from torch.nn.modules import module

    return len(module._global_forward_pre_hooks) + len(module._global_forward_hooks)


def test_check_finite_names_the_value_and_its_index():
    x = torch.zeros(2, 3, 4)
    assert check_finite(x, "x") is x
    x[1, 2, 3] = float("nan")
    with pytest.raises(ValueError, match=r"x contains NaN at index \(1, 2, 3\) \(1 non-finite of 24 values, shape \(2, 3, 4\)\)"):
        check_finite(x, "x")
    y = torch.tensor([1.0, -math.inf, math.inf])
    with pytest.raises(NonFiniteError, match=r"y contains -Inf at index \(1,\)"):
        check_finite(y, "y")
    with pytest.raises(NonFiniteError, match="z contains \\+Inf"):
        check_finite(torch.tensor(math.inf), "z")
    assert check_finite(torch.tensor([1, 2]), "ints") is not None  # integers cannot hold NaN
    values = [1.0, float("nan")]
    assert check_finite(values, "not a tensor") is values


def test_models_reject_nan_input_only_when_checking():
    from rnnref.models.lstm import LSTM

    model = LSTM(3, 5)
    x = torch.randn(4, 2, 3)
    x[2, 1, 0] = float("nan")
    assert _hooks() == 0 and not is_checking()
    out = model(x)  # off by default: no hook, no check, NaN flows through as torch's own LSTM lets it
    first = out[0] if isinstance(out, tuple) else out
    assert torch.isnan(first).any()

    with pytest.raises(ValueError, match=r"LSTM input 0 contains NaN at index \(2, 1, 0\)"):
        with checking():
            assert is_checking() and _hooks() == 2
            model(x)
    assert _hooks() == 0 and not is_checking()  # removed again, even after the error

    with checking():  # finite input passes; nested blocks share one pair of hooks
        with checking():
            assert _hooks() == 2
            model(torch.randn(4, 2, 3))
        assert is_checking()
    assert _hooks() == 0
    with checking(enabled=False):
        assert _hooks() == 0
        model(x)


def test_inf_in_the_initial_state_and_in_outputs_is_caught():
    from rnnref.models.gru import GRU

    model = GRU(3, 4)
    h0 = torch.zeros(1, 2, 4)
    h0[0, 1, 2] = float("inf")
    with pytest.raises(NonFiniteError, match=r"GRU input 1 contains \+Inf at index \(0, 1, 2\)"):
        with checking():
            model(torch.randn(5, 2, 3), h0)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))  # finite input, poisoned weights: the output is caught
    with pytest.raises(NonFiniteError, match="output"):
        with checking():
            model(torch.randn(5, 2, 3))


def test_run_check_finite_stops_a_diverging_demo_with_one_line():
    # The gradient-clipping demo lets its unclipped run diverge (to NaN) on purpose.
    plain = call(["run", "gradient-clipping", "--json"])
    check_contract(plain)
    assert plain.code == 0, plain.err_text
    checked = call(["run", "gradient-clipping", "--check-finite"])
    check_contract(checked)
    assert checked.code == 1, checked.err_text
    assert "gradient-clipping (seed 0):" in checked.err_text and "contains NaN at index" in checked.err_text


def test_run_check_finite_passes_a_healthy_demo():
    r = call(["run", "diagonal-bilstm", "--check-finite", "--json"])  # a quick demo of a torch module
    check_contract(r)
    assert r.code == 0, r.err_text
    assert _hooks() == 0
