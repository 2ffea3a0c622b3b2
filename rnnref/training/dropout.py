r"""Dropout: randomly silence units during training; and its variational form for RNNs.

Dropout regularises a network by zeroing each unit's activation with probability
$p$ at every training step, so no unit can rely on particular others being
present; it is like training an ensemble of thinned networks that share weights.
In *inverted* dropout the kept units are scaled by $1/(1-p)$ during training, so
the expected activation is unchanged and the network is used as it is at test
time:

$$
\begin{aligned}
m_i &\sim \operatorname{Bernoulli}(1 - p) \\
\operatorname{drop}(x)_i &= \frac{m_i \, x_i}{1 - p} \quad \text{(training)}, \qquad
    \operatorname{drop}(x) = x \quad \text{(evaluation)} \\
\mathbb{E}[\operatorname{drop}(x)_i] &= x_i
\end{aligned}
$$

In a recurrent network a fresh mask at every time step on the recurrent
connection destroys the memory the network is meant to carry. *Variational*
dropout (Gal & Ghahramani) samples one mask per sequence and uses it at every step,
on the inputs and on the recurrent state fed back:

$$
\begin{aligned}
m^x &\sim \operatorname{Bernoulli}(1 - p_x)^{I}, \qquad m^h \sim \operatorname{Bernoulli}(1 - p_h)^{H}
    \quad \text{(once per sequence)} \\
\tilde x_t &= \frac{m^x \odot x_t}{1 - p_x}, \qquad \tilde h_{t-1} = \frac{m^h \odot h_{t-1}}{1 - p_h} \\
(h_t, s_t) &= \operatorname{cell}(\tilde x_t, \tilde h_{t-1}, \dots)
\end{aligned}
$$

Shape letters: B batch, T length, I input, H hidden. Sequences are batch-first.

References: Nitish Srivastava, Geoffrey Hinton, Alex Krizhevsky, Ilya Sutskever,
Ruslan Salakhutdinov (2014), "Dropout: A Simple Way to Prevent Neural Networks from
Overfitting", JMLR 15: 1929–1958; Yarin Gal, Zoubin Ghahramani (2016), "A
Theoretically Grounded Application of Dropout in Recurrent Neural Networks",
arXiv:1512.05287.

Term: https://w3id.org/rnnref/term/dropout
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

TERM_IRI = "https://w3id.org/rnnref/term/dropout"


def _check_p(p: object, name: str = "p") -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def sample_mask(
    shape: tuple[int, ...] | torch.Size, p: float, like: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    r"""$m \sim \operatorname{Bernoulli}(1 - p)$, a 0/1 tensor of ``shape`` in ``like``'s dtype and device.

    Drawn with ``bernoulli_`` as ``torch.nn.functional.dropout`` draws its mask on the
    CPU, so with the same seed and shape both drop the same elements.
    """
    return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1 - p, generator=generator)


def dropout(
    x: Tensor,
    p: float = 0.5,
    training: bool = True,
    *,
    mask: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Inverted dropout: $m \odot x / (1 - p)$ in training, $x$ otherwise.

    Args:
        x: any shape.
        p: drop probability.
        training: if False, return ``x`` unchanged.
        mask: a 0/1 mask broadcastable to ``x``; sampled if None.
        generator: random source for the mask (default: torch's global one).
    """
    p = _check_p(p)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0  # every unit dropped (and no division by zero)
    if mask is None:
        # $$m_i \sim \operatorname{Bernoulli}(1 - p)$$
        mask = sample_mask(x.shape, p, x, generator)
    # $$\operatorname{drop}(x)_i = m_i x_i / (1 - p)$$
    return x * mask * (1.0 / (1 - p))


class Dropout(nn.Module):
    r"""Inverted dropout as a module: $m \odot x / (1-p)$ in training mode, identity in eval mode.

    Args:
        p: drop probability.
        generator: random source for the masks (default: torch's global one).
    """

    term_iri = TERM_IRI

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class VariationalDropout(nn.Module):
    r"""Dropout on a sequence (B, T, F) with one mask per sequence, the same at every step.

    $m \sim \operatorname{Bernoulli}(1-p)^{B \times 1 \times F}$, broadcast over T.
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3:
            raise ValueError(f"VariationalDropout expects (B, T, F), got shape {tuple(x.shape)}")
        if not self.training or self.p == 0:
            return x
        B, _, F = x.shape
        # $$m \sim \operatorname{Bernoulli}(1 - p)$$ once per sequence, shared by all T steps
        mask = sample_mask((B, 1, F), self.p, x, self.generator) if self.p < 1 else x.new_zeros(B, 1, F)
        return dropout(x, self.p, mask=mask)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class VariationalDropoutRNN(nn.Module):
    r"""Run a recurrent cell over a sequence with variational dropout on its input and recurrent state.

    $$\tilde x_t = m^x \odot x_t / (1 - p_x), \quad \tilde h_{t-1} = m^h \odot h_{t-1} / (1 - p_h), \quad
    (y_t, s_t) = \operatorname{cell}.\operatorname{step}(\tilde x_t, \tilde s_{t-1})$$

    with $m^x$ (B, I) and $m^h$ (B, H) sampled once per call to ``forward``. For
    a cell whose state is a tuple (LSTM: ``(h, c)``) only its first part, the
    hidden output fed back, is dropped; the cell state $c$ is not.

    Args:
        cell: any cell with the protocol of `rnnref.models._recurrent`.
        p_input: $p_x$.
        p_hidden: $p_h$.
        generator: random source for the masks.

    Inputs: ``x (B, T, I), state=None``. Outputs: ``(y (B, T, O), final state)``.
    """

    term_iri = TERM_IRI

    def __init__(
        self, cell: nn.Module, p_input: float = 0.0, p_hidden: float = 0.0, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.cell = cell
        self.p_input = _check_p(p_input, "p_input")
        self.p_hidden = _check_p(p_hidden, "p_hidden")
        self.generator = generator

    def _mask(self, batch: int, size: int, p: float, like: Tensor) -> Tensor | None:
        if not self.training or p == 0:
            return None
        if p == 1:
            return like.new_zeros(batch, size)
        return sample_mask((batch, size), p, like, self.generator)

    def forward(self, x: Tensor, state=None):
        if x.dim() != 3 or x.size(2) != self.cell.input_size:
            raise ValueError(f"expected x of shape (B, T, {self.cell.input_size}), got {tuple(x.shape)}")
        B, T, _ = x.shape
        if state is None:
            state = self.cell.init_state(B, dtype=x.dtype, device=x.device)
        # $$m^x, m^h$$: sampled once, used at every step
        mask_x = self._mask(B, self.cell.input_size, self.p_input, x)
        mask_h = self._mask(B, self.cell.hidden_size if isinstance(state, Tensor) else state[0].size(1), self.p_hidden, x)
        outputs = []
        for t in range(T):
            # $$\tilde x_t = m^x \odot x_t / (1 - p_x)$$
            x_t = x[:, t] if mask_x is None else dropout(x[:, t], self.p_input, mask=mask_x)
            if mask_h is not None:
                # $$\tilde h_{t-1} = m^h \odot h_{t-1} / (1 - p_h)$$
                if isinstance(state, Tensor):
                    state = dropout(state, self.p_hidden, mask=mask_h)
                else:
                    state = (dropout(state[0], self.p_hidden, mask=mask_h), *state[1:])
            y_t, state = self.cell.step(x_t, state)
            outputs.append(y_t)
        return torch.stack(outputs, dim=1), state

    def extra_repr(self) -> str:
        return f"p_input={self.p_input}, p_hidden={self.p_hidden}"
