r"""Linear time-invariant state-space model, discretised by zero-order hold.

A state-space model maps an input signal $u$ to an output $y$ through a hidden
state $x$ that evolves by a linear differential equation:

$$x'(t) = A x(t) + B u(t), \qquad y(t) = C x(t) + D u(t).$$

Sampled at step $\Delta$ with the input held constant over each step (zero-order
hold, ZOH), it becomes an exact linear recurrence:

$$
\begin{aligned}
\bar A &= e^{\Delta A}, \qquad \bar B = \Big(\int_0^{\Delta} e^{s A}\, ds\Big) B = A^{-1}(e^{\Delta A} - I) B \\
x_k &= \bar A x_{k-1} + \bar B u_k \\
y_k &= C x_k + D u_k
\end{aligned}
$$

($\bar A$ and $\bar B$ are read off one matrix exponential,
$\exp\big(\Delta \left[\begin{smallmatrix} A & B \\ 0 & 0 \end{smallmatrix}\right]\big)
= \left[\begin{smallmatrix} \bar A & \bar B \\ 0 & I \end{smallmatrix}\right]$,
which also holds when $A$ is singular.) Because the recurrence is linear and
time-invariant, unrolling it from $x_0$ gives a convolution:

$$y_k = C \bar A^{k} x_0 + \sum_{j=0}^{k-1} K_j\, u_{k-j} + D u_k, \qquad
K = (C \bar B,\; C \bar A \bar B,\; C \bar A^2 \bar B,\; \dots)$$

so the same model runs in two modes, tested equal: *recurrent* (one step at a time,
constant memory, for streaming) and *convolutional* (the kernel $K$ once, then one
FFT convolution for the whole sequence, for training). This dual view is what
the structured state-space models (S4 and successors) build on; here $A$ is a
dense, unstructured matrix, which is fine for small state sizes.

| symbol    | parameter | shape  |
|-----------|-----------|--------|
| $A$       | `A`       | (N, N) |
| $B$       | `B`       | (N, I) |
| $C$       | `C`       | (O, N) |
| $D$       | `D`       | (O, I) |
| $\log \Delta$ | `log_dt` | ()   |

N state size, I input size, O output size. Signals are batch-first: u (B, T, I),
y (B, T, O), state x (B, N).

References: Rudolf E. Kálmán (1960), "A New Approach to Linear Filtering and
Prediction Problems", Journal of Basic Engineering 82(1): 35–45 (the state-space
form); Albert Gu, Karan Goel and Christopher Ré (2022), "Efficiently Modeling Long
Sequences with Structured State Spaces", ICLR 2022 (the recurrent/convolutional
view in deep learning).

Term: https://w3id.org/rnnref/term/state-space-model
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/state-space-model"

MODES = ("recurrent", "convolution")


class StateSpaceModel(nn.Module):
    r"""$x_k = \bar A x_{k-1} + \bar B u_k$, $y_k = C x_k + D u_k$, with ZOH $(\bar A, \bar B)$ from $(A, B, \Delta)$.

    Args:
        input_size: I, input channels.
        state_size: N, state dimension.
        output_size: O, output channels (default 1).
        dt: the initial step $\Delta > 0$ (a parameter, stored as $\log \Delta$).
        device, dtype: where and in which dtype to create the parameters.

    Inputs: ``u, x0`` with keyword ``mode`` ("recurrent" or "convolution")
        u: (B, T, I), batch-first.
        x0: (B, N) initial state, zeros if None.

    Output: y (B, T, O). `recurrent` also returns the states.

    $A$ starts as a random stable matrix (eigenvalues with real part in about
    $[-2.5, -0.5]$), $B$, $C$ Gaussian, $D = 0$.

    Example::

        >>> ssm = StateSpaceModel(1, 4)
        >>> u = torch.randn(2, 50, 1)
        >>> torch.allclose(ssm(u), ssm(u, mode="convolution"), atol=1e-5)
        True

    Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        state_size: int,
        output_size: int = 1,
        dt: float = 0.1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.state_size = self.hidden_size = check_size("state_size", state_size)
        self.output_size = check_size("output_size", output_size)
        if not (isinstance(dt, (int, float)) and dt > 0 and math.isfinite(dt)):
            raise ValueError(f"dt must be a positive number, got {dt!r}")
        factory = {"device": device, "dtype": dtype}
        N, I, O = state_size, input_size, output_size
        self.A = nn.Parameter(torch.empty(N, N, **factory))
        self.B = nn.Parameter(torch.empty(N, I, **factory))
        self.C = nn.Parameter(torch.empty(O, N, **factory))
        self.D = nn.Parameter(torch.empty(O, I, **factory))
        self.log_dt = nn.Parameter(torch.tensor(math.log(dt), **factory))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        N = self.state_size
        # A random matrix scaled to spectral radius about 1, shifted left: stable.
        self.A.copy_(torch.randn(N, N) / math.sqrt(N) - 1.5 * torch.eye(N))
        self.B.normal_(0, 1)
        self.C.normal_(0, 1 / math.sqrt(N))
        self.D.zero_()

    def discretize(self) -> tuple[Tensor, Tensor]:
        r"""$(\bar A, \bar B)$ by zero-order hold: the blocks of $\exp(\Delta [A, B; 0, 0])$."""
        N, I = self.state_size, self.input_size
        top = torch.cat([self.A, self.B], dim=1)  # (N, N + I)
        block = torch.cat([top, torch.zeros(I, N + I, dtype=top.dtype, device=top.device)], dim=0)
        # $$\exp(\Delta M) = [\bar A, \bar B; 0, I]$$
        exp = torch.linalg.matrix_exp(torch.exp(self.log_dt) * block)
        return exp[:N, :N], exp[:N, N:]

    def kernel(self, length: int) -> Tensor:
        r"""$K_j = C \bar A^j \bar B$ for $j = 0 \dots T-1$, (T, O, I)."""
        A_bar, B_bar = self.discretize()
        terms = []
        power_B = B_bar  # \bar A^j \bar B, (N, I)
        for _ in range(check_size("length", length)):
            terms.append(self.C @ power_B)
            power_B = A_bar @ power_B
        return torch.stack(terms)

    def _check(self, u: Tensor, x0: Tensor | None) -> None:
        name = type(self).__name__
        if not isinstance(u, Tensor) or u.dim() != 3 or u.size(-1) != self.input_size:
            shape = tuple(u.shape) if isinstance(u, Tensor) else type(u).__name__
            raise ValueError(f"{name} expects u of shape (B, T, {self.input_size}), got {shape}")
        if u.size(1) == 0:
            raise ValueError(f"{name} expects at least one time step, got a sequence of length 0")
        if u.dtype != self.A.dtype:
            raise ValueError(f"{name} input dtype {u.dtype} does not match the parameters' dtype {self.A.dtype}")
        if x0 is not None and (not isinstance(x0, Tensor) or tuple(x0.shape) != (u.size(0), self.state_size)):
            got = tuple(x0.shape) if isinstance(x0, Tensor) else type(x0).__name__
            raise ValueError(f"{name} expects x0 of shape {(u.size(0), self.state_size)}, got {got}")

    def recurrent(self, u: Tensor, x0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Recurrent mode, one step at a time: u (B, T, I) -> (y (B, T, O), states x_1..x_T (B, T, N))."""
        self._check(u, x0)
        A_bar, B_bar = self.discretize()
        x = u.new_zeros(u.size(0), self.state_size) if x0 is None else x0
        outputs, states = [], []
        for u_k in u.unbind(1):
            # $$x_k = \bar A x_{k-1} + \bar B u_k$$
            x = x @ A_bar.T + u_k @ B_bar.T
            # $$y_k = C x_k + D u_k$$
            outputs.append(x @ self.C.T + u_k @ self.D.T)
            states.append(x)
        return torch.stack(outputs, 1), torch.stack(states, 1)

    def convolution(self, u: Tensor, x0: Tensor | None = None) -> Tensor:
        r"""Convolutional mode: $y = K * u + D u$ (+ $C \bar A^k x_0$), by FFT; u (B, T, I) -> y (B, T, O)."""
        self._check(u, x0)
        T = u.size(1)
        K = self.kernel(T)  # (T, O, I)
        n = 2 * T  # zero padding: a linear, not circular, convolution
        U = torch.fft.rfft(u, n=n, dim=1)  # (B, F, I)
        Kf = torch.fft.rfft(K, n=n, dim=0)  # (F, O, I)
        # $$y_k = \sum_j K_j u_{k-j} + D u_k$$
        y = torch.fft.irfft(torch.einsum("bfi,foi->bfo", U, Kf), n=n, dim=1)[:, :T] + u @ self.D.T
        if x0 is not None:
            A_bar, _ = self.discretize()
            free = []  # C \bar A^k x_0 for k = 1..T: the response to the initial state
            x = x0
            for _ in range(T):
                x = x @ A_bar.T
                free.append(x @ self.C.T)
            y = y + torch.stack(free, 1)
        return y

    def forward(self, u: Tensor, x0: Tensor | None = None, *, mode: str = "recurrent") -> Tensor:
        """y (B, T, O) in the chosen mode ("recurrent" or "convolution")."""
        if mode == "recurrent":
            return self.recurrent(u, x0)[0]
        if mode == "convolution":
            return self.convolution(u, x0)
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.state_size}, {self.output_size}, dt={math.exp(self.log_dt.item()):.4g}"
