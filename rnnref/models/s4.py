r"""S4 in its diagonal form (S4D): a structured state-space layer, run as a recurrence or a convolution.

A structured state-space (S4) layer applies, to each of H input channels
separately, a continuous linear time-invariant system
$x'(t) = A x(t) + B u(t)$, $y(t) = C x(t) + D u(t)$ whose state matrix is
*structured* so that its long convolution kernel is cheap to compute and so that it
starts from a HiPPO-derived matrix that remembers long histories. This module
implements the **diagonal** variant, S4D (Gu, Gupta, Goel & Ré 2022): $A$ is
diagonal with complex entries $A_n$, $n = 1 \dots N$, each paired with its complex
conjugate so the real system has 2N states and real outputs. Sampled with zero-order
hold (ZOH) at a learned step $\Delta$ per channel:

$$
\begin{aligned}
\bar A_n &= e^{\Delta A_n}, \qquad \bar B_n = \frac{e^{\Delta A_n} - 1}{A_n} B_n \\
x_{k,n} &= \bar A_n x_{k-1,n} + \bar B_n u_k \qquad (\text{recurrence}) \\
y_k &= 2 \operatorname{Re} \textstyle\sum_n C_n x_{k,n} + D u_k
\end{aligned}
$$

Unrolled from $x_0 = 0$ this is a causal convolution with the kernel given by a
Vandermonde matrix product:

$$
K_l = 2 \operatorname{Re} \sum_{n=1}^{N} C_n \bar B_n \bar A_n^{\,l}, \qquad
y_k = \sum_{l=0}^{k-1} K_l\, u_{k-l} + D u_k,
$$

i.e. $y = K * u + D u$, computed with one FFT (``mode="convolution"``, for
training) and equal to the recurrence (``mode="recurrent"``, constant memory per
step, for streaming; ``mode="scan"`` runs the same recurrence with
`rnnref.models._scan.parallel_scan`). All three are tested equal.

**Initialisation** ("HiPPO-inspired"): $A_n = -\tfrac12 + i \pi n$ (S4D-Lin) or
$A_n = -\tfrac12 + i \tfrac{N}{\pi}\big(\tfrac{N}{2n+1} - 1\big)$ (S4D-Inv), for
$n = 0 \dots N-1$; $B_n = 1$; $C_n \sim \mathcal{CN}(0, 1)$; $\log \Delta \sim
\mathcal{U}(\log 10^{-3}, \log 10^{-1})$; $D \sim \mathcal N(0, 1)$. The real part is
kept negative by storing $\log(-\operatorname{Re} A_n)$.

What is *not* here: the original S4's diagonal-plus-low-rank (DPLR) form of the
HiPPO-LegS matrix and its Cauchy-kernel algorithm; S4D is the later, simpler
member of the family that matches it in most experiments. Also left out: the
position-wise nonlinearity and mixing layer that a full S4 block puts after the
SSM (`S4D` is the sequence-mixing layer only).

| symbol                         | parameter      | shape      |
|--------------------------------|----------------|------------|
| $\log(-\operatorname{Re} A)$   | `log_A_real`   | (H, N)     |
| $\operatorname{Im} A$          | `A_imag`       | (H, N)     |
| $B$ (real and imaginary parts) | `B`            | (H, N, 2)  |
| $C$ (real and imaginary parts) | `C`            | (H, N, 2)  |
| $D$                            | `D`            | (H,)       |
| $\log \Delta$                  | `log_dt`       | (H,)       |

H channels, N complex modes per channel; u and y (B, T, H), batch-first.

References: Albert Gu, Karan Goel and Christopher Ré (2021), "Efficiently Modeling
Long Sequences with Structured State Spaces", arXiv:2111.00396 (S4); Albert Gu,
Ankit Gupta, Karan Goel and Christopher Ré (2022), "On the Parameterization and
Initialization of Diagonal State Space Models", NeurIPS 2022, arXiv:2206.11893 (S4D).

Term: https://w3id.org/rnnref/term/s4
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_size
from rnnref.models._scan import parallel_scan

TERM_IRI = "https://w3id.org/rnnref/term/s4"

INITS = ("lin", "inv")
MODES = ("convolution", "recurrent", "scan")


def s4d_eigenvalues(N: int, init: str = "lin") -> Tensor:
    r"""The S4D initial eigenvalues $A_n$, $n = 0 \dots N-1$, complex128 (N,)."""
    check_size("N", N)
    n = torch.arange(N, dtype=torch.float64)
    if init == "lin":
        # $$A_n = -\tfrac12 + i \pi n$$
        imag = math.pi * n
    elif init == "inv":
        # $$A_n = -\tfrac12 + i \tfrac{N}{\pi}(\tfrac{N}{2n+1} - 1)$$
        imag = N / math.pi * (N / (2 * n + 1) - 1)
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return torch.complex(torch.full_like(n, -0.5), imag)


class S4D(nn.Module):
    r"""Diagonal structured state-space layer: $y = K * u + D u$, $K_l = 2\operatorname{Re}\sum_n C_n \bar B_n \bar A_n^l$.

    Args:
        channels: H, independent input/output channels.
        state_size: N, complex modes per channel (2N real states).
        init: "lin" (S4D-Lin) or "inv" (S4D-Inv).
        dt_min, dt_max: range of the log-uniform initial $\Delta$.
        device, dtype: of the (real) parameters; float32 or float64.

    ``forward(u, mode="convolution")``: u (B, T, H) -> y (B, T, H).
    ``kernel(T)`` is K (H, T); ``discretize()`` gives $(\bar A, \bar B)$ (H, N) complex;
    ``step(u_k, x)`` advances the recurrence by one step.

    Example::

        >>> layer = S4D(2, 8)
        >>> u = torch.randn(3, 50, 2)
        >>> torch.allclose(layer(u), layer(u, mode="recurrent"), atol=1e-4)
        True

    Paper: Gu, Gupta, Goel & Ré (2022), arXiv:2206.11893. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        channels: int,
        state_size: int = 16,
        *,
        init: str = "lin",
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.channels = check_size("channels", channels)
        self.state_size = check_size("state_size", state_size)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if not (0 < dt_min <= dt_max):
            raise ValueError(f"need 0 < dt_min <= dt_max, got {dt_min}, {dt_max}")
        self.init, self.dt_min, self.dt_max = init, dt_min, dt_max
        factory = {"device": device, "dtype": dtype}
        H, N = channels, state_size
        self.log_A_real = nn.Parameter(torch.empty(H, N, **factory))
        self.A_imag = nn.Parameter(torch.empty(H, N, **factory))
        self.B = nn.Parameter(torch.empty(H, N, 2, **factory))
        self.C = nn.Parameter(torch.empty(H, N, 2, **factory))
        self.D = nn.Parameter(torch.empty(H, **factory))
        self.log_dt = nn.Parameter(torch.empty(H, **factory))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        A = s4d_eigenvalues(self.state_size, self.init)
        self.log_A_real.copy_(torch.log(-A.real).expand_as(self.log_A_real))
        self.A_imag.copy_(A.imag.expand_as(self.A_imag))
        self.B.copy_(torch.tensor([1.0, 0.0]).expand_as(self.B))
        self.C.normal_(0.0, math.sqrt(0.5))  # complex normal, variance 1
        self.D.normal_(0.0, 1.0)
        low, high = math.log(self.dt_min), math.log(self.dt_max)
        self.log_dt.uniform_(low, high)

    # -- parameters as complex numbers ------------------------------------------------

    def eigenvalues(self) -> Tensor:
        r"""$A_n = -e^{\text{log\_A\_real}} + i\,\text{A\_imag}$, (H, N) complex."""
        return torch.complex(-torch.exp(self.log_A_real), self.A_imag)

    def discretize(self) -> tuple[Tensor, Tensor]:
        r"""ZOH: $\bar A = e^{\Delta A}$, $\bar B = (e^{\Delta A} - 1) / A \cdot B$, each (H, N) complex."""
        A = self.eigenvalues()
        dt = torch.exp(self.log_dt)[:, None]  # (H, 1)
        # $$\bar A_n = e^{\Delta A_n}$$
        A_bar = torch.exp(dt * A)
        # $$\bar B_n = \frac{e^{\Delta A_n} - 1}{A_n} B_n$$
        B_bar = (A_bar - 1) / A * torch.view_as_complex(self.B.contiguous())
        return A_bar, B_bar

    def kernel(self, length: int) -> Tensor:
        r"""$K_l = 2 \operatorname{Re} \sum_n C_n \bar B_n \bar A_n^l$ for $l = 0 \dots T-1$, (H, T); a Vandermonde product."""
        check_size("length", length)
        A = self.eigenvalues()
        dt = torch.exp(self.log_dt)[:, None]
        _, B_bar = self.discretize()
        C = torch.view_as_complex(self.C.contiguous())
        # Vandermonde matrix $\bar A_n^l = e^{l \Delta A_n}$, (H, N, T)
        powers = torch.arange(length, device=A.device, dtype=self.log_dt.dtype)
        vandermonde = torch.exp((dt * A)[:, :, None] * powers)
        return 2 * torch.einsum("hn,hnl->hl", C * B_bar, vandermonde).real

    # -- the three modes ----------------------------------------------------------------

    def _check(self, u: Tensor) -> None:
        if not isinstance(u, Tensor) or u.dim() != 3 or u.size(-1) != self.channels:
            shape = tuple(u.shape) if isinstance(u, Tensor) else type(u).__name__
            raise ValueError(f"S4D expects u of shape (B, T, {self.channels}), got {shape}")
        if u.size(1) == 0:
            raise ValueError("S4D expects at least one time step, got a sequence of length 0")
        if u.dtype != self.D.dtype:
            raise ValueError(f"S4D input dtype {u.dtype} does not match the parameters' dtype {self.D.dtype}")

    def convolution(self, u: Tensor) -> Tensor:
        r"""$y = K * u + D u$ by FFT (zero-padded to 2T: a linear, not circular, convolution)."""
        self._check(u)
        T = u.size(1)
        K = self.kernel(T)  # (H, T)
        n = 2 * T
        U = torch.fft.rfft(u, n=n, dim=1)  # (B, F, H)
        Kf = torch.fft.rfft(K, n=n, dim=1).T  # (F, H)
        # $$y_k = \sum_{l} K_l u_{k-l} + D u_k$$
        return torch.fft.irfft(U * Kf, n=n, dim=1)[:, :T] + u * self.D

    def step(self, u_k: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""One step: u_k (B, H), x (B, H, N) complex -> (y_k (B, H), x_k)."""
        A_bar, B_bar = self.discretize()
        # $$x_{k,n} = \bar A_n x_{k-1,n} + \bar B_n u_k$$
        x = A_bar * x + B_bar * u_k[..., None]
        # $$y_k = 2 \operatorname{Re} \sum_n C_n x_{k,n} + D u_k$$
        C = torch.view_as_complex(self.C.contiguous())
        return 2 * (C * x).sum(-1).real + self.D * u_k, x

    def init_state(self, batch_size: int) -> Tensor:
        """$x_0 = 0$, (B, H, N) complex."""
        real = torch.zeros(batch_size, self.channels, self.state_size, dtype=self.D.dtype, device=self.D.device)
        return torch.complex(real, real)

    def recurrent(self, u: Tensor) -> Tensor:
        """The readable path: `step` once per time step from $x_0 = 0$."""
        self._check(u)
        x = self.init_state(u.size(0))
        outputs = []
        for u_k in u.unbind(1):
            y_k, x = self.step(u_k, x)
            outputs.append(y_k)
        return torch.stack(outputs, 1)

    def scan(self, u: Tensor) -> Tensor:
        """The recurrence by `rnnref.models._scan.parallel_scan` ($O(\\log T)$ depth)."""
        self._check(u)
        A_bar, B_bar = self.discretize()
        b = B_bar * u[..., None]  # (B, T, H, N) complex
        x = parallel_scan(A_bar.expand_as(b), b, dim=1)
        C = torch.view_as_complex(self.C.contiguous())
        return 2 * (C * x).sum(-1).real + self.D * u

    def forward(self, u: Tensor, *, mode: str = "convolution") -> Tensor:
        if mode == "convolution":
            return self.convolution(u)
        if mode == "recurrent":
            return self.recurrent(u)
        if mode == "scan":
            return self.scan(u)
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")

    def extra_repr(self) -> str:
        return f"{self.channels}, {self.state_size}, init={self.init!r}"
