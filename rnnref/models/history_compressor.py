r"""Neural history compressor: a predicting RNN that passes only its surprises upwards.

The neural history compressor is a stack of recurrent networks in which each
level learns to predict its next input, and only the inputs it fails to predict
(its *surprises*) become the input of the level above. Predictable inputs carry
no new information, so the sequence seen by the higher level is shorter and the
original sequence can be reconstructed from the lower level's predictions plus
the surprises with their time steps: a lossless compression of the history. The
higher level, working on a much shorter sequence, can then learn dependencies
that span long intervals at the lower level. In Schmidhuber's two-level form the
lower network is the *automatizer* and the higher one the *chunker*.

This module implements the two levels over a sequence of symbols $x_1 \dots x_T$
from a vocabulary of V symbols. The automatizer $A$ predicts every symbol,
including the first, from the symbols before it:

$$
\begin{aligned}
h_t &= f_A(\mathrm{onehot}(x_t), h_{t-1}), \qquad h_0 = 0 \\
\hat x_{t+1} &= \arg\max_k \big(W_A h_t + b_A\big)_k \qquad (\hat x_1 \text{ from } h_0) \\
\text{surprise}_t &= [\hat x_t \ne x_t]
\end{aligned}
$$

The compressed sequence is the list of surprising steps
$(t_1, x_{t_1}), (t_2, x_{t_2}), \dots$. The chunker $C$ reads it, one element
per surprise, with the number of steps since the previous surprise as an extra
input, and predicts the next surprising symbol:

$$
g_k = f_C([\mathrm{onehot}(x_{t_k}); \ t_k - t_{k-1}], g_{k-1}), \qquad
p(x_{t_{k+1}}) = \operatorname{softmax}(W_C g_k + b_C)
$$

Both $f_A$ and $f_C$ are GRUs (`rnnref.models.gru`), trained separately with the
cross-entropy of their next-symbol predictions. Left out: the paper's later
step of *collapsing* the hierarchy (training the automatizer to also predict the
chunker's state, so the chunker becomes unnecessary), and deeper stacks (a third
level would read the chunker's surprises in the same way).

| symbol            | parameter                 | shape        |
|-------------------|---------------------------|--------------|
| $f_A$             | `automatizer`             | GRU(V, H)    |
| $W_A, b_A$        | `automatizer_readout`     | Linear(H, V) |
| $f_C$             | `chunker`                 | GRU(V + 1, Hc) |
| $W_C, b_C$        | `chunker_readout`         | Linear(Hc, V) |

Reference: Jürgen Schmidhuber (1992), "Learning complex, extended sequences using
the principle of history compression", Neural Computation 4(2): 234–242,
doi:10.1162/neco.1992.4.2.234.

Term: https://w3id.org/rnnref/term/neural-history-compressor
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size
from rnnref.models.gru import GRU

TERM_IRI = "https://w3id.org/rnnref/term/neural-history-compressor"


class Compressed(NamedTuple):
    """The surprises of one sequence: what the automatizer passes to the chunker."""

    steps: list[int]  #: t_k, 0-based time steps of the surprising inputs
    symbols: list[int]  #: x_{t_k}


class HistoryCompressor(nn.Module):
    r"""Two-level neural history compressor: automatizer GRU and chunker GRU.

    Args:
        vocab_size: V, number of symbols.
        hidden_size: H, automatizer units.
        chunker_hidden_size: Hc, chunker units (default H).
        device, dtype: where and in which dtype to create the parameters.

    Methods:
        `automatizer_logits` (B, T) ids -> (B, T, V): logits for $x_t$ made before seeing it.
        `surprises` (B, T) ids -> (B, T) bool: $\hat x_t \ne x_t$.
        `compress` (B, T) ids -> list of `Compressed`, one per sequence.
        `chunker_logits` one `Compressed` -> (K, V): logits for the next surprise.

    Example::

        >>> hc = HistoryCompressor(4, 16)
        >>> x = torch.tensor([[0, 1, 2, 3, 0, 1]])
        >>> hc.surprises(x).shape
        torch.Size([1, 6])

    Paper: Schmidhuber (1992), doi:10.1162/neco.1992.4.2.234. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        chunker_hidden_size: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.vocab_size = check_size("vocab_size", vocab_size, minimum=2)
        self.hidden_size = check_size("hidden_size", hidden_size)
        chunker_hidden_size = hidden_size if chunker_hidden_size is None else chunker_hidden_size
        self.chunker_hidden_size = check_size("chunker_hidden_size", chunker_hidden_size)
        factory = {"device": device, "dtype": dtype}
        V = vocab_size
        self.automatizer = GRU(V, hidden_size, batch_first=True, **factory)  # f_A
        self.automatizer_readout = nn.Linear(hidden_size, V, **factory)  # W_A, b_A
        self.chunker = GRU(V + 1, chunker_hidden_size, batch_first=True, **factory)  # f_C
        self.chunker_readout = nn.Linear(chunker_hidden_size, V, **factory)  # W_C, b_C

    def _check_tokens(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 2 or x.dtype != torch.long or x.size(1) == 0:
            shape = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected symbols as a non-empty (B, T) tensor of token ids, got {shape}")
        if x.min() < 0 or x.max() >= self.vocab_size:
            raise ValueError(f"symbols must be in [0, {self.vocab_size}), got [{x.min()}, {x.max()}]")

    def automatizer_logits_from_onehot(self, x_onehot: Tensor) -> Tensor:
        r"""Logits for $x_t$ from $h_{t-1}$: x_onehot (B, T, V) -> (B, T, V).

        Takes real-valued inputs so the automatizer can be gradient-checked; the
        last input $x_T$ is not read (nothing is predicted after it).
        """
        B = x_onehot.size(0)
        h0 = torch.zeros(B, 1, self.hidden_size, dtype=x_onehot.dtype, device=x_onehot.device)
        # $$h_t = f_A(\mathrm{onehot}(x_t), h_{t-1})$$ for t = 1 .. T-1
        if x_onehot.size(1) > 1:
            h, _ = self.automatizer(x_onehot[:, :-1])
            h = torch.cat([h0, h], dim=1)  # h_0 .. h_{T-1}
        else:
            h = h0
        # $$\text{logits for } x_{t+1} = W_A h_t + b_A$$
        return self.automatizer_readout(h)

    def automatizer_logits(self, x: Tensor) -> Tensor:
        """Logits for each $x_t$ made before seeing it: x (B, T) ids -> (B, T, V)."""
        self._check_tokens(x)
        return self.automatizer_logits_from_onehot(F.one_hot(x, self.vocab_size).to(self.automatizer_readout.weight.dtype))

    def automatizer_loss(self, x: Tensor) -> Tensor:
        """Mean cross-entropy of the automatizer's next-symbol predictions over all T steps."""
        logits = self.automatizer_logits(x)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), x.reshape(-1))

    @torch.no_grad()
    def surprises(self, x: Tensor) -> Tensor:
        r"""$\hat x_t \ne x_t$: x (B, T) ids -> (B, T) bool, True where the input was not predicted."""
        # $$\text{surprise}_t = [\arg\max_k (W_A h_{t-1} + b_A)_k \ne x_t]$$
        return self.automatizer_logits(x).argmax(dim=-1) != x

    def compress(self, x: Tensor) -> list[Compressed]:
        """The compressed sequence of each row of x (B, T): its surprising steps and symbols."""
        mask = self.surprises(x)
        result = []
        for row, row_mask in zip(x.tolist(), mask.tolist(), strict=True):
            steps = [t for t, surprised in enumerate(row_mask) if surprised]
            result.append(Compressed(steps, [row[t] for t in steps]))
        return result

    @staticmethod
    def decompress(compressed: Compressed, length: int, predict) -> list[int]:
        """Rebuild a sequence from its surprises and a next-symbol predictor: the compression is lossless.

        ``predict(prefix)`` returns the automatizer's prediction for the next symbol
        given the list of symbols so far (see `predict_next`).
        """
        surprises = dict(zip(compressed.steps, compressed.symbols, strict=True))
        sequence: list[int] = []
        for t in range(length):
            sequence.append(surprises[t] if t in surprises else predict(sequence))
        return sequence

    @torch.no_grad()
    def predict_next(self, prefix: list[int]) -> int:
        r"""The automatizer's $\hat x_{t+1}$ after reading ``prefix`` (possibly empty)."""
        x = torch.tensor([[*prefix, 0]], dtype=torch.long, device=self.automatizer_readout.weight.device)
        return int(self.automatizer_logits(x)[0, -1].argmax())

    def chunker_inputs(self, compressed: Compressed) -> Tensor:
        r"""$[\mathrm{onehot}(x_{t_k}); t_k - t_{k-1}]$ for each surprise: -> (K, V + 1), with $t_0 = -1$."""
        weight = self.chunker_readout.weight
        symbols = torch.tensor(compressed.symbols, dtype=torch.long, device=weight.device)
        onehot = F.one_hot(symbols, self.vocab_size).to(weight.dtype)
        steps = torch.tensor([-1, *compressed.steps], dtype=weight.dtype, device=weight.device)
        gaps = (steps[1:] - steps[:-1]).unsqueeze(-1)
        return torch.cat([onehot, gaps], dim=-1)

    def chunker_logits(self, compressed: Compressed) -> Tensor:
        r"""Logits for the symbol of surprise k+1 after reading surprises 1..k: -> (K, V)."""
        if not compressed.steps:
            raise ValueError("the compressed sequence is empty: nothing was passed to the chunker")
        # $$g_k = f_C([\mathrm{onehot}(x_{t_k}); t_k - t_{k-1}], g_{k-1})$$
        g, _ = self.chunker(self.chunker_inputs(compressed).unsqueeze(0))
        # $$p(x_{t_{k+1}}) = \operatorname{softmax}(W_C g_k + b_C)$$
        return self.chunker_readout(g[0])

    def chunker_loss(self, compressed: list[Compressed]) -> Tensor:
        """Mean cross-entropy of the chunker's prediction of each next surprise (sequences with >= 2 surprises)."""
        losses = []
        for c in compressed:
            if len(c.steps) < 2:
                continue
            logits = self.chunker_logits(c)[:-1]  # the last surprise has no successor
            target = torch.tensor(c.symbols[1:], dtype=torch.long, device=logits.device)
            losses.append(F.cross_entropy(logits, target, reduction="sum"))
        if not losses:
            raise ValueError("no compressed sequence has two surprises: the chunker has nothing to learn")
        count = sum(len(c.steps) - 1 for c in compressed if len(c.steps) >= 2)
        return torch.stack(losses).sum() / count

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, hidden_size={self.hidden_size}, chunker_hidden_size={self.chunker_hidden_size}"


def jump_sequences(generator: torch.Generator, batch_size: int, length: int, vocab_size: int, jump_probability: float):
    r"""Sequences that follow $x_{t+1} = x_t + 1 \bmod V$ except at rare random jumps.

    Every sequence starts at symbol 0. At each later step, with probability
    ``jump_probability``, the symbol is instead drawn uniformly from the V - 1
    symbols other than the rule's successor (a *jump*); the rule then continues from
    there. Returns ``(x, jumps)``: x (B, T) ids and jumps (B, T) bool, True at the
    jump steps, which are exactly the steps no predictor of the rule can foresee.
    """
    x = torch.zeros(batch_size, length, dtype=torch.long)
    jumps = torch.rand(batch_size, length, generator=generator) < jump_probability
    jumps[:, 0] = False
    offsets = torch.randint(1, vocab_size, (batch_size, length), generator=generator)
    for t in range(1, length):
        successor = (x[:, t - 1] + 1) % vocab_size
        x[:, t] = torch.where(jumps[:, t], (successor + offsets[:, t]) % vocab_size, successor)
    return x, jumps
