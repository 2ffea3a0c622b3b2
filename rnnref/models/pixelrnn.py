r"""PixelRNN: an autoregressive image model built from two-dimensional LSTM layers.

PixelRNN models the distribution of an image as a product of conditionals, one per
pixel in raster order (row by row, left to right in each row), each a softmax over
the 256 possible intensities:

$$
p(\mathbf{x}) = \prod_{i=1}^{R W} p(x_i \mid x_1, \dots, x_{i-1})
$$

A single network computes all the conditionals at once, in parallel over the
pixels, because every layer is *causal*: its output at a pixel depends only on
pixels before it. The first layer is a $7 \times 7$ convolution with mask A (it
does not see the current pixel); then come L recurrent layers, either Row LSTM
(`rnnref.models.row_lstm`) or Diagonal BiLSTM (`rnnref.models.diagonal_bilstm`),
each with a residual connection; then two $1 \times 1$ convolutions with ReLU
and the 256-way output:

$$
\begin{aligned}
z^{(0)} &= \operatorname{conv}^{A}_{7 \times 7}(x / 255) && (2H \text{ channels}) \\
z^{(l)} &= z^{(l-1)} + \operatorname{conv}_{1 \times 1}\big(\mathrm{LSTM}^{(l)}(z^{(l-1)})\big), \quad l = 1 \dots L \\
\text{logits} &= \operatorname{conv}_{1 \times 1}\big(\mathrm{ReLU}(\operatorname{conv}_{1 \times 1}(\mathrm{ReLU}(z^{(L)})))\big) \\
p(x_{i,c} = v \mid x_{<i}) &= \operatorname{softmax}_v(\text{logits}_{c, v, i}), \quad v = 0 \dots 255
\end{aligned}
$$

Trained by maximum likelihood: the loss is the mean cross-entropy over all pixels
and channels (reported in bits per dimension, nats / ln 2).

Simplification: the paper further splits each pixel's colour channels so that G
is conditioned on R and B on R and G (masked channel groups); here the channels
of one pixel are predicted independently given the earlier pixels. For one
channel (greyscale) this is the paper's model exactly.

| symbol                   | parameter         | shape                               |
|--------------------------|-------------------|-------------------------------------|
| $\operatorname{conv}^A_{7\times7}$ | `input_conv` | MaskedConv2d(C, 2H, 7, mask A)  |
| $\mathrm{LSTM}^{(l)}$    | `layers[l]`       | RowLSTM(2H, H) or DiagonalBiLSTM(2H, H) |
| residual $1 \times 1$    | `residuals[l]`    | Conv2d(H, 2H, 1)                    |
| output $1 \times 1$ convs| `output_convs`    | Conv2d(2H, 2H, 1), Conv2d(2H, 256 C, 1) |

Images are (B, C, R, W) integer intensities in [0, 255]; logits are
(B, 256, C, R, W), the layout `torch.nn.functional.cross_entropy` takes.

Reference: Aäron van den Oord, Nal Kalchbrenner, Koray Kavukcuoglu (2016), "Pixel
Recurrent Neural Networks", Proceedings of the 33rd International Conference on
Machine Learning, PMLR: 1747–1756, arXiv:1601.06759.

Term: https://w3id.org/rnnref/term/pixelrnn
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size
from rnnref.models.diagonal_bilstm import DiagonalBiLSTM
from rnnref.models.row_lstm import MaskedConv2d, RowLSTM, check_image

TERM_IRI = "https://w3id.org/rnnref/term/pixelrnn"

_LAYERS = {"row": RowLSTM, "diagonal": DiagonalBiLSTM}
LEVELS = 256


class PixelRNN(nn.Module):
    r"""PixelRNN with Row LSTM or Diagonal BiLSTM layers and a 256-way softmax per pixel and channel.

    Args:
        channels: C, colour channels of the images.
        hidden_size: H, channels of each LSTM state (the residual stream has 2H).
        num_layers: L, recurrent layers.
        layer: ``"row"`` (Row LSTM) or ``"diagonal"`` (Diagonal BiLSTM).
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): images (B, C, R, W), integer intensities 0..255.
    Outputs (`forward`): logits (B, 256, C, R, W). `logits_from_values` takes
    real values x / 255 instead (for gradient checks and Jacobians).

    Example::

        >>> model = PixelRNN(1, 8, layer="diagonal")
        >>> images = torch.randint(0, 256, (2, 1, 5, 5))
        >>> model(images).shape
        torch.Size([2, 256, 1, 5, 5])
        >>> model.loss(images).item() > 0
        True

    Paper: van den Oord et al. (2016), arXiv:1601.06759. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        channels: int = 1,
        hidden_size: int = 16,
        num_layers: int = 1,
        layer: str = "row",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.channels = check_size("channels", channels)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        if layer not in _LAYERS:
            raise ValueError(f"layer must be one of {sorted(_LAYERS)}, got {layer!r}")
        self.layer = layer
        factory = {"device": device, "dtype": dtype}
        H = hidden_size
        self.input_conv = MaskedConv2d(channels, 2 * H, 7, mask="A", **factory)
        self.layers = nn.ModuleList(_LAYERS[layer](2 * H, H, **factory) for _ in range(num_layers))
        self.residuals = nn.ModuleList(nn.Conv2d(H, 2 * H, 1, **factory) for _ in range(num_layers))
        self.output_convs = nn.Sequential(
            nn.ReLU(), nn.Conv2d(2 * H, 2 * H, 1, **factory), nn.ReLU(), nn.Conv2d(2 * H, LEVELS * channels, 1, **factory)
        )

    def logits_from_values(self, x: Tensor) -> Tensor:
        """Logits (B, 256, C, R, W) from real-valued images x (B, C, R, W), usually intensities / 255."""
        x = check_image("PixelRNN", x, self.channels, self.input_conv.weight.dtype)
        # $$z^{(0)} = \operatorname{conv}^A_{7 \times 7}(x)$$
        z = self.input_conv(x)
        for layer, residual in zip(self.layers, self.residuals, strict=True):
            # $$z^{(l)} = z^{(l-1)} + \operatorname{conv}_{1 \times 1}(\mathrm{LSTM}^{(l)}(z^{(l-1)}))$$
            z = z + residual(layer(z))
        logits = self.output_convs(z)  # (B, 256 C, R, W), channel-major: c * 256 + v
        B, _, R, W = logits.shape
        return logits.reshape(B, self.channels, LEVELS, R, W).transpose(1, 2)

    def _check_images(self, images: Tensor) -> None:
        if not isinstance(images, Tensor) or images.dim() != 4 or images.dtype != torch.long:
            shape = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(f"PixelRNN expects images as a (B, C, R, W) long tensor of intensities, got {shape}")
        if images.numel() and (images.min() < 0 or images.max() >= LEVELS):
            raise ValueError(f"intensities must be in [0, 255], got [{images.min()}, {images.max()}]")

    def forward(self, images: Tensor) -> Tensor:
        self._check_images(images)
        return self.logits_from_values(images.to(self.input_conv.weight.dtype) / (LEVELS - 1))

    def loss(self, images: Tensor) -> Tensor:
        r"""Mean negative log-likelihood per sub-pixel in nats: $-\frac{1}{RWC} \sum \log p(x_{i,c} \mid x_{<i})$."""
        return F.cross_entropy(self(images), images)

    def bits_per_dim(self, images: Tensor) -> float:
        """The loss in bits per dimension (sub-pixel)."""
        with torch.no_grad():
            return self.loss(images).item() / math.log(2)

    @torch.no_grad()
    def sample(self, batch_size: int, rows: int, columns: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw images pixel by pixel in raster order (R W forward passes): -> (B, C, R, W) long."""
        weight = self.input_conv.weight
        images = torch.zeros(batch_size, self.channels, rows, columns, dtype=torch.long, device=weight.device)
        for i in range(rows):
            for j in range(columns):
                probabilities = torch.softmax(self(images)[:, :, :, i, j], dim=1)  # (B, 256, C)
                flat = probabilities.transpose(1, 2).reshape(-1, LEVELS)
                drawn = torch.multinomial(flat, 1, generator=generator).reshape(batch_size, self.channels)
                images[:, :, i, j] = drawn
        return images

    def extra_repr(self) -> str:
        return f"channels={self.channels}, hidden_size={self.hidden_size}, num_layers={self.num_layers}, layer={self.layer!r}"
