r"""Fully recurrent network: every unit reads every unit, some units are the outputs.

A fully recurrent neural network (FRNN) is one pool of $N$ units in which the
output of every unit is an input to every unit, itself included, and every unit
also reads the external input lines. No layers are drawn in advance: an Elman
network, a Jordan network or a layered network with a delayed readout are all
fully recurrent networks in which some connection weights are zero, which is why
the FRNN is called the most general topology. A few units are *designated* as the
network's outputs; the others are hidden. This is the network of Williams and
Zipser's real-time recurrent learning, written here in discrete time:

$$
\begin{aligned}
s_t &= W x_t + U y_{t-1} + b \\
y_t &= \phi(s_t) \\
o_t &= (y_t)_{k \in \mathcal{O}}
\end{aligned}
$$

with $y_0 = 0$ unless given, $\phi$ either $\tanh$ or a logistic sigmoid, and
$\mathcal{O}$ the indices of the output units (by default the first $O$ units).
An optional ``mask`` (N, N) of zeros and ones multiplies $U$ elementwise, so a
restricted topology can be expressed inside the same network.

| symbol | parameter   | shape  | meaning                                   |
|--------|-------------|--------|-------------------------------------------|
| $W$    | `weight_in` | (N, I) | external input lines -> every unit        |
| $U$    | `weight`    | (N, N) | every unit -> every unit (row: receiving) |
| $b$    | `bias`      | (N,)   | bias of every unit                        |

Shape letters: B batch, T length, I input lines, N units, O output units.
Sequences are batch-first, (B, T, I).

`FullyRecurrentNetwork.step` is the readable path, one step as written above;
`forward` is the fast path, which computes $W x_t + b$ for all steps in one matrix
product before the loop (the two are tested equal). The network also implements
the cell protocol of `rnnref.models._recurrent` (its state is $y_t$, its output
at a step the output units $o_t$).

Reference: the seed article describes the FRNN without a single founding paper;
the discrete-time form above is the one used by Williams and Zipser for real-time
recurrent learning (Neural Computation, 1989).

Term: https://w3id.org/rnnref/term/fully-recurrent-network
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/fully-recurrent-network"

_ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}


class FullyRecurrentNetwork(nn.Module):
    r"""N fully interconnected units reading I input lines; O of them are the outputs.

    $$y_t = \phi(W x_t + U y_{t-1} + b), \qquad o_t = (y_t)_{k \in \mathcal{O}}$$

    Args:
        input_size: I, external input lines.
        num_units: N, units in the pool (outputs and hidden units together).
        output_units: O as an int (the first O units are the outputs) or a sequence
            of distinct unit indices.
        activation: $\phi$, ``"tanh"`` (default) or ``"sigmoid"``.
        bias: if False, $b$ is left out.
        mask: optional (N, N) tensor of 0/1: $U$ is used as ``mask * U``, so a
            zero entry removes a connection (row = receiving unit).
        device, dtype: where and in which dtype to create the parameters.

    Inputs: ``x, y0``
        x: (B, T, I), batch-first.
        y0: (B, N) initial unit activations; zeros if None.

    Outputs: ``o, y``
        o: (B, T, O), the output units at every step.
        y: (B, T, N), all units at every step ($y_T$ is ``y[:, -1]``).

    Parameters are initialised from $\mathcal{U}(-1/\sqrt{N}, 1/\sqrt{N})$.

    Example::

        >>> net = FullyRecurrentNetwork(2, 6, output_units=1)
        >>> o, y = net(torch.randn(4, 5, 2))
        >>> o.shape, y.shape
        (torch.Size([4, 5, 1]), torch.Size([4, 5, 6]))
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        num_units: int,
        output_units: int | Sequence[int] = 1,
        *,
        activation: str = "tanh",
        bias: bool = True,
        mask: Tensor | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.num_units = check_size("num_units", num_units)
        if isinstance(output_units, int) and not isinstance(output_units, bool):
            if not 1 <= output_units <= num_units:
                raise ValueError(f"output_units must be between 1 and num_units={num_units}, got {output_units}")
            indices = list(range(output_units))
        else:
            indices = [int(k) for k in output_units]
            if not indices or len(set(indices)) != len(indices) or not all(0 <= k < num_units for k in indices):
                raise ValueError(f"output_units must be distinct unit indices in [0, {num_units}), got {output_units!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be 'tanh' or 'sigmoid', got {activation!r}")
        self.activation = activation
        self.output_size = len(indices)
        self.hidden_size = num_units  # the cell protocol's H: the state is all N units
        factory = {"device": device, "dtype": dtype}
        self.register_buffer("output_index", torch.tensor(indices, dtype=torch.long, device=device), persistent=False)
        self.weight_in = nn.Parameter(torch.empty(num_units, input_size, **factory))  # W
        self.weight = nn.Parameter(torch.empty(num_units, num_units, **factory))  # U
        if check_flag("bias", bias):
            self.bias = nn.Parameter(torch.empty(num_units, **factory))  # b
        else:
            self.register_parameter("bias", None)
        if mask is not None:
            if not isinstance(mask, Tensor) or mask.shape != (num_units, num_units):
                raise ValueError(f"mask must be a tensor of shape ({num_units}, {num_units})")
            if not bool(((mask == 0) | (mask == 1)).all()):
                raise ValueError("mask must contain only 0 and 1")
            self.register_buffer("mask", mask.to(**factory))
        else:
            self.register_buffer("mask", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.num_units)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def recurrent_weight(self) -> Tensor:
        """$U$ with the mask applied, (N, N)."""
        return self.weight if self.mask is None else self.weight * self.mask

    # -- cell protocol (readable path) ---------------------------------------------

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$y_0 = 0$, (B, N)."""
        return torch.zeros(
            batch_size,
            self.num_units,
            dtype=self.weight.dtype if dtype is None else dtype,
            device=self.weight.device if device is None else device,
        )

    def step(self, x_t: Tensor, y_prev: Tensor) -> tuple[Tensor, Tensor]:
        """One step: x_t (B, I), y_prev (B, N) -> (o_t (B, O), y_t (B, N))."""
        phi = _ACTIVATIONS[self.activation]
        # $$s_t = W x_t + U y_{t-1} + b$$
        s_t = F.linear(x_t, self.weight_in, self.bias) + F.linear(y_prev, self.recurrent_weight())
        # $$y_t = \phi(s_t)$$
        y_t = phi(s_t)
        # $$o_t = (y_t)_{k \in \mathcal{O}}$$
        o_t = y_t.index_select(1, self.output_index)
        return o_t, y_t

    # -- sequence (fast path) ------------------------------------------------------

    def _check(self, x: Tensor, y0: Tensor | None) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        B, T, _ = x.shape
        if T == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if y0 is None:
            return self.init_state(B, dtype=x.dtype, device=x.device)
        if y0.shape != (B, self.num_units):
            raise ValueError(f"expected y0 of shape ({B}, {self.num_units}), got {tuple(y0.shape)}")
        return y0

    def forward(self, x: Tensor, y0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        y_prev = self._check(x, y0)
        phi = _ACTIVATIONS[self.activation]
        U = self.recurrent_weight()
        drive = F.linear(x, self.weight_in, self.bias)  # (B, T, N): W x_t + b for every t at once
        states = []
        for t in range(x.size(1)):
            y_prev = phi(drive[:, t] + y_prev @ U.T)
            states.append(y_prev)
        y = torch.stack(states, dim=1)
        return y.index_select(2, self.output_index), y

    def forward_stepwise(self, x: Tensor, y0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The readable path over a sequence: `step` at every t (same result as `forward`)."""
        y_prev = self._check(x, y0)
        outputs, states = [], []
        for t in range(x.size(1)):
            o_t, y_prev = self.step(x[:, t], y_prev)
            outputs.append(o_t)
            states.append(y_prev)
        return torch.stack(outputs, dim=1), torch.stack(states, dim=1)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.num_units}, output_units={self.output_index.tolist()}, "
            f"activation={self.activation!r}, bias={self.bias is not None}, masked={self.mask is not None}"
        )
