r"""Bidirectional RNN: one recurrent network reads the sequence forwards, another backwards.

A recurrent network's output at step $t$ can only depend on $x_1 \dots x_t$. When the
whole sequence is available before any output is needed (tagging, speech frames,
the encoder of a translation model), the output at $t$ can also use the future. A
bidirectional RNN runs two independent recurrences over the same input, one from
left to right and one from right to left, and concatenates their outputs at each
step:

$$
\begin{aligned}
(\overrightarrow{y}_t, \overrightarrow{s}_t) &= \overrightarrow{f}(x_t, \overrightarrow{s}_{t-1}),
    \quad t = 1 \dots T \\
(\overleftarrow{y}_t, \overleftarrow{s}_t) &= \overleftarrow{f}(x_t, \overleftarrow{s}_{t+1}),
    \quad t = T \dots 1 \\
y_t &= [\overrightarrow{y}_t ; \overleftarrow{y}_t]
\end{aligned}
$$

$\overrightarrow{f}$ and $\overleftarrow{f}$ are any two cells (Elman, LSTM, GRU,
Jordan, ...) with their own weights; nothing is shared between the directions.
So $y_t$ depends on the whole input, $x_1 \dots x_T$. The final states are
$\overrightarrow{s}_T$ (after the last step) and $\overleftarrow{s}_1$ (after the
backward pass has reached the first step), which is what ``torch.nn.RNN`` with
``bidirectional=True`` returns in ``h_n``.

`Bidirectional` works over the cell protocol of `rnnref.models`: a cell has
`input_size`, `hidden_size`, `output_size`, `init_state(batch_size, *, dtype,
device)` and `step(x_t, state) -> (y_t, new_state)`.

Shape letters: B batch, T length, I input, O output (of one direction), D = 2
directions. Sequences are batch-first, (B, T, I).

Reference: Schuster & Paliwal 1997.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

TERM_IRI = "https://w3id.org/rnnref/term/bidirectional-rnn"

State = Any  # a cell's recurrent state: a Tensor, or a tuple such as (h, c)


class Bidirectional(nn.Module):
    r"""Run ``forward_cell`` left to right and ``backward_cell`` right to left; concatenate.

    $$y_t = [\overrightarrow{y}_t ; \overleftarrow{y}_t]$$

    Args:
        forward_cell: cell for the left-to-right direction.
        backward_cell: cell for the right-to-left direction; same ``input_size``.

    Inputs: ``x, state``
        x: (B, T, I), batch-first.
        state: ``(forward_state, backward_state)`` initial states, or None for each
            cell's ``init_state``.

    Outputs: ``y, (forward_final, backward_final)``
        y: (B, T, O_fwd + O_bwd), forward outputs first.
        forward_final: forward state after step T.
        backward_final: backward state after it has read step 1.

    Example::

        >>> from rnnref.models.elman import ElmanCell
        >>> birnn = Bidirectional(ElmanCell(3, 8), ElmanCell(3, 8))
        >>> y, (h_fwd, h_bwd) = birnn(torch.randn(4, 10, 3))
        >>> y.shape
        torch.Size([4, 10, 16])
    """

    term_iri = TERM_IRI

    def __init__(self, forward_cell: nn.Module, backward_cell: nn.Module) -> None:
        super().__init__()
        for name, cell in (("forward_cell", forward_cell), ("backward_cell", backward_cell)):
            missing = [a for a in ("input_size", "output_size", "init_state", "step") if not hasattr(cell, a)]
            if missing:
                raise ValueError(f"{name} does not follow the cell protocol: it lacks {', '.join(missing)}")
        if forward_cell.input_size != backward_cell.input_size:
            raise ValueError(
                "forward_cell and backward_cell must read the same input size, got "
                f"{forward_cell.input_size} and {backward_cell.input_size}"
            )
        self.forward_cell = forward_cell
        self.backward_cell = backward_cell
        self.input_size = forward_cell.input_size
        self.output_size = forward_cell.output_size + backward_cell.output_size

    def forward(self, x: Tensor, state: tuple[State, State] | None = None) -> tuple[Tensor, tuple[State, State]]:
        if x.dim() != 3 or x.size(-1) != self.input_size:
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {tuple(x.shape)}")
        B, T, _ = x.shape  # batch, length, input features
        if T == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if state is None:
            s_fwd = self.forward_cell.init_state(B, dtype=x.dtype, device=x.device)
            s_bwd = self.backward_cell.init_state(B, dtype=x.dtype, device=x.device)
        else:
            s_fwd, s_bwd = state

        y_fwd: list[Tensor] = []
        for t in range(T):
            # $$(\overrightarrow{y}_t, \overrightarrow{s}_t) = \overrightarrow{f}(x_t, \overrightarrow{s}_{t-1})$$
            y_t, s_fwd = self.forward_cell.step(x[:, t], s_fwd)
            y_fwd.append(y_t)

        y_bwd: list[Tensor] = [None] * T  # type: ignore[list-item]
        for t in reversed(range(T)):
            # $$(\overleftarrow{y}_t, \overleftarrow{s}_t) = \overleftarrow{f}(x_t, \overleftarrow{s}_{t+1})$$
            y_bwd[t], s_bwd = self.backward_cell.step(x[:, t], s_bwd)

        # $$y_t = [\overrightarrow{y}_t ; \overleftarrow{y}_t]$$
        y = torch.cat([torch.stack(y_fwd, dim=1), torch.stack(y_bwd, dim=1)], dim=-1)
        return y, (s_fwd, s_bwd)
