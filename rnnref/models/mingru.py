r"""minGRU: a GRU whose gate and candidate depend only on the current input.

Feng et al. (2024) strip the GRU down until its state update is *linear* in the
previous state: the update gate $z_t$ and the candidate $\tilde h_t$ no longer read
$h_{t-1}$, the reset gate is gone, and so is the tanh on the candidate:

$$
\begin{aligned}
z_t &= \sigma(W_z x_t + b_z) \\
\tilde h_t &= W_h x_t + b_h \\
h_t &= (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t
\end{aligned}
$$

This is $h_t = a_t \odot h_{t-1} + b_t$ with $a_t = 1 - z_t$ and
$b_t = z_t \odot \tilde h_t$, both computable for all $t$ at once, so training runs
as a parallel scan (`rnnref.models._scan`) instead of a loop over time; at
inference the same model can still run one step at a time in constant memory.
Note the roles of $z$: here $z_t = 1$ *replaces* the state (the paper's
convention), the opposite of $z$ in ``torch.nn.GRU``.

With ``log_space=True`` the model is the paper's log-space variant: the candidate
goes through $g(x) = x + \tfrac12$ for $x \ge 0$, $\sigma(x)$ otherwise, which keeps
it positive, $\tilde h_t = g(W_h x_t + b_h)$, so the whole recurrence can be run
on logarithms with `rnnref.models._scan.log_space_scan`
($\log(1 - z_t) = -\operatorname{softplus}(k_t)$,
$\log z_t = -\operatorname{softplus}(-k_t)$ for $z_t = \sigma(k_t)$).

Three ways to run the same model, tested equal (``mode`` of `MinGRU.forward`):
``"loop"`` (`MinGRU.step` at every step, the readable reference), ``"scan"``
(`rnnref.models._scan.parallel_scan`, the default) and ``"log"`` (the log-space
scan; only with ``log_space=True`` and a positive or absent $h_0$).

| symbol               | parameter   | shape   |
|----------------------|-------------|---------|
| $W_z, W_h$ stacked   | `weight_ih` | (2H, I) |
| $b_z, b_h$ stacked   | `bias_ih`   | (2H,)   |

Shapes are batch-first: x (B, T, I), h (B, T, H), $h_0$ (B, H). Shape letters as
in `rnnref.models._recurrent`.

Reference: Leo Feng, Frederick Tung, Mohamed Osama Ahmed, Yoshua Bengio and
Hossein Hajimirsadeghi (2024), "Were RNNs All We Needed?", arXiv:2410.01201.

Term: https://w3id.org/rnnref/term/mingru
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_sequence, check_size
from rnnref.models._scan import log_space_scan, parallel_scan

TERM_IRI = "https://w3id.org/rnnref/term/mingru"

MODES = ("scan", "loop", "log")


def g(x: Tensor) -> Tensor:
    r"""$g(x) = x + \tfrac12$ for $x \ge 0$, $\sigma(x)$ otherwise: positive, continuous, increasing."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    r"""$\log g(x)$, computed without forming $g(x)$ for very negative $x$."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class ScanRNN(nn.Module):
    """What minGRU and minLSTM share: input checks, the three modes, the cell protocol.

    A subclass sets ``input_size``, ``hidden_size``, ``log_space``, ``weight_ih``
    (kH, I), ``bias_ih`` and implements `step`, `coefficients` and
    `log_coefficients`.
    """

    input_size: int
    hidden_size: int
    output_size: int
    log_space: bool

    def _init_weights(self, rows: int, bias: bool, device, dtype) -> None:
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(rows * self.hidden_size, self.input_size, **factory))
        if check_flag("bias", bias):
            self.bias_ih = nn.Parameter(torch.empty(rows * self.hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""$\mathcal{U}(-1/\sqrt{I}, 1/\sqrt{I})$ for every parameter (the default of ``nn.Linear``)."""
        bound = 1.0 / math.sqrt(self.input_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$h_0 = 0$, (B, H)."""
        w = self.weight_ih
        return torch.zeros(
            batch_size,
            self.hidden_size,
            dtype=w.dtype if dtype is None else dtype,
            device=w.device if device is None else device,
        )

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """$(a_t, b_t)$ of $h_t = a_t h_{t-1} + b_t$ for every step, each (B, T, H)."""
        raise NotImplementedError

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""$(\log a_t, \log b_t)$, each (B, T, H); only for ``log_space=True``."""
        raise NotImplementedError

    def _check_input(self, x: Tensor, h0: Tensor | None) -> None:
        name = type(self).__name__
        check_sequence(name, x, self.input_size, self.weight_ih.dtype)
        if h0 is not None:
            expected = (x.size(0), self.hidden_size)
            if not isinstance(h0, Tensor) or tuple(h0.shape) != expected:
                got = tuple(h0.shape) if isinstance(h0, Tensor) else type(h0).__name__
                raise ValueError(f"{name} expects h0 of shape {expected}, got {got}")

    def forward(self, x: Tensor, h0: Tensor | None = None, *, mode: str = "scan") -> tuple[Tensor, Tensor]:
        """Run over a sequence: x (B, T, I), h0 (B, H) or None (zeros) -> (h (B, T, H), h_T (B, H))."""
        self._check_input(x, h0)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "loop":
            h = self.init_state(x.size(0), dtype=x.dtype, device=x.device) if h0 is None else h0
            states = []
            for x_t in x.unbind(1):
                _, h = self.step(x_t, h)
                states.append(h)
            hs = torch.stack(states, 1)
        elif mode == "scan":
            a, b = self.coefficients(x)
            hs = parallel_scan(a, b, h0)
        else:
            if not self.log_space:
                raise ValueError('mode="log" needs a model built with log_space=True')
            if h0 is not None and not bool((h0 > 0).all()):
                raise ValueError('mode="log" needs a positive h0 (or None for zeros)')
            log_a, log_b = self.log_coefficients(x)
            hs = torch.exp(log_space_scan(log_a, log_b, None if h0 is None else torch.log(h0)))
        return hs, hs[:, -1]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}, log_space={self.log_space}"


class MinGRU(ScanRNN):
    r"""minGRU: $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$, gates from $x_t$ only.

    Args:
        input_size: I, features per step.
        hidden_size: H, hidden units.
        bias: if False, no $b_z$, $b_h$.
        log_space: if True, $\tilde h_t = g(W_h x_t + b_h)$ (positive) and
            ``mode="log"`` is available.
        device, dtype: where and in which dtype to create the parameters.

    Inputs: ``x, h0`` with keyword ``mode`` ("scan", "loop" or "log")
        x: (B, T, I), batch-first.
        h0: (B, H), zeros if None.

    Outputs: ``h, h_T``
        h: (B, T, H), $h_1 \dots h_T$.
        h_T: (B, H), the final state.

    Follows the cell protocol (`init_state`, `step`), so `Bidirectional` and
    `Stacked` wrap it.

    Example::

        >>> gru = MinGRU(3, 8)
        >>> h, h_T = gru(torch.randn(2, 100, 3))
        >>> h.shape
        torch.Size([2, 100, 8])

    Paper: Feng et al. (2024), arXiv:2410.01201. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        log_space: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.output_size = hidden_size
        self.log_space = check_flag("log_space", log_space)
        self._init_weights(2, bias, device, dtype)  # W_z, W_h stacked

    def _candidate(self, k_h: Tensor) -> Tensor:
        return g(k_h) if self.log_space else k_h

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = F.linear(x_t, self.weight_ih, self.bias_ih).chunk(2, dim=-1)
        # $$z_t = \sigma(W_z x_t + b_z)$$
        z_t = torch.sigmoid(k_z)
        # $$\tilde h_t = W_h x_t + b_h$$ (or $g(\cdot)$ of it in log-space mode)
        candidate = self._candidate(k_h)
        # $$h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$$
        h_t = (1 - z_t) * h + z_t * candidate
        return h_t, h_t

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = F.linear(x, self.weight_ih, self.bias_ih).chunk(2, dim=-1)  # (B, T, H) each
        z = torch.sigmoid(k_z)
        return 1 - z, z * self._candidate(k_h)

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = F.linear(x, self.weight_ih, self.bias_ih).chunk(2, dim=-1)
        # $$\log(1 - z_t) = -\operatorname{softplus}(k_t), \quad \log z_t = -\operatorname{softplus}(-k_t)$$
        return -F.softplus(k_z), -F.softplus(-k_z) + log_g(k_h)
