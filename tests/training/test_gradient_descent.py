"""The readable SGD equals torch.optim.SGD step by step, and gradient descent does descend."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.gradient_descent import SGD, TERM_IRI

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem(seed: int):
    """Two parameter tensors and a non-quadratic loss of them (so gradients change every step)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(4, 3, generator=g, dtype=F64)
    b = torch.randn(4, generator=g, dtype=F64)
    x = torch.randn(16, 3, generator=g, dtype=F64)
    y = torch.randn(16, 4, generator=g, dtype=F64)

    def loss(W, b):
        return ((torch.tanh(x @ W.T + b) - y) ** 2).mean() + 0.1 * (W**4).sum()

    return W, b, loss


def _trajectories(optimizer_kwargs: dict, seed: int = 0, steps: int = 25):
    """Parameters after every step, for ours and torch's, from the same start on the same loss."""
    W0, b0, loss = _problem(seed)
    sign = -1.0 if optimizer_kwargs.get("maximize") else 1.0  # maximising -loss: bounded, like minimising loss
    runs = []
    for cls in (SGD, torch.optim.SGD):
        W, b = torch.nn.Parameter(W0.clone()), torch.nn.Parameter(b0.clone())
        opt = cls([W, b], **optimizer_kwargs)
        path = []
        for _ in range(steps):
            opt.zero_grad()
            (sign * loss(W, b)).backward()
            opt.step()
            path.append((W.detach().clone(), b.detach().clone()))
        runs.append((path, opt))
    return runs


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.3),
        dict(lr=0.05, momentum=0.9, nesterov=True),
        dict(lr=0.05, momentum=0.5, weight_decay=0.1),
        dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        dict(lr=0.02, weight_decay=0.2, maximize=True),
    ],
)
def test_equals_torch_sgd_every_step(kwargs: dict) -> None:
    (ours, our_opt), (theirs, their_opt) = _trajectories(kwargs)
    for step, ((W, b), (W_ref, b_ref)) in enumerate(zip(ours, theirs)):
        torch.testing.assert_close(W, W_ref, atol=1e-13, rtol=1e-13, msg=f"W at step {step}")
        torch.testing.assert_close(b, b_ref, atol=1e-13, rtol=1e-13, msg=f"b at step {step}")
    # the momentum buffers agree too, under torch's own state name
    if kwargs.get("momentum"):
        for p, p_ref in zip(our_opt.param_groups[0]["params"], their_opt.param_groups[0]["params"]):
            torch.testing.assert_close(
                our_opt.state[p]["momentum_buffer"], their_opt.state[p_ref]["momentum_buffer"], atol=1e-13, rtol=1e-13
            )


@settings(max_examples=15, deadline=None)
@given(
    lr=st.floats(1e-3, 0.2),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    dampening=st.sampled_from([0.0, 0.5]),
    weight_decay=st.sampled_from([0.0, 0.01, 0.3]),
    nesterov=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_equals_torch_sgd_property(lr, momentum, dampening, weight_decay, nesterov, seed) -> None:
    if nesterov and (momentum == 0 or dampening != 0):
        nesterov = False
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
    (ours, _), (theirs, _) = _trajectories(kwargs, seed=seed, steps=8)
    for (W, b), (W_ref, b_ref) in zip(ours, theirs):
        torch.testing.assert_close(W, W_ref, atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(b, b_ref, atol=1e-12, rtol=1e-12)


def test_one_plain_step_is_theta_minus_lr_grad() -> None:
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=F64))
    opt = SGD([w], lr=0.25)
    (w**2).sum().backward()  # grad = 2w = (2, -4)
    opt.step()
    assert w.detach().tolist() == [0.5, -1.0]


def test_parameters_without_gradient_are_left_alone() -> None:
    a = torch.nn.Parameter(torch.ones(2, dtype=F64))
    b = torch.nn.Parameter(torch.ones(2, dtype=F64))
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    (3 * a).sum().backward()
    opt.step()
    assert a.detach().tolist() == pytest.approx([0.7, 0.7]) and b.detach().tolist() == [1.0, 1.0]
    assert b not in opt.state


def test_descends_to_the_least_squares_solution() -> None:
    """Momentum SGD on a least-squares problem reaches the closed-form solution within 400 steps."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(50, 3, generator=g, dtype=F64)
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=F64) + 0.01 * torch.randn(50, generator=g, dtype=F64)
    solution = torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)
    w = torch.nn.Parameter(torch.zeros(3, dtype=F64))
    opt = SGD([w], lr=0.05, momentum=0.9)
    for _ in range(400):
        opt.zero_grad()
        ((X @ w - y) ** 2).mean().backward()
        opt.step()
    torch.testing.assert_close(w.detach(), solution, atol=1e-8, rtol=0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lr=0.0), "lr"),
        (dict(lr=0.1, momentum=-0.1), "momentum"),
        (dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
        (dict(lr=0.1, nesterov=True), "nesterov"),
        (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SGD([torch.nn.Parameter(torch.zeros(1))], **kwargs)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/gradient-descent"
    assert SGD.term_iri == TERM_IRI
