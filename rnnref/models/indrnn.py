r"""Independently recurrent neural network (IndRNN): each unit recurs only onto itself.

In an IndRNN (Li et al., 2018) the recurrent weight matrix of a layer is diagonal:
each unit reads the whole input at time t but only *its own* previous state,
through one scalar weight $u_i$:

$$
h_t = \phi(W x_t + u \odot h_{t-1} + b)
$$

Units of one layer are therefore independent of each other's history; information
crosses units in the next layer, which reads the whole layer below. Because the
gradient through time of unit $i$ is a product of $u_i \phi'(\cdot)$ factors,
constraining $|u_i|$ keeps it from vanishing or exploding, and non-saturating
nonlinearities (ReLU, the default) can be used; long and deep IndRNNs train well.

| symbol | parameter   | shape  |
|--------|-------------|--------|
| $W$    | `weight_ih` | (H, I) |
| $u$    | `weight_hh` | (H,)   |
| $b$    | `bias_ih`   | (H,)   |

In `IndRNN` the names carry the layer, ``weight_hh_l1``. An `IndRNNCell` is
``torch.nn.RNNCell`` with ``weight_hh = diag(u)`` and no second bias (tested).
Shape letters: B batch, T length, I input, H units, L layers; `IndRNN` sequences
are batch-first, (B, T, I).

`IndRNNCell.step` is the readable path. `IndRNN.forward` is the fast path: per
layer, $W x_t + b$ for all t in one matrix product, then an elementwise loop (the
recurrence has no matrix product left in it).

Initialisation: $W$ and $b$ from $\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$; $u$ from
$\mathcal{U}(0, 1)$ (so units start with memories of different lengths); both
choices can be overridden after construction. `clamp_recurrent_` bounds $|u|$ as
the paper does between updates (for a gradient kept in range over $T$ steps the
paper suggests a bound such as $\sqrt[T]{2}$ with ReLU).

Reference: Shuai Li, Wanqing Li, Chris Cook, Ce Zhu and Yanbo Gao (2018),
"Independently Recurrent Neural Network (IndRNN): Building a Longer and Deeper RNN",
arXiv:1803.04831.

Term: https://w3id.org/rnnref/term/indrnn
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import RecurrentCell, check_flag, check_size, run_layers

TERM_IRI = "https://w3id.org/rnnref/term/indrnn"

_NONLINEARITIES = {"relu": torch.relu, "tanh": torch.tanh}


class IndRNNCell(RecurrentCell):
    r"""One IndRNN layer, one step at a time: $h_t = \phi(W x_t + u \odot h_{t-1} + b)$.

    Args:
        input_size: I.
        hidden_size: H.
        bias: if False, $b$ is left out.
        nonlinearity: $\phi$, ``"relu"`` (default) or ``"tanh"``.
        device, dtype: of the parameters.

    Step: ``step(x_t, h) -> (h_t, h_t)``, x_t (B, I), h (B, H) (the cell protocol of
    `rnnref.models._recurrent`).
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "relu",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = self.output_size = check_size("hidden_size", hidden_size)
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'relu' or 'tanh', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **factory))  # W
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, **factory))  # u
        if check_flag("bias", bias):
            self.bias_ih = nn.Parameter(torch.empty(hidden_size, **factory))  # b
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.uniform_(self.weight_hh, 0.0, 1.0)
        if self.bias_ih is not None:
            nn.init.uniform_(self.bias_ih, -bound, bound)

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$h_0 = 0$, (B, H)."""
        return torch.zeros(
            batch_size,
            self.hidden_size,
            dtype=self.weight_ih.dtype if dtype is None else dtype,
            device=self.weight_ih.device if device is None else device,
        )

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        # $$h_t = \phi(W x_t + u \odot h_{t-1} + b)$$
        h_t = _NONLINEARITIES[self.nonlinearity](F.linear(x_t, self.weight_ih, self.bias_ih) + self.weight_hh * h)
        return h_t, h_t

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}, nonlinearity={self.nonlinearity!r}"


class IndRNN(nn.Module):
    r"""A stack of IndRNN layers; layer l > 0 reads the whole output of layer l - 1.

    Args:
        input_size: I.
        hidden_size: H, units per layer.
        num_layers: L.
        bias: if False, no $b$.
        nonlinearity: ``"relu"`` (default) or ``"tanh"``.
        device, dtype: of the parameters.

    Inputs: ``x, h0``: x (B, T, I); h0 (L, B, H), zeros if None.
    Outputs: ``y, h_n``: y (B, T, H), the last layer at every step; h_n (L, B, H).

    Parameters: ``weight_ih_l{l}``, ``weight_hh_l{l}`` (the vector u), ``bias_ih_l{l}``.

    Example::

        >>> net = IndRNN(3, 8, num_layers=2)
        >>> y, h_n = net(torch.randn(4, 10, 3))
        >>> y.shape, h_n.shape
        (torch.Size([4, 10, 8]), torch.Size([2, 4, 8]))
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        nonlinearity: str = "relu",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        self.bias = check_flag("bias", bias)
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'relu' or 'tanh', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        for l in range(num_layers):  # each layer's cell initialises its parameters; the network owns them
            cell = self._make_cell(l, device=device, dtype=dtype)
            for name, parameter in cell.named_parameters():
                self.register_parameter(f"{name}_l{l}", parameter)

    def _make_cell(self, layer: int, **factory) -> IndRNNCell:
        input_size = self.input_size if layer == 0 else self.hidden_size
        return IndRNNCell(input_size, self.hidden_size, self.bias, self.nonlinearity, **factory)

    def cell(self, layer: int) -> IndRNNCell:
        """The cell of one layer, a view computing with this network's parameters (not a copy)."""
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"no cell at layer={layer}; the network has {self.num_layers} layers")
        view = self._make_cell(layer, device="meta")
        return view._bind({name: getattr(self, f"{name}_l{layer}") for name, _ in view.named_parameters()})

    @torch.no_grad()
    def clamp_recurrent_(self, bound: float) -> None:
        """Clamp every $u_i$ into $[-\\text{bound}, \\text{bound}]$ (call after an optimiser step)."""
        if not isinstance(bound, numbers.Real) or isinstance(bound, bool) or bound < 0:
            raise ValueError(f"bound must be a non-negative number, got {bound!r}")
        for l in range(self.num_layers):
            getattr(self, f"weight_hh_l{l}").clamp_(-bound, bound)

    def _check(self, x: Tensor, h0: Tensor | None) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        if x.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        shape = (self.num_layers, x.size(0), self.hidden_size)
        if h0 is None:
            return x.new_zeros(shape)
        if h0.shape != shape:
            raise ValueError(f"expected h0 of shape {shape}, got {tuple(h0.shape)}")
        return h0

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h0 = self._check(x, h0)
        phi = _NONLINEARITIES[self.nonlinearity]
        layer_input, finals = x, []
        for l in range(self.num_layers):
            u = getattr(self, f"weight_hh_l{l}")
            # W x_t + b for every t at once: (B, T, H)
            drive = F.linear(layer_input, getattr(self, f"weight_ih_l{l}"), getattr(self, f"bias_ih_l{l}", None))
            h, outputs = h0[l], []
            for t in range(x.size(1)):
                h = phi(drive[:, t] + u * h)
                outputs.append(h)
            layer_input = torch.stack(outputs, dim=1)
            finals.append(h)
        return layer_input, torch.stack(finals)

    def forward_stepwise(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Readable path: the cells' `step` through the shared runner (same result as `forward`)."""
        h0 = self._check(x, h0)
        cells = [[self.cell(l)] for l in range(self.num_layers)]
        y, finals = run_layers(cells, x.transpose(0, 1), list(h0))
        return y.transpose(0, 1), torch.stack(finals)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
            f"nonlinearity={self.nonlinearity!r}"
        )
