"""Additive (Bahdanau) attention: parity with an einsum computation, weights, masking, gradients,
and an attentive encoder-decoder that learns reversal better than the plain one."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck
from torch.nn import functional as F

from rnnref.models.attention import TERM_IRI, AttentionEncoderDecoder, BahdanauAttention
from rnnref.models.encoder_decoder import EncoderDecoder

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/attention-mechanism"
    assert BahdanauAttention.term_iri == TERM_IRI and AttentionEncoderDecoder.term_iri == TERM_IRI


def _einsum_attention(attention: BahdanauAttention, s, h, mask=None):
    """e_j = v^T tanh(W s + U h_j + b), written with einsum on the raw weight tensors."""
    W, U, b, v = attention.query.weight, attention.key.weight, attention.key.bias, attention.score.weight[0]
    hidden = torch.tanh(torch.einsum("aq,bq->ba", W, s)[:, None, :] + torch.einsum("ak,bsk->bsa", U, h) + b)
    e = torch.einsum("a,bsa->bs", v, hidden)
    if mask is not None:
        e = torch.where(mask, e, torch.full_like(e, -torch.inf))
    alpha = torch.exp(e - e.max(-1, keepdim=True).values)
    alpha = alpha / alpha.sum(-1, keepdim=True)
    return torch.einsum("bs,bsk->bk", alpha, h), alpha


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), S=st.integers(1, 9), masked=st.booleans())
def test_matches_an_independent_einsum_computation(seed: int, S: int, masked: bool) -> None:
    torch.manual_seed(seed)
    attention = BahdanauAttention(3, 4, 5, dtype=F64)
    s, h = torch.randn(2, 3, dtype=F64), torch.randn(2, S, 4, dtype=F64)
    mask = None
    if masked:
        mask = torch.rand(2, S) < 0.6
        mask[:, 0] = True
    context, weights = attention(s, h, mask)
    expected_context, expected_weights = _einsum_attention(attention, s, h, mask)
    torch.testing.assert_close(weights, expected_weights, atol=1e-13, rtol=0)
    torch.testing.assert_close(context, expected_context, atol=1e-13, rtol=0)
    # Weights: a distribution over the (unmasked) positions
    assert torch.all(weights >= 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, dtype=F64), atol=1e-14, rtol=0)
    if mask is not None:
        assert torch.all(weights[~mask] == 0)


def test_precomputed_key_projections_give_the_same_result() -> None:
    torch.manual_seed(0)
    attention = BahdanauAttention(3, 4, 5, dtype=F64)
    s, h = torch.randn(2, 3, dtype=F64), torch.randn(2, 6, 4, dtype=F64)
    a = attention(s, h)
    b = attention(s, h, projected_keys=attention.project_keys(h))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_context_is_a_convex_combination_that_follows_the_best_matching_key() -> None:
    """With U = W = I-like projections and a large v, attention focuses on the key that matches the query."""
    attention = BahdanauAttention(2, 2, 2, dtype=F64)
    with torch.no_grad():
        attention.query.weight.copy_(torch.eye(2))
        attention.key.weight.copy_(torch.eye(2))
        attention.key.bias.zero_()
        attention.score.weight.copy_(torch.tensor([[30.0, 30.0]]))
    h = torch.tensor([[[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]], dtype=F64)
    context, weights = attention(torch.tensor([[1.0, 1.0]], dtype=F64), h)
    assert int(weights.argmax()) == 1 and weights[0, 1] > 0.999
    torch.testing.assert_close(context, h[:, 1], atol=1e-3, rtol=0)


def test_invalid_arguments_raise() -> None:
    attention = BahdanauAttention(3, 4, 5)
    with pytest.raises(ValueError, match="query"):
        attention(torch.randn(2, 4), torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="keys"):
        attention(torch.randn(2, 3), torch.randn(2, 0, 4))
    with pytest.raises(ValueError, match="at least one position"):
        attention(torch.randn(2, 3), torch.randn(2, 3, 4), torch.zeros(2, 3, dtype=torch.bool))
    model = AttentionEncoderDecoder(5, 5, 4)
    with pytest.raises(ValueError, match="token ids"):
        model(torch.randint(0, 5, (2, 3)), torch.full((2, 3), 5))


def test_attention_gradcheck_and_gradgradcheck() -> None:
    torch.manual_seed(1)
    attention = BahdanauAttention(2, 3, 2, dtype=F64)
    names = [name for name, _ in attention.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in attention.parameters()]
    s = torch.randn(2, 2, dtype=F64, requires_grad=True)
    h = torch.randn(2, 4, 3, dtype=F64, requires_grad=True)
    mask = torch.tensor([[True, True, False, True], [True, False, True, True]])

    def fn(s, h, *ps):
        return torch.func.functional_call(attention, dict(zip(names, ps, strict=True)), (s, h, mask))

    assert gradcheck(fn, (s, h, *params))
    assert gradgradcheck(fn, (s, h, *params))


def test_encoder_decoder_gradcheck_and_gradgradcheck() -> None:
    """Through embeddings, bidirectional encoder, attention and decoder, w.r.t. every parameter."""
    torch.manual_seed(2)
    model = AttentionEncoderDecoder(3, 3, 2, embedding_size=2, attention_size=2, dtype=F64)
    names = [name for name, _ in model.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]
    src, tgt_in = torch.tensor([[1, 2, 0]]), torch.tensor([[0, 2]])

    def fn(*ps):
        return torch.func.functional_call(model, dict(zip(names, ps, strict=True)), (src, tgt_in))

    assert gradcheck(fn, tuple(params))
    assert gradgradcheck(fn, tuple(params), fast_mode=True)


def test_decoder_is_causal_and_greedy_decoding_matches_teacher_forcing_on_its_own_output() -> None:
    torch.manual_seed(3)
    model = AttentionEncoderDecoder(6, 6, 8, dtype=F64)
    src = torch.randint(1, 6, (3, 5))
    tgt_in = torch.randint(0, 6, (3, 4))
    logits, weights = model(src, tgt_in, return_attention=True)
    changed = tgt_in.clone()
    changed[:, 2:] = (changed[:, 2:] + 1) % 6
    torch.testing.assert_close(model(src, changed)[:, :2], logits[:, :2], atol=0, rtol=0)
    assert weights.shape == (3, 4, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, dtype=F64), atol=1e-14, rtol=0)
    generated = model.greedy_decode(src, max_len=4, bos=0)
    fed = torch.cat([torch.zeros(3, 1, dtype=torch.long), generated[:, :-1]], dim=1)
    assert torch.equal(model(src, fed).argmax(-1), generated)


def _reversal(model, steps: int, V: int, L: int, seed: int) -> float:
    """Train on reversing L tokens out of V - 1 (token 0 = BOS); token accuracy of greedy decoding."""
    g = torch.Generator().manual_seed(seed)

    def batch(size: int):
        src = torch.randint(1, V, (size, L), generator=g)
        tgt = src.flip(1)
        return src, torch.cat([torch.zeros(size, 1, dtype=torch.long), tgt[:, :-1]], dim=1), tgt

    src_test, _, tgt_test = batch(300)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        src, tgt_in, tgt = batch(32)
        loss = F.cross_entropy(model(src, tgt_in).reshape(-1, V), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (model.greedy_decode(src_test, max_len=L, bos=0) == tgt_test).float().mean().item()


def test_attention_learns_reversal_better_than_the_plain_encoder_decoder() -> None:
    """Reverse 8 tokens out of 7 with hidden size 32: the plain encoder-decoder must squeeze the source
    into its final state; with attention the decoder can look each token up. Same budget (150 Adam
    steps, batch 32), same data and seed: >= 85% of tokens right with attention, < 70% without (over
    seeds 0-3 of a trial run: 91-96% against 52-55%)."""
    V, L, H = 8, 8, 32
    torch.manual_seed(0)
    attentive = _reversal(AttentionEncoderDecoder(V, V, H), 150, V, L, seed=1)
    torch.manual_seed(0)
    plain = _reversal(EncoderDecoder(V, V, H, cell="gru"), 150, V, L, seed=1)
    assert attentive >= 0.85
    assert plain < 0.7
    assert attentive - plain > 0.25
