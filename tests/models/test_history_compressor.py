"""Neural history compressor: only surprises go up, exactly the unpredictable steps; lossless; gradients."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck

from rnnref.models.history_compressor import TERM_IRI, Compressed, HistoryCompressor, jump_sequences

F64 = torch.float64
V = 5  # symbols


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train_automatizer(jump_probability: float, steps: int, length: int) -> tuple[HistoryCompressor, torch.Generator]:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    model = HistoryCompressor(V, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    for _ in range(steps):
        x, _ = jump_sequences(g, 16, length, V, jump_probability)
        loss = model.automatizer_loss(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, g


@pytest.fixture(scope="module")
def predictable():
    """Trained on x_{t+1} = x_t + 1 mod V, always from 0: a fully predictable sequence."""
    return _train_automatizer(0.0, 30, 10)


@pytest.fixture(scope="module")
def rare_surprises():
    """Trained on the same rule with a 5% chance of a random jump at each step."""
    return _train_automatizer(0.05, 50, 12)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/neural-history-compressor"
    assert HistoryCompressor.term_iri == TERM_IRI


def test_untrained_automatizer_passes_up_surprises() -> None:
    torch.manual_seed(0)
    fresh = HistoryCompressor(V, 16)
    x, _ = jump_sequences(torch.Generator().manual_seed(5), 8, 30, V, 0.0)
    assert fresh.surprises(x).float().mean() > 0.3


def test_nothing_is_passed_up_from_a_fully_predictable_sequence(predictable) -> None:
    model, g = predictable
    x, _ = jump_sequences(g, 50, 60, V, 0.0)  # six times longer than in training
    compressed = model.compress(x)
    assert all(c.steps == [] and c.symbols == [] for c in compressed)


def test_compressed_sequence_is_exactly_the_surprising_steps(rare_surprises) -> None:
    model, g = rare_surprises
    x, jumps = jump_sequences(g, 100, 40, V, 0.05)
    assert jumps.sum() > 100  # enough surprises to mean something
    for row, row_jumps, c in zip(x, jumps, model.compress(x), strict=True):
        expected = torch.nonzero(row_jumps).flatten().tolist()
        assert c.steps == expected
        assert c.symbols == row[expected].tolist()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), symbols=st.lists(st.integers(0, V - 1), min_size=1, max_size=12))
def test_compression_is_lossless_for_any_automatizer(seed: int, symbols: list[int]) -> None:
    """The surprises plus the automatizer's predictions give back the sequence, trained or not."""
    torch.manual_seed(seed)
    model = HistoryCompressor(V, 4)
    x = torch.tensor([symbols])
    (c,) = model.compress(x)
    assert model.decompress(c, len(symbols), model.predict_next) == symbols
    mask = model.surprises(x)[0].tolist()
    assert c.steps == [t for t, s in enumerate(mask) if s]


def test_chunker_learns_the_sequence_of_surprises() -> None:
    """The chunker sees only surprises; when they follow a pattern of their own, it learns it."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    model = HistoryCompressor(V, 8, chunker_hidden_size=16)
    pattern = [3, 1, 4, 1, 2]  # the surprising symbols, in turn
    optimizer = torch.optim.Adam([*model.chunker.parameters(), *model.chunker_readout.parameters()], lr=3e-2)

    def sample() -> Compressed:
        gaps = torch.randint(1, 6, (12,), generator=g).cumsum(0)
        return Compressed(gaps.tolist(), [pattern[k % len(pattern)] for k in range(12)])

    for _ in range(80):
        loss = model.chunker_loss([sample() for _ in range(4)])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test = [sample() for _ in range(20)]
    correct = total = 0
    with torch.no_grad():
        for c in test:
            # After two surprises (1 then 4 vs 1 then 2) the next one is determined.
            predicted = model.chunker_logits(c)[1:-1].argmax(-1).tolist()
            correct += sum(p == s for p, s in zip(predicted, c.symbols[2:], strict=True))
            total += len(predicted)
    assert correct / total == 1.0


def test_invalid_input_raises() -> None:
    model = HistoryCompressor(V, 4)
    with pytest.raises(ValueError, match="token ids"):
        model.compress(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        model.compress(torch.tensor([[0, 7]]))
    with pytest.raises(ValueError, match="empty"):
        model.chunker_logits(Compressed([], []))


class _DifferentiableParts(torch.nn.Module):
    """Automatizer logits from (relaxed) one-hot inputs, and chunker logits from chunker inputs."""

    def __init__(self, model: HistoryCompressor) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, chunk_in: torch.Tensor):
        g, _ = self.model.chunker(chunk_in)
        return self.model.automatizer_logits_from_onehot(x), self.model.chunker_readout(g)


def test_gradcheck_and_gradgradcheck() -> None:
    torch.manual_seed(3)
    parts = _DifferentiableParts(HistoryCompressor(3, 2, chunker_hidden_size=2, dtype=F64))
    names = [name for name, _ in parts.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in parts.parameters()]
    x = torch.rand(1, 4, 3, dtype=F64, requires_grad=True)
    chunk_in = torch.rand(1, 3, 4, dtype=F64, requires_grad=True)

    def fn(x, chunk_in, *ps):
        return torch.func.functional_call(parts, dict(zip(names, ps, strict=True)), (x, chunk_in))

    assert gradcheck(fn, (x, chunk_in, *params), eps=1e-6, atol=1e-6)
    assert gradgradcheck(fn, (x, chunk_in, *params), eps=1e-6, atol=1e-5, fast_mode=True)
