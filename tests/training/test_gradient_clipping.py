"""Clipping by norm and by value agree with torch.nn.utils, including the returned norm and non-finite cases."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.gradient_clipping import (
    TERM_IRI,
    NonFiniteNormError,
    clip_by_norm,
    clip_grad_norm,
    clip_grad_value,
    total_norm,
)

F64 = torch.float64
INF = float("inf")


def _params(seed: int, scale: float = 1.0, shapes=((3, 4), (5,), (2, 2, 2))):
    """Two identical lists of parameters with identical random gradients."""
    g = torch.Generator().manual_seed(seed)
    ours, theirs = [], []
    for shape in shapes:
        value = torch.randn(shape, generator=g, dtype=F64)
        grad = scale * torch.randn(shape, generator=g, dtype=F64)
        for group in (ours, theirs):
            p = torch.nn.Parameter(value.clone())
            p.grad = grad.clone()
            group.append(p)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, INF, 1.0, 3.0])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (0.1, 1.0), (100.0, 1.0), (1.0, 1e-8), (0.0, 1.0)])
def test_norm_matches_torch(norm_type: float, max_norm: float, scale: float) -> None:
    ours, theirs = _params(0, scale)
    norm = clip_grad_norm(ours, max_norm, norm_type)
    norm_ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    torch.testing.assert_close(norm, norm_ref, atol=0, rtol=1e-14)
    for p, p_ref in zip(ours, theirs):
        torch.testing.assert_close(p.grad, p_ref.grad, atol=0, rtol=1e-14)
        assert torch.equal(p.detach(), p_ref.detach())  # only gradients change


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    max_norm=st.floats(1e-3, 1e3),
    scale=st.floats(1e-3, 1e3),
    norm_type=st.sampled_from([2.0, INF, 1.0, 0.5, 4.0]),
)
def test_norm_property(seed: int, max_norm: float, scale: float, norm_type: float) -> None:
    """Against torch, and by definition: after clipping, the norm is min(before, max_norm) (up to torch's 1e-6)."""
    ours, theirs = _params(seed, scale)
    before = clip_grad_norm(ours, max_norm, norm_type)
    torch.testing.assert_close(before, torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type), atol=0, rtol=1e-13)
    after = total_norm([p.grad for p in ours], norm_type).item()
    assert after <= max_norm * (1 + 1e-12)
    if before.item() <= max_norm:
        assert after == pytest.approx(before.item(), rel=1e-12)
    else:
        assert after == pytest.approx(max_norm * before.item() / (before.item() + 1e-6), rel=1e-12)


def test_direction_is_kept() -> None:
    ours, _ = _params(1, 10.0)
    flat_before = torch.cat([p.grad.flatten() for p in ours])
    clip_grad_norm(ours, 0.5)
    flat_after = torch.cat([p.grad.flatten() for p in ours])
    cosine = torch.dot(flat_before, flat_after) / (flat_before.norm() * flat_after.norm())
    assert cosine.item() == pytest.approx(1.0, abs=1e-14)
    assert flat_after.norm().item() == pytest.approx(0.5, rel=1e-5)


@pytest.mark.parametrize("clip_value", [0.0, 0.05, 0.5, 10.0])
def test_value_matches_torch(clip_value: float) -> None:
    ours, theirs = _params(2, 1.0)
    assert clip_grad_value(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, p_ref in zip(ours, theirs):
        assert torch.equal(p.grad, p_ref.grad)
        assert p.grad.abs().max() <= clip_value


def test_value_clipping_changes_direction_and_norm_clipping_does_not() -> None:
    p = torch.nn.Parameter(torch.zeros(2, dtype=F64))
    p.grad = torch.tensor([10.0, 1.0], dtype=F64)
    clip_grad_value([p], 1.0)
    assert p.grad.tolist() == [1.0, 1.0]  # was 10:1, now 1:1


def test_single_tensor_missing_grads_and_empty() -> None:
    ours, theirs = _params(3, 5.0)
    ours[1].grad, theirs[1].grad = None, None
    torch.testing.assert_close(clip_grad_norm(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0), atol=0, rtol=1e-14)
    assert ours[1].grad is None
    single, single_ref = _params(4, 5.0, shapes=((6,),))
    torch.testing.assert_close(
        clip_grad_norm(single[0], 1.0), torch.nn.utils.clip_grad_norm_(single_ref[0], 1.0), atol=0, rtol=1e-14
    )
    assert clip_grad_norm([], 1.0).item() == torch.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [float("nan"), INF, -INF])
@pytest.mark.parametrize("norm_type", [2.0, INF])
def test_non_finite_gradients(bad: float, norm_type: float) -> None:
    """Scaled by the non-finite norm as torch does, or a clear error before anything is touched."""
    ours, theirs = _params(5)
    ours[0].grad[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    norm = clip_grad_norm(ours, 1.0, norm_type)
    norm_ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert not math.isfinite(norm.item())
    assert (math.isnan(norm.item()) and math.isnan(norm_ref.item())) or norm.item() == norm_ref.item()
    for p, p_ref in zip(ours, theirs):
        torch.testing.assert_close(p.grad, p_ref.grad, equal_nan=True, atol=0, rtol=0)

    again, _ = _params(5)
    again[0].grad[0, 0] = bad
    saved = [p.grad.clone() for p in again]
    with pytest.raises(NonFiniteNormError, match="non|nan|inf") as excinfo:
        clip_grad_norm(again, 1.0, norm_type, error_if_nonfinite=True)
    assert isinstance(excinfo.value, RuntimeError)  # what torch raises, so code that catches torch's works
    assert "error_if_nonfinite" in str(excinfo.value)
    for p, before in zip(again, saved):
        torch.testing.assert_close(p.grad, before, equal_nan=True, atol=0, rtol=0)
    _, torch_params = _params(5)
    torch_params[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(torch_params, 1.0, norm_type, error_if_nonfinite=True)


def test_finite_gradients_do_not_raise_with_error_if_nonfinite() -> None:
    ours, _ = _params(6, 1e3)
    assert math.isfinite(clip_grad_norm(ours, 1.0, error_if_nonfinite=True).item())


def test_functional_form_gradcheck() -> None:
    """clip_by_norm is differentiable: gradcheck and gradgradcheck on both sides of the threshold."""
    g = torch.Generator().manual_seed(7)
    a = torch.randn(3, 2, generator=g, dtype=F64, requires_grad=True)
    b = torch.randn(4, generator=g, dtype=F64, requires_grad=True)
    for max_norm in (0.5, 100.0):  # clipped, and not clipped
        fn = lambda a, b: tuple(clip_by_norm([a, b], max_norm))  # noqa: E731
        assert torch.autograd.gradcheck(fn, (a, b))
        assert torch.autograd.gradgradcheck(fn, (a, b))


def test_clipping_rescues_an_exploding_rnn() -> None:
    """A ReLU Elman network with recurrent matrix 1.1 I over 40 steps (gradient norm in the thousands):
    unclipped SGD steps blow the loss up to nan, the same steps clipped to norm 1 bring it down."""
    g = torch.Generator().manual_seed(8)
    x = torch.randn(8, 40, 1, generator=g, dtype=F64)
    y = torch.roll(x, 1, dims=1)

    def train(clip: bool) -> list[float]:
        torch.manual_seed(0)
        rnn = torch.nn.RNN(1, 16, batch_first=True, dtype=F64, nonlinearity="relu")
        readout = torch.nn.Linear(16, 1, dtype=F64)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(1.1 * torch.eye(16, dtype=F64))  # positive units grow 1.1x per step
        params = [*rnn.parameters(), *readout.parameters()]
        losses = []
        for _ in range(30):
            loss = ((readout(rnn(x)[0]) - y) ** 2).mean()
            losses.append(loss.item())
            for p in params:
                p.grad = None
            loss.backward()
            if clip:
                clip_grad_norm(params, 1.0)
            with torch.no_grad():
                for p in params:
                    p -= 0.05 * p.grad
        return losses

    clipped, unclipped = train(True), train(False)
    assert all(math.isfinite(v) for v in clipped)
    assert clipped[-1] < 0.1 * clipped[0]
    assert unclipped[1] > 1e6 * unclipped[0]  # one unclipped step throws the weights far away
    assert math.isnan(unclipped[-1])


def test_bad_arguments() -> None:
    ours, _ = _params(9)
    for kwargs, match in ((dict(max_norm=-1.0), "max_norm"), (dict(max_norm=1.0, norm_type=0.0), "norm_type")):
        with pytest.raises(ValueError, match=match):
            clip_grad_norm(ours, **kwargs)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(ours, -0.5)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/gradient-clipping"
    assert clip_grad_norm.term_iri == TERM_IRI
