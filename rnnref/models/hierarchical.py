r"""Hierarchical RNN: a fast lower network and a slower upper network that updates once per segment.

A hierarchical recurrent network splits its state into levels that run at
different rates. Here there are two: the *lower* network reads the input at every
step; the *upper* network reads the lower network's state only at segment
boundaries (every $k$ steps, or wherever a boundary mask says) and holds its state
in between. The upper state therefore changes $k$ times more slowly, summarises
whole segments, and carries information across many steps in few updates; it is
fed back to the lower network (top-down) so the fast level can use the slow
context. Hierarchies of this kind are how the seed article's HRNNs decompose
behaviour into sub-behaviours (and how El Hihi and Bengio's multi-rate networks
and Schmidhuber's history compressor shorten long time lags).

$$
\begin{aligned}
h^{L}_t &= \tanh\big(W_{x} x_t + U_{L} h^{L}_{t-1} + D\, h^{U}_{t-1} + b_{L}\big) \\
h^{U}_t &= \begin{cases} \tanh\big(W_{u} h^{L}_t + U_{U} h^{U}_{t-1} + b_{U}\big) & \text{if } t \text{ ends a segment} \\ h^{U}_{t-1} & \text{otherwise} \end{cases} \\
y_t &= V [h^{L}_t; h^{U}_t] + c
\end{aligned}
$$

With the default boundaries a segment ends at steps $t = k-1, 2k-1, \dots$
(0-based). $D$ (top-down) is left out with ``top_down=False``; the output layer
$V, c$ with ``output_size=None``.

| symbol  | parameter       | shape          |
|---------|-----------------|----------------|
| $W_x$   | `weight_x`      | (H_L, I)       |
| $U_L$   | `weight_lower`  | (H_L, H_L)     |
| $D$     | `weight_down`   | (H_L, H_U)     |
| $b_L$   | `bias_lower`    | (H_L,)         |
| $W_u$   | `weight_up`     | (H_U, H_L)     |
| $U_U$   | `weight_upper`  | (H_U, H_U)     |
| $b_U$   | `bias_upper`    | (H_U,)         |
| $V, c$  | `weight_out`, `bias_out` | (O, H_L + H_U), (O,) |

Shape letters: B batch, T length, I input, H_L / H_U lower / upper units, O
outputs; sequences batch-first. The state is the pair $(h^L, h^U)$. With $k = 1$
and no top-down weights the two levels are a two-layer ``torch.nn.RNN`` (tested).

`step` is the readable path; `forward` hoists $W_x x_t + b_L$ out of the loop and
is tested equal to it.

References (from the seed article): Santiago Fernández, Alex Graves and Jürgen
Schmidhuber (2007), "Sequence labelling in structured domains with hierarchical
recurrent neural networks", Proceedings of IJCAI 2007, pp. 774–779; Jürgen
Schmidhuber (1992), "Learning complex, extended sequences using the principle of
history compression", Neural Computation 4(2): 234–242, doi:10.1162/neco.1992.4.2.234.
The fixed-rate two-level form here is one common instance, not the only design.

Term: https://w3id.org/rnnref/term/hierarchical-rnn
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/hierarchical-rnn"


class HierarchicalRNN(nn.Module):
    r"""Two-level RNN: the lower level steps every t, the upper level at segment ends (every k steps).

    Args:
        input_size: I.
        lower_size: H_L.
        upper_size: H_U.
        output_size: O of a linear output on $[h^L_t; h^U_t]$, or None (output $[h^L_t; h^U_t]$).
        period: k, segment length for the default boundaries.
        top_down: if True (default), the lower level reads the upper state ($D$).
        bias: if False, no biases.
        device, dtype: of the parameters.

    Inputs: ``x, state, boundaries``: x (B, T, I); state $(h^L, h^U)$ zeros if None;
    boundaries (B, T) bool, True where a segment ends (every k-th step if None).
    Outputs: ``y, (h_lower, h_upper)``: y (B, T, O); the states of both levels at every
    step, (B, T, H_L) and (B, T, H_U).
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        lower_size: int,
        upper_size: int,
        output_size: int | None = None,
        *,
        period: int = 2,
        top_down: bool = True,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.lower_size = check_size("lower_size", lower_size)
        self.upper_size = check_size("upper_size", upper_size)
        self.period = check_size("period", period)
        self.top_down = check_flag("top_down", top_down)
        self.bias = check_flag("bias", bias)
        self.has_output_layer = output_size is not None
        self.output_size = lower_size + upper_size if output_size is None else check_size("output_size", output_size)
        factory = {"device": device, "dtype": dtype}
        HL, HU = lower_size, upper_size

        def parameter(*shape):
            return nn.Parameter(torch.empty(*shape, **factory))

        self.weight_x = parameter(HL, input_size)
        self.weight_lower = parameter(HL, HL)
        self.weight_down = parameter(HL, HU) if top_down else None
        self.bias_lower = parameter(HL) if bias else None
        self.weight_up = parameter(HU, HL)
        self.weight_upper = parameter(HU, HU)
        self.bias_upper = parameter(HU) if bias else None
        if self.has_output_layer:
            self.weight_out = parameter(self.output_size, HL + HU)
            self.bias_out = parameter(self.output_size) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Lower-level parameters from $\\mathcal{U}(\\pm 1/\\sqrt{H_L})$, upper and output from $\\pm 1/\\sqrt{H_U}$."""
        for name, p in self.named_parameters():
            fan = self.lower_size if name in ("weight_x", "weight_lower", "weight_down", "bias_lower") else self.upper_size
            bound = 1.0 / math.sqrt(fan)
            nn.init.uniform_(p, -bound, bound)

    @property
    def hidden_size(self) -> int:
        return self.lower_size + self.upper_size

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> tuple[Tensor, Tensor]:
        """$(h^L_0, h^U_0) = (0, 0)$."""
        factory = {
            "dtype": self.weight_x.dtype if dtype is None else dtype,
            "device": self.weight_x.device if device is None else device,
        }
        return torch.zeros(batch_size, self.lower_size, **factory), torch.zeros(batch_size, self.upper_size, **factory)

    def default_boundaries(self, batch_size: int, length: int, device=None) -> Tensor:
        """True at t = k-1, 2k-1, ... (the last step of each segment of length k), (B, T)."""
        t = torch.arange(length, device=device)
        return ((t + 1) % self.period == 0).expand(batch_size, length)

    def _lower(self, drive: Tensor, h_lower: Tensor, h_upper: Tensor) -> Tensor:
        # $$h^L_t = \tanh(W_x x_t + U_L h^L_{t-1} + D h^U_{t-1} + b_L)$$  (drive = W_x x_t + b_L)
        pre = drive + F.linear(h_lower, self.weight_lower)
        if self.top_down:
            pre = pre + F.linear(h_upper, self.weight_down)
        return torch.tanh(pre)

    def _upper(self, h_lower: Tensor, h_upper: Tensor, boundary: Tensor) -> Tensor:
        # $$h^U_t = \tanh(W_u h^L_t + U_U h^U_{t-1} + b_U)$$ at a segment end, else $$h^U_t = h^U_{t-1}$$
        candidate = torch.tanh(F.linear(h_lower, self.weight_up) + F.linear(h_upper, self.weight_upper, self.bias_upper))
        return torch.where(boundary.unsqueeze(-1), candidate, h_upper)

    def _output(self, h_lower: Tensor, h_upper: Tensor) -> Tensor:
        both = torch.cat([h_lower, h_upper], dim=-1)
        # $$y_t = V [h^L_t; h^U_t] + c$$
        return F.linear(both, self.weight_out, self.bias_out) if self.has_output_layer else both

    def step(
        self, x_t: Tensor, state: tuple[Tensor, Tensor], boundary: Tensor | bool = False
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One step (readable path): x_t (B, I); ``boundary`` (B,) bool or one bool: does a segment end here?"""
        h_lower, h_upper = state
        boundary = torch.as_tensor(boundary, device=x_t.device).expand(x_t.size(0))
        h_lower = self._lower(F.linear(x_t, self.weight_x, self.bias_lower), h_lower, h_upper)
        h_upper = self._upper(h_lower, h_upper, boundary)
        return self._output(h_lower, h_upper), (h_lower, h_upper)

    def _check(self, x, state, boundaries):
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        B, T, _ = x.shape
        if T == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if state is None:
            state = self.init_state(B, dtype=x.dtype, device=x.device)
        elif len(state) != 2 or state[0].shape != (B, self.lower_size) or state[1].shape != (B, self.upper_size):
            raise ValueError(f"expected state (h_lower, h_upper) of shapes ({B}, {self.lower_size}), ({B}, {self.upper_size})")
        if boundaries is None:
            boundaries = self.default_boundaries(B, T, device=x.device)
        elif not isinstance(boundaries, Tensor) or boundaries.dtype != torch.bool or boundaries.shape != (B, T):
            raise ValueError(f"expected boundaries as a bool tensor of shape ({B}, {T})")
        return state, boundaries

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None, boundaries: Tensor | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Fast path: the lower level's input drive for all steps in one product, then the loop."""
        (h_lower, h_upper), boundaries = self._check(x, state, boundaries)
        drive = F.linear(x, self.weight_x, self.bias_lower)  # (B, T, H_L)
        lowers, uppers = [], []
        for t in range(x.size(1)):
            h_lower = self._lower(drive[:, t], h_lower, h_upper)
            h_upper = self._upper(h_lower, h_upper, boundaries[:, t])
            lowers.append(h_lower)
            uppers.append(h_upper)
        h_lower, h_upper = torch.stack(lowers, dim=1), torch.stack(uppers, dim=1)
        return self._output(h_lower, h_upper), (h_lower, h_upper)

    def forward_stepwise(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None, boundaries: Tensor | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Readable path: `step` at every t (same result as `forward`)."""
        state, boundaries = self._check(x, state, boundaries)
        outputs, lowers, uppers = [], [], []
        for t in range(x.size(1)):
            y_t, state = self.step(x[:, t], state, boundaries[:, t])
            outputs.append(y_t)
            lowers.append(state[0])
            uppers.append(state[1])
        stack = lambda xs: torch.stack(xs, dim=1)  # noqa: E731
        return stack(outputs), (stack(lowers), stack(uppers))

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, lower={self.lower_size}, upper={self.upper_size}, "
            f"output_size={self.output_size if self.has_output_layer else None}, period={self.period}, "
            f"top_down={self.top_down}, bias={self.bias}"
        )
