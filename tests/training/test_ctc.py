"""The CTC forward recursion equals torch.nn.functional.ctc_loss (values and gradients, every reduction,
zero_infinity); greedy decoding collapses correctly; an LSTM trained with it learns an alignment task."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.training.ctc import TERM_IRI, alignment_task, collapse, ctc_loss, greedy_decode

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _case(seed: int, T: int, N: int, C: int, S: int, blank: int = 0, repeats: bool = True):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, N, C, generator=g, dtype=F64)
    symbols = [c for c in range(C) if c != blank]
    targets = torch.tensor(symbols)[torch.randint(0, len(symbols), (N, S), generator=g)]
    if repeats and S >= 2:
        targets[0, 1] = targets[0, 0]  # a repeated symbol, which needs a blank between
    input_lengths = torch.randint(max(1, T // 2), T + 1, (N,), generator=g)
    input_lengths[0] = T
    target_lengths = torch.randint(0, S + 1, (N,), generator=g)
    target_lengths[0] = S
    return logits, targets, input_lengths, target_lengths


def _compare(logits, targets, il, tl, blank=0, reduction="mean", zero_infinity=False, concatenated=False):
    if concatenated:
        targets = torch.cat([targets[n, : tl[n]] for n in range(len(tl))])
    leaf_ours = logits.clone().requires_grad_()
    leaf_ref = logits.clone().requires_grad_()
    ours = ctc_loss(leaf_ours.log_softmax(2), targets, il, tl, blank, reduction, zero_infinity)
    ref = F.ctc_loss(leaf_ref.log_softmax(2), targets, il, tl, blank, reduction, zero_infinity)
    torch.testing.assert_close(ours, ref, atol=1e-10, rtol=1e-10)
    if torch.isfinite(ref).all():
        weights = torch.linspace(0.5, 1.5, ours.numel(), dtype=F64).reshape(ours.shape)
        (grad,) = torch.autograd.grad((weights * ours).sum(), leaf_ours)
        (grad_ref,) = torch.autograd.grad((weights * ref).sum(), leaf_ref)
        torch.testing.assert_close(grad, grad_ref, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("blank", [0, 3])
def test_matches_torch(reduction: str, concatenated: bool, blank: int) -> None:
    logits, targets, il, tl = _case(0, T=15, N=4, C=5, S=4, blank=blank)
    _compare(logits, targets, il, tl, blank, reduction, concatenated=concatenated)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    T=st.integers(1, 12),
    N=st.integers(1, 4),
    C=st.integers(2, 6),
    S=st.integers(1, 5),
    reduction=st.sampled_from(["none", "mean", "sum"]),
    zero_infinity=st.booleans(),
)
def test_matches_torch_property(seed, T, N, C, S, reduction, zero_infinity) -> None:
    """Random sizes, including targets too long for their inputs (infinite loss)."""
    _compare(*_case(seed, T, N, C, S), reduction=reduction, zero_infinity=zero_infinity)


def test_impossible_alignment_is_infinite_and_zero_infinity_zeroes_it() -> None:
    logits = torch.randn(3, 2, 4, dtype=F64)
    targets = torch.tensor([[1, 1, 2], [1, 2, 3]])  # "1 1 2" needs 4 frames (a blank between the 1s)
    il, tl = torch.tensor([3, 3]), torch.tensor([3, 3])
    loss = ctc_loss(logits.log_softmax(2), targets, il, tl, reduction="none")
    assert math.isinf(loss[0].item()) and math.isfinite(loss[1].item())
    leaf = logits.clone().requires_grad_()
    zeroed = ctc_loss(leaf.log_softmax(2), targets, il, tl, reduction="none", zero_infinity=True)
    assert zeroed[0].item() == 0.0
    (grad,) = torch.autograd.grad(zeroed.sum(), leaf)
    assert torch.isfinite(grad).all() and grad[:, 0].abs().max() == 0  # no gradient from the impossible one
    _compare(logits, targets, il, tl, reduction="none", zero_infinity=True)


def test_brute_force_sum_over_paths() -> None:
    """-log of the summed probability of every path that collapses to the label, enumerated."""
    g = torch.Generator().manual_seed(1)
    T, C = 5, 3
    log_probs = torch.randn(T, C, generator=g, dtype=F64).log_softmax(1)
    for label in ([1], [1, 2], [2, 2], [1, 2, 1], []):
        total = sum(
            math.exp(sum(log_probs[t, k].item() for t, k in enumerate(path)))
            for path in itertools.product(range(C), repeat=T)
            if collapse(path) == label
        )
        loss = ctc_loss(log_probs, torch.tensor(label, dtype=torch.long), [T], [len(label)], reduction="sum")
        assert loss.item() == pytest.approx(-math.log(total), rel=1e-12)


def test_gradcheck_and_gradgradcheck() -> None:
    logits, targets, il, tl = _case(2, T=6, N=2, C=4, S=2)
    leaf = logits.clone().requires_grad_()
    fn = lambda x: ctc_loss(x.log_softmax(2), targets, il, tl, reduction="none")  # noqa: E731
    assert torch.autograd.gradcheck(fn, (leaf,))
    assert torch.autograd.gradgradcheck(fn, (leaf,))


def test_gradient_with_respect_to_log_probs_is_the_true_one() -> None:
    """Directly on log_probs, torch returns the gradient for the logits under a log-softmax; ours is the
    derivative of the function itself (which gradcheck confirms above). They differ by exp(log_probs)
    times each sequence's loss weight, and agree once taken through log_softmax (test_matches_torch)."""
    logits, targets, il, tl = _case(3, T=8, N=1, C=4, S=2, repeats=False)
    lp = logits.log_softmax(2).requires_grad_()
    (ours,) = torch.autograd.grad(ctc_loss(lp, targets, il, tl, reduction="sum"), lp)
    (theirs,) = torch.autograd.grad(F.ctc_loss(lp, targets, il, tl, reduction="sum"), lp)
    torch.testing.assert_close(theirs - ours, lp.exp().detach(), atol=1e-12, rtol=0)


def test_collapse_and_greedy_decode() -> None:
    assert collapse([1, 1, 0, 2, 2, 2, 0, 0, 2, 3, 3]) == [1, 2, 2, 3]
    assert collapse([0, 0, 0]) == []
    assert collapse([4, 4, 1, 4], blank=4) == [1]
    paths = [[1, 1, 0, 1, 2, 0], [0, 3, 3, 3, 0, 0]]
    log_probs = torch.full((6, 2, 4), -10.0)
    for n, path in enumerate(paths):
        for t, k in enumerate(path):
            log_probs[t, n, k] = 0.0
    assert greedy_decode(log_probs) == [[1, 1, 2], [3]]
    assert greedy_decode(log_probs, input_lengths=[3, 2]) == [[1], [3]]


def test_an_lstm_learns_an_alignment_task() -> None:
    """LSTM(4, 32) + linear + log-softmax trained with this ctc_loss for 100 Adam steps labels >95% of
    test sequences exactly by greedy decoding (0% before training); the frames never say where a symbol
    starts or ends, only the label order is given."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(100)
    lstm, readout = torch.nn.LSTM(4, 32), torch.nn.Linear(32, 5)
    optimizer = torch.optim.Adam([*lstm.parameters(), *readout.parameters()], lr=1e-2)
    x_test, _, lengths_test, _, labels_test = alignment_task(200, g)

    def accuracy() -> float:
        with torch.no_grad():
            decoded = greedy_decode(readout(lstm(x_test)[0]), lengths_test)
        return sum(d == label for d, label in zip(decoded, labels_test)) / len(labels_test)

    before = accuracy()
    for _ in range(100):
        x, targets, input_lengths, target_lengths, _ = alignment_task(32, g)
        loss = ctc_loss(readout(lstm(x)[0]).log_softmax(2), targets, input_lengths, target_lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert before < 0.05
    assert accuracy() > 0.95


def test_alignment_task_is_what_it_says() -> None:
    g = torch.Generator().manual_seed(4)
    x, targets, input_lengths, target_lengths, labels = alignment_task(50, g, noise=0.0)
    assert targets.tolist() == labels and (target_lengths == 3).all()
    for n in range(50):
        frames = x[: input_lengths[n], n]
        path = [0 if f.abs().sum() == 0 else int(f.argmax()) + 1 for f in frames]
        assert collapse(path) == labels[n]
        assert all(a != b for a, b in zip(labels[n], labels[n][1:]))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(reduction="avg"), "reduction"),
        (dict(blank=7), "blank"),
        (dict(input_lengths=[20, 3]), "input_lengths"),
        (dict(targets=torch.tensor([[0, 1], [1, 2]])), "other than the blank"),
        (dict(target_lengths=[1]), "target_lengths"),
    ],
)
def test_bad_arguments(kwargs, match) -> None:
    args = dict(
        log_probs=torch.randn(6, 2, 4).log_softmax(2),
        targets=torch.tensor([[1, 2], [2, 3]]),
        input_lengths=[6, 5],
        target_lengths=[2, 2],
    )
    with pytest.raises(ValueError, match=match):
        ctc_loss(**{**args, **kwargs})


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/connectionist-temporal-classification"
    assert ctc_loss.term_iri == TERM_IRI
