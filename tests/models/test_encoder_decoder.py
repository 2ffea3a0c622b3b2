"""Encoder-decoder: causal decoder, source only through the encoder state, learns to reverse."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from rnnref.models.encoder_decoder import TERM_IRI, EncoderDecoder

F64 = torch.float64
CELLS = ["gru", "lstm", "elman"]


def _model(cell: str, num_layers: int = 1, seed: int = 0, V_src: int = 7, V_tgt: int = 9) -> EncoderDecoder:
    torch.manual_seed(seed)
    return EncoderDecoder(V_src, V_tgt, 6, embedding_size=5, cell=cell, num_layers=num_layers, dtype=F64)


def _parts(state) -> list[torch.Tensor]:
    return [state] if isinstance(state, torch.Tensor) else list(state)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_shapes(cell: str, num_layers: int) -> None:
    model = _model(cell, num_layers)
    src = torch.randint(0, 7, (3, 4))
    tgt_in = torch.randint(0, 9, (3, 6))
    assert model(src, tgt_in).shape == (3, 6, 9)
    assert model.greedy_decode(src, max_len=5, bos=0).shape == (3, 5)
    for part in _parts(model.encode(src)):
        assert part.shape == (num_layers, 3, 6)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_decoder_is_causal_by_perturbation(cell: str, num_layers: int) -> None:
    """Changing target tokens after position t leaves the logits up to t unchanged, and changes the rest."""
    model = _model(cell, num_layers)
    g = torch.Generator().manual_seed(1)
    src = torch.randint(0, 7, (4, 5), generator=g)
    tgt_in = torch.randint(0, 9, (4, 7), generator=g)
    logits = model(src, tgt_in)
    for t in range(6):
        changed = tgt_in.clone()
        changed[:, t + 1 :] = (changed[:, t + 1 :] + torch.randint(1, 9, changed[:, t + 1 :].shape, generator=g)) % 9
        logits_changed = model(src, changed)
        torch.testing.assert_close(logits_changed[:, : t + 1], logits[:, : t + 1], atol=0, rtol=0)
        assert (logits_changed[:, t + 1] - logits[:, t + 1]).abs().amax(dim=-1).min() > 1e-6


@pytest.mark.parametrize("cell", CELLS)
def test_decoder_is_causal_by_gradient(cell: str) -> None:
    """d logits_t / d (embedded input at s) is zero exactly for s > t and nonzero for s <= t."""
    model = _model(cell, num_layers=2)
    src = torch.randint(0, 7, (2, 3), generator=torch.Generator().manual_seed(2))
    tgt_in = torch.randint(0, 9, (2, 6), generator=torch.Generator().manual_seed(3))
    state = model.encode(src)
    embedded = model.tgt_embedding(tgt_in).detach().requires_grad_()
    s, _ = model.decoder(embedded, state)
    logits = model.readout(s)
    for t in range(6):
        (grad,) = torch.autograd.grad(logits[:, t].sum(), embedded, retain_graph=True)
        per_step = grad.abs().sum(dim=(0, 2))  # (T,)
        assert torch.all(per_step[t + 1 :] == 0)
        assert torch.all(per_step[: t + 1] > 0)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_source_reaches_decoder_only_through_encoder_state(cell: str, num_layers: int) -> None:
    """forward(src, tgt_in) is decode(tgt_in, encode(src)): swapping the state swaps the outputs."""
    model = _model(cell, num_layers)
    g = torch.Generator().manual_seed(4)
    src_a = torch.randint(0, 7, (3, 5), generator=g)
    src_b = torch.randint(0, 7, (3, 2), generator=g)
    tgt_in = torch.randint(0, 9, (3, 4), generator=g)
    torch.testing.assert_close(model(src_a, tgt_in), model.decode(tgt_in, model.encode(src_a))[0], atol=0, rtol=0)
    expected_a = model(src_a, tgt_in)
    assert (model(src_b, tgt_in) - expected_a).abs().max() > 1e-6
    # Run with src_b but hand the decoder src_a's encoder state: the outputs are src_a's.
    state_a = model.encode(src_a)
    model.encode = lambda src: state_a
    try:
        torch.testing.assert_close(model(src_b, tgt_in), expected_a, atol=0, rtol=0)
    finally:
        del model.encode


@pytest.mark.parametrize("num_layers", [1, 2])
def test_different_sources_with_equal_encoder_state_give_equal_outputs(num_layers: int) -> None:
    """Built by hand: an Elman encoder with no recurrent weights keeps only the last source token.

    Then sources that differ everywhere except in their last token (even in length)
    have the same final encoder state, and the model must give them the same logits
    and the same greedy decoding; a different last token must change both.
    """
    model = _model("elman", num_layers, seed=5)
    with torch.no_grad():
        for layer in range(num_layers):
            getattr(model.encoder, f"weight_hh_l{layer}").zero_()
    src_a = torch.tensor([[1, 2, 3, 6], [4, 4, 0, 2]])
    src_b = torch.tensor([[5, 0, 6], [1, 3, 2]])  # same last tokens, different everything else
    src_c = torch.tensor([[5, 0, 5], [1, 3, 1]])  # different last tokens
    tgt_in = torch.tensor([[0, 3, 8, 1, 1], [0, 2, 2, 7, 5]])
    # Equal up to rounding: the encoder may batch its input projection over all
    # steps, and matrices of different lengths round differently.
    for a, b in zip(_parts(model.encode(src_a)), _parts(model.encode(src_b))):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=0)
    torch.testing.assert_close(model(src_a, tgt_in), model(src_b, tgt_in), atol=1e-13, rtol=0)
    assert torch.equal(model.greedy_decode(src_a, 6, bos=0), model.greedy_decode(src_b, 6, bos=0))
    assert (model(src_a, tgt_in) - model(src_c, tgt_in)).abs().amax(dim=(1, 2)).min() > 1e-6


@pytest.mark.parametrize("cell", CELLS)
def test_greedy_decode_is_argmax_of_teacher_forcing_on_its_own_output(cell: str) -> None:
    model = _model(cell, seed=6)
    src = torch.randint(0, 7, (5, 4), generator=torch.Generator().manual_seed(7))
    tokens = model.greedy_decode(src, max_len=6, bos=0)
    tgt_in = torch.cat([torch.zeros(5, 1, dtype=torch.long), tokens[:, :-1]], dim=1)
    assert torch.equal(model(src, tgt_in).argmax(-1), tokens)


def _reversal_batch(g: torch.Generator, batch: int, length: int, vocab: int, bos: int):
    src = torch.randint(1, vocab, (batch, length), generator=g)  # token 0 is BOS
    tgt = src.flip(1)
    tgt_in = torch.cat([torch.full((batch, 1), bos), tgt[:, :-1]], dim=1)
    return src, tgt_in, tgt


def test_learns_to_reverse_short_sequences() -> None:
    """Seeded, 250 Adam steps on sequences of 4 tokens out of 5: greedy decoding reverses held-out sequences."""
    V, L, BOS = 6, 4, 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is fastest and avoids contention
    try:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(0)
        model = EncoderDecoder(V, V, 64, cell="gru")
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(250):
            src, tgt_in, tgt = _reversal_batch(g, 64, L, V, BOS)
            loss = F.cross_entropy(model(src, tgt_in).reshape(-1, V), tgt.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        src, _, tgt = _reversal_batch(torch.Generator().manual_seed(99), 500, L, V, BOS)
        predicted = model.greedy_decode(src, max_len=L, bos=BOS)
    finally:
        torch.set_num_threads(threads)
    token_accuracy = (predicted == tgt).float().mean().item()
    sequence_accuracy = (predicted == tgt).all(dim=1).float().mean().item()
    assert losses[0] > 1.5  # about ln 5 at the start
    assert sum(losses[-10:]) / 10 < 0.1
    assert token_accuracy > 0.98
    assert sequence_accuracy > 0.95


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"cell must be one of \['elman', 'gru', 'lstm'\]"):
        EncoderDecoder(5, 5, 4, cell="transformer")
    with pytest.raises(ValueError, match="hidden_size"):
        EncoderDecoder(5, 5, 0)
    model = EncoderDecoder(5, 6, 4)
    with pytest.raises(ValueError, match=r"src token ids must be in \[0, 5\)"):
        model(torch.tensor([[1, 5]]), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="tgt_in"):
        model(torch.tensor([[1, 2]]), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="batch sizes"):
        model(torch.tensor([[1, 2]]), torch.tensor([[0, 1], [0, 2]]))
    with pytest.raises(ValueError, match="bos"):
        model.greedy_decode(torch.tensor([[1, 2]]), 3, bos=6)
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(torch.tensor([[1, 2]]), 0, bos=0)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/encoder-decoder"
    assert EncoderDecoder.term_iri == TERM_IRI
