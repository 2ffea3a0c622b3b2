"""Neural Turing machine: addressing properties, erase/add writes, gradients, and the copy task."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck
from torch.nn import functional as F

from rnnref.models.ntm import (
    NTM,
    TERM_IRI,
    address,
    circular_shift,
    content_addressing,
    copy_task_batch,
    cosine_similarity,
    read,
    sharpen,
    write,
)

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_head(seed: int, B: int = 3, N: int = 6, W: int = 4, S: int = 3):
    """Random, valid head parameters: memory, w_prev (a distribution), key, beta, g, s, gamma."""
    g = torch.Generator().manual_seed(seed)
    memory = torch.randn(B, N, W, generator=g, dtype=F64)
    previous = torch.softmax(torch.randn(B, N, generator=g, dtype=F64) * 3, -1)
    key = torch.randn(B, W, generator=g, dtype=F64)
    beta = torch.rand(B, 1, generator=g, dtype=F64) * 20
    gate = torch.rand(B, 1, generator=g, dtype=F64)
    shift = torch.softmax(torch.randn(B, S, generator=g, dtype=F64) * 3, -1)
    gamma = 1 + torch.rand(B, 1, generator=g, dtype=F64) * 10
    return memory, previous, key, beta, gate, shift, gamma


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/neural-turing-machine"
    assert NTM.term_iri == TERM_IRI


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), N=st.integers(3, 9), S=st.sampled_from([1, 3]))
def test_every_weighting_is_a_distribution(seed: int, N: int, S: int) -> None:
    """Content, interpolated, shifted and sharpened weightings are non-negative and sum to 1."""
    memory, previous, key, beta, gate, shift, gamma = _random_head(seed, N=N, S=S)
    w_c = content_addressing(memory, key, beta)
    w_g = gate * w_c + (1 - gate) * previous
    w_tilde = circular_shift(w_g, shift)
    w = address(memory, previous, key, beta, gate, shift, gamma)
    for weights in (w_c, w_g, w_tilde, w):
        assert torch.all(weights >= 0)
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, dtype=F64), atol=1e-12, rtol=0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_content_addressing_alone_picks_the_most_similar_row(seed: int) -> None:
    """With g = 1, no shift and gamma = 1 the weighting is the content weighting: its largest entry
    is the row with the highest cosine similarity, and a strong key strength makes it nearly one-hot."""
    memory, previous, key, _, _, _, _ = _random_head(seed)
    B = memory.size(0)
    no_shift = torch.tensor([[0.0, 1.0, 0.0]], dtype=F64).expand(B, 3)
    one = torch.ones(B, 1, dtype=F64)
    similarity = torch.nn.functional.cosine_similarity(memory, key.unsqueeze(1), dim=-1)
    for beta in (0.5, 5.0):
        w = address(memory, previous, key, beta * one, one, no_shift, one)
        torch.testing.assert_close(w, content_addressing(memory, key, beta * one), atol=1e-14, rtol=0)
        assert torch.equal(w.argmax(-1), similarity.argmax(-1))
    # Make the best row clearly best, then a large beta focuses on it.
    best = similarity.argmax(-1)
    memory[torch.arange(B), best] = key * 3
    w = address(memory, previous, key, 1e3 * one, one, no_shift, one)
    assert torch.all(w[torch.arange(B), best] > 1 - 1e-9)


def test_cosine_similarity_matches_torch() -> None:
    memory, _, key, *_ = _random_head(0)
    expected = torch.nn.functional.cosine_similarity(memory, key.unsqueeze(1), dim=-1)
    torch.testing.assert_close(cosine_similarity(memory, key), expected, atol=1e-12, rtol=0)


def test_interpolation_gate_zero_keeps_the_previous_weighting() -> None:
    memory, previous, key, beta, _, _, _ = _random_head(1)
    B = memory.size(0)
    no_shift = torch.tensor([[0.0, 1.0, 0.0]], dtype=F64).expand(B, 3)
    one, zero = torch.ones(B, 1, dtype=F64), torch.zeros(B, 1, dtype=F64)
    w = address(memory, previous, key, beta, zero, no_shift, one)
    torch.testing.assert_close(w, previous, atol=1e-14, rtol=0)


def test_circular_shift_rotates_and_wraps_around() -> None:
    w = torch.tensor([[0.1, 0.2, 0.3, 0.4]], dtype=F64)
    forward = torch.tensor([[0.0, 0.0, 1.0]], dtype=F64)  # offsets -1, 0, +1
    backward = torch.tensor([[1.0, 0.0, 0.0]], dtype=F64)
    torch.testing.assert_close(circular_shift(w, forward), torch.tensor([[0.4, 0.1, 0.2, 0.3]], dtype=F64))
    torch.testing.assert_close(circular_shift(w, backward), torch.tensor([[0.2, 0.3, 0.4, 0.1]], dtype=F64))
    # The convolution formula, written out: w~(i) = sum_j w(j) s(i - j)
    s = torch.tensor([[0.2, 0.5, 0.3]], dtype=F64)
    N = 4
    expected = torch.zeros(1, N, dtype=F64)
    for i in range(N):
        for j in range(N):
            offset = (i - j) % N
            offset = offset - N if offset > N // 2 else offset
            if -1 <= offset <= 1:
                expected[0, i] += w[0, j] * s[0, offset + 1]
    torch.testing.assert_close(circular_shift(w, s), expected, atol=1e-15, rtol=0)


def test_sharpening_concentrates_the_weighting() -> None:
    w = torch.tensor([[0.1, 0.2, 0.3, 0.4]], dtype=F64)
    torch.testing.assert_close(sharpen(w, torch.ones(1, 1, dtype=F64)), w)
    sharper = sharpen(w, torch.full((1, 1), 3.0, dtype=F64))
    torch.testing.assert_close(sharper, w**3 / (w**3).sum())
    assert sharper[0, 3] > w[0, 3] and sharper[0, 0] < w[0, 0]


def test_write_erases_then_adds_and_read_is_the_weighted_sum() -> None:
    g = torch.Generator().manual_seed(2)
    memory = torch.randn(2, 5, 3, generator=g, dtype=F64)
    one_hot = F.one_hot(torch.tensor([1, 4]), 5).to(F64)
    add = torch.randn(2, 3, generator=g, dtype=F64)
    new = write(memory, one_hot, torch.ones(2, 3, dtype=F64), add)
    torch.testing.assert_close(new[0, 1], add[0])  # full erase, then add: the row is replaced
    torch.testing.assert_close(new[1, 4], add[1])
    untouched = torch.ones(2, 5, dtype=torch.bool)
    untouched[0, 1] = untouched[1, 4] = False
    assert torch.equal(new[untouched], memory[untouched])
    # Soft write, elementwise: M(i) * (1 - w(i) e) + w(i) a
    w = torch.softmax(torch.randn(2, 5, generator=g, dtype=F64), -1)
    erase = torch.rand(2, 3, generator=g, dtype=F64)
    expected = memory * (1 - w[..., None] * erase[:, None]) + w[..., None] * add[:, None]
    torch.testing.assert_close(write(memory, w, erase, add), expected, atol=1e-15, rtol=0)
    torch.testing.assert_close(read(memory, w), (w[..., None] * memory).sum(1), atol=1e-15, rtol=0)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_weightings_of_a_running_machine_are_distributions(controller: str) -> None:
    torch.manual_seed(0)
    ntm = NTM(3, 2, hidden_size=8, memory_size=6, word_size=4, num_reads=2, num_writes=2, controller=controller)
    y, state, read_w, write_w = ntm(torch.randn(7, 4, 3), return_weights=True)
    assert y.shape == (7, 4, 2) and read_w.shape == (7, 4, 2, 6) and write_w.shape == (7, 4, 2, 6)
    for w in (read_w, write_w):
        assert torch.all(w >= 0)
        torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(state.reads[:, 0], read(state.memory, read_w[-1, :, 0]))


def test_batch_first_matches_time_major() -> None:
    torch.manual_seed(0)
    ntm = NTM(3, 2, hidden_size=8, memory_size=5, word_size=4, dtype=F64)
    x = torch.randn(4, 2, 3, dtype=F64)
    y, _ = ntm(x)
    ntm.batch_first = True
    y_bf, _ = ntm(x.transpose(0, 1))
    torch.testing.assert_close(y_bf.transpose(0, 1), y, atol=0, rtol=0)


def test_invalid_arguments_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="shift_range"):
        NTM(3, 2, shift_range=2)
    with pytest.raises(ValueError, match="controller"):
        NTM(3, 2, controller="gru")
    ntm = NTM(3, 2, hidden_size=4, memory_size=4, word_size=2)
    with pytest.raises(ValueError, match="expects x of shape"):
        ntm(torch.randn(5, 2, 4))
    with pytest.raises(ValueError, match="dtype"):
        ntm(torch.randn(5, 2, 3, dtype=F64))


def _gradchecks(module, inputs, outputs_of):
    """gradcheck and gradgradcheck of ``outputs_of(module(*inputs))`` w.r.t. the inputs and every parameter."""
    names = [name for name, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]
    n = len(inputs)

    def fn(*args):
        return outputs_of(torch.func.functional_call(module, dict(zip(names, args[n:], strict=True)), args[:n]))

    args = (*inputs, *params)
    assert gradcheck(fn, args, eps=1e-6, atol=1e-6)
    # Second derivatives in fast mode (random projections of the Jacobian): the full
    # check over every parameter takes minutes for a memory network.
    assert gradgradcheck(fn, args, eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_gradcheck_and_gradgradcheck(controller: str) -> None:
    torch.manual_seed(3)
    ntm = NTM(2, 2, hidden_size=2, memory_size=3, word_size=2, controller=controller, dtype=F64)
    x = torch.randn(3, 1, 2, dtype=F64, requires_grad=True)
    _gradchecks(ntm, (x,), lambda out: (out[0], out[1].memory))


def test_learns_the_copy_task() -> None:
    """A feedforward controller has no recurrence of its own: copying 3 vectors of 3 bits needs the memory.

    Fixed budget (100 Adam steps, batch 32), fixed seed; bit accuracy on 200 fresh sequences >= 99%
    (chance is 50%)."""
    L, width = 3, 3
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    ntm = NTM(width + 1, width, hidden_size=32, memory_size=8, word_size=8, controller="feedforward")
    optimizer = torch.optim.Adam(ntm.parameters(), lr=2e-2)
    x_test, target_test = copy_task_batch(g, 200, L, width)

    def accuracy() -> float:
        with torch.no_grad():
            logits = ntm(x_test)[0][L + 1 :]
        return ((logits > 0).float() == target_test).float().mean().item()

    before = accuracy()
    for _ in range(100):
        x, target = copy_task_batch(g, 32, L, width)
        loss = F.binary_cross_entropy_with_logits(ntm(x)[0][L + 1 :], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = accuracy()
    assert before < 0.65
    assert after >= 0.99
