"""Echo state network: spectral scaling, echo state property, fast = readable, ridge readout
(closed form vs lstsq, exact recovery of a linear readout), Mackey-Glass one-step prediction."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models._recurrent import Cell
from rnnref.models.echo_state import (
    TERM_IRI,
    EchoStateNetwork,
    mackey_glass,
    ridge_regression,
    spectral_radius,
)

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _esn(seed=0, **kwargs):
    config = {"spectral_radius": 0.9, "density": 0.2, "input_scaling": 0.5, "bias_scaling": 0.2, **kwargs}
    return EchoStateNetwork(1, 50, 1, generator=torch.Generator().manual_seed(seed), **config)


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.2])
def test_reservoir_is_scaled_to_the_requested_spectral_radius_and_density(rho):
    esn = EchoStateNetwork(2, 80, 1, spectral_radius=rho, density=0.1, generator=torch.Generator().manual_seed(1))
    assert spectral_radius(esn.weight) == pytest.approx(rho, abs=1e-9)
    assert 0.07 < (esn.weight != 0).double().mean().item() < 0.13
    assert esn.weight_in.abs().max() <= 1.0 and esn.bias.abs().max() == 0


def test_same_generator_seed_same_reservoir():
    a, b, c = _esn(3), _esn(3), _esn(4)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.weight_in, b.weight_in)
    assert not torch.equal(a.weight, c.weight)


@pytest.mark.parametrize("leak_rate", [1.0, 0.3])
def test_echo_state_property_initial_state_is_forgotten(leak_rate):
    """Two very different initial states, the same input: the states converge."""
    esn = _esn(5, leak_rate=leak_rate)
    g = torch.Generator().manual_seed(5)
    u = torch.rand(1, 400, 1, generator=g, dtype=F64) * 2 - 1
    x0_a = torch.rand(1, 50, generator=g, dtype=F64) * 2 - 1
    x0_b = -x0_a
    distance = (esn.states(u, x0_a) - esn.states(u, x0_b)).norm(dim=-1)[0]
    assert distance[0] > 0.1
    assert distance[-1] < 1e-8
    assert distance[200:].max() < distance[:20].min() * 1e-3


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), sigma=st.floats(0.1, 0.95), leak=st.floats(0.1, 1.0))
def test_contraction_bound_when_the_largest_singular_value_is_below_one(seed, sigma, leak):
    """The sufficient condition for the echo state property: tanh is 1-Lipschitz, so with
    ||W||_2 = sigma < 1 the distance between two runs shrinks at least by (1 - a) + a * sigma per step."""
    g = torch.Generator().manual_seed(seed)
    esn = EchoStateNetwork(2, 12, 1, leak_rate=leak, density=0.5, bias_scaling=0.3, generator=g)
    with torch.no_grad():
        esn.weight.mul_(sigma / torch.linalg.matrix_norm(esn.weight, ord=2))
    u = torch.randn(1, 30, 2, generator=g, dtype=F64)
    x_a = esn.states(u, torch.randn(1, 12, generator=g, dtype=F64))
    x_b = esn.states(u, torch.randn(1, 12, generator=g, dtype=F64))
    d = (x_a - x_b).norm(dim=-1)[0]
    factor = (1 - leak) + leak * sigma
    assert bool((d[1:] <= factor * d[:-1] + 1e-12).all())


def test_fast_path_equals_readable_path_and_cell_protocol():
    esn = _esn(6, leak_rate=0.4)
    assert isinstance(esn, Cell)
    g = torch.Generator().manual_seed(6)
    u = torch.randn(3, 20, 1, generator=g, dtype=F64)
    x0 = torch.randn(3, 50, generator=g, dtype=F64)
    torch.testing.assert_close(esn.states(u, x0), esn.states_stepwise(u, x0), atol=1e-14, rtol=0)


def test_ridge_regression_equals_augmented_least_squares():
    g = torch.Generator().manual_seed(7)
    Z = torch.randn(60, 8, generator=g, dtype=F64)
    Y = torch.randn(60, 3, generator=g, dtype=F64)
    beta = 0.7
    W = ridge_regression(Z, Y, beta)
    # min ||Z W^T - Y||^2 + beta ||W||^2  ==  least squares on [Z; sqrt(beta) I] and [Y; 0]
    Z_aug = torch.cat([Z, beta**0.5 * torch.eye(8, dtype=F64)])
    Y_aug = torch.cat([Y, torch.zeros(8, 3, dtype=F64)])
    expected = torch.linalg.lstsq(Z_aug, Y_aug).solution.T
    torch.testing.assert_close(W, expected, atol=1e-12, rtol=0)


def test_fit_recovers_a_readout_that_is_exactly_linear_in_the_features():
    """Targets made by a known W_out from [1; u; x]: the fitted readout is that W_out."""
    esn = EchoStateNetwork(2, 20, 2, density=0.5, bias_scaling=0.3, generator=torch.Generator().manual_seed(8))
    g = torch.Generator().manual_seed(8)
    u = torch.randn(4, 100, 2, generator=g, dtype=F64)
    true_out = torch.randn(2, 23, generator=g, dtype=F64)
    targets = esn.features(u, esn.states(u)) @ true_out.T
    esn.fit(u, targets, washout=10, ridge=1e-12)
    torch.testing.assert_close(esn.weight_out, true_out, atol=1e-6, rtol=0)
    y, _ = esn(u)
    torch.testing.assert_close(y, targets, atol=1e-8, rtol=0)


def test_mackey_glass_one_step_prediction():
    series = mackey_glass(2000)
    assert 0.3 < series.min() and series.max() < 1.5  # the attractor's range
    u = (series - 1.0)[None, :, None]
    esn = _esn(0)
    esn.fit(u[:, :1500], u[:, 1:1501], washout=100, ridge=1e-8)
    y, _ = esn(u[:, :-1])  # one continuous run; the last 498 predictions are on unseen data
    prediction, target = y[:, 1500:], u[:, 1501:]
    nrmse = ((prediction - target) ** 2).mean().sqrt() / target.std()
    persistence = ((u[:, 1500:-1] - target) ** 2).mean().sqrt() / target.std()  # predict x_{t+1} = x_t
    assert nrmse < 5e-3
    assert nrmse < 0.05 * persistence


def test_mackey_glass_follows_the_equation():
    series = mackey_glass(50, dt=1.0, discard=0, tau=2.0, x0=0.5)
    # with dt = 1 every sample is one Euler step; history before t = 0 is x0
    x = [0.5, 0.5, 0.5]
    for _ in range(50):
        x.append(x[-1] + 0.2 * x[-3] / (1 + x[-3] ** 10) - 0.1 * x[-1])
    torch.testing.assert_close(series, torch.tensor(x[3:], dtype=F64), atol=1e-14, rtol=0)


def test_gradcheck_and_gradgradcheck():
    esn = EchoStateNetwork(2, 4, 1, leak_rate=0.5, density=0.8, bias_scaling=0.2, generator=torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(9)
    u = torch.randn(2, 4, 2, generator=g, dtype=F64, requires_grad=True)
    x0 = torch.randn(2, 4, generator=g, dtype=F64, requires_grad=True)
    names = ["weight_in", "weight", "bias", "weight_out"]
    tensors = tuple(
        (torch.randn(1, 7, generator=g, dtype=F64) if n == "weight_out" else getattr(esn, n)).clone().requires_grad_()
        for n in names
    )

    def fn(u, x0, *buffers):
        return torch.func.functional_call(esn, dict(zip(names, buffers, strict=True)), (u, x0))

    assert torch.autograd.gradcheck(fn, (u, x0, *tensors))
    assert torch.autograd.gradgradcheck(fn, (u, x0, *tensors))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"spectral_radius": 0.0}, ValueError, "spectral_radius"),
        ({"leak_rate": 1.5}, ValueError, "leak_rate"),
        ({"density": 0}, ValueError, "density"),
        ({"input_scaling": -1}, ValueError, "input_scaling"),
        ({"leak_rate": "fast"}, TypeError, "leak_rate"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        EchoStateNetwork(1, 10, 1, **kwargs)


def test_invalid_inputs():
    esn = _esn()
    u = torch.zeros(1, 10, 1, dtype=F64)
    with pytest.raises(ValueError, match=r"\(B, T, 1\)"):
        esn(torch.zeros(10, 1))
    with pytest.raises(ValueError, match="x0"):
        esn(u, torch.zeros(1, 3, dtype=F64))
    with pytest.raises(ValueError, match="targets"):
        esn.fit(u, torch.zeros(1, 9, 1, dtype=F64))
    with pytest.raises(ValueError, match="washout"):
        esn.fit(u, u, washout=10)
    with pytest.raises(ValueError, match="multiples of dt"):
        mackey_glass(10, dt=0.3)


def test_term_iri():
    assert EchoStateNetwork.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/echo-state-network"
