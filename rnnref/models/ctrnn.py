r"""Continuous-time recurrent neural network (CTRNN), integrated with Euler steps.

A CTRNN describes each unit by an ordinary differential equation instead of an
update rule: unit $i$ has an activation (a membrane potential) $y_i$ that relaxes
towards zero with its own time constant $\tau_i$ and is driven by the squashed
activations of the units connected to it and by an external input:

$$
\tau_i \frac{dy_i}{dt} = -y_i + \sum_{j} w_{ji}\, \sigma(y_j + \theta_j) + I_i(t)
$$

in vector form $\tau \odot \dot{y} = -y + W \sigma(y + \theta) + I(t)$ with
$W_{ij} = w_{ji}$ and $\sigma$ the logistic sigmoid. Here the input is a linear map
of an input signal, $I(t) = W_{in} x(t)$, held constant over each step. The
network is simulated with the explicit Euler method with step $\Delta t$:

$$
\begin{aligned}
I_t &= W_{in} x_t \\
y_{t+1} &= y_t + \frac{\Delta t}{\tau} \odot \big(-y_t + W \sigma(y_t + \theta) + I_t\big)
\end{aligned}
$$

which converges to the exact solution of the ODE as $\Delta t \to 0$ (tested
against a fine Runge–Kutta reference). With $\Delta t = \tau$ the update is the
discrete-time network $y_{t+1} = W \sigma(y_t + \theta) + I_t$.

| symbol   | attribute   | shape  | meaning                                 |
|----------|-------------|--------|-----------------------------------------|
| $W$      | `weight`    | (H, H) | row i: weights into unit i ($w_{ji}$)   |
| $\theta$ | `bias`      | (H,)   | bias of each (presynaptic) unit         |
| $W_{in}$ | `weight_in` | (H, I) | input signal -> input current           |
| $\tau$   | `tau`       | (H,)   | time constants (buffer, not trained)    |

Shape letters: B batch, T steps, I input, H units; sequences batch-first. The
state and the output at each step is $y$ (B, H); put a readout on
$\sigma(y + \theta)$ or $y$ for an output.

Source of the equation: the CTRNN section of the seed article (Wikipedia), which
cites Beer (1997), "The dynamics of adaptive behavior: A research program",
Robotics and Autonomous Systems 20(2–4): 257–289, doi:10.1016/S0921-8890(96)00063-2,
for CTRNNs in evolutionary robotics. The seed renders the bias inside the sigmoid
as $\Theta_j$ of the presynaptic node; this module adds it, $\sigma(y_j + \theta_j)$,
as in Beer's papers (a sign convention: $\theta = -\Theta$).

Term: https://w3id.org/rnnref/term/continuous-time-rnn
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/continuous-time-rnn"


def _time_constants(name: str, value: float | Sequence[float] | Tensor, size: int) -> Tensor:
    """A positive time constant per unit, from a number or a sequence of ``size`` numbers."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        tau = torch.full((size,), float(value), dtype=torch.float64)
    else:
        tau = torch.as_tensor(value, dtype=torch.float64).flatten()
        if tau.numel() != size:
            raise ValueError(f"{name} must be a number or {size} numbers, got {tau.numel()}")
    if not bool((tau > 0).all()) or not bool(torch.isfinite(tau).all()):
        raise ValueError(f"{name} must be positive and finite")
    return tau


class CTRNN(nn.Module):
    r"""Continuous-time RNN, $\tau \odot \dot y = -y + W\sigma(y + \theta) + W_{in} x$, Euler step $\Delta t$.

    Args:
        input_size: I.
        hidden_size: H, units.
        tau: time constant(s) $\tau$: one number for all units or H numbers.
        dt: Euler step $\Delta t$ (> 0; at most min(tau) for a stable discretisation).
        device, dtype: of parameters and buffers.

    Inputs: ``x, y0``: x (B, T, I) the input at each step (held over the step);
    y0 (B, H), zeros if None.

    Outputs: ``y, y_T``: y (B, T, H), the state after each of the T steps; y_T = y[:, -1].

    Parameters are drawn from $\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$.

    Example::

        >>> net = CTRNN(2, 8, tau=[1.0] * 4 + [5.0] * 4, dt=0.1)
        >>> y, y_T = net(torch.randn(3, 50, 2))
        >>> y.shape
        torch.Size([3, 50, 8])
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        tau: float | Sequence[float] | Tensor = 1.0,
        dt: float = 0.1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = self.output_size = check_size("hidden_size", hidden_size)
        if not isinstance(dt, numbers.Real) or isinstance(dt, bool) or not 0 < dt < math.inf:
            raise ValueError(f"dt must be a positive number, got {dt!r}")
        self.dt = float(dt)
        tau_values = _time_constants("tau", tau, hidden_size)
        if self.dt > tau_values.min().item():
            raise ValueError(f"dt={dt} is larger than the smallest time constant {tau_values.min().item()}")
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(hidden_size, hidden_size, **factory))  # W
        self.bias = nn.Parameter(torch.empty(hidden_size, **factory))  # theta
        self.weight_in = nn.Parameter(torch.empty(hidden_size, input_size, **factory))  # W_in
        self.register_buffer("tau", tau_values.to(device=device, dtype=self.weight.dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def derivative(self, y: Tensor, current: Tensor) -> Tensor:
        r"""$\dot y = (-y + W \sigma(y + \theta) + I) / \tau$ for state y (B, H) and input current I (B, H)."""
        return (-y + F.linear(torch.sigmoid(y + self.bias), self.weight) + current) / self.tau

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$y_0 = 0$, (B, H)."""
        return torch.zeros(
            batch_size,
            self.hidden_size,
            dtype=self.weight.dtype if dtype is None else dtype,
            device=self.weight.device if device is None else device,
        )

    def step(self, x_t: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """One Euler step (readable path): x_t (B, I), y (B, H) -> (y_next, y_next)."""
        # $$I_t = W_{in} x_t$$
        current = F.linear(x_t, self.weight_in)
        # $$y_{t+1} = y_t + \frac{\Delta t}{\tau} \odot (-y_t + W \sigma(y_t + \theta) + I_t)$$
        y_next = y + (self.dt / self.tau) * (-y + F.linear(torch.sigmoid(y + self.bias), self.weight) + current)
        return y_next, y_next

    def _check(self, x: Tensor, y0: Tensor | None) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        if x.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if y0 is None:
            return self.init_state(x.size(0), dtype=x.dtype, device=x.device)
        if y0.shape != (x.size(0), self.hidden_size):
            raise ValueError(f"expected y0 of shape ({x.size(0)}, {self.hidden_size}), got {tuple(y0.shape)}")
        return y0

    def forward(self, x: Tensor, y0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Fast path: the input current $W_{in} x_t$ for all steps in one product, then the Euler loop."""
        y = self._check(x, y0)
        rate = self.dt / self.tau  # (H,)
        current = F.linear(x, self.weight_in)  # (B, T, H)
        states = []
        for t in range(x.size(1)):
            y = y + rate * (-y + F.linear(torch.sigmoid(y + self.bias), self.weight) + current[:, t])
            states.append(y)
        return torch.stack(states, dim=1), y

    def forward_stepwise(self, x: Tensor, y0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Readable path over a sequence: `step` at every t (same result as `forward`)."""
        y = self._check(x, y0)
        states = []
        for t in range(x.size(1)):
            _, y = self.step(x[:, t], y)
            states.append(y)
        return torch.stack(states, dim=1), y

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, dt={self.dt}"
