"""RTRL's forward-mode gradients equal BPTT's and autograd's; online RTRL learns on a stream."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnref.training.rtrl as rtrl_module
from rnnref.training.bptt import bptt_gradients
from rnnref.training.rtrl import RTRL, TERM_IRI, rtrl_gradients

F64 = torch.float64
NAMES = ("W_x", "W_h", "b", "W_y", "b_y", "h0")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem(seed: int, B: int, T: int, I: int, H: int, O: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=F64)

    return {
        "W_x": randn(H, I) * scale / I**0.5,
        "W_h": randn(H, H) * scale / H**0.5,
        "b": randn(H) * 0.1,
        "W_y": randn(O, H) / H**0.5,
        "b_y": randn(O) * 0.1,
        "xs": randn(B, T, I),
        "targets": randn(B, T, O),
        "h0": randn(B, H) * 0.5,
    }


def _autograd(p):
    leaves = {n: p[n].clone().requires_grad_() for n in NAMES}
    h, loss = leaves["h0"], 0.0
    for t in range(p["xs"].size(1)):
        h = torch.tanh(p["xs"][:, t] @ leaves["W_x"].T + h @ leaves["W_h"].T + leaves["b"])
        loss = loss + 0.5 * ((h @ leaves["W_y"].T + leaves["b_y"] - p["targets"][:, t]) ** 2).sum()
    return loss.detach(), dict(zip(NAMES, torch.autograd.grad(loss, [leaves[n] for n in NAMES])))


def _check(p):
    loss, grads = rtrl_gradients(**p)
    loss_bptt, grads_bptt = bptt_gradients(**p)
    loss_ag, grads_ag = _autograd(p)
    torch.testing.assert_close(loss, loss_bptt, atol=1e-10, rtol=0)
    torch.testing.assert_close(loss, loss_ag, atol=1e-10, rtol=0)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        assert grads[name].shape == p[name].shape
        torch.testing.assert_close(grads[name], grads_bptt[name], atol=1e-10, rtol=0, msg=name)
        torch.testing.assert_close(grads[name], grads_ag[name], atol=1e-10, rtol=0, msg=name)


@pytest.mark.parametrize(
    "seed,B,T,I,H,O", [(0, 3, 8, 4, 5, 2), (1, 1, 1, 1, 1, 1), (2, 5, 20, 3, 7, 4), (3, 2, 40, 2, 8, 3)]
)
def test_equals_bptt_and_autograd(seed, B, T, I, H, O) -> None:
    _check(_problem(seed, B, T, I, H, O))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    B=st.integers(1, 3),
    T=st.integers(1, 10),
    I=st.integers(1, 4),
    H=st.integers(1, 5),
    O=st.integers(1, 3),
    scale=st.floats(0.1, 3.0),
)
def test_equals_bptt_property(seed, B, T, I, H, O, scale) -> None:
    _check(_problem(seed, B, T, I, H, O, scale))


def test_sensitivities_are_the_jacobians() -> None:
    """After t steps, P["W_h"][b, k, i, j] = d h_t[b, k] / d W_h[i, j], checked against torch.func.jacrev."""
    p = _problem(4, 2, 5, 3, 4, 2)
    learner = RTRL(p["W_x"], p["W_h"], p["b"], p["W_y"], p["b_y"], p["h0"])
    for t in range(5):
        learner.step(p["xs"][:, t], p["targets"][:, t])

    def h_T(W_x, W_h, b, h0):
        h = h0
        for t in range(5):
            h = torch.tanh(p["xs"][:, t] @ W_x.T + h @ W_h.T + b)
        return h

    jacobians = torch.func.jacrev(h_T, argnums=(0, 1, 2, 3))(p["W_x"], p["W_h"], p["b"], p["h0"])
    for name, jac in zip(("W_x", "W_h", "b"), jacobians):
        torch.testing.assert_close(learner.P[name], jac, atol=1e-12, rtol=0)
    # h0 is per example: d h_T[b] / d h0[b] (the cross-example blocks are zero)
    torch.testing.assert_close(learner.P["h0"], torch.stack([jacobians[3][b, :, b] for b in range(2)]), atol=1e-12, rtol=0)


def test_online_gradients_with_frozen_weights_sum_to_bptt() -> None:
    """Step by step, each dL_t/dtheta is available at time t; their sum over t is the BPTT gradient."""
    p = _problem(5, 2, 15, 2, 6, 1, scale=1.5)
    learner = RTRL(*(p[n].clone() for n in ("W_x", "W_h", "b", "W_y", "b_y", "h0")))
    running = {n: torch.zeros_like(p[n]) for n in NAMES}
    for t in range(15):
        _, grads = learner.step(p["xs"][:, t], p["targets"][:, t])
        learner.update(grads, lr=0.0)  # a zero learning rate leaves the weights alone
        for n in NAMES:
            running[n] += grads[n]
    _, grads_bptt = bptt_gradients(**p)
    for n in NAMES:
        torch.testing.assert_close(running[n], grads_bptt[n], atol=1e-10, rtol=0)


def _online_xor(lr: float, steps: int = 600) -> list[float]:
    """Online RTRL on one endless stream of ±1 bits, target y_t = x_(t-1) XOR x_(t-2) (a product in ±1):
    the fraction of signs right at each step, predicted before that step's update."""
    g = torch.Generator().manual_seed(6)
    I, H, O, B = 1, 8, 1, 4
    learner = RTRL(
        torch.randn(H, I, generator=g, dtype=F64),
        torch.randn(H, H, generator=g, dtype=F64) / H**0.5,
        torch.zeros(H, dtype=F64),
        torch.randn(O, H, generator=g, dtype=F64) / H**0.5,
        torch.zeros(O, dtype=F64),
        torch.zeros(B, H, dtype=F64),
    )
    stream = torch.randint(0, 2, (B, steps + 2, 1), generator=g).to(F64) * 2 - 1
    correct = []
    for t in range(2, steps + 2):
        target = stream[:, t - 1] * stream[:, t - 2]
        _, grads = learner.step(stream[:, t], target)
        prediction = learner.h @ learner.params["W_y"].T + learner.params["b_y"]
        correct.append((prediction.sign() == target).to(F64).mean().item())
        learner.update(grads, lr=lr)
    return correct


def test_online_learning_on_a_stream() -> None:
    """Williams & Zipser's online RTRL (a weight update after every step, no episodes, no stored history)
    learns XOR-in-time on a stream: >98% of signs right over the last 200 of 600 steps; the same network
    with the weights frozen stays near chance."""
    learned, frozen = _online_xor(lr=0.02), _online_xor(lr=0.0)
    assert sum(learned[:50]) / 50 < 0.75
    assert sum(learned[-200:]) / 200 > 0.98
    assert sum(frozen[-200:]) / 200 < 0.7


def test_does_not_use_autograd() -> None:
    source = inspect.getsource(rtrl_module)
    assert ".backward(" not in source and "autograd.grad" not in source and "torch.func" not in source


def test_bad_shapes() -> None:
    p = _problem(0, 2, 3, 4, 5, 2)
    p["W_h"] = p["W_h"][:, :4]
    with pytest.raises(ValueError, match="W_h must have shape"):
        rtrl_gradients(**p)
    p = _problem(0, 2, 3, 4, 5, 2)
    with pytest.raises(ValueError, match="targets"):
        rtrl_gradients(**{**p, "targets": p["targets"][:, :2]})


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/real-time-recurrent-learning"
    assert RTRL.term_iri == rtrl_gradients.term_iri == TERM_IRI
