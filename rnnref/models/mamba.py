r"""Mamba: a selective state-space model and the block built around it.

A linear time-invariant SSM (`rnnref.models.ssm`) treats every input the same way,
so it cannot decide *what* to remember. Mamba makes the step size $\Delta$ and the
matrices $B$ and $C$ functions of the current input, so each token can open
(large $\Delta_t$: reset to the new input) or close (small $\Delta_t$: keep the
state) the memory. Per channel $d$ of the input $u$ (D channels) the state has
$N$ units, with a diagonal, input-independent $A = -\exp(A^{\log})$:

$$
\begin{aligned}
\Delta_t &= \operatorname{softplus}(W_\Delta\, (W_r u_t) + b_\Delta) \\
B_t &= W_B u_t, \qquad C_t = W_C u_t \\
\bar A_t &= \exp(\Delta_t A), \qquad \bar B_t = (\Delta_t A)^{-1}(\exp(\Delta_t A) - I)\, \Delta_t B_t \\
h_t &= \bar A_t \odot h_{t-1} + \bar B_t\, u_t \\
y_t &= C_t\, h_t + D \odot u_t
\end{aligned}
$$

($\Delta_t$ is (D,), $B_t$ and $C_t$ are (N,), shared by the channels;
$\bar A_t$ and $h_t$ are (D, N); $W_r$ is a low-rank bottleneck of rank R.) This
is the zero-order hold of the paper's equation (4) for both $\bar A$ and
$\bar B$; the authors' released code simplifies $\bar B_t \approx \Delta_t B_t$,
available here as ``b_discretization="euler"``. Since $A$ is diagonal, the
inverse is elementwise: $\bar B_t = \operatorname{expm1}(\Delta_t A) / A \cdot B_t$.

The state update is linear in $h_{t-1}$, so `selective_scan` runs it either as a
readable loop (``mode="loop"``) or as a parallel scan over time
(``mode="scan"``, `rnnref.models._scan.parallel_scan`), tested equal.

**The block** (`Mamba`), for an input sequence $x$ of width $M$ (``d_model``),
with inner width $D = \text{expand} \cdot M$:

$$
\begin{aligned}
[u; z] &= W_{\text{in}} x \\
u &\leftarrow \operatorname{SiLU}(\operatorname{conv1d}_{\text{causal, depthwise}}(u)) \\
y &= \operatorname{SSM}_{\text{selective}}(u) \odot \operatorname{SiLU}(z) \\
\text{out} &= W_{\text{out}}\, y
\end{aligned}
$$

Every operation is causal (the convolution is padded on the left only), so the
output at $t$ depends on $x_1 \dots x_t$ alone; the tests check this by
perturbing future inputs.

| symbol                 | parameter          | shape              |
|------------------------|--------------------|--------------------|
| $W_{\text{in}}$        | `in_proj.weight`   | (2D, M)            |
| conv kernel, bias      | `conv1d.weight`, `conv1d.bias` | (D, 1, K), (D,) |
| $W_r, W_B, W_C$ stacked | `x_proj.weight`   | (R + 2N, D)        |
| $W_\Delta, b_\Delta$   | `dt_proj.weight`, `dt_proj.bias` | (D, R), (D,) |
| $A^{\log}$             | `A_log`            | (D, N)             |
| $D$ (skip)             | `D`                | (D,)               |
| $W_{\text{out}}$       | `out_proj.weight`  | (M, D)             |

Signals are batch-first: x (B, T, M). Initialisation as in the paper's code:
$A^{\log}_{d,n} = \log n$ (S4D-real), $D = 1$, $b_\Delta$ such that the initial
$\Delta$ is log-uniform in $[\Delta_{\min}, \Delta_{\max}]$.

Reference: Albert Gu and Tri Dao (2023), "Mamba: Linear-Time Sequence Modeling
with Selective State Spaces", arXiv:2312.00752.

Term: https://w3id.org/rnnref/term/mamba
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_sequence, check_size
from rnnref.models._scan import parallel_scan

TERM_IRI = "https://w3id.org/rnnref/term/mamba"

DISCRETIZATIONS = ("zoh", "euler")


def selective_scan(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    h0: Tensor | None = None,
    *,
    mode: str = "scan",
    b_discretization: str = "zoh",
) -> tuple[Tensor, Tensor]:
    r"""The selective SSM: $h_t = \bar A_t \odot h_{t-1} + \bar B_t u_t$, $y_t = C_t h_t + D \odot u_t$.

    Args:
        u: (B, T, D) inputs, D channels.
        delta: (B, T, D) step sizes $\Delta_t > 0$.
        A: (D, N) diagonal state matrix (negative entries for a decaying state).
        B: (B, T, N) input matrices $B_t$.
        C: (B, T, N) output matrices $C_t$.
        D: (D,) skip connection, or None.
        h0: (B, D, N) initial state, zeros if None.
        mode: "scan" (parallel scan) or "loop" (one step at a time).
        b_discretization: "zoh" (exact, $\bar B = \operatorname{expm1}(\Delta A)/A \cdot B$)
            or "euler" ($\bar B = \Delta B$, as the paper's released code).

    Returns:
        ``(y, h_T)``: y (B, T, D) and the final state (B, D, N).
    """
    if u.dim() != 3:
        raise ValueError(f"u must be (B, T, D), got shape {tuple(u.shape)}")
    batch, T, channels = u.shape
    if delta.shape != u.shape:
        raise ValueError(f"delta must have u's shape {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.dim() != 2 or A.size(0) != channels:
        raise ValueError(f"A must be (D, N) with D = {channels}, got {tuple(A.shape)}")
    N = A.size(1)
    for name, M in (("B", B), ("C", C)):
        if tuple(M.shape) != (batch, T, N):
            raise ValueError(f"{name} must be (B, T, N) = {(batch, T, N)}, got {tuple(M.shape)}")
    if D is not None and tuple(D.shape) != (channels,):
        raise ValueError(f"D must be (D,) = ({channels},), got {tuple(D.shape)}")
    if h0 is not None and tuple(h0.shape) != (batch, channels, N):
        raise ValueError(f"h0 must be (B, D, N) = {(batch, channels, N)}, got {tuple(h0.shape)}")
    if mode not in ("scan", "loop"):
        raise ValueError(f"mode must be 'scan' or 'loop', got {mode!r}")
    if b_discretization not in DISCRETIZATIONS:
        raise ValueError(f"b_discretization must be 'zoh' or 'euler', got {b_discretization!r}")

    def discretize(delta_t: Tensor, B_t: Tensor, u_t: Tensor) -> tuple[Tensor, Tensor]:
        """(..., D), (..., N), (..., D) -> $\\bar A$ and $\\bar B u$, each (..., D, N)."""
        dA = delta_t.unsqueeze(-1) * A  # \Delta A, (..., D, N)
        # $$\bar A = \exp(\Delta A)$$
        A_bar = torch.exp(dA)
        if b_discretization == "zoh":
            # $$\bar B = (\Delta A)^{-1}(\exp(\Delta A) - I)\, \Delta B = \operatorname{expm1}(\Delta A) / A \cdot B$$
            B_bar = torch.expm1(dA) / A * B_t.unsqueeze(-2)
        else:
            B_bar = delta_t.unsqueeze(-1) * B_t.unsqueeze(-2)
        return A_bar, B_bar * u_t.unsqueeze(-1)

    if mode == "loop":
        h = u.new_zeros(batch, channels, N) if h0 is None else h0
        outputs = []
        for t in range(T):
            A_bar, Bu = discretize(delta[:, t], B[:, t], u[:, t])
            # $$h_t = \bar A_t \odot h_{t-1} + \bar B_t u_t$$
            h = A_bar * h + Bu
            # $$y_t = C_t h_t + D \odot u_t$$
            y_t = (h * C[:, t].unsqueeze(1)).sum(-1)
            outputs.append(y_t if D is None else y_t + D * u[:, t])
        return torch.stack(outputs, 1), h
    A_bar, Bu = discretize(delta, B, u)  # (B, T, D, N) each
    hs = parallel_scan(A_bar, Bu, h0, dim=1)
    y = torch.einsum("btdn,btn->btd", hs, C)
    if D is not None:
        y = y + D * u
    return y, hs[:, -1]


class Mamba(nn.Module):
    r"""The Mamba block: in-projection, causal depthwise conv, SiLU, selective SSM, SiLU gate, out-projection.

    Args:
        d_model: M, width of the input and output.
        d_state: N, state units per channel.
        d_conv: K, width of the causal depthwise convolution.
        expand: D = expand * M inner channels.
        dt_rank: R, rank of the $\Delta$ projection; default ceil(M / 16).
        dt_min, dt_max: range of the initial $\Delta$.
        b_discretization: "zoh" or "euler" (see `selective_scan`).
        device, dtype: where and in which dtype to create the parameters.

    Input: x (B, T, M), batch-first; keyword ``mode`` ("scan" or "loop") for the SSM.
    Output: (B, T, M).

    Example::

        >>> block = Mamba(8, d_state=4)
        >>> block(torch.randn(2, 30, 8)).shape
        torch.Size([2, 30, 8])

    Paper: Gu & Dao (2023), arXiv:2312.00752. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        b_discretization: str = "zoh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        self.d_state = check_size("d_state", d_state)
        self.d_conv = check_size("d_conv", d_conv)
        self.d_inner = check_size("expand", expand) * d_model
        self.dt_rank = math.ceil(d_model / 16) if dt_rank is None else check_size("dt_rank", dt_rank)
        if not 0 < dt_min <= dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={dt_min}, dt_max={dt_max}")
        if b_discretization not in DISCRETIZATIONS:
            raise ValueError(f"b_discretization must be 'zoh' or 'euler', got {b_discretization!r}")
        self.dt_min, self.dt_max = float(dt_min), float(dt_max)
        self.b_discretization = b_discretization
        factory = {"device": device, "dtype": dtype}
        D, N, R = self.d_inner, d_state, self.dt_rank
        self.in_proj = nn.Linear(d_model, 2 * D, bias=False, **factory)
        self.conv1d = nn.Conv1d(D, D, d_conv, groups=D, padding=d_conv - 1, **factory)
        self.x_proj = nn.Linear(D, R + 2 * N, bias=False, **factory)
        self.dt_proj = nn.Linear(R, D, bias=True, **factory)
        self.A_log = nn.Parameter(torch.empty(D, N, **factory))
        self.D = nn.Parameter(torch.empty(D, **factory))
        self.out_proj = nn.Linear(D, d_model, bias=False, **factory)
        self.reset_ssm_parameters()

    @torch.no_grad()
    def reset_ssm_parameters(self) -> None:
        """$A^{\\log}_{d,n} = \\log n$, $D = 1$, initial $\\Delta$ log-uniform in [dt_min, dt_max]."""
        n = torch.arange(1, self.d_state + 1, dtype=torch.float64)
        self.A_log.copy_(torch.log(n).expand(self.d_inner, -1))
        self.D.fill_(1.0)
        log_lo, log_hi = math.log(self.dt_min), math.log(self.dt_max)
        dt = torch.exp(torch.rand(self.d_inner, dtype=torch.float64) * (log_hi - log_lo) + log_lo)
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^{-1}(dt)

    def ssm_inputs(self, u: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        r"""$(\Delta_t, A, B_t, C_t)$ from the conv output u (B, T, D)."""
        r, B, C = self.x_proj(u).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        # $$\Delta_t = \operatorname{softplus}(W_\Delta (W_r u_t) + b_\Delta)$$
        delta = F.softplus(self.dt_proj(r))
        return delta, -torch.exp(self.A_log), B, C

    def forward(self, x: Tensor, *, mode: str = "scan") -> Tensor:
        check_sequence("Mamba", x, self.d_model, self.A_log.dtype)
        T = x.size(1)
        # $$[u; z] = W_{\text{in}} x$$
        u, z = self.in_proj(x).chunk(2, dim=-1)  # (B, T, D) each
        # Causal depthwise convolution: padded K-1 on both sides, keep the first T outputs.
        u = self.conv1d(u.transpose(1, 2))[..., :T].transpose(1, 2)
        u = F.silu(u)
        delta, A, B, C = self.ssm_inputs(u)
        y, _ = selective_scan(u, delta, A, B, C, self.D, mode=mode, b_discretization=self.b_discretization)
        # $$\text{out} = W_{\text{out}} (y \odot \operatorname{SiLU}(z))$$
        return self.out_proj(y * F.silu(z))

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, d_state={self.d_state}, d_conv={self.d_conv}, d_inner={self.d_inner}, "
            f"dt_rank={self.dt_rank}, b_discretization={self.b_discretization!r}"
        )
