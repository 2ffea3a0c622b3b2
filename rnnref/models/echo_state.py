r"""Echo state network: a fixed random reservoir and a linear readout solved in closed form.

An echo state network (ESN) is reservoir computing with analogue units. A large
recurrent network, the *reservoir*, is drawn at random and never trained; its
recurrent matrix is rescaled so that its spectral radius (largest absolute
eigenvalue) is below one, which in practice gives the *echo state property*: the
reservoir's state is a fading echo of the input history and forgets its initial
state. Only the linear readout from the reservoir state is learned, by ridge
regression, in one linear solve.

$$
\begin{aligned}
\tilde{x}_t &= \tanh(W_{in} u_t + W x_{t-1} + b) \\
x_t &= (1 - a)\, x_{t-1} + a\, \tilde{x}_t \\
y_t &= W_{out} [1; u_t; x_t] \\
W_{out} &= Y Z^\top (Z Z^\top + \beta I)^{-1}
\end{aligned}
$$

with $x_0 = 0$ unless given, leak rate $a \in (0, 1]$ ($a = 1$: no leak), $Z$ the
collected feature vectors $z_t = [1; u_t; x_t]$ after a washout and $Y$ the targets.
$W$ is a sparse random matrix scaled to spectral radius $\rho$:
$W = \rho\, W_0 / \max |\lambda(W_0)|$.

| symbol    | attribute    | shape          | set by                      |
|-----------|--------------|----------------|-----------------------------|
| $W_{in}$  | `weight_in`  | (N, I)         | random, $\mathcal{U}(-s, s)$, s = input_scaling |
| $W$       | `weight`     | (N, N)         | random sparse, scaled to $\rho$ |
| $b$       | `bias`       | (N,)           | random, $\mathcal{U}(-s_b, s_b)$ |
| $W_{out}$ | `weight_out` | (O, 1 + I + N) | `fit` (ridge regression)    |

All four are buffers: nothing here is trained by gradient descent, though the
forward computation is differentiable (tested with gradcheck). Shape letters: B
batch, T length, I input, N reservoir units, O outputs; sequences batch-first.

`step` is the readable path (the equations above, one step); `states` is the fast
path (input drive $W_{in} u_t + b$ hoisted out of the loop); they are tested equal.
`mackey_glass` generates the benchmark series used in the tests and the demo.

Reference: Herbert Jaeger and Harald Haas (2004), "Harnessing Nonlinearity:
Predicting Chaotic Systems and Saving Energy in Wireless Communication", Science
304(5667): 78–80, doi:10.1126/science.1091277.

Term: https://w3id.org/rnnref/term/echo-state-network
"""

from __future__ import annotations

import numbers
from collections import deque

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/echo-state-network"


def _check_real(name: str, value: object, low: float, high: float, *, low_open: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}]"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return float(value)


def spectral_radius(matrix: Tensor) -> float:
    r"""$\max_i |\lambda_i|$ of a square matrix."""
    return torch.linalg.eigvals(matrix).abs().max().item()


def ridge_regression(features: Tensor, targets: Tensor, ridge: float) -> Tensor:
    r"""$W = Y Z^\top (Z Z^\top + \beta I)^{-1}$ for features Z (M, F) and targets Y (M, O), rows = samples.

    Returns W (O, F). Solved as the symmetric system $(Z^\top Z + \beta I) W^\top = Z^\top Y$.
    """
    gram = features.T @ features
    gram = gram + ridge * torch.eye(gram.size(0), dtype=gram.dtype, device=gram.device)
    return torch.linalg.solve(gram, features.T @ targets).T


def mackey_glass(
    length: int,
    *,
    tau: float = 17.0,
    beta: float = 0.2,
    gamma: float = 0.1,
    n: float = 10.0,
    dt: float = 0.1,
    sample_step: float = 1.0,
    x0: float = 1.2,
    discard: int = 500,
) -> Tensor:
    r"""The Mackey–Glass delay differential equation, sampled every ``sample_step``, float64 (length,).

    $$\dot{x}(t) = \beta \frac{x(t - \tau)}{1 + x(t - \tau)^n} - \gamma x(t)$$

    Euler integration with step ``dt`` from a constant history $x = x_0$; the first
    ``discard`` samples (the transient) are dropped. With $\tau = 17$ the series is chaotic.
    """
    check_size("length", length)
    per_sample = round(sample_step / dt)
    delay = round(tau / dt)
    if per_sample < 1 or delay < 1 or abs(per_sample * dt - sample_step) > 1e-9 or abs(delay * dt - tau) > 1e-9:
        raise ValueError("sample_step and tau must be positive multiples of dt")
    history = deque([x0] * (delay + 1), maxlen=delay + 1)  # history[-1] is x(t), history[0] is x(t - tau)
    samples: list[float] = []
    total = (length + discard) * per_sample
    for k in range(total):
        x, x_tau = history[-1], history[0]
        history.append(x + dt * (beta * x_tau / (1.0 + x_tau**n) - gamma * x))
        if (k + 1) % per_sample == 0:
            samples.append(history[-1])
    return torch.tensor(samples[discard:], dtype=torch.float64)


class EchoStateNetwork(nn.Module):
    r"""Leaky-tanh reservoir of N units with spectral radius $\rho$ and a ridge-regression readout.

    $$x_t = (1-a) x_{t-1} + a \tanh(W_{in} u_t + W x_{t-1} + b), \qquad y_t = W_{out} [1; u_t; x_t]$$

    Args:
        input_size: I.
        reservoir_size: N.
        output_size: O.
        spectral_radius: $\rho$, the largest absolute eigenvalue of $W$ after scaling; in (0, 1.5].
        leak_rate: $a$ in (0, 1]; 1 is the non-leaky ESN.
        density: fraction of nonzero entries of $W$, in (0, 1].
        input_scaling: $W_{in}$ is drawn from $\mathcal{U}(-s, s)$.
        bias_scaling: $b$ is drawn from $\mathcal{U}(-s_b, s_b)$ (0: no bias).
        generator: a ``torch.Generator`` for the reservoir draw (the global RNG if None).
        device, dtype: of the buffers (float64 by default: the readout is a linear solve).

    Inputs of ``forward``: ``u, x0``: u (B, T, I); x0 (B, N), zeros if None.
    Outputs: ``y, x``: y (B, T, O) the readout, x (B, T, N) the reservoir states.

    Example::

        >>> esn = EchoStateNetwork(1, 50, 1, generator=torch.Generator().manual_seed(0))
        >>> u = torch.randn(1, 300, 1, dtype=torch.float64)
        >>> states = esn.fit(u[:, :-1], u[:, 1:], washout=50)  # one-step prediction
        >>> esn(u)[0].shape
        torch.Size([1, 300, 1])
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        reservoir_size: int,
        output_size: int,
        *,
        spectral_radius: float = 0.9,
        leak_rate: float = 1.0,
        density: float = 0.1,
        input_scaling: float = 1.0,
        bias_scaling: float = 0.0,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = torch.float64,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.reservoir_size = check_size("reservoir_size", reservoir_size)
        self.hidden_size = reservoir_size  # the cell protocol's H
        self.output_size = check_size("output_size", output_size)
        self.spectral_radius = _check_real("spectral_radius", spectral_radius, 0.0, 1.5, low_open=True)
        self.leak_rate = _check_real("leak_rate", leak_rate, 0.0, 1.0, low_open=True)
        self.density = _check_real("density", density, 0.0, 1.0, low_open=True)
        self.input_scaling = _check_real("input_scaling", input_scaling, 0.0, float("inf"))
        self.bias_scaling = _check_real("bias_scaling", bias_scaling, 0.0, float("inf"))
        N = reservoir_size
        draw = {"generator": generator, "dtype": torch.float64}
        weight_in = (torch.rand(N, input_size, **draw) * 2 - 1) * self.input_scaling
        bias = (torch.rand(N, **draw) * 2 - 1) * self.bias_scaling
        # A sparse random matrix; redraw (rarely needed) until it has a nonzero eigenvalue.
        for _ in range(100):
            w0 = (torch.rand(N, N, **draw) * 2 - 1) * (torch.rand(N, N, **draw) < self.density)
            radius = torch.linalg.eigvals(w0).abs().max().item()
            if radius > 1e-8:
                break
        else:  # pragma: no cover - only for absurdly small density * N^2
            raise ValueError(f"density={density} leaves the {N}x{N} reservoir without a nonzero eigenvalue")
        # $$W = \rho\, W_0 / \max|\lambda(W_0)|$$
        weight = w0 * (self.spectral_radius / radius)
        factory = {"device": device, "dtype": dtype}
        self.register_buffer("weight_in", weight_in.to(**factory))
        self.register_buffer("weight", weight.to(**factory))
        self.register_buffer("bias", bias.to(**factory))
        self.register_buffer("weight_out", torch.zeros(output_size, 1 + input_size + N, **factory))

    # -- reservoir -------------------------------------------------------------------

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$x_0 = 0$, (B, N)."""
        return torch.zeros(
            batch_size,
            self.reservoir_size,
            dtype=self.weight.dtype if dtype is None else dtype,
            device=self.weight.device if device is None else device,
        )

    def step(self, u_t: Tensor, x_prev: Tensor) -> tuple[Tensor, Tensor]:
        """One reservoir step (readable path): u_t (B, I), x_prev (B, N) -> (x_t, x_t)."""
        # $$\tilde{x}_t = \tanh(W_{in} u_t + W x_{t-1} + b)$$
        x_tilde = torch.tanh(F.linear(u_t, self.weight_in, self.bias) + F.linear(x_prev, self.weight))
        # $$x_t = (1 - a) x_{t-1} + a \tilde{x}_t$$
        x_t = (1 - self.leak_rate) * x_prev + self.leak_rate * x_tilde
        return x_t, x_t

    def _check(self, u: Tensor, x0: Tensor | None) -> Tensor:
        if not isinstance(u, Tensor) or u.dim() != 3 or u.size(-1) != self.input_size:
            shape = tuple(u.shape) if isinstance(u, Tensor) else type(u).__name__
            raise ValueError(f"expected u of shape (B, T, {self.input_size}), got {shape}")
        if u.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if x0 is None:
            return self.init_state(u.size(0), dtype=u.dtype, device=u.device)
        if x0.shape != (u.size(0), self.reservoir_size):
            raise ValueError(f"expected x0 of shape ({u.size(0)}, {self.reservoir_size}), got {tuple(x0.shape)}")
        return x0

    def states(self, u: Tensor, x0: Tensor | None = None) -> Tensor:
        """Reservoir states for a sequence (fast path): u (B, T, I) -> x (B, T, N)."""
        x = self._check(u, x0)
        a = self.leak_rate
        drive = F.linear(u, self.weight_in, self.bias)  # (B, T, N): W_in u_t + b for every t at once
        out = []
        for t in range(u.size(1)):
            x = (1 - a) * x + a * torch.tanh(drive[:, t] + x @ self.weight.T)
            out.append(x)
        return torch.stack(out, dim=1)

    def states_stepwise(self, u: Tensor, x0: Tensor | None = None) -> Tensor:
        """Reservoir states by `step` at every t (readable path, same result as `states`)."""
        x = self._check(u, x0)
        out = []
        for t in range(u.size(1)):
            _, x = self.step(u[:, t], x)
            out.append(x)
        return torch.stack(out, dim=1)

    # -- readout ---------------------------------------------------------------------

    @staticmethod
    def features(u: Tensor, x: Tensor) -> Tensor:
        """$z_t = [1; u_t; x_t]$, (B, T, 1 + I + N)."""
        return torch.cat([torch.ones_like(u[..., :1]), u, x], dim=-1)

    def fit(self, u: Tensor, targets: Tensor, *, washout: int = 0, ridge: float = 1e-8, x0: Tensor | None = None) -> Tensor:
        r"""Drive the reservoir with u (B, T, I) and set $W_{out}$ by ridge regression on targets (B, T, O).

        The first ``washout`` steps of every sequence are left out of the regression
        (the reservoir is still forgetting $x_0$). Returns the reservoir states (B, T, N).
        """
        if not isinstance(targets, Tensor) or targets.shape != (*u.shape[:2], self.output_size):
            raise ValueError(f"expected targets of shape {(*u.shape[:2], self.output_size)}, got {tuple(targets.shape)}")
        if not isinstance(washout, int) or not 0 <= washout < u.size(1):
            raise ValueError(f"washout must be an int in [0, T={u.size(1)}), got {washout!r}")
        ridge = _check_real("ridge", ridge, 0.0, float("inf"))
        with torch.no_grad():
            x = self.states(u, x0)
            z = self.features(u, x)[:, washout:].reshape(-1, self.weight_out.size(1))
            y = targets[:, washout:].reshape(-1, self.output_size).to(z.dtype)
            # $$W_{out} = Y Z^\top (Z Z^\top + \beta I)^{-1}$$
            self.weight_out.copy_(ridge_regression(z, y, ridge))
        return x

    def forward(self, u: Tensor, x0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x = self.states(u, x0)
        # $$y_t = W_{out} [1; u_t; x_t]$$
        y = F.linear(self.features(u, x), self.weight_out)
        return y, x

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.reservoir_size}, {self.output_size}, spectral_radius={self.spectral_radius}, "
            f"leak_rate={self.leak_rate}, density={self.density}"
        )
