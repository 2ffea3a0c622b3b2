r"""Linear recurrent network with a diagonal state matrix: the linear recurrent unit (LRU).

A linear RNN drops the nonlinearity from the state update. With a diagonal state
matrix every state unit is an independent first-order filter of the input, and the
output mixes them linearly:

$$
\begin{aligned}
\lambda_j &= \exp(-\exp(\nu_j) + i \exp(\theta_j)) \\
h_t &= \lambda \odot h_{t-1} + \gamma \odot (B x_t) \\
y_t &= \operatorname{Re}(C h_t) + D x_t
\end{aligned}
$$

This is the parameterisation of Orvieto et al. (2023): complex eigenvalues
$\lambda_j$ kept inside the unit disc by construction ($|\lambda_j| =
e^{-e^{\nu_j}} < 1$, so the recurrence is stable for any parameter values),
complex $B$ and $C$, and a normalisation $\gamma_j = \exp(\gamma^{\log}_j)$
initialised to $\sqrt{1 - |\lambda_j|^2}$ so that the state's scale does not blow
up as $|\lambda_j| \to 1$. Eigenvalues are initialised uniformly on the ring
$r_{\min} \le |\lambda| \le r_{\max}$ with phase in $[0, \theta_{\max}]$. With
``complex=False`` the eigenvalues are real, $\lambda_j = \exp(-\exp(\nu_j))
\in (0, 1)$, and $B$, $C$ are real (a real diagonal linear RNN, no oscillating
modes).

Because $h_t$ is linear in $h_{t-1}$ with input-independent coefficients, the
whole sequence is computed by a parallel scan (`rnnref.models._scan`), tested
equal to the step-by-step loop (``mode="loop"``). The LRU paper stacks such
layers with nonlinear position-wise MLPs in between; this module is the
recurrence layer itself.

| symbol                  | parameter                 | shape  |
|-------------------------|---------------------------|--------|
| $\nu$                   | `nu_log`                  | (N,)   |
| $\theta$                | `theta_log` (complex)     | (N,)   |
| $\log \gamma$           | `gamma_log`               | (N,)   |
| $B$ (real, imaginary)   | `B_re`, `B_im` (complex)  | (N, I) |
| $C$ (real, imaginary)   | `C_re`, `C_im` (complex)  | (O, N) |
| $D$                     | `D`                       | (O, I) |

N is the state size (``state_size``, the cell protocol's ``hidden_size``), O the
output size. Shapes are batch-first: x (B, T, I), y (B, T, O), $h$ (B, N),
complex when ``complex=True``.

Reference: Antonio Orvieto, Samuel L. Smith, Albert Gu, Anushan Fernando, Caglar
Gulcehre, Razvan Pascanu and Soham De (2023), "Resurrecting Recurrent Neural
Networks for Long Sequences", arXiv:2303.06349.

Term: https://w3id.org/rnnref/term/linear-rnn
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_flag, check_sequence, check_size
from rnnref.models._scan import parallel_scan

TERM_IRI = "https://w3id.org/rnnref/term/linear-rnn"

_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}


class LinearRNN(nn.Module):
    r"""Diagonal linear recurrence: $h_t = \lambda \odot h_{t-1} + \gamma \odot (B x_t)$, $y_t = \operatorname{Re}(C h_t) + D x_t$.

    Args:
        input_size: I, features per step.
        state_size: N, diagonal state units.
        output_size: O, outputs per step; defaults to I.
        complex: complex eigenvalues, $B$ and $C$ (the LRU); False for real ones.
        r_min, r_max: the ring $r_{\min} \le |\lambda| \le r_{\max}$ of the initial
            eigenvalues, $0 \le r_{\min} < r_{\max} < 1$.
        max_phase: initial phases are uniform in $[0, \theta_{\max}]$ (complex only).
        device, dtype: real dtype of the parameters (the state is complex of the
            matching precision when ``complex=True``).

    Inputs: ``x, h0`` with keyword ``mode`` ("scan" or "loop")
        x: (B, T, I), batch-first.
        h0: (B, N), zeros if None.

    Outputs: ``y, h_T``: (B, T, O) real, and the final state (B, N).

    Follows the cell protocol (`init_state`, `step` with output $y_t$).

    Example::

        >>> lru = LinearRNN(2, 16, 1)
        >>> y, h_T = lru(torch.randn(4, 100, 2))
        >>> y.shape, h_T.dtype
        (torch.Size([4, 100, 1]), torch.complex64)

    Paper: Orvieto et al. (2023), arXiv:2303.06349. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        state_size: int,
        output_size: int | None = None,
        complex: bool = True,
        r_min: float = 0.0,
        r_max: float = 1.0,
        max_phase: float = 2 * math.pi,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = self.state_size = check_size("state_size", state_size)
        self.output_size = input_size if output_size is None else check_size("output_size", output_size)
        self.complex = check_flag("complex", complex)
        if not 0 <= r_min < r_max <= 1:
            raise ValueError(f"need 0 <= r_min < r_max <= 1, got r_min={r_min}, r_max={r_max}")
        if not max_phase > 0:
            raise ValueError(f"max_phase must be positive, got {max_phase}")
        self.r_min, self.r_max, self.max_phase = float(r_min), float(r_max), float(max_phase)
        factory = {"device": device, "dtype": dtype}
        N, I, O = state_size, input_size, self.output_size
        self.nu_log = nn.Parameter(torch.empty(N, **factory))
        self.gamma_log = nn.Parameter(torch.empty(N, **factory))
        self.B_re = nn.Parameter(torch.empty(N, I, **factory))
        self.C_re = nn.Parameter(torch.empty(O, N, **factory))
        if self.complex:
            self.theta_log = nn.Parameter(torch.empty(N, **factory))
            self.B_im = nn.Parameter(torch.empty(N, I, **factory))
            self.C_im = nn.Parameter(torch.empty(O, N, **factory))
        else:
            self.register_parameter("theta_log", None)
            self.register_parameter("B_im", None)
            self.register_parameter("C_im", None)
        self.D = nn.Parameter(torch.empty(O, I, **factory))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """The LRU initialisation: eigenvalues uniform on the ring, $\\gamma = \\sqrt{1 - |\\lambda|^2}$."""
        N, I = self.state_size, self.input_size
        u1, u2 = torch.rand(N, dtype=torch.float64), torch.rand(N, dtype=torch.float64)
        # |lambda|^2 uniform in [r_min^2, r_max^2]; nu = -log|lambda|, kept as log(nu).
        radius_sq = (u1 * (self.r_max**2 - self.r_min**2) + self.r_min**2).clamp(max=1 - 1e-6, min=1e-12)
        self.nu_log.copy_(torch.log(-0.5 * torch.log(radius_sq)))
        self.gamma_log.copy_(0.5 * torch.log(1 - radius_sq))
        scale = 2 if self.complex else 1
        self.B_re.normal_(0, 1 / math.sqrt(scale * I))
        self.C_re.normal_(0, 1 / math.sqrt(N))
        if self.complex:
            self.theta_log.copy_(torch.log(self.max_phase * u2.clamp(min=1e-12)))
            self.B_im.normal_(0, 1 / math.sqrt(scale * I))
            self.C_im.normal_(0, 1 / math.sqrt(N))
        self.D.normal_(0, 1)

    # -- the parameters as the equations use them --------------------------------------

    def eigenvalues(self) -> Tensor:
        r"""$\lambda = \exp(-\exp(\nu) + i \exp(\theta))$ (or $\exp(-\exp(\nu))$), (N,)."""
        if self.complex:
            return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))
        return torch.exp(-torch.exp(self.nu_log))

    def _B(self) -> Tensor:
        return torch.complex(self.B_re, self.B_im) if self.complex else self.B_re

    def _C(self) -> Tensor:
        return torch.complex(self.C_re, self.C_im) if self.complex else self.C_re

    def _input(self, x: Tensor) -> Tensor:
        r"""$\gamma \odot (B x)$ over the last axis: (..., I) -> (..., N)."""
        B = self._B()
        x = x.to(B.dtype)
        return torch.exp(self.gamma_log) * (x @ B.transpose(0, 1))

    def _output(self, h: Tensor, x: Tensor) -> Tensor:
        r"""$\operatorname{Re}(C h) + D x$: (..., N), (..., I) -> (..., O)."""
        Ch = h @ self._C().transpose(0, 1)
        return (Ch.real if self.complex else Ch) + x @ self.D.transpose(0, 1)

    # -- the cell protocol ------------------------------------------------------------

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$h_0 = 0$, (B, N); complex if the model is."""
        real = self.nu_log.dtype if dtype is None else dtype
        return torch.zeros(
            batch_size,
            self.state_size,
            dtype=_COMPLEX.get(real, real) if self.complex else real,
            device=self.nu_log.device if device is None else device,
        )

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        # $$h_t = \lambda \odot h_{t-1} + \gamma \odot (B x_t)$$
        h_t = self.eigenvalues() * h + self._input(x_t)
        # $$y_t = \operatorname{Re}(C h_t) + D x_t$$
        return self._output(h_t, x_t), h_t

    def forward(self, x: Tensor, h0: Tensor | None = None, *, mode: str = "scan") -> tuple[Tensor, Tensor]:
        """x (B, T, I), h0 (B, N) or None -> (y (B, T, O), h_T (B, N))."""
        name = type(self).__name__
        check_sequence(name, x, self.input_size, self.nu_log.dtype)
        zero = self.init_state(x.size(0), dtype=x.dtype, device=x.device)
        if h0 is not None and (not isinstance(h0, Tensor) or h0.shape != zero.shape or h0.dtype != zero.dtype):
            got = (tuple(h0.shape), h0.dtype) if isinstance(h0, Tensor) else type(h0).__name__
            raise ValueError(f"{name} expects h0 of shape {tuple(zero.shape)} and dtype {zero.dtype}, got {got}")
        if mode == "loop":
            h = zero if h0 is None else h0
            outputs, states = [], []
            for x_t in x.unbind(1):
                y_t, h = self.step(x_t, h)
                outputs.append(y_t)
                states.append(h)
            return torch.stack(outputs, 1), h
        if mode != "scan":
            raise ValueError(f"mode must be 'scan' or 'loop', got {mode!r}")
        b = self._input(x)  # (B, T, N): gamma * (B x_t) for every t at once
        a = self.eigenvalues().expand_as(b)
        h = parallel_scan(a, b, h0)
        return self._output(h, x), h[:, -1]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.state_size}, {self.output_size}, complex={self.complex}"
