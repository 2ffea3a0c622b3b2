r"""ODE-RNN: a GRU whose hidden state follows a neural ODE between irregular observations.

An ODE-RNN (Rubanova, Chen & Duvenaud 2019) reads observations $x_1, \dots, x_T$
taken at arbitrary times $t_1 \le \dots \le t_T$. Between two observations the
hidden state is not frozen (as in an RNN) but evolves continuously by an ordinary
differential equation whose vector field $f_\theta$ is a small neural network; at
each observation a GRU cell updates it with the new input:

$$
\begin{aligned}
h'_i &= \operatorname{ODESolve}\big(f_\theta,\; h_{i-1},\; (t_{i-1}, t_i)\big)
       \quad\text{i.e. } \tfrac{dh}{dt} = f_\theta(h),\ h(t_{i-1}) = h_{i-1},\ h'_i = h(t_i) \\
h_i &= \operatorname{GRUCell}(x_i, h'_i) \\
f_\theta(h) &= W_2 \tanh(W_1 h + b_1) + b_2
\end{aligned}
$$

with $t_0 = t_1$ (the first observation is read at once). The solver here is the
classical fourth-order Runge–Kutta method with a fixed number S of equal substeps
per gap, $\delta = (t_i - t_{i-1}) / S$:

$$
\begin{aligned}
k_1 &= f(h), \quad k_2 = f(h + \tfrac{\delta}{2} k_1), \quad k_3 = f(h + \tfrac{\delta}{2} k_2), \quad k_4 = f(h + \delta k_3) \\
h &\leftarrow h + \tfrac{\delta}{6}(k_1 + 2 k_2 + 2 k_3 + k_4)
\end{aligned}
$$

A fixed step count (rather than the adaptive solvers of the paper) keeps the
computation a plain differentiable graph, so gradients are ordinary backprop
through the solver steps, and lets a batch of sequences with different gaps be
solved together. With all gaps zero the ODE does nothing and the model is exactly
a GRU (tested against ``torch.nn.GRU``); on a linear vector field RK4 matches the
exact solution $e^{A \Delta} h$ to $O(\delta^4)$ (tested).

| symbol                | parameter                                   | shape              |
|-----------------------|---------------------------------------------|--------------------|
| GRU cell              | `cell.weight_ih`, `cell.weight_hh`, `cell.bias_ih`, `cell.bias_hh` | as `rnnref.models.gru.GRUCell` |
| $W_1, b_1$            | `ode_func.0.weight`, `ode_func.0.bias`      | (F, H), (F,)       |
| $W_2, b_2$            | `ode_func.2.weight`, `ode_func.2.bias`      | (H, F), (H,)       |

F is the ODE network's hidden width. x (B, T, I) and times (B, T), batch-first;
every sequence has T observations (pad and mask outside the model for fewer).

Reference: Yulia Rubanova, Ricky T. Q. Chen and David Duvenaud (2019), "Latent
ODEs for Irregularly-Sampled Time Series", NeurIPS 2019, arXiv:1907.03907.

Term: https://w3id.org/rnnref/term/ode-rnn
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_sequence, check_size
from rnnref.models.gru import GRUCell

TERM_IRI = "https://w3id.org/rnnref/term/ode-rnn"


def rk4(func: Callable[[Tensor], Tensor], h: Tensor, dt: Tensor, steps: int) -> Tensor:
    r"""Integrate $dh/dt = f(h)$ over a time span dt with ``steps`` RK4 steps of $\delta = dt/S$.

    h (B, H); dt (B,) or a scalar (each row may have its own span; 0 leaves h unchanged).
    """
    check_size("steps", steps)
    delta = (dt / steps).reshape(-1, 1) if dt.dim() else dt / steps
    for _ in range(steps):
        # $$k_1 = f(h), \ k_2 = f(h + \tfrac{\delta}{2} k_1), \ k_3 = f(h + \tfrac{\delta}{2} k_2), \ k_4 = f(h + \delta k_3)$$
        k1 = func(h)
        k2 = func(h + delta / 2 * k1)
        k3 = func(h + delta / 2 * k2)
        k4 = func(h + delta * k3)
        # $$h \leftarrow h + \tfrac{\delta}{6}(k_1 + 2 k_2 + 2 k_3 + k_4)$$
        h = h + delta / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return h


class ODERNN(nn.Module):
    r"""GRU updates at observations, $dh/dt = f_\theta(h)$ in between (RK4, S substeps per gap).

    Args:
        input_size: I, features per observation.
        hidden_size: H.
        ode_hidden_size: F, width of the vector field's hidden layer.
        ode_steps: S, RK4 substeps per gap between observations.
        output_size: if given, a linear readout $y_i = W_y h'_i + b_y$ of the state
            evolved to each observation time *before* reading it (a prediction of
            $x_i$ from the past); else no readout.
        device, dtype: of the parameters.

    ``forward(x, times, h0=None)`` -> ``(h, h_pre)``: h (B, T, H) the states after
    each update, h_pre (B, T, H) the evolved states just before. ``predict(x, times)``
    applies the readout to h_pre. ``evolve(h, dt)`` runs the ODE alone.

    Example::

        >>> model = ODERNN(1, 8)
        >>> times = torch.tensor([[0.0, 0.3, 1.2]])
        >>> h, h_pre = model(torch.randn(1, 3, 1), times)
        >>> h.shape
        torch.Size([1, 3, 8])

    Paper: Rubanova, Chen & Duvenaud (2019), arXiv:1907.03907. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        ode_hidden_size: int = 32,
        ode_steps: int = 4,
        output_size: int | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.ode_steps = check_size("ode_steps", ode_steps)
        factory = {"device": device, "dtype": dtype}
        self.cell = GRUCell(input_size, hidden_size, **factory)
        # $$f_\theta(h) = W_2 \tanh(W_1 h + b_1) + b_2$$
        self.ode_func = nn.Sequential(
            nn.Linear(hidden_size, check_size("ode_hidden_size", ode_hidden_size), **factory),
            nn.Tanh(),
            nn.Linear(ode_hidden_size, hidden_size, **factory),
        )
        self.readout = None if output_size is None else nn.Linear(hidden_size, check_size("output_size", output_size), **factory)

    def evolve(self, h: Tensor, dt: Tensor) -> Tensor:
        r"""$h(t + \Delta t)$ from $h(t)$: RK4 on $f_\theta$; h (B, H), dt (B,) >= 0."""
        return rk4(self.ode_func, h, dt, self.ode_steps)

    def _check(self, x: Tensor, times: Tensor, h0: Tensor | None) -> None:
        check_sequence("ODERNN", x, self.input_size, None)
        if not isinstance(times, Tensor) or tuple(times.shape) != tuple(x.shape[:2]):
            shape = tuple(times.shape) if isinstance(times, Tensor) else type(times).__name__
            raise ValueError(f"ODERNN expects times of shape {tuple(x.shape[:2])}, got {shape}")
        if bool((times[:, 1:] < times[:, :-1]).any()):
            raise ValueError("observation times must be non-decreasing along each sequence")
        if h0 is not None and (not isinstance(h0, Tensor) or tuple(h0.shape) != (x.size(0), self.hidden_size)):
            raise ValueError(f"ODERNN expects h0 of shape {(x.size(0), self.hidden_size)}")

    def forward(self, x: Tensor, times: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self._check(x, times, h0)
        B = x.size(0)
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0
        t_prev = times[:, 0]  # t_0 = t_1
        states, evolved = [], []
        for x_i, t_i in zip(x.unbind(1), times.unbind(1), strict=True):
            # $$h'_i = \operatorname{ODESolve}(f_\theta, h_{i-1}, (t_{i-1}, t_i))$$
            h_pre = self.evolve(h, t_i - t_prev)
            # $$h_i = \operatorname{GRUCell}(x_i, h'_i)$$
            h, _ = self.cell.step(x_i, h_pre)
            states.append(h)
            evolved.append(h_pre)
            t_prev = t_i
        return torch.stack(states, 1), torch.stack(evolved, 1)

    def predict(self, x: Tensor, times: Tensor, h0: Tensor | None = None) -> Tensor:
        r"""$y_i = W_y h'_i + b_y$: each observation predicted from the state evolved to its time, (B, T, O)."""
        if self.readout is None:
            raise ValueError("this ODERNN has no readout; pass output_size")
        return self.readout(self(x, times, h0)[1])


def irregular_sinusoids(generator: torch.Generator, batch_size: int, length: int = 12) -> tuple[Tensor, Tensor]:
    r"""$x(t) = \sin(\omega t + \varphi)$, $\omega \sim \mathcal U[1, 2]$, sampled at irregular times.

    Gaps between observations are uniform in [0.05, 0.65]; times start at 0.
    Returns x (B, T, 1) and times (B, T).
    """
    check_size("batch_size", batch_size)
    check_size("length", length)
    times = torch.cumsum(torch.rand(batch_size, length, generator=generator) * 0.6 + 0.05, 1)
    times = times - times[:, :1]
    omega = 1.0 + torch.rand(batch_size, 1, generator=generator)
    phase = 2 * torch.pi * torch.rand(batch_size, 1, generator=generator)
    return torch.sin(omega * times + phase).unsqueeze(-1), times
