r"""minLSTM: an LSTM whose gates depend only on the current input, with normalised gates.

Feng et al. (2024) simplify the LSTM in the same way as the GRU (see
`rnnref.models.mingru`): the forget gate $f_t$, the input gate $i_t$ and the
candidate $\tilde h_t$ read only $x_t$; the output gate, the tanh and the separate
cell state are dropped; and the two gates are normalised to sum to one, so the
state stays on the scale of the candidates whatever the sequence length:

$$
\begin{aligned}
f_t &= \sigma(W_f x_t + b_f) \\
i_t &= \sigma(W_i x_t + b_i) \\
f'_t &= \frac{f_t}{f_t + i_t}, \qquad i'_t = \frac{i_t}{f_t + i_t} \\
\tilde h_t &= W_h x_t + b_h \\
h_t &= f'_t \odot h_{t-1} + i'_t \odot \tilde h_t
\end{aligned}
$$

This is $h_t = a_t \odot h_{t-1} + b_t$ with $a_t = f'_t$,
$b_t = i'_t \odot \tilde h_t$, so it trains with a parallel scan. With
``log_space=True``, $\tilde h_t = g(W_h x_t + b_h)$ with the positive $g$ of
`rnnref.models.mingru`, and the log-space scan uses
$\log f'_t = -\operatorname{softplus}(d_t)$, $\log i'_t = -\operatorname{softplus}(-d_t)$,
$d_t = \operatorname{softplus}(-k^f_t) - \operatorname{softplus}(-k^i_t)$
(the pre-activations $k^f_t, k^i_t$ of the two gates).

Modes of `MinLSTM.forward`, tested equal: ``"loop"`` (`MinLSTM.step`, readable),
``"scan"`` (`rnnref.models._scan.parallel_scan`, default), ``"log"``
(log-space scan, with ``log_space=True``).

| symbol                    | parameter   | shape   |
|---------------------------|-------------|---------|
| $W_f, W_i, W_h$ stacked   | `weight_ih` | (3H, I) |
| $b_f, b_i, b_h$ stacked   | `bias_ih`   | (3H,)   |

Shapes are batch-first: x (B, T, I), h (B, T, H), $h_0$ (B, H).

Reference: Leo Feng, Frederick Tung, Mohamed Osama Ahmed, Yoshua Bengio and
Hossein Hajimirsadeghi (2024), "Were RNNs All We Needed?", arXiv:2410.01201.

Term: https://w3id.org/rnnref/term/minlstm
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_size
from rnnref.models.mingru import ScanRNN, g, log_g

TERM_IRI = "https://w3id.org/rnnref/term/minlstm"


class MinLSTM(ScanRNN):
    r"""minLSTM: $h_t = f'_t \odot h_{t-1} + i'_t \odot \tilde h_t$, gates from $x_t$ only.

    Args:
        input_size: I, features per step.
        hidden_size: H, hidden units.
        bias: if False, no biases.
        log_space: if True, $\tilde h_t = g(W_h x_t + b_h)$ (positive) and
            ``mode="log"`` is available.
        device, dtype: where and in which dtype to create the parameters.

    Inputs: ``x, h0`` with keyword ``mode`` ("scan", "loop" or "log")
        x: (B, T, I), batch-first.
        h0: (B, H), zeros if None.

    Outputs: ``h, h_T``: (B, T, H) and the final state (B, H).

    Follows the cell protocol (`init_state`, `step`).

    Example::

        >>> lstm = MinLSTM(3, 8)
        >>> h, h_T = lstm(torch.randn(2, 100, 3))
        >>> h_T.shape
        torch.Size([2, 8])

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
        self._init_weights(3, bias, device, dtype)  # W_f, W_i, W_h stacked

    def _candidate(self, k_h: Tensor) -> Tensor:
        return g(k_h) if self.log_space else k_h

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = F.linear(x_t, self.weight_ih, self.bias_ih).chunk(3, dim=-1)
        # $$f_t = \sigma(W_f x_t + b_f), \quad i_t = \sigma(W_i x_t + b_i)$$
        f_t, i_t = torch.sigmoid(k_f), torch.sigmoid(k_i)
        # $$f'_t = f_t / (f_t + i_t), \quad i'_t = i_t / (f_t + i_t)$$
        f_norm, i_norm = f_t / (f_t + i_t), i_t / (f_t + i_t)
        # $$\tilde h_t = W_h x_t + b_h$$ (or $g(\cdot)$ of it in log-space mode)
        candidate = self._candidate(k_h)
        # $$h_t = f'_t \odot h_{t-1} + i'_t \odot \tilde h_t$$
        h_t = f_norm * h + i_norm * candidate
        return h_t, h_t

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=-1)  # (B, T, H) each
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return f / (f + i), i / (f + i) * self._candidate(k_h)

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=-1)
        # $$d_t = \log(i_t / f_t) = \operatorname{softplus}(-k^f_t) - \operatorname{softplus}(-k^i_t)$$
        d = F.softplus(-k_f) - F.softplus(-k_i)
        return -F.softplus(d), -F.softplus(-d) + log_g(k_h)
