r"""Recurrent multilayer perceptron (RMLP): a feedforward stack whose layers feed back onto themselves.

An RMLP is a multilayer perceptron in which a layer may also read its own output
from the previous time step. Signals go forward through the layers within a time
step (layer $l$ reads layer $l-1$ at the same t) and each recurrent layer keeps a
state of its own; no layer reads a layer above it. It was used for the
identification and control of dynamic systems, where the cascade of small
recurrent layers models a plant's internal state. For each layer $l = 1 \dots L$,
with $h^{0}_t = x_t$:

$$
\begin{aligned}
h^{l}_t &= \phi\big(W^{l} h^{l-1}_t + U^{l} h^{l}_{t-1} + b^{l}\big) \quad \text{(recurrent layer)} \\
h^{l}_t &= \phi\big(W^{l} h^{l-1}_t + b^{l}\big) \quad \text{(feedforward layer)} \\
y_t &= V h^{L}_t + c
\end{aligned}
$$

Which layers are recurrent is a constructor choice (all by default); the seed
article's version makes each cascaded subnetwork feedforward except its last
layer. The linear output layer is optional.

| symbol  | parameter       | shape              |
|---------|-----------------|--------------------|
| $W^l$   | `weight_l{l}`     | (H_l, H_{l-1})   |
| $U^l$   | `weight_rec_l{l}` | (H_l, H_l), recurrent layers only |
| $b^l$   | `bias_l{l}`       | (H_l,)           |
| $V$     | `weight_out`      | (O, H_L)         |
| $c$     | `bias_out`        | (O,)             |

(layers numbered from 0 in the names.) Shape letters: B batch, T length, I input,
H_l units of layer l, O outputs; sequences batch-first. With every layer recurrent
and of one width, the hidden layers are ``torch.nn.RNN(num_layers=L)`` with one
bias per layer (tested).

`step` is the readable path (one time step through all layers). `forward` is the
fast path: layer by layer, $W^l h^{l-1}_t + b^l$ for all t in one product, then the
recurrent loop.

Reference: Kurt Tutschku (1995), "Recurrent Multilayer Perceptrons for
Identification and Control: The Road to Applications", Institute of Computer
Science Research Report 118, University of Würzburg (cited by the seed article).

Term: https://w3id.org/rnnref/term/recurrent-multilayer-perceptron
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/recurrent-multilayer-perceptron"

_NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


class RecurrentMLP(nn.Module):
    r"""Stacked layers $h^l_t = \phi(W^l h^{l-1}_t + U^l h^l_{t-1} + b^l)$ and a linear output $y_t = V h^L_t + c$.

    Args:
        input_size: I.
        layer_sizes: (H_1, ..., H_L), the widths of the hidden layers.
        output_size: O of the linear output layer, or None for no output layer
            (then the output is $h^L_t$).
        recurrent: one bool for all layers or one per layer: which layers feed back.
        nonlinearity: $\phi$, ``"tanh"`` (default), ``"relu"`` or ``"sigmoid"``.
        bias: if False, no $b^l$ (the output bias $c$ too).
        device, dtype: of the parameters.

    Inputs: ``x, states``: x (B, T, I); states, a list with one (B, H_l) tensor per
    recurrent layer (zeros if None).
    Outputs: ``y, states``: y (B, T, O) (or (B, T, H_L)); the final state of each
    recurrent layer.

    Example::

        >>> net = RecurrentMLP(2, [8, 8], output_size=1, recurrent=[False, True])
        >>> y, states = net(torch.randn(3, 5, 2))
        >>> y.shape, [s.shape for s in states]
        (torch.Size([3, 5, 1]), [torch.Size([3, 8])])
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        layer_sizes: Sequence[int],
        output_size: int | None = None,
        *,
        recurrent: bool | Sequence[bool] = True,
        nonlinearity: str = "tanh",
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        if isinstance(layer_sizes, int) or not layer_sizes:
            raise ValueError(f"layer_sizes must be a non-empty sequence of ints, got {layer_sizes!r}")
        self.layer_sizes = [check_size(f"layer_sizes[{l}]", n) for l, n in enumerate(layer_sizes)]
        L = len(self.layer_sizes)
        if isinstance(recurrent, bool):
            self.recurrent = [recurrent] * L
        else:
            self.recurrent = [check_flag(f"recurrent[{l}]", r) for l, r in enumerate(recurrent)]
            if len(self.recurrent) != L:
                raise ValueError(f"recurrent must be a bool or {L} bools (one per layer), got {len(self.recurrent)}")
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {sorted(_NONLINEARITIES)}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.bias = check_flag("bias", bias)
        self.output_size = self.layer_sizes[-1] if output_size is None else check_size("output_size", output_size)
        self.has_output_layer = output_size is not None
        factory = {"device": device, "dtype": dtype}
        previous = input_size
        for l, size in enumerate(self.layer_sizes):
            setattr(self, f"weight_l{l}", nn.Parameter(torch.empty(size, previous, **factory)))
            if self.recurrent[l]:
                setattr(self, f"weight_rec_l{l}", nn.Parameter(torch.empty(size, size, **factory)))
            if bias:
                setattr(self, f"bias_l{l}", nn.Parameter(torch.empty(size, **factory)))
            previous = size
        if self.has_output_layer:
            self.weight_out = nn.Parameter(torch.empty(self.output_size, previous, **factory))
            if bias:
                self.bias_out = nn.Parameter(torch.empty(self.output_size, **factory))
            else:
                self.register_parameter("bias_out", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Each layer's parameters from $\\mathcal{U}(-1/\\sqrt{H_l}, 1/\\sqrt{H_l})$ (output: fan-in)."""
        for name, parameter in self.named_parameters():
            if name.endswith("_out"):
                fan = self.layer_sizes[-1]
            else:
                fan = self.layer_sizes[int(name.rsplit("_l", 1)[1])]
            bound = 1.0 / math.sqrt(fan)
            nn.init.uniform_(parameter, -bound, bound)

    def _layer(self, name: str, l: int) -> Tensor | None:
        return getattr(self, f"{name}_l{l}", None)

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> list[Tensor]:
        """Zeros for every recurrent layer: a list of (B, H_l)."""
        reference = self.weight_l0
        return [
            torch.zeros(
                batch_size,
                size,
                dtype=reference.dtype if dtype is None else dtype,
                device=reference.device if device is None else device,
            )
            for size, rec in zip(self.layer_sizes, self.recurrent, strict=True)
            if rec
        ]

    def _output(self, h: Tensor) -> Tensor:
        # $$y_t = V h^L_t + c$$
        return F.linear(h, self.weight_out, self.bias_out) if self.has_output_layer else h

    def step(self, x_t: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """One time step through all layers (readable path): x_t (B, I) -> (y_t, new states)."""
        phi = _NONLINEARITIES[self.nonlinearity]
        h, new_states, k = x_t, [], 0
        for l, rec in enumerate(self.recurrent):
            pre = F.linear(h, self._layer("weight", l), self._layer("bias", l))
            if rec:
                # $$h^l_t = \phi(W^l h^{l-1}_t + U^l h^l_{t-1} + b^l)$$
                pre = pre + F.linear(states[k], self._layer("weight_rec", l))
                k += 1
            h = phi(pre)
            if rec:
                new_states.append(h)
        return self._output(h), new_states

    def _check(self, x: Tensor, states: Sequence[Tensor] | None) -> list[Tensor]:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        if x.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if states is None:
            return self.init_state(x.size(0), dtype=x.dtype, device=x.device)
        expected = [(x.size(0), n) for n, rec in zip(self.layer_sizes, self.recurrent, strict=True) if rec]
        if len(states) != len(expected) or [tuple(s.shape) for s in states] != expected:
            raise ValueError(f"expected one state per recurrent layer, of shapes {expected}")
        return list(states)

    def forward(self, x: Tensor, states: Sequence[Tensor] | None = None) -> tuple[Tensor, list[Tensor]]:
        """Fast path: layer by layer, the feedforward input of all steps in one product."""
        states = self._check(x, states)
        phi = _NONLINEARITIES[self.nonlinearity]
        h, finals, k = x, [], 0
        for l, rec in enumerate(self.recurrent):
            pre = F.linear(h, self._layer("weight", l), self._layer("bias", l))  # (B, T, H_l)
            if not rec:
                h = phi(pre)
                continue
            U, h_t, outputs = self._layer("weight_rec", l), states[k], []
            for t in range(x.size(1)):
                h_t = phi(pre[:, t] + F.linear(h_t, U))
                outputs.append(h_t)
            h = torch.stack(outputs, dim=1)
            finals.append(h_t)
            k += 1
        return self._output(h), finals

    def forward_stepwise(self, x: Tensor, states: Sequence[Tensor] | None = None) -> tuple[Tensor, list[Tensor]]:
        """Readable path: `step` at every t (same result as `forward`)."""
        states = self._check(x, states)
        outputs = []
        for t in range(x.size(1)):
            y_t, states = self.step(x[:, t], states)
            outputs.append(y_t)
        return torch.stack(outputs, dim=1), states

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.layer_sizes}, output_size={self.output_size if self.has_output_layer else None}, "
            f"recurrent={self.recurrent}, nonlinearity={self.nonlinearity!r}, bias={self.bias}"
        )
