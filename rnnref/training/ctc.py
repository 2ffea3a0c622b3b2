r"""Connectionist temporal classification (CTC): a loss for unsegmented sequence labelling.

In speech or handwriting recognition the network reads $T$ frames but the label is
a shorter sequence $l$ of $L$ symbols with unknown timing. CTC lets the network
emit, at every frame, a distribution over the symbols plus an extra *blank*. A
frame-by-frame path $\pi$ is read as a labelling by the collapsing map
$\mathcal{B}$: merge repeated symbols, then delete blanks ($\mathcal{B}(\text{a a -
b b -}) = \text{ab}$; a blank between two equal symbols keeps them apart). The
loss is the negative log of the total probability of all paths that collapse to
$l$, summed efficiently by a forward (alpha) recursion over the *extended* label
$l'$, which is $l$ with a blank before, between and after its symbols
($|l'| = 2L + 1$). With $y^t_k$ the network's probability of symbol $k$ at frame
$t$, in log space ($\oplus$ is $\log(e^a + e^b)$):

$$
\begin{aligned}
\log\alpha_1(1) &= \log y^1_{\text{blank}}, \quad \log\alpha_1(2) = \log y^1_{l_1}, \quad
    \log\alpha_1(s) = -\infty \ (s > 2) \\
\log\alpha_t(s) &= \log y^t_{l'_s} + \big(\log\alpha_{t-1}(s) \oplus \log\alpha_{t-1}(s-1)
    \oplus [\log\alpha_{t-1}(s-2)]\big) \\
\mathcal{L}_{\mathrm{CTC}} &= -\log p(l \mid x) = -\big(\log\alpha_T(|l'|) \oplus \log\alpha_T(|l'| - 1)\big)
\end{aligned}
$$

where the bracketed term (skipping a blank) is allowed only when $l'_s$ is not
blank and $l'_s \ne l'_{s-2}$. If no path fits (say $T$ is too short for $l$ with
its repeats) the loss is $+\infty$; ``zero_infinity`` replaces it (and its
gradient) by zero. The gradient comes from autograd through the recursion.

*Best-path decoding* (`greedy_decode`) takes the most probable symbol at each
frame and applies $\mathcal{B}$; it is not always the most probable labelling, but
it is the usual quick decoder.

Shapes, as ``torch.nn.functional.ctc_loss``: T frames, N batch, C classes
(including the blank), S the longest target.

| argument         | shape                            |
|------------------|----------------------------------|
| `log_probs`      | (T, N, C), log-softmax over C    |
| `targets`        | (N, S) padded, or (sum of lengths,) concatenated |
| `input_lengths`  | (N,)                             |
| `target_lengths` | (N,)                             |

Note on gradients: ``torch.nn.functional.ctc_loss`` returns, for ``log_probs``, the
gradient with respect to the *logits* of a log-softmax (it assumes its input is
one); the gradient here is the true one with respect to ``log_probs``. Taken
through ``log_softmax`` the two are the same, and the test compares them there.

Reference: Alex Graves, Santiago Fernández, Faustino Gomez, Jürgen Schmidhuber
(2006), "Connectionist temporal classification: Labelling unsegmented sequence data
with recurrent neural networks", Proceedings of the International Conference on
Machine Learning, pp. 369–376, doi:10.1145/1143844.1143891.

Term: https://w3id.org/rnnref/term/connectionist-temporal-classification
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/connectionist-temporal-classification"

_REDUCTIONS = ("none", "mean", "sum")


def _logsumexp(*terms: Tensor) -> Tensor:
    r"""$\log \sum_i e^{a_i}$ elementwise, $-\infty$ (with zero gradient) when every $a_i = -\infty$."""
    x = torch.stack(terms)
    m = x.amax(dim=0).detach()  # the shift does not change the value, so no gradient flows through it
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    s = torch.exp(x - m).sum(dim=0)
    positive = s > 0
    return torch.where(positive, torch.log(torch.where(positive, s, torch.ones_like(s))) + m, torch.full_like(s, -torch.inf))


def _shift(log_alpha: Tensor, k: int) -> Tensor:
    r"""``out[:, s] = log_alpha[:, s - k]``, and $-\infty$ where $s - k < 0$."""
    return torch.nn.functional.pad(log_alpha, (k, 0), value=-torch.inf)[:, : log_alpha.size(1)]


def _as_lengths(lengths: Tensor | Sequence[int], n: int, name: str) -> Tensor:
    lengths = torch.as_tensor(lengths, dtype=torch.long).flatten()
    if lengths.numel() != n:
        raise ValueError(f"{name} must have one length per batch element ({n}), got {lengths.numel()}")
    if (lengths < 0).any():
        raise ValueError(f"{name} must be >= 0, got {lengths.tolist()}")
    return lengths


def _padded_targets(targets: Tensor, target_lengths: Tensor) -> Tensor:
    """Targets as (N, S), whether given padded or concatenated."""
    N = target_lengths.numel()
    if targets.dim() == 2:
        if targets.size(0) != N or (target_lengths > targets.size(1)).any():
            raise ValueError(
                f"padded targets (N, S) must have N = {N} rows and S >= every target length, got {tuple(targets.shape)}"
            )
        return targets.long()
    if targets.dim() != 1 or targets.numel() != int(target_lengths.sum()):
        raise ValueError(
            f"concatenated targets must be 1-D with sum(target_lengths) = {int(target_lengths.sum())} entries, "
            f"got {tuple(targets.shape)}"
        )
    S = int(target_lengths.max()) if N else 0
    padded = targets.new_zeros(N, S, dtype=torch.long)
    for n, part in enumerate(torch.split(targets.long(), target_lengths.tolist())):
        padded[n, : part.numel()] = part
    return padded


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    r"""The CTC loss $-\log p(l \mid x)$ by the forward recursion in log space.

    Same contract as ``torch.nn.functional.ctc_loss``.

    Args:
        log_probs: (T, N, C) log-probabilities (or (T, C) for one sequence).
        targets: (N, S) padded or (sum(target_lengths),) concatenated class indices, never ``blank``.
        input_lengths: (N,) frames used of each sequence, each $\le T$.
        target_lengths: (N,) symbols in each target.
        blank: index of the blank class.
        reduction: ``"none"`` (per sequence, (N,)), ``"mean"`` (each loss divided by its
            target length, then the batch mean) or ``"sum"``.
        zero_infinity: replace infinite losses (no path fits) and their gradients by 0.

    Returns:
        The loss: (N,) for ``"none"``, else 0-d.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
    if log_probs.dim() != 3:
        raise ValueError(f"log_probs must be (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    T, N, C = log_probs.shape
    if not 0 <= blank < C:
        raise ValueError(f"blank must be a class index in [0, {C}), got {blank}")
    input_lengths = _as_lengths(input_lengths, N, "input_lengths").to(log_probs.device)
    target_lengths = _as_lengths(target_lengths, N, "target_lengths").to(log_probs.device)
    if (input_lengths > T).any():
        raise ValueError(f"input_lengths must be <= T = {T}, got {input_lengths.tolist()}")
    labels = _padded_targets(targets.to(log_probs.device), target_lengths)  # (N, S)
    S = labels.size(1)
    in_target = torch.arange(S, device=log_probs.device) < target_lengths[:, None]
    if ((labels < 0) | (labels >= C) | (labels == blank))[in_target].any():
        raise ValueError(f"targets must be class indices in [0, {C}) other than the blank {blank}")

    # The extended label l' = (blank, l_1, blank, l_2, ..., l_L, blank), (N, 2S + 1).
    extended = torch.full((N, 2 * S + 1), blank, dtype=torch.long, device=log_probs.device)
    extended[:, 1::2] = labels
    S_ext = 2 * S + 1
    # A skip from s - 2 to s is allowed when l'_s is a symbol different from l'_{s-2}.
    previous_symbol = torch.nn.functional.pad(extended, (2, 0), value=blank)[:, :S_ext]  # l'_{s-2}
    can_skip = (extended != blank) & (extended != previous_symbol)
    can_skip[:, :2] = False
    # log y^t_{l'_s}: (T, N, S') — each frame's log-probability of each extended-label symbol.
    emit = log_probs.gather(2, extended.unsqueeze(0).expand(T, N, S_ext))

    minus_inf = torch.full((N, S_ext), -torch.inf, dtype=log_probs.dtype, device=log_probs.device)
    # $$\log\alpha_1(1) = \log y^1_{\mathrm{blank}}, \quad \log\alpha_1(2) = \log y^1_{l_1}$$
    first = torch.arange(S_ext, device=log_probs.device) < 2
    log_alpha = torch.where(first, emit[0], minus_inf) if T > 0 else minus_inf
    for t in range(1, T):
        stay = log_alpha  # from s
        advance = _shift(log_alpha, 1)  # from s - 1
        skip = torch.where(can_skip, _shift(log_alpha, 2), minus_inf)  # from s - 2
        # $$\log\alpha_t(s) = \log y^t_{l'_s} + (\log\alpha_{t-1}(s) \oplus \log\alpha_{t-1}(s-1) \oplus \log\alpha_{t-1}(s-2))$$
        updated = _logsumexp(stay, advance, skip) + emit[t]
        # sequences that have already ended keep their alpha
        log_alpha = torch.where((t < input_lengths)[:, None], updated, log_alpha)

    # $$\mathcal{L} = -(\log\alpha_T(|l'|) \oplus \log\alpha_T(|l'| - 1))$$, |l'| = 2 L + 1 for each sequence
    last = (2 * target_lengths).unsqueeze(1)  # 0-based index of the final blank
    end_blank = log_alpha.gather(1, last).squeeze(1)
    end_symbol = log_alpha.gather(1, (last - 1).clamp(min=0)).squeeze(1)
    end_symbol = torch.where(target_lengths > 0, end_symbol, torch.full_like(end_symbol, -torch.inf))
    loss = -_logsumexp(end_blank, end_symbol)
    # with no frames at all, only the empty target has a path
    loss = torch.where(input_lengths > 0, loss, torch.where(target_lengths > 0, torch.inf, 0.0).to(loss.dtype))

    if zero_infinity:
        loss = torch.where(torch.isinf(loss), torch.zeros_like(loss), loss)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    # "mean": each loss divided by its target length (at least 1), then averaged over the batch
    return (loss / target_lengths.clamp(min=1).to(loss.dtype)).mean()


ctc_loss.term_iri = TERM_IRI  # type: ignore[attr-defined]


def collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    r"""$\mathcal{B}$: merge runs of the same symbol, then drop blanks."""
    labelling, previous = [], None
    for symbol in path:
        if symbol != previous and symbol != blank:
            labelling.append(symbol)
        previous = symbol
    return labelling


def greedy_decode(log_probs: Tensor, input_lengths: Tensor | Sequence[int] | None = None, blank: int = 0) -> list[list[int]]:
    r"""Best-path decoding: $\mathcal{B}(\arg\max_k y^t_k \text{ for each } t)$, one list per sequence.

    Args:
        log_probs: (T, N, C) scores (log-probabilities or logits: only the argmax matters).
        input_lengths: (N,) frames to read of each sequence; default all T.
        blank: the blank index.
    """
    if log_probs.dim() != 3:
        raise ValueError(f"log_probs must be (T, N, C), got {tuple(log_probs.shape)}")
    T, N, _ = log_probs.shape
    lengths = [T] * N if input_lengths is None else _as_lengths(input_lengths, N, "input_lengths").tolist()
    best = log_probs.argmax(dim=2).T.tolist()  # (N, T)
    return [collapse(best[n][: lengths[n]], blank) for n in range(N)]


def alignment_task(
    batch: int,
    generator: torch.Generator,
    *,
    num_symbols: int = 4,
    label_length: int = 3,
    max_repeat: int = 3,
    noise: float = 0.1,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor, Tensor, Tensor, list[list[int]]]:
    r"""A tiny unsegmented labelling task for CTC.

    Each label is ``label_length`` symbols from ``1 .. num_symbols`` with no two
    neighbours equal. Its input is the symbols as one-hot frames, each held for a
    random 1 .. ``max_repeat`` frames, with a silent (all-zero) frame or none
    between them at random, plus Gaussian noise: the network sees *when* things
    happen only through the frames, never through the label.

    Returns:
        ``(x (T, N, num_symbols), targets (N, label_length), input_lengths (N,),
        target_lengths (N,), labels)`` with ``labels`` the targets as lists; the
        blank is class 0, so the network needs ``num_symbols + 1`` outputs.
    """
    frames, labels = [], []
    for _ in range(batch):
        first = int(torch.randint(1, num_symbols + 1, (1,), generator=generator))
        label = [first]
        while len(label) < label_length:
            step = int(torch.randint(1, num_symbols, (1,), generator=generator))  # any symbol but the previous
            label.append((label[-1] - 1 + step) % num_symbols + 1)
        sequence = []
        for symbol in label:
            sequence += [symbol] * int(torch.randint(1, max_repeat + 1, (1,), generator=generator))
            if int(torch.randint(0, 2, (1,), generator=generator)):
                sequence.append(0)  # silence
        frames.append(sequence)
        labels.append(label)
    T = max(len(f) for f in frames)
    x = torch.zeros(T, batch, num_symbols, dtype=dtype)
    for n, sequence in enumerate(frames):
        for t, symbol in enumerate(sequence):
            if symbol:
                x[t, n, symbol - 1] = 1.0
    x += noise * torch.randn(x.shape, generator=generator, dtype=dtype)
    input_lengths = torch.tensor([len(f) for f in frames])
    targets = torch.tensor(labels)
    target_lengths = torch.full((batch,), label_length)
    return x, targets, input_lengths, target_lengths, labels
