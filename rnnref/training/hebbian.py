r"""Hebbian learning: the outer-product rule, and Oja's normalised variant.

Hebb's postulate, "cells that fire together wire together", becomes a learning rule
by changing each weight in proportion to the product of the activities on its two
sides. For a layer with presynaptic activity $x \in \mathbb{R}^{N_{in}}$ and
postsynaptic activity $y \in \mathbb{R}^{N_{out}}$:

$$
\Delta W = \eta\, y\, x^\top, \qquad \Delta w_{ij} = \eta\, y_i x_j .
$$

It needs no error signal, no target and no gradient: only the two activities
meeting at each synapse (local in space and in time). In a recurrent
auto-associative memory the units are both pre- and postsynaptic; clamping the
network to each pattern $\xi^\mu \in \{-1, +1\}^N$ in turn ($x = y = \xi^\mu$) with
$\eta = 1/N$ and no self-connections gives the Hopfield storage rule

$$
w_{ij} = \frac{1}{N} \sum_{\mu=1}^{P} \xi^\mu_i \xi^\mu_j \quad (i \ne j), \qquad w_{ii} = 0,
$$

tested equal to `rnnref.models.hopfield.HopfieldNetwork.store`.

Plain Hebbian growth is unbounded: for a linear unit $y = w^\top x$ the rule
$\Delta w = \eta\, y x$ makes $\lVert w \rVert$ grow without limit. **Oja's rule**
adds a decay term that keeps $\lVert w \rVert \to 1$,

$$
\Delta w = \eta\, y\, (x - y\, w), \qquad y = w^\top x ,
$$

and $w$ then converges (for small $\eta$, zero-mean inputs) to the unit eigenvector
of the input covariance with the largest eigenvalue: the first principal component
(tested on a known covariance).

| name                       | what it does                                                   |
|----------------------------|----------------------------------------------------------------|
| `hebbian_update`           | $\eta\, y x^\top$ (summed over a batch)                        |
| `HebbianLearning`          | the rule as a training method: `step(weight, pre, post)`, `store(patterns)` |
| `oja_update`, `OjaRule`    | $\eta\, y (x - y w)$ for one linear unit                       |

Shapes: pre (B, N_in) or (N_in,), post (B, N_out) or (N_out,), weight (N_out, N_in).

References: Donald O. Hebb (1949), *The Organization of Behavior* (the postulate);
J. J. Hopfield (1982), doi:10.1073/pnas.79.8.2554 (the storage rule); Erkki Oja
(1982), "Simplified neuron model as a principal component analyzer", Journal of
Mathematical Biology 15: 267–273, doi:10.1007/BF00275687.

Term: https://w3id.org/rnnref/term/hebbian-learning
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnref.models._recurrent import check_flag

TERM_IRI = "https://w3id.org/rnnref/term/hebbian-learning"


def _as_batch(name: str, value: Tensor) -> Tensor:
    if not isinstance(value, Tensor) or value.dim() not in (1, 2):
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"{name} must have shape (N,) or (B, N), got {shape}")
    return value.unsqueeze(0) if value.dim() == 1 else value


def _check_rate(lr: float) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"the learning rate must be a positive number, got {lr!r}")
    return float(lr)


def hebbian_update(pre: Tensor, post: Tensor, lr: float) -> Tensor:
    r"""$\Delta W = \eta \sum_b y_b x_b^\top$: pre x (B, N_in), post y (B, N_out) -> (N_out, N_in)."""
    x, y = _as_batch("pre", pre), _as_batch("post", post)
    if x.size(0) != y.size(0):
        raise ValueError(f"pre and post must have the same batch size, got {x.size(0)} and {y.size(0)}")
    # $$\Delta w_{ij} = \eta\, y_i x_j$$
    return _check_rate(lr) * y.T @ x


class HebbianLearning:
    r"""The Hebbian rule $W \leftarrow W + \eta\, y x^\top$ as a training method.

    Args:
        lr: $\eta > 0$.
        zero_diagonal: keep $w_{ii} = 0$ after each step (no self-connections, for
            square recurrent weights).

    ``step(weight, pre, post)`` updates ``weight`` (N_out, N_in) in place and returns
    it; ``store(patterns)`` builds the auto-associative weights of a recurrent memory
    from ±1 patterns (P, N) by presenting them one at a time with $x = y = \xi^\mu$.

    Example::

        >>> rule = HebbianLearning(lr=1 / 4, zero_diagonal=True)
        >>> W = rule.store(torch.tensor([[1.0, -1.0, 1.0, -1.0]]))
        >>> W[0].tolist()
        [0.0, -0.25, 0.25, -0.25]
    """

    term_iri = TERM_IRI

    def __init__(self, lr: float, *, zero_diagonal: bool = False) -> None:
        self.lr = _check_rate(lr)
        self.zero_diagonal = check_flag("zero_diagonal", zero_diagonal)

    @torch.no_grad()
    def step(self, weight: Tensor, pre: Tensor, post: Tensor) -> Tensor:
        x, y = _as_batch("pre", pre), _as_batch("post", post)
        if not isinstance(weight, Tensor) or tuple(weight.shape) != (y.size(1), x.size(1)):
            got = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
            raise ValueError(f"weight must have shape {(y.size(1), x.size(1))} (N_out, N_in), got {got}")
        # $$W \leftarrow W + \eta\, y x^\top$$
        weight.add_(hebbian_update(x.to(weight.dtype), y.to(weight.dtype), self.lr))
        if self.zero_diagonal:
            weight.fill_diagonal_(0)
        return weight

    def store(self, patterns: Tensor, *, dtype: torch.dtype = torch.float64) -> Tensor:
        r"""$w_{ij} = \eta \sum_\mu \xi^\mu_i \xi^\mu_j$ from patterns (P, N), one pattern per step from W = 0."""
        xi = _as_batch("patterns", patterns).to(dtype)
        weight = xi.new_zeros(xi.size(1), xi.size(1))
        for pattern in xi:
            self.step(weight, pattern, pattern)  # clamp the network to the pattern: x = y = xi
        return weight


def oja_update(weight: Tensor, x: Tensor, lr: float) -> Tensor:
    r"""$\Delta w = \eta \sum_b y_b (x_b - y_b w)$, $y_b = w^\top x_b$: weight (N,), x (B, N) or (N,)."""
    x = _as_batch("x", x)
    if not isinstance(weight, Tensor) or weight.dim() != 1 or weight.size(0) != x.size(1):
        raise ValueError(f"weight must have shape ({x.size(1)},), got {tuple(weight.shape) if isinstance(weight, Tensor) else weight!r}")
    # $$y = w^\top x$$
    y = x @ weight  # (B,)
    # $$\Delta w = \eta\, y (x - y w)$$
    return _check_rate(lr) * (y[:, None] * (x - y[:, None] * weight)).sum(0)


class OjaRule:
    r"""Oja's rule for one linear unit, $w \leftarrow w + \eta\, y (x - y w)$: converges to the first principal component.

    ``step(weight, x)`` updates ``weight`` (N,) in place with inputs x (N,) or (B, N)
    (summed over the batch) and returns it.
    """

    term_iri = TERM_IRI

    def __init__(self, lr: float) -> None:
        self.lr = _check_rate(lr)

    @torch.no_grad()
    def step(self, weight: Tensor, x: Tensor) -> Tensor:
        return weight.add_(oja_update(weight, x.to(weight.dtype), self.lr))
