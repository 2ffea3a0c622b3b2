r"""Layer normalisation, and an LSTM cell that uses it.

Layer normalisation rescales the summed inputs of a layer, for each example and
each time step on its own, to mean 0 and variance 1 over the layer's units, then
applies a learned gain $\gamma$ and bias $\beta$ per unit. Unlike batch
normalisation it needs no statistics over the batch, so it works the same in
training and inference and at batch size 1, and it applies to a recurrent network
step by step: the statistics of $W_h h_{t-1}$ are recomputed at every step, which
keeps the recurrent pre-activations at a stable scale however long the sequence.

Over the last $D$ dimensions (``normalized_shape``) of $x$, with $N$ elements:

$$
\begin{aligned}
\mu &= \frac1N \sum_{i=1}^N x_i, \qquad \sigma^2 = \frac1N \sum_{i=1}^N (x_i - \mu)^2 \\
\operatorname{LN}(x)_i &= \gamma_i \, \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_i
\end{aligned}
$$

Because $\mu$ and $\sigma$ move with the input, $\operatorname{LN}(W x)$ is
unchanged when $W$ is scaled by a positive factor or when the same row vector is
added to every row of $W$ (re-scaling and re-centering invariance, exact for
$\epsilon = 0$).

The layer-normalised LSTM of Ba et al. normalises the input and recurrent
contributions separately, and the cell state before its tanh (gate order
$i, f, g, o$ as in ``torch.nn.LSTM``):

$$
\begin{aligned}
(i_t, f_t, g_t, o_t) &= \operatorname{LN}_{hh}(W_{hh} h_{t-1}) + \operatorname{LN}_{ih}(W_{ih} x_t) + b \\
c_t &= \sigma(f_t) \odot c_{t-1} + \sigma(i_t) \odot \tanh(g_t) \\
h_t &= \sigma(o_t) \odot \tanh(\operatorname{LN}_c(c_t))
\end{aligned}
$$

| symbol          | parameter                        | shape    |
|-----------------|----------------------------------|----------|
| $\gamma, \beta$ | `LayerNorm.weight`, `.bias`      | normalized_shape |
| $W_{ih}$        | `LayerNormLSTMCell.weight_ih`    | (4H, I)  |
| $W_{hh}$        | `LayerNormLSTMCell.weight_hh`    | (4H, H)  |
| $b$             | `LayerNormLSTMCell.bias`         | (4H,)    |
| LN gains/biases | `ln_ih`, `ln_hh` (4H), `ln_c` (H) |         |

Reference: Jimmy Lei Ba, Jamie Ryan Kiros, Geoffrey E. Hinton (2016), "Layer
Normalization", arXiv:1607.06450.

Term: https://w3id.org/rnnref/term/layer-normalization
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import RecurrentCell, check_size

TERM_IRI = "https://w3id.org/rnnref/term/layer-normalization"


def _shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape or not all(isinstance(n, numbers.Integral) and n >= 1 for n in shape):
        raise ValueError(f"normalized_shape must be one or more positive ints, got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""$\gamma \odot (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$ over the last ``len(normalized_shape)`` dims.

    Same contract as ``torch.nn.functional.layer_norm``.
    """
    shape = _shape(normalized_shape)
    if tuple(x.shape[x.dim() - len(shape) :]) != shape:
        raise ValueError(f"the last dimensions of x must be {shape}, got x of shape {tuple(x.shape)}")
    dims = tuple(range(-len(shape), 0))
    # $$\mu = \frac1N \sum_i x_i$$
    mu = x.mean(dim=dims, keepdim=True)
    # $$\sigma^2 = \frac1N \sum_i (x_i - \mu)^2$$
    var = ((x - mu) ** 2).mean(dim=dims, keepdim=True)
    # $$\hat x_i = (x_i - \mu) / \sqrt{\sigma^2 + \epsilon}$$
    x_hat = (x - mu) / torch.sqrt(var + eps)
    # $$\operatorname{LN}(x)_i = \gamma_i \hat x_i + \beta_i$$
    if weight is not None:
        x_hat = x_hat * weight
    if bias is not None:
        x_hat = x_hat + bias
    return x_hat


class LayerNorm(nn.Module):
    r"""Layer normalisation with a learned per-element gain and bias, as ``torch.nn.LayerNorm``.

    $$\operatorname{LN}(x)_i = \gamma_i \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_i$$

    Args:
        normalized_shape: the trailing shape normalised over (an int for one dim).
        eps: $\epsilon > 0$.
        elementwise_affine: learn $\gamma$ (init 1) and $\beta$ (init 0).
        bias: learn $\beta$ (only with ``elementwise_affine``).
        device, dtype: where and in which dtype to create the parameters.

    Example::

        >>> ln = LayerNorm(4)
        >>> y = ln(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
        >>> round(y.mean().item(), 6), round(y.var(unbiased=False).item(), 3)
        (0.0, 1.0)
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.eps = float(eps)
        self.elementwise_affine = elementwise_affine
        factory = {"device": device, "dtype": dtype}
        gamma = nn.Parameter(torch.ones(self.normalized_shape, **factory)) if elementwise_affine else None
        beta = nn.Parameter(torch.zeros(self.normalized_shape, **factory)) if elementwise_affine and bias else None
        self.register_parameter("weight", gamma)  # gamma, init 1
        self.register_parameter("bias", beta)  # beta, init 0

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LayerNormLSTMCell(RecurrentCell):
    r"""An LSTM cell with layer normalisation (Ba et al. 2016), one time step at a time.

    $$(i, f, g, o) = \operatorname{LN}_{hh}(W_{hh} h_{t-1}) + \operatorname{LN}_{ih}(W_{ih} x_t) + b$$
    $$c_t = \sigma(f) \odot c_{t-1} + \sigma(i) \odot \tanh(g), \qquad h_t = \sigma(o) \odot \tanh(\operatorname{LN}_c(c_t))$$

    Follows the cell protocol of `rnnref.models._recurrent`, so `Stacked`,
    `Bidirectional` and `run_direction` run it. The statistics of each LN are
    over all 4H gate pre-activations together (``ln_ih``, ``ln_hh``) and over the
    H cell units (``ln_c``).

    Args:
        input_size: I.
        hidden_size: H.
        eps: $\epsilon$ of the three layer norms.
        device, dtype: where and in which dtype to create the parameters.

    Step: ``step(x_t, (h, c)) -> (h_t, (h_t, c_t))``, x_t (B, I), h and c (B, H).
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        eps: float = 1e-5,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.output_size = hidden_size
        factory = {"device": device, "dtype": dtype}
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size, **factory))  # W_ih
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H, **factory))  # W_hh
        self.bias = nn.Parameter(torch.empty(4 * H, **factory))  # b
        # The LNs' own beta would duplicate b for the gates, so only ln_c has one.
        self.ln_ih = LayerNorm(4 * H, eps, bias=False, **factory)
        self.ln_hh = LayerNorm(4 * H, eps, bias=False, **factory)
        self.ln_c = LayerNorm(H, eps, **factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights $\\mathcal{U}(-1/\\sqrt{H}, 1/\\sqrt{H})$, gate bias 0 but forget bias 1; gains 1, LN biases 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.uniform_(self.weight_hh, -bound, bound)
        with torch.no_grad():
            self.bias.zero_()
            self.bias[self.hidden_size : 2 * self.hidden_size] = 1.0  # f: start by remembering
        for ln in (self.ln_ih, self.ln_hh, self.ln_c):
            nn.init.ones_(ln.weight)
            if ln.bias is not None:
                nn.init.zeros_(ln.bias)

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> tuple[Tensor, Tensor]:
        """$(h_0, c_0) = (0, 0)$, each (B, H)."""
        return (
            self._zeros(batch_size, self.hidden_size, dtype, device),
            self._zeros(batch_size, self.hidden_size, dtype, device),
        )

    def step(self, x_t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        h, c = state
        # $$(i, f, g, o) = \operatorname{LN}_{hh}(W_{hh} h_{t-1}) + \operatorname{LN}_{ih}(W_{ih} x_t) + b$$
        gates = self.ln_hh(h @ self.weight_hh.T) + self.ln_ih(x_t @ self.weight_ih.T) + self.bias
        i, f, g, o = gates.chunk(4, dim=1)
        # $$c_t = \sigma(f) \odot c_{t-1} + \sigma(i) \odot \tanh(g)$$
        c_t = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        # $$h_t = \sigma(o) \odot \tanh(\operatorname{LN}_c(c_t))$$
        h_t = torch.sigmoid(o) * torch.tanh(self.ln_c(c_t))
        return h_t, (h_t, c_t)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"
