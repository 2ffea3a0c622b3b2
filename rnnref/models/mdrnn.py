r"""Multidimensional RNN (MDRNN): a recurrent network that scans a 2-D grid from one corner.

A multidimensional recurrent network (Graves, Fernández & Schmidhuber 2007)
replaces the single time axis of an RNN by several axes. In two dimensions the
hidden state at grid cell $(i, j)$ is computed from the input there and from the
states of the cell above, $(i-1, j)$, and the cell to the left, $(i, j-1)$, each
through its own recurrent weights; cells outside the grid have state 0. Scanning
from the top-left corner, $h_{i,j}$ therefore summarises exactly the rectangle of
inputs $\{(i', j') : i' \le i,\ j' \le j\}$ (tested with the Jacobian); running four
such networks from the four corners and combining them gives every cell the whole
grid as context (the paper's *multidirectional* MDRNN).

Plain tanh units:

$$
h_{i,j} = \tanh\big(W x_{i,j} + U^{\uparrow} h_{i-1,j} + U^{\leftarrow} h_{i,j-1} + b\big)
$$

Multidimensional LSTM (``cell="lstm"``): one forget gate per axis, so the cell can
keep or drop what arrives from above and from the left separately:

$$
\begin{aligned}
a^k_{i,j} &= W_k x_{i,j} + U^{\uparrow}_k h_{i-1,j} + U^{\leftarrow}_k h_{i,j-1} + b_k,
  \quad k \in \{\iota, \phi^{\uparrow}, \phi^{\leftarrow}, g, o\} \\
c_{i,j} &= \sigma(a^{\iota}) \odot \tanh(a^{g}) + \sigma(a^{\phi^{\uparrow}}) \odot c_{i-1,j}
          + \sigma(a^{\phi^{\leftarrow}}) \odot c_{i,j-1} \\
h_{i,j} &= \sigma(a^{o}) \odot \tanh(c_{i,j})
\end{aligned}
$$

Two paths compute the same function (tested equal): ``forward(x, fast=False)``
loops over the cells row by row, mirroring the equations; ``fast=True`` computes
each anti-diagonal $i + j = d$ at once (its cells depend only on the previous
anti-diagonal), R + C - 1 steps instead of R C.

| symbol                                  | parameter     | shape    |
|-----------------------------------------|---------------|----------|
| $W$ (gates stacked for the LSTM)        | `weight_ih`   | (G H, I) |
| $U^{\uparrow}$                          | `weight_up`   | (G H, H) |
| $U^{\leftarrow}$                        | `weight_left` | (G H, H) |
| $b$                                     | `bias`        | (G H,)   |

G = 1 for tanh units and 5 for the LSTM (order $\iota, \phi^{\uparrow},
\phi^{\leftarrow}, g, o$). Grids are channels-last: x (B, R, C, I) -> h (B, R, C, H)
with R rows and C columns. ``corner`` picks where the scan starts
("top-left" default, "top-right", "bottom-left", "bottom-right"; done by flipping
the grid before and after).

References: Alex Graves, Santiago Fernández and Jürgen Schmidhuber (2007),
"Multi-Dimensional Recurrent Neural Networks", ICANN 2007, arXiv:0705.2011; Alex
Graves and Jürgen Schmidhuber (2009), "Offline Handwriting Recognition with
Multidimensional Recurrent Neural Networks", NIPS 22, pp. 545–552.

Term: https://w3id.org/rnnref/term/multidimensional-rnn
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/multidimensional-rnn"

CELLS = {"tanh": 1, "lstm": 5}
CORNERS = {"top-left": (), "top-right": (2,), "bottom-left": (1,), "bottom-right": (1, 2)}


class MDRNN(nn.Module):
    r"""2-D RNN or MD-LSTM scanning from one corner: $h_{i,j} = \tanh(W x_{i,j} + U^{\uparrow} h_{i-1,j} + U^{\leftarrow} h_{i,j-1} + b)$.

    Args:
        input_size: I, features per cell.
        hidden_size: H.
        cell: "tanh" or "lstm" (multidimensional LSTM).
        corner: where the scan starts (see the module docstring).
        device, dtype: of the parameters.

    ``forward(x, fast=False)``: x (B, R, C, I) -> h (B, R, C, H).

    Example::

        >>> md = MDRNN(3, 8, cell="lstm")
        >>> md(torch.randn(2, 4, 5, 3)).shape
        torch.Size([2, 4, 5, 8])

    Paper: Graves, Fernández & Schmidhuber (2007), arXiv:0705.2011. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        cell: str = "tanh",
        corner: str = "top-left",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {cell!r}")
        if corner not in CORNERS:
            raise ValueError(f"corner must be one of {tuple(CORNERS)}, got {corner!r}")
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.cell, self.corner = cell, corner
        factory = {"device": device, "dtype": dtype}
        G, H = CELLS[cell], hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G * H, input_size, **factory))  # W
        self.weight_up = nn.Parameter(torch.empty(G * H, H, **factory))  # U^up
        self.weight_left = nn.Parameter(torch.empty(G * H, H, **factory))  # U^left
        self.bias = nn.Parameter(torch.empty(G * H, **factory))  # b
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def cell_step(self, x: Tensor, up: tuple[Tensor, Tensor], left: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """One cell (or a batch of cells): x (..., I), up/left = (h, c) of the neighbours -> (h, c).

        For tanh units c is unused and returned as h.
        """
        (h_up, c_up), (h_left, c_left) = up, left
        a = F.linear(x, self.weight_ih, self.bias) + F.linear(h_up, self.weight_up) + F.linear(h_left, self.weight_left)
        if self.cell == "tanh":
            # $$h_{i,j} = \tanh(W x_{i,j} + U^{\uparrow} h_{i-1,j} + U^{\leftarrow} h_{i,j-1} + b)$$
            h = torch.tanh(a)
            return h, h
        a_in, a_up, a_left, a_g, a_out = a.chunk(5, dim=-1)
        # $$c_{i,j} = \sigma(a^\iota) \tanh(a^g) + \sigma(a^{\phi\uparrow}) c_{i-1,j} + \sigma(a^{\phi\leftarrow}) c_{i,j-1}$$
        c = torch.sigmoid(a_in) * torch.tanh(a_g) + torch.sigmoid(a_up) * c_up + torch.sigmoid(a_left) * c_left
        # $$h_{i,j} = \sigma(a^o) \tanh(c_{i,j})$$
        return torch.sigmoid(a_out) * torch.tanh(c), c

    def _check(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 4 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"MDRNN expects a grid of shape (B, R, C, {self.input_size}), got {shape}")
        if x.size(1) == 0 or x.size(2) == 0:
            raise ValueError(f"MDRNN expects a non-empty grid, got shape {tuple(x.shape)}")
        if x.dtype != self.bias.dtype:
            raise ValueError(f"MDRNN input dtype {x.dtype} does not match the parameters' dtype {self.bias.dtype}")

    def forward(self, x: Tensor, *, fast: bool = False) -> Tensor:
        self._check(x)
        flips = CORNERS[self.corner]
        if flips:
            x = x.flip(flips)
        h = self._wavefront(x) if fast else self._cell_by_cell(x)
        return h.flip(flips) if flips else h

    def _cell_by_cell(self, x: Tensor) -> Tensor:
        """The readable path: cells in row-major order, each reading its upper and left neighbour."""
        B, R, C, _ = x.shape
        zero = x.new_zeros(B, self.hidden_size)
        h = [[None] * C for _ in range(R)]
        c = [[None] * C for _ in range(R)]
        for i in range(R):
            for j in range(C):
                up = (h[i - 1][j], c[i - 1][j]) if i > 0 else (zero, zero)
                left = (h[i][j - 1], c[i][j - 1]) if j > 0 else (zero, zero)
                h[i][j], c[i][j] = self.cell_step(x[:, i, j], up, left)
        return torch.stack([torch.stack(row, 1) for row in h], 1)

    def _wavefront(self, x: Tensor) -> Tensor:
        """The fast path: all cells of anti-diagonal d = i + j at once, from anti-diagonal d - 1."""
        B, R, C, _ = x.shape
        H = self.hidden_size
        # previous anti-diagonal's (h, c), laid out by row with one zero row in front:
        # index i + 1 holds row i, zero where row i is not on that anti-diagonal.
        prev_h = prev_c = x.new_zeros(B, R + 1, H)
        diagonals = []
        for d in range(R + C - 1):
            lo, hi = max(0, d - C + 1), min(d, R - 1)  # rows on this anti-diagonal
            rows = torch.arange(lo, hi + 1, device=x.device)
            x_d = x[:, rows, d - rows]  # (B, n, I)
            up = (prev_h[:, lo : hi + 1], prev_c[:, lo : hi + 1])  # rows i - 1
            left = (prev_h[:, lo + 1 : hi + 2], prev_c[:, lo + 1 : hi + 2])  # rows i (column j - 1)
            h_d, c_d = self.cell_step(x_d, up, left)
            diagonals.append((lo, h_d))
            pad_front, pad_back = x.new_zeros(B, lo + 1, H), x.new_zeros(B, R - hi - 1, H)
            prev_h = torch.cat([pad_front, h_d, pad_back], 1)
            prev_c = torch.cat([pad_front, c_d, pad_back], 1)
        rows = [[diagonals[i + j][1][:, i - diagonals[i + j][0]] for j in range(C)] for i in range(R)]
        return torch.stack([torch.stack(row, 1) for row in rows], 1)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, cell={self.cell!r}, corner={self.corner!r}"


def diagonal_copy_batch(generator: torch.Generator, batch_size: int, rows: int = 6, cols: int = 6, offset: int = 2):
    """Random bit grids x (B, R, C, 1) and targets (B, R - k, C - k): at cell (i, j), i, j >= k, the bit at (i-k, j-k).

    k = ``offset``. The target is an input 2k steps away along the grid, so it must be
    carried through the recurrent states (it is outside any cell's own input).
    """
    check_size("offset", offset)
    if offset >= min(rows, cols):
        raise ValueError(f"offset ({offset}) must be smaller than the grid ({rows} x {cols})")
    x = torch.randint(0, 2, (batch_size, rows, cols, 1), generator=generator).float()
    return x, x[:, :-offset, :-offset, 0]
