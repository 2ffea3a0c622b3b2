r"""Bidirectional associative memory (BAM): two layers and one matrix, recall in both directions.

Kosko's BAM (1988) stores pairs of bipolar patterns $(x^{k}, y^{k})$,
$x \in \{-1,+1\}^{n}$, $y \in \{-1,+1\}^{p}$, in one correlation matrix. Signals go
from the X layer to the Y layer through $M$ and back through $M^\top$, so either
layer can be given a (possibly noisy) pattern and the other layer answers with its
partner; the two layers then echo each other until neither changes.

$$
\begin{aligned}
M &= \sum_{k=1}^{P} x^{k} (y^{k})^\top \\
y &\leftarrow \operatorname{sgn}(M^\top x) \\
x &\leftarrow \operatorname{sgn}(M y) \\
E(x, y) &= -x^\top M y
\end{aligned}
$$

where $\operatorname{sgn}$ keeps a unit's previous value when its input is exactly
zero. Each half-step (all of Y, then all of X) never increases the energy $E$, so
bidirectional recall always ends in a stable pair. Pairs whose $x$ patterns are
mutually orthogonal (and likewise the $y$ patterns) are recalled exactly.

| symbol | attribute | shape  |
|--------|-----------|--------|
| $M$    | `weight`  | (n, p) |

States are (n,) / (B, n) for X and (p,) / (B, p) for Y, of ±1. $M$ is a buffer set
by `store`; there is nothing to train by gradient descent.

Reference: Bart Kosko (1988), "Bidirectional associative memories", IEEE
Transactions on Systems, Man, and Cybernetics 18(1): 49–60, doi:10.1109/21.87054.

Term: https://w3id.org/rnnref/term/bidirectional-associative-memory
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/bidirectional-associative-memory"


def _check_bipolar(name: str, value: Tensor, size: int) -> Tensor:
    if not isinstance(value, Tensor) or value.dim() not in (1, 2) or value.size(-1) != size:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"{name} must have shape ({size},) or (B, {size}), got {shape}")
    if not bool(((value == 1) | (value == -1)).all()):
        raise ValueError(f"{name} must contain only -1 and +1")
    return value


def _sign_keep(field: Tensor, previous: Tensor) -> Tensor:
    return torch.where(field > 0, 1, torch.where(field < 0, -1, previous)).to(previous.dtype)


class BidirectionalAssociativeMemory(nn.Module):
    r"""Kosko BAM between an X layer of n bipolar units and a Y layer of p.

    $$M = \sum_k x^k (y^k)^\top, \quad y \leftarrow \operatorname{sgn}(M^\top x), \quad x \leftarrow \operatorname{sgn}(M y), \quad E = -x^\top M y$$

    Args:
        x_size: n, units of the X layer.
        y_size: p, units of the Y layer.
        device, dtype: of the weight buffer (float64 by default).

    Methods: `store`, `forward_pass` (X -> Y), `backward_pass` (Y -> X), `energy`,
    `recall` (bidirectional iteration to a stable pair, from X or from Y).

    Example::

        >>> bam = BidirectionalAssociativeMemory(4, 2)
        >>> bam.store(torch.tensor([[1, 1, -1, -1], [1, -1, 1, -1]]), torch.tensor([[1, -1], [1, 1]]))
        >>> bam.recall(x=torch.tensor([1.0, 1, -1, -1]))[1].tolist()
        [1.0, -1.0]
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        x_size: int,
        y_size: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = torch.float64,
    ) -> None:
        super().__init__()
        self.x_size = check_size("x_size", x_size)
        self.y_size = check_size("y_size", y_size)
        self.register_buffer("weight", torch.zeros(x_size, y_size, device=device, dtype=dtype))

    def store(self, xs: Tensor, ys: Tensor) -> None:
        r"""$M = \sum_k x^k (y^k)^\top$ from xs (P, n) and ys (P, p) of ±1 (replacing earlier pairs)."""
        xs = _check_bipolar("xs", xs, self.x_size).reshape(-1, self.x_size)
        ys = _check_bipolar("ys", ys, self.y_size).reshape(-1, self.y_size)
        if xs.size(0) != ys.size(0):
            raise ValueError(f"xs and ys must hold the same number of patterns, got {xs.size(0)} and {ys.size(0)}")
        # $$M = \sum_k x^k (y^k)^\top$$
        self.weight.copy_(xs.to(self.weight.dtype).T @ ys.to(self.weight.dtype))

    def energy(self, x: Tensor, y: Tensor) -> Tensor:
        r"""$E(x, y) = -x^\top M y$: () for single states, (B,) for batches."""
        x = _check_bipolar("x", x, self.x_size).to(self.weight.dtype)
        y = _check_bipolar("y", y, self.y_size).to(self.weight.dtype)
        return -((x @ self.weight) * y).sum(-1)

    def forward_pass(self, x: Tensor, y_prev: Tensor | None = None) -> Tensor:
        r"""$y = \operatorname{sgn}(M^\top x)$; a zero input keeps ``y_prev`` (or gives +1 without one)."""
        x = _check_bipolar("x", x, self.x_size)
        field = x.to(self.weight.dtype) @ self.weight
        previous = torch.ones_like(field) if y_prev is None else _check_bipolar("y_prev", y_prev, self.y_size)
        return _sign_keep(field, previous.to(field.dtype))

    def backward_pass(self, y: Tensor, x_prev: Tensor | None = None) -> Tensor:
        r"""$x = \operatorname{sgn}(M y)$; a zero input keeps ``x_prev`` (or gives +1 without one)."""
        y = _check_bipolar("y", y, self.y_size)
        field = y.to(self.weight.dtype) @ self.weight.T
        previous = torch.ones_like(field) if x_prev is None else _check_bipolar("x_prev", x_prev, self.x_size)
        return _sign_keep(field, previous.to(field.dtype))

    def recall(
        self, *, x: Tensor | None = None, y: Tensor | None = None, max_steps: int = 100
    ) -> tuple[Tensor, Tensor]:
        """Bidirectional recall from one layer (``x=`` or ``y=``) until the pair is stable.

        Starting from X: y = sgn(M^T x), x = sgn(M y), y = ..., and the other way from Y.
        Returns ``(x, y)``, the stable pair (or the last one after ``max_steps`` round trips).
        """
        if (x is None) == (y is None):
            raise ValueError("give exactly one of x= or y= to recall from")
        check_size("max_steps", max_steps)
        if x is not None:
            x = x.to(self.weight.dtype)
            y = self.forward_pass(x)
        else:
            y = y.to(self.weight.dtype)
            x = self.backward_pass(y)
            y = self.forward_pass(x, y)
        for _ in range(max_steps):
            new_x = self.backward_pass(y, x)
            new_y = self.forward_pass(new_x, y)
            if torch.equal(new_x, x) and torch.equal(new_y, y):
                break
            x, y = new_x, new_y
        return x, y

    def extra_repr(self) -> str:
        return f"x_size={self.x_size}, y_size={self.y_size}"
