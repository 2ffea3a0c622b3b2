r"""Diagonal BiLSTM: an LSTM layer that sweeps an image along its diagonals, in two directions.

The Diagonal BiLSTM is the second two-dimensional LSTM layer of PixelRNN
(`rnnref.models.pixelrnn`). Where the Row LSTM sees a triangle above each pixel,
the Diagonal BiLSTM covers the whole context before the pixel. Each of its two
directions sweeps the image along diagonals, from the top-left corner (left to
right) or from the top-right corner (right to left). To make the sweep a simple
recurrence the input map is *skewed*: row $i$ is shifted right by $i$ positions,
so a diagonal of the image becomes a column of the skewed map (of width
$W + R - 1$). The recurrence then runs over the skewed columns: the state of a
pixel comes from the pixel above it and the pixel to its left, through a $2
\times 1$ convolution over the previous skewed column, and the result is
unskewed back.

With $x_j$ the skewed column $j$ of the input map and $\circledast$ a convolution
along the column whose output at row $i$ reads rows $i - 1$ and $i$ of the
previous column:

$$
\begin{aligned}
[o_j, f_j, \iota_j, g_j] &= [\sigma, \sigma, \sigma, \tanh](K^{ss} \circledast h_{j-1} + K^{is} \circledast x_j) \\
c_j &= f_j \odot c_{j-1} + \iota_j \odot g_j \\
h_j &= o_j \odot \tanh(c_j)
\end{aligned}
$$

with $K^{is}$ a $1 \times 1$ convolution (mask B: the current pixel's own
features, which a first layer with mask A has already made causal) and $K^{ss}$
the $2 \times 1$ state-to-state convolution. The right-to-left direction is the
same computation on the horizontally flipped map, flipped back. Its state at
$(i, j)$ has seen $(i, j + 1)$, which comes later in raster order, so its output
map is *shifted down by one row* (row 0 gets zeros) before the two directions
are added:

$$
h^{\text{out}}(i, j) = \overrightarrow{h}(i, j) + \overleftarrow{h}(i - 1, j)
$$

The output at $(i, j)$ then depends on the input at $(i, j)$ and at earlier
pixels only, and (through the two directions together) on all of them.

| symbol   | parameter (in `left_to_right` and `right_to_left`) | shape               |
|----------|----------------------------------------------------|---------------------|
| $K^{is}$ | `input_to_state`                                   | Conv2d(C, 4H, 1)    |
| $K^{ss}$ | `state_to_state`                                   | Conv1d(H, 4H, 2, padding 1), last output dropped |

Gate order in the 4H channels: o, f, ι, g. Image shapes: (B, C, R, W).

Reference: Aäron van den Oord, Nal Kalchbrenner, Koray Kavukcuoglu (2016), "Pixel
Recurrent Neural Networks", Proceedings of the 33rd International Conference on
Machine Learning, PMLR: 1747–1756, arXiv:1601.06759.

Term: https://w3id.org/rnnref/term/diagonal-bilstm
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size
from rnnref.models.row_lstm import check_image

TERM_IRI = "https://w3id.org/rnnref/term/diagonal-bilstm"


def skew(x: Tensor) -> Tensor:
    """Shift row i right by i: (B, C, R, W) -> (B, C, R, W + R - 1), zeros elsewhere."""
    B, C, R, W = x.shape
    rows = [F.pad(x[:, :, i], (i, R - 1 - i)) for i in range(R)]
    return torch.stack(rows, dim=2)


def unskew(x: Tensor, width: int) -> Tensor:
    """The inverse of `skew`: (B, C, R, W + R - 1) -> (B, C, R, W)."""
    R = x.size(2)
    return torch.stack([x[:, :, i, i : i + width] for i in range(R)], dim=2)


class DiagonalLSTM(nn.Module):
    """One direction (left to right) of the Diagonal BiLSTM: (B, C, R, W) -> (B, H, R, W)."""

    def __init__(self, input_size: int, hidden_size: int, **factory) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input_to_state = nn.Conv2d(input_size, 4 * hidden_size, 1, **factory)  # K^is
        self.state_to_state = nn.Conv1d(hidden_size, 4 * hidden_size, 2, padding=1, **factory)  # K^ss

    def forward(self, x: Tensor) -> Tensor:
        B, _, R, W = x.shape
        H = self.hidden_size
        # $$K^{is} \circledast x_j$$ for every skewed column at once: (B, 4H, R, W + R - 1)
        input_part = skew(self.input_to_state(x))
        h = x.new_zeros(B, H, R)
        c = x.new_zeros(B, H, R)
        columns = []
        for j in range(input_part.size(3)):
            # Output i of the padded 2-tap convolution reads rows i - 1 and i of h_{j-1}.
            gates = self.state_to_state(h)[:, :, :R] + input_part[:, :, :, j]
            o, f, iota, g = gates.chunk(4, dim=1)
            # $$c_j = f_j \odot c_{j-1} + \iota_j \odot g_j$$
            c = torch.sigmoid(f) * c + torch.sigmoid(iota) * torch.tanh(g)
            # $$h_j = o_j \odot \tanh(c_j)$$
            h = torch.sigmoid(o) * torch.tanh(c)
            columns.append(h)
        return unskew(torch.stack(columns, dim=3), W)


class DiagonalBiLSTM(nn.Module):
    r"""Diagonal BiLSTM layer: (B, C, R, W) input map -> (B, H, R, W) hidden map.

    $$h^{\text{out}}(i, j) = \overrightarrow{h}(i, j) + \overleftarrow{h}(i - 1, j)$$

    Args:
        input_size: C, channels of the input map.
        hidden_size: H, channels of the state (each direction).
        device, dtype: where and in which dtype to create the parameters.

    Example::

        >>> layer = DiagonalBiLSTM(4, 8)
        >>> layer(torch.randn(2, 4, 5, 6)).shape
        torch.Size([2, 8, 5, 6])

    Paper: van den Oord et al. (2016), arXiv:1601.06759. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        factory = {"device": device, "dtype": dtype}
        self.left_to_right = DiagonalLSTM(input_size, hidden_size, **factory)
        self.right_to_left = DiagonalLSTM(input_size, hidden_size, **factory)

    def forward(self, x: Tensor) -> Tensor:
        x = check_image("DiagonalBiLSTM", x, self.input_size, self.left_to_right.input_to_state.weight.dtype)
        forward = self.left_to_right(x)
        backward = self.right_to_left(x.flip(3)).flip(3)
        # $$\overleftarrow{h}(i - 1, j)$$: shift down one row, zeros in row 0
        backward = F.pad(backward, (0, 0, 1, 0))[:, :, :-1]
        return forward + backward

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"
