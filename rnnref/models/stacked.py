r"""Stacked (deep) RNN: layers of recurrent cells, each reading the outputs of the one below.

A stacked RNN puts $L$ recurrent layers on top of each other. Layer 1 reads the
input sequence; layer $l > 1$ reads the output sequence of layer $l - 1$; the
network's output is the output of layer $L$. Each layer keeps its own recurrent
state, so the depth is in two directions: through time within a layer, and through
the layers within a time step.

$$
\begin{aligned}
y^{(0)}_t &= x_t \\
(y^{(l)}_t, s^{(l)}_t) &= f^{(l)}\big(\operatorname{drop}_l(y^{(l-1)}_t),\; s^{(l)}_{t-1}\big),
    \quad l = 1 \dots L \\
y_t &= y^{(L)}_t
\end{aligned}
$$

$\operatorname{drop}_l$ is dropout with probability ``dropout`` on the input of
every layer except the first (that is, on the outputs of all layers but the last),
in training mode only; in evaluation mode it is the identity. This is where
``torch.nn.RNN(num_layers=L, dropout=p)`` applies dropout too, so with copied
weights and ``dropout=0`` (or in eval mode) `Stacked` equals the torch module.

The cells can be any mix that follows the cell protocol of `rnnref.models`
(`input_size`, `hidden_size`, `output_size`, `init_state`, `step`); the only
constraint is that layer $l$'s ``input_size`` equals layer $l - 1$'s
``output_size``. `Stacked` follows the protocol itself (its state is the list of
layer states), so a stack can be wrapped again, for example by `Bidirectional`.

Shape letters: B batch, T length, I input, O output (of the top layer), L layers.
Sequences are batch-first, (B, T, I).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

TERM_IRI = "https://w3id.org/rnnref/term/stacked-rnn"

State = Any  # a cell's recurrent state: a Tensor, or a tuple such as (h, c)


class Stacked(nn.Module):
    r"""A stack of recurrent cells; layer $l$ reads layer $l-1$'s output at the same step.

    $$(y^{(l)}_t, s^{(l)}_t) = f^{(l)}(\operatorname{drop}_l(y^{(l-1)}_t), s^{(l)}_{t-1}), \quad y^{(0)}_t = x_t$$

    Args:
        cells: the layers, bottom first; at least one.
        dropout: probability of zeroing an element of a layer's output before the
            next layer reads it (not after the top layer); training mode only.

    Inputs: ``x, states``
        x: (B, T, I), batch-first.
        states: list of L initial layer states, or None for each cell's ``init_state``.

    Outputs: ``y, states``
        y: (B, T, O), the top layer's outputs.
        states: list of the L final layer states, bottom first.

    Example::

        >>> from rnnref.models.gru import GRUCell
        >>> rnn = Stacked([GRUCell(3, 16), GRUCell(16, 16), GRUCell(16, 8)], dropout=0.1)
        >>> y, states = rnn(torch.randn(4, 10, 3))
        >>> y.shape, len(states)
        (torch.Size([4, 10, 8]), 3)
    """

    term_iri = TERM_IRI

    def __init__(self, cells: Sequence[nn.Module], dropout: float = 0.0) -> None:
        super().__init__()
        cells = list(cells)
        if not cells:
            raise ValueError("Stacked needs at least one cell")
        for l, cell in enumerate(cells):
            missing = [a for a in ("input_size", "output_size", "init_state", "step") if not hasattr(cell, a)]
            if missing:
                raise ValueError(f"cell {l} does not follow the cell protocol: it lacks {', '.join(missing)}")
        for l in range(1, len(cells)):
            if cells[l].input_size != cells[l - 1].output_size:
                raise ValueError(
                    f"cell {l} reads input_size={cells[l].input_size} but cell {l - 1} "
                    f"writes output_size={cells[l - 1].output_size}"
                )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        self.cells = nn.ModuleList(cells)
        self.dropout = nn.Dropout(dropout)
        self.num_layers = len(cells)
        self.input_size = cells[0].input_size
        self.hidden_size = cells[-1].hidden_size if hasattr(cells[-1], "hidden_size") else cells[-1].output_size
        self.output_size = cells[-1].output_size

    # -- cell protocol -------------------------------------------------------------

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> list[State]:
        """The list of each layer's initial state, bottom first."""
        return [cell.init_state(batch_size, dtype=dtype, device=device) for cell in self.cells]

    def step(self, x_t: Tensor, states: Sequence[State]) -> tuple[Tensor, list[State]]:
        """One time step through all layers: x_t (B, I) -> (y_t (B, O), new layer states)."""
        if len(states) != self.num_layers:
            raise ValueError(f"expected {self.num_layers} layer states, got {len(states)}")
        # $$y^{(0)}_t = x_t$$
        y_t = x_t
        new_states = []
        for l, (cell, s_prev) in enumerate(zip(self.cells, states)):
            if l > 0:
                # $$\operatorname{drop}_l(y^{(l-1)}_t)$$ (identity in eval mode)
                y_t = self.dropout(y_t)
            # $$(y^{(l)}_t, s^{(l)}_t) = f^{(l)}(\operatorname{drop}_l(y^{(l-1)}_t), s^{(l)}_{t-1})$$
            y_t, s_t = cell.step(y_t, s_prev)
            new_states.append(s_t)
        # $$y_t = y^{(L)}_t$$
        return y_t, new_states

    # -- sequence ------------------------------------------------------------------

    def forward(self, x: Tensor, states: Sequence[State] | None = None) -> tuple[Tensor, list[State]]:
        if x.dim() != 3 or x.size(-1) != self.input_size:
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {tuple(x.shape)}")
        B, T, _ = x.shape  # batch, length, input features
        if T == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        states = self.init_state(B, dtype=x.dtype, device=x.device) if states is None else list(states)
        outputs = []
        for t in range(T):
            y_t, states = self.step(x[:, t], states)
            outputs.append(y_t)
        return torch.stack(outputs, dim=1), states
