r"""NARX network: a feedforward network on tapped delay lines of the inputs and of its own outputs.

A NARX (nonlinear autoregressive with exogenous inputs) network predicts the next
output of a dynamical system from a window of recent external inputs and a window
of recent outputs, both held in delay lines:

$$
y_t = f\big(x_t, x_{t-1}, \dots, x_{t-d_x},\; y_{t-1}, \dots, y_{t-d_y}\big)
$$

where $f$ is a multilayer perceptron. The only recurrence is the output fed back
through the delays; values before the start of the sequence are 0 (or given).
It runs in two modes:

* **open loop** (*series-parallel*, teacher forced): the fed-back values are the
  true past outputs $y^{\ast}_{t-k}$, so every step is an independent MLP
  evaluation on the *delay embedding*
  $z_t = [x_t; \dots; x_{t-d_x}; y^{\ast}_{t-1}; \dots; y^{\ast}_{t-d_y}]$,
  computed for all t at once (how it is trained; tested equal to an MLP on an
  embedding built independently);
* **closed loop** (*parallel*, free running): the network's own predictions
  $\hat y_{t-k}$ are fed back, one step at a time (how it simulates the system).

$$
f(z) = W_2 \tanh(W_1 z + b_1) + b_2
$$

| symbol     | parameter          | shape                       |
|------------|--------------------|-----------------------------|
| $W_1, b_1$ | `mlp.0.weight`, `mlp.0.bias` | (F, (d_x + 1) I + d_y O), (F,) |
| $W_2, b_2$ | `mlp.2.weight`, `mlp.2.bias` | (O, F), (O,)      |

x (B, T, I), y (B, T, O), batch-first; F hidden units.

Reference: Hava T. Siegelmann, Bill G. Horne and C. Lee Giles, "Computational
Capabilities of Recurrent NARX Neural Networks", IEEE Transactions on Systems, Man,
and Cybernetics, Part B, doi:10.1109/3477.558801 (NARX networks are Turing
equivalent); the NARX model itself comes from system identification.

Term: https://w3id.org/rnnref/term/narx-network
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_sequence, check_size

TERM_IRI = "https://w3id.org/rnnref/term/narx-network"


class NARX(nn.Module):
    r"""$y_t = f(x_t, \dots, x_{t-d_x}, y_{t-1}, \dots, y_{t-d_y})$ with an MLP f; open- and closed-loop modes.

    Args:
        input_size: I, exogenous input features.
        output_size: O, output features (fed back).
        input_delays: $d_x \ge 0$, past inputs seen besides $x_t$.
        output_delays: $d_y \ge 1$, past outputs fed back.
        hidden_size: F, the MLP's hidden units.
        device, dtype: of the parameters.

    ``forward(x, y_teacher=None, *, x_init=None, y_init=None)``: open loop if
    ``y_teacher`` (B, T, O) is given, closed loop otherwise; returns $\hat y$
    (B, T, O). ``x_init`` (B, d_x, I) and ``y_init`` (B, d_y, O) fill the delay lines
    before t = 0 (oldest first); zeros if None.

    Example::

        >>> narx = NARX(1, 1, input_delays=2, output_delays=2)
        >>> x = torch.randn(4, 30, 1)
        >>> narx(x).shape  # closed loop
        torch.Size([4, 30, 1])

    Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        output_size: int,
        input_delays: int = 2,
        output_delays: int = 2,
        hidden_size: int = 32,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.output_size = check_size("output_size", output_size)
        self.input_delays = check_size("input_delays", input_delays, minimum=0)
        self.output_delays = check_size("output_delays", output_delays)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.embedding_size = (input_delays + 1) * input_size + output_delays * output_size
        factory = {"device": device, "dtype": dtype}
        # $$f(z) = W_2 \tanh(W_1 z + b_1) + b_2$$
        self.mlp = nn.Sequential(
            nn.Linear(self.embedding_size, hidden_size, **factory),
            nn.Tanh(),
            nn.Linear(hidden_size, output_size, **factory),
        )
        with torch.no_grad():  # small output weights: the closed loop starts near a stable map
            self.mlp[2].weight.mul_(1 / math.sqrt(3))

    def _check(self, x: Tensor, y_teacher: Tensor | None, x_init: Tensor | None, y_init: Tensor | None) -> None:
        check_sequence("NARX", x, self.input_size, None)
        B, T = x.shape[:2]
        for name, value, shape in (
            ("y_teacher", y_teacher, (B, T, self.output_size)),
            ("x_init", x_init, (B, self.input_delays, self.input_size)),
            ("y_init", y_init, (B, self.output_delays, self.output_size)),
        ):
            if value is not None and (not isinstance(value, Tensor) or tuple(value.shape) != shape):
                got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"NARX expects {name} of shape {shape}, got {got}")

    def _history(self, x: Tensor, x_init: Tensor | None, y_init: Tensor | None) -> tuple[Tensor, Tensor]:
        B = x.size(0)
        x_init = x.new_zeros(B, self.input_delays, self.input_size) if x_init is None else x_init
        y_init = x.new_zeros(B, self.output_delays, self.output_size) if y_init is None else y_init
        return torch.cat([x_init, x], 1), y_init  # x padded in front: x_padded[:, t + d_x] = x_t

    def embedding(self, x: Tensor, y_past: Tensor, x_init: Tensor | None = None, y_init: Tensor | None = None) -> Tensor:
        r"""The delay embeddings $z_t = [x_t; \dots; x_{t-d_x}; y_{t-1}; \dots; y_{t-d_y}]$ for all t, (B, T, E)."""
        self._check(x, y_past, x_init, y_init)
        T = x.size(1)
        x_padded, y_start = self._history(x, x_init, y_init)
        y_padded = torch.cat([y_start, y_past], 1)  # y_padded[:, t + d_y] = y_t
        dx, dy = self.input_delays, self.output_delays
        inputs = [x_padded[:, dx - k : dx - k + T] for k in range(dx + 1)]  # x_{t-k}
        outputs = [y_padded[:, dy - k : dy - k + T] for k in range(1, dy + 1)]  # y_{t-k}
        return torch.cat(inputs + outputs, -1)

    def open_loop(self, x: Tensor, y_teacher: Tensor, *, x_init: Tensor | None = None, y_init: Tensor | None = None) -> Tensor:
        r"""Series-parallel: $\hat y_t = f(x_t, \dots, x_{t-d_x}, y^\ast_{t-1}, \dots, y^\ast_{t-d_y})$, all t at once."""
        return self.mlp(self.embedding(x, y_teacher, x_init, y_init))

    def closed_loop(self, x: Tensor, *, x_init: Tensor | None = None, y_init: Tensor | None = None) -> Tensor:
        r"""Parallel (free running): $\hat y_t = f(x_t, \dots, x_{t-d_x}, \hat y_{t-1}, \dots, \hat y_{t-d_y})$, step by step."""
        self._check(x, None, x_init, y_init)
        x_padded, y_start = self._history(x, x_init, y_init)
        dx = self.input_delays
        fed_back = list(y_start.unbind(1))  # oldest first; the last d_y are the delay line
        predictions = []
        for t in range(x.size(1)):
            past_inputs = [x_padded[:, t + dx - k] for k in range(dx + 1)]  # x_t, ..., x_{t-d_x}
            past_outputs = [fed_back[-k] for k in range(1, self.output_delays + 1)]  # y_{t-1}, ..., y_{t-d_y}
            # $$\hat y_t = f(x_t, \dots, x_{t-d_x}, \hat y_{t-1}, \dots, \hat y_{t-d_y})$$
            y_t = self.mlp(torch.cat(past_inputs + past_outputs, -1))
            predictions.append(y_t)
            fed_back.append(y_t)
        return torch.stack(predictions, 1)

    def forward(self, x: Tensor, y_teacher: Tensor | None = None, *, x_init: Tensor | None = None, y_init: Tensor | None = None) -> Tensor:
        if y_teacher is not None:
            return self.open_loop(x, y_teacher, x_init=x_init, y_init=y_init)
        return self.closed_loop(x, x_init=x_init, y_init=y_init)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.output_size}, input_delays={self.input_delays}, output_delays={self.output_delays}"


def narx_system(x: Tensor) -> Tensor:
    r"""A known NARX system, the target of the learning task: x (B, T, 1) -> y (B, T, 1), zero history.

    $$y_t = 0.6\, y_{t-1} - 0.2\, y_{t-2} + \tanh(x_t + 0.5\, x_{t-1}) + 0.1\, y_{t-1} x_{t-1}$$
    """
    if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != 1:
        raise ValueError("narx_system expects x of shape (B, T, 1)")
    B, T, _ = x.shape
    y1 = y2 = x_prev = x.new_zeros(B, 1)
    ys = []
    for t in range(T):
        x_t = x[:, t]
        y_t = 0.6 * y1 - 0.2 * y2 + torch.tanh(x_t + 0.5 * x_prev) + 0.1 * y1 * x_prev
        ys.append(y_t)
        y2, y1, x_prev = y1, y_t, x_t
    return torch.stack(ys, 1)
