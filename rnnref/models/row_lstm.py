r"""Row LSTM: an LSTM layer that runs over an image row by row, a whole row at a time.

The Row LSTM is one of the two two-dimensional LSTM layers of PixelRNN
(`rnnref.models.pixelrnn`). It processes an image from the top row to the bottom
one; the state of a whole row is computed at once by one-dimensional
convolutions, so the recurrence has as many steps as the image has rows. The
state of row $i$ comes from the previous row's state through a convolution of
width $k_s$ (*state-to-state*) and from the current row of the input map through
a masked convolution of width $k$ (*input-to-state*), which sees only the pixels
left of and at the current one. Each pixel thus sees a roughly triangular region
above it, widening by $(k_s - 1)/2$ columns per row on each side.

With $x_i$ the row $i$ of the layer's input map (C channels), $h_{i-1}, c_{i-1}$
the previous row's state (H channels, zero above the first row), $\circledast$ a
one-dimensional convolution along the row and $K^{is}$ masked to the columns
$\le j$:

$$
\begin{aligned}
[o_i, f_i, \iota_i, g_i] &= [\sigma, \sigma, \sigma, \tanh](K^{ss} \circledast h_{i-1} + K^{is} \circledast x_i) \\
c_i &= f_i \odot c_{i-1} + \iota_i \odot g_i \\
h_i &= o_i \odot \tanh(c_i)
\end{aligned}
$$

(the paper writes the input gate as $i_i$; $\iota$ avoids the clash with the row
index). As in the paper, the input-to-state part is computed for the entire
input map first, then the recurrence runs over the rows. The output at pixel
$(i, j)$ depends on the input at $(i, j)$ and at pixels before it in raster order
only; with a first layer whose mask hides the current pixel (mask A, in
`rnnref.models.pixelrnn`) it depends on earlier pixels only.

| symbol   | parameter         | shape                 |
|----------|-------------------|-----------------------|
| $K^{is}$ | `input_to_state`  | MaskedConv2d(C, 4H, (1, k), mask B) |
| $K^{ss}$ | `state_to_state`  | Conv1d(H, 4H, k_s, padding (k_s - 1)/2) |

Gate order in the 4H channels: o, f, ι, g. Image shapes: (B, C, R, W), B batch,
C channels, R rows, W columns.

Reference: Aäron van den Oord, Nal Kalchbrenner, Koray Kavukcuoglu (2016), "Pixel
Recurrent Neural Networks", Proceedings of the 33rd International Conference on
Machine Learning, PMLR: 1747–1756, arXiv:1601.06759.

Term: https://w3id.org/rnnref/term/row-lstm
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/row-lstm"


class MaskedConv2d(nn.Conv2d):
    """A 2-D convolution that sees only pixels before the current one in raster order.

    Mask ``"A"`` hides the current pixel as well (for the first layer, which reads
    the image itself); mask ``"B"`` lets it through (for later layers, whose input
    at a pixel already depends only on earlier pixels). Kernel sizes must be odd;
    the output has the input's height and width ("same" padding). Colour channels
    are not split into groups (see `rnnref.models.pixelrnn`).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], mask: str, **kwargs
    ) -> None:
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {(kh, kw)}")
        if mask not in ("A", "B"):
            raise ValueError(f"mask must be 'A' or 'B', got {mask!r}")
        super().__init__(in_channels, out_channels, (kh, kw), padding=(kh // 2, kw // 2), **kwargs)
        self.mask_type = mask
        keep = torch.zeros(kh, kw, dtype=self.weight.dtype, device=self.weight.device)
        keep[: kh // 2] = 1  # rows above the centre
        keep[kh // 2, : kw // 2 + (mask == "B")] = 1  # left of the centre (and the centre for B)
        self.register_buffer("mask", keep)

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", mask={self.mask_type!r}"


def check_image(name: str, x: object, channels: int, dtype: torch.dtype) -> Tensor:
    """A (B, C, R, W) feature map with ``channels`` channels and the parameters' dtype."""
    if not isinstance(x, Tensor) or x.dim() != 4 or x.size(1) != channels:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} expects a (B, {channels}, rows, columns) map, got {shape}")
    if x.size(2) == 0 or x.size(3) == 0:
        raise ValueError(f"{name} expects at least one row and one column, got {tuple(x.shape)}")
    if x.dtype != dtype:
        raise ValueError(f"{name} input dtype {x.dtype} does not match the parameters' dtype {dtype}")
    return x


class RowLSTM(nn.Module):
    r"""Row LSTM layer: (B, C, R, W) input map -> (B, H, R, W) hidden map.

    $$[o_i, f_i, \iota_i, g_i] = [\sigma, \sigma, \sigma, \tanh](K^{ss} \circledast h_{i-1} + K^{is} \circledast x_i),
    \quad c_i = f_i \odot c_{i-1} + \iota_i \odot g_i, \quad h_i = o_i \odot \tanh(c_i)$$

    Args:
        input_size: C, channels of the input map.
        hidden_size: H, channels of the state.
        kernel_size: k, width of the input-to-state convolution (odd, >= 3).
        state_kernel_size: k_s, width of the state-to-state convolution (odd).
        device, dtype: where and in which dtype to create the parameters.

    Example::

        >>> layer = RowLSTM(4, 8)
        >>> layer(torch.randn(2, 4, 5, 6)).shape
        torch.Size([2, 8, 5, 6])

    Paper: van den Oord et al. (2016), arXiv:1601.06759. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        kernel_size: int = 3,
        state_kernel_size: int = 3,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        check_size("kernel_size", kernel_size, minimum=3)
        check_size("state_kernel_size", state_kernel_size)
        if state_kernel_size % 2 == 0:
            raise ValueError(f"state_kernel_size must be odd, got {state_kernel_size}")
        factory = {"device": device, "dtype": dtype}
        H = hidden_size
        self.input_to_state = MaskedConv2d(input_size, 4 * H, (1, kernel_size), mask="B", **factory)  # K^is
        self.state_to_state = nn.Conv1d(H, 4 * H, state_kernel_size, padding=state_kernel_size // 2, **factory)  # K^ss

    def forward(self, x: Tensor) -> Tensor:
        x = check_image("RowLSTM", x, self.input_size, self.input_to_state.weight.dtype)
        B, _, R, W = x.shape
        H = self.hidden_size
        # $$K^{is} \circledast x_i$$ for every row at once: (B, 4H, R, W)
        input_part = self.input_to_state(x)
        h = x.new_zeros(B, H, W)  # h_0: nothing above the first row
        c = x.new_zeros(B, H, W)
        rows = []
        for i in range(R):
            gates = self.state_to_state(h) + input_part[:, :, i]
            o, f, iota, g = gates.chunk(4, dim=1)
            # $$c_i = f_i \odot c_{i-1} + \iota_i \odot g_i$$
            c = torch.sigmoid(f) * c + torch.sigmoid(iota) * torch.tanh(g)
            # $$h_i = o_i \odot \tanh(c_i)$$
            h = torch.sigmoid(o) * torch.tanh(c)
            rows.append(h)
        return torch.stack(rows, dim=2)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

