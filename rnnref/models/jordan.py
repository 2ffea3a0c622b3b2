r"""Jordan network: a recurrent network whose context is its own previous output.

A Jordan network (1986) is a one-hidden-layer network with *context units* that hold
the network's output from the previous time step. At every step the hidden layer
sees the current input and that context, and the output layer reads the hidden
layer. Unlike an Elman network, where the context is a copy of the previous *hidden*
state, the recurrence here runs through the output: whatever the network remembers
has to pass through the $O$ output units.

$$
\begin{aligned}
h_t &= \tanh(W_h x_t + U_h y_{t-1} + b_h) \\
y_t &= \sigma_y(W_y h_t + b_y)
\end{aligned}
$$

with $y_0 = 0$ unless an initial output is given. $\sigma_y$ is the output
activation, ``"tanh"`` by default: a bounded output keeps the fed-back context
bounded, so the recurrence cannot blow up. ``"identity"`` gives a linear output
(for example logits) and ``"sigmoid"`` outputs in $(0, 1)$.

| symbol | parameter   | shape  |
|--------|-------------|--------|
| $W_h$  | `weight_xh` | (H, I) |
| $U_h$  | `weight_yh` | (H, O) |
| $b_h$  | `bias_h`    | (H,)   |
| $W_y$  | `weight_hy` | (O, H) |
| $b_y$  | `bias_y`    | (O,)   |

Shape letters: B batch, T length, I input, H hidden, O output. Sequences are
batch-first, (B, T, I).

`JordanNetwork` also implements the cell protocol used across `rnnref.models`
(`init_state`, `step`, `input_size`, `hidden_size`, `output_size`); its recurrent
state is the previous output $y_{t-1}$, shape (B, O). So it can be wrapped by
`Bidirectional` or `Stacked` like any other cell.

Reference: Jordan, Michael I. (1997) "Serial Order: A Parallel Distributed
Processing Approach", Advances in Psychology 121: 471–495,
doi:10.1016/s0166-4115(97)80111-2.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

TERM_IRI = "https://w3id.org/rnnref/term/jordan-network"

_OUTPUT_ACTIVATIONS = {
    "identity": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


class JordanNetwork(nn.Module):
    r"""Jordan network: hidden layer fed by the input and the previous output.

    $$h_t = \tanh(W_h x_t + U_h y_{t-1} + b_h), \qquad y_t = \sigma_y(W_y h_t + b_y)$$

    Args:
        input_size: I, features per input step.
        hidden_size: H, hidden units.
        output_size: O, output units (also the number of context units).
        output_activation: $\sigma_y$, one of ``"tanh"`` (default), ``"identity"``,
            ``"sigmoid"``.
        bias: if False, $b_h$ and $b_y$ are left out.
        device, dtype: where and in which dtype to create the parameters.

    Inputs: ``x, y0``
        x: (B, T, I), batch-first.
        y0: (B, O) initial context $y_0$; zeros if None.

    Outputs: ``y, y_T``
        y: (B, T, O), the outputs $y_1 \dots y_T$.
        y_T: (B, O), the last output, which is also the final recurrent state.

    Parameters are initialised from $\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$, as in
    ``torch.nn.RNN``.

    Example::

        >>> net = JordanNetwork(3, 8, 2)
        >>> y, y_T = net(torch.randn(4, 5, 3))
        >>> y.shape, y_T.shape
        (torch.Size([4, 5, 2]), torch.Size([4, 2]))
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        output_activation: str = "tanh",
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if output_activation not in _OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"output_activation must be one of {sorted(_OUTPUT_ACTIVATIONS)}, got {output_activation!r}"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.output_activation = output_activation
        factory = {"device": device, "dtype": dtype}
        self.weight_xh = nn.Parameter(torch.empty(hidden_size, input_size, **factory))  # W_h
        self.weight_yh = nn.Parameter(torch.empty(hidden_size, output_size, **factory))  # U_h
        self.weight_hy = nn.Parameter(torch.empty(output_size, hidden_size, **factory))  # W_y
        if bias:
            self.bias_h = nn.Parameter(torch.empty(hidden_size, **factory))  # b_h
            self.bias_y = nn.Parameter(torch.empty(output_size, **factory))  # b_y
        else:
            self.register_parameter("bias_h", None)
            self.register_parameter("bias_y", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    # -- cell protocol -------------------------------------------------------------

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """The initial context $y_0 = 0$, shape (B, O)."""
        dtype = dtype if dtype is not None else self.weight_xh.dtype
        device = device if device is not None else self.weight_xh.device
        return torch.zeros(batch_size, self.output_size, dtype=dtype, device=device)

    def step(self, x_t: Tensor, y_prev: Tensor) -> tuple[Tensor, Tensor]:
        """One time step: x_t (B, I) and context y_prev (B, O) -> (y_t, y_t)."""
        # $$h_t = \tanh(W_h x_t + U_h y_{t-1} + b_h)$$
        pre_h = x_t @ self.weight_xh.T + y_prev @ self.weight_yh.T
        if self.bias_h is not None:
            pre_h = pre_h + self.bias_h
        h_t = torch.tanh(pre_h)
        # $$y_t = \sigma_y(W_y h_t + b_y)$$
        pre_y = h_t @ self.weight_hy.T
        if self.bias_y is not None:
            pre_y = pre_y + self.bias_y
        y_t = _OUTPUT_ACTIVATIONS[self.output_activation](pre_y)
        # The output is the next step's context: the state *is* y_t.
        return y_t, y_t

    # -- sequence ------------------------------------------------------------------

    def forward(self, x: Tensor, y0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if x.dim() != 3 or x.size(-1) != self.input_size:
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {tuple(x.shape)}")
        B, T, _ = x.shape  # batch, length, input features
        if T == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        y_prev = self.init_state(B, dtype=x.dtype, device=x.device) if y0 is None else y0
        if y_prev.shape != (B, self.output_size):
            raise ValueError(f"expected y0 of shape ({B}, {self.output_size}), got {tuple(y_prev.shape)}")
        outputs = []
        for t in range(T):
            y_t, y_prev = self.step(x[:, t], y_prev)
            outputs.append(y_t)
        return torch.stack(outputs, dim=1), y_prev

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, {self.output_size}, "
            f"output_activation={self.output_activation!r}, bias={self.bias_h is not None}"
        )
