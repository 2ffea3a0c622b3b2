"""The readable Adam equals torch.optim.Adam / AdamW step by step, over many steps and options."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.adam import TERM_IRI, Adam, AdamW

F64 = torch.float64
TOL = dict(atol=1e-12, rtol=1e-11)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem(seed: int):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(5, 3, generator=g, dtype=F64)
    b = torch.randn(5, generator=g, dtype=F64)
    x = torch.randn(32, 3, generator=g, dtype=F64)
    y = torch.randn(32, 5, generator=g, dtype=F64)

    def loss(W, b):
        # gradients of very different sizes per coordinate, which is what Adam rescales
        return ((torch.tanh(x @ W.T + b) - y) ** 2).mean() + 10.0 * (W[0] ** 2).sum() + 1e-3 * b.sum()

    return W, b, loss


def _run(ours_cls, theirs_cls, kwargs: dict, theirs_kwargs: dict | None = None, seed: int = 0, steps: int = 100):
    W0, b0, loss = _problem(seed)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    paths, optimizers = [], []
    for cls, kw in ((ours_cls, kwargs), (theirs_cls, theirs_kwargs or kwargs)):
        W, b = torch.nn.Parameter(W0.clone()), torch.nn.Parameter(b0.clone())
        opt = cls([W, b], **kw)
        path = []
        for _ in range(steps):
            opt.zero_grad()
            (sign * loss(W, b)).backward()
            opt.step()
            path.append(torch.cat([W.detach().flatten(), b.detach()]))
        paths.append(torch.stack(path))
        optimizers.append(opt)
    return paths, optimizers


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=1e-2),
        dict(lr=3e-2, betas=(0.8, 0.99)),
        dict(lr=1e-2, amsgrad=True),
        dict(lr=1e-2, weight_decay=0.1),
        dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
        dict(lr=1e-2, eps=1e-3),
        dict(lr=1e-2, maximize=True),
    ],
)
def test_equals_torch_adam_every_step(kwargs: dict) -> None:
    (ours, theirs), (our_opt, their_opt) = _run(Adam, torch.optim.Adam, kwargs)
    assert (ours[-1] - ours[0]).abs().max() > 0.05  # the parameters really moved
    torch.testing.assert_close(ours, theirs, **TOL)
    names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if kwargs.get("amsgrad") else [])
    for p, p_ref in zip(our_opt.param_groups[0]["params"], their_opt.param_groups[0]["params"]):
        assert our_opt.state[p]["step"] == int(their_opt.state[p_ref]["step"]) == 100
        for name in names:
            torch.testing.assert_close(our_opt.state[p][name], their_opt.state[p_ref][name], **TOL)


@pytest.mark.parametrize(
    "kwargs",
    [dict(lr=1e-2), dict(lr=1e-2, weight_decay=0.3), dict(lr=2e-2, weight_decay=0.05, amsgrad=True, betas=(0.7, 0.9))],
)
def test_adamw_equals_torch_adamw(kwargs: dict) -> None:
    (ours, theirs), _ = _run(AdamW, torch.optim.AdamW, kwargs)
    torch.testing.assert_close(ours, theirs, **TOL)
    # the same through Adam's own switch
    switched = {**kwargs, "decoupled_weight_decay": True, "weight_decay": kwargs.get("weight_decay", 1e-2)}
    (ours_switch, theirs), _ = _run(Adam, torch.optim.AdamW, switched, theirs_kwargs=kwargs)
    torch.testing.assert_close(ours_switch, theirs, **TOL)


def test_decoupled_and_l2_weight_decay_differ() -> None:
    """AdamW's decay is not Adam's L2 penalty: with the same lambda the trajectories part."""
    (adam_l2, _), _ = _run(Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=0.3), steps=30)
    (adamw, _), _ = _run(AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.3), steps=30)
    assert (adam_l2[-1] - adamw[-1]).abs().max() > 1e-3


@settings(max_examples=12, deadline=None)
@given(
    lr=st.floats(1e-4, 5e-2),
    beta1=st.sampled_from([0.0, 0.5, 0.9]),
    beta2=st.sampled_from([0.9, 0.99, 0.999]),
    weight_decay=st.sampled_from([0.0, 0.01, 0.5]),
    amsgrad=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_equals_torch_adam_property(lr, beta1, beta2, weight_decay, amsgrad, seed) -> None:
    kwargs = dict(lr=lr, betas=(beta1, beta2), weight_decay=weight_decay, amsgrad=amsgrad)
    (ours, theirs), _ = _run(Adam, torch.optim.Adam, kwargs, seed=seed, steps=40)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_first_step_moves_each_coordinate_by_lr() -> None:
    """Bias correction: m_1 / sqrt(v_1) = sign(g), so step 1 moves every coordinate by lr, whatever |g|."""
    w = torch.nn.Parameter(torch.tensor([1.0, -1.0, 5.0], dtype=F64))
    opt = Adam([w], lr=0.1, eps=1e-16)
    (torch.tensor([1e-4, 3.0, -200.0], dtype=F64) * w).sum().backward()
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.9, -1.1, 5.1], dtype=F64), atol=1e-10, rtol=0)


def test_amsgrad_denominator_never_shrinks() -> None:
    w = torch.nn.Parameter(torch.ones(1, dtype=F64))
    opt = Adam([w], lr=1e-3, amsgrad=True)
    previous = torch.zeros(1, dtype=F64)
    for scale in [10.0, 1.0, 0.1, 5.0, 0.01]:  # gradient sizes rise and fall
        opt.zero_grad()
        (scale * w).sum().backward()
        opt.step()
        current = opt.state[w]["max_exp_avg_sq"]
        assert (current >= previous).all()
        assert (current >= opt.state[w]["exp_avg_sq"]).all()
        previous = current.clone()


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(lr=0.0), "lr"), (dict(betas=(1.0, 0.9)), "betas"), (dict(eps=0.0), "eps"), (dict(weight_decay=-1.0), "weight_decay")],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Adam([torch.nn.Parameter(torch.zeros(1))], **kwargs)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/adam"
    assert Adam.term_iri == AdamW.term_iri == TERM_IRI
