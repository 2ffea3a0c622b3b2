r"""Minimal gated unit (MGU).

The MGU is a gated recurrent cell with a single gate. Where the GRU has an update
gate and a reset gate, the MGU uses one *forget gate* $f_t$ for both jobs: it
decides how much of the previous state the candidate $\tilde h_t$ may see, and how
far the state moves towards that candidate. With one gate instead of two it has
two thirds of a GRU's parameters:

$$
\begin{aligned}
f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
\tilde h_t &= \tanh(W_{ih} x_t + b_{ih} + W_{hh} (f_t \odot h_{t-1}) + b_{hh}) \\
h_t &= (1 - f_t) \odot h_{t-1} + f_t \odot \tilde h_t
\end{aligned}
$$

As in the paper, the gate scales the previous state *before* the recurrent matrix
product. The paper writes one bias per gate, $b_f$ and $b_h$; here there are two
of each (input side and hidden side, as ``torch.nn.GRU``), which computes the same
functions ($b_f = b_{if} + b_{hf}$, $b_h = b_{ih} + b_{hh}$).

| symbol                     | parameter   | shape   |
|----------------------------|-------------|---------|
| $W_{if}, W_{ih}$ stacked   | `weight_ih` | (2H, I) |
| $W_{hf}, W_{hh}$ stacked   | `weight_hh` | (2H, H) |
| $b_{if}, b_{ih}$ stacked   | `bias_ih`   | (2H,)   |
| $b_{hf}, b_{hh}$ stacked   | `bias_hh`   | (2H,)   |

In `MGU` the names carry the layer and direction: ``weight_ih_l0``,
``bias_hh_l1_reverse``. Shape letters as in `rnnref.models._recurrent`.

`MGUCell` follows the cell protocol of `rnnref.models._recurrent`, so
`rnnref.models.bidirectional.Bidirectional` and `rnnref.models.stacked.Stacked`
wrap it. `MGU` is the multi-layer network with the interface of ``torch.nn.GRU``
(batch_first, bidirectional, dropout, packed sequences); its forward pass hoists
the input projection $W_{i\cdot} x_t$ out of the time loop (one matrix product for
all steps), and is tested equal to the step-by-step reference.

Reference: Guo-Bing Zhou, Jianxin Wu, Chen-Lin Zhang and Zhi-Hua Zhou (2016),
"Minimal Gated Unit for Recurrent Neural Networks", International Journal of
Automation and Computing 13(3): 226–234, doi:10.1007/s11633-016-1006-2,
arXiv:1603.09420.

Term: https://w3id.org/rnnref/term/minimal-gated-unit
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import RecurrentCell, RNNBase, State, check_flag, check_size, run_direction

TERM_IRI = "https://w3id.org/rnnref/term/minimal-gated-unit"


class MGUCell(RecurrentCell):
    r"""One MGU layer in one direction, one time step at a time.

    $$h_t = (1 - f_t) \odot h_{t-1} + f_t \odot \tilde h_t$$

    (gate and candidate as in the module docstring). Implements the cell protocol
    of `rnnref.models._recurrent`.

    Args:
        input_size: I, features per step.
        hidden_size: H, hidden units.
        bias: if False, the biases $b$ are left out.
        device, dtype: where and in which dtype to create the parameters.

    Step: ``step(x_t, h) -> (h_t, h_t)``, x_t (B, I), h (B, H).

    Example::

        >>> cell = MGUCell(3, 4)
        >>> y, h = cell.step(torch.randn(2, 3), cell.init_state(2))
        >>> y.shape
        torch.Size([2, 4])

    Paper: Zhou et al. (2016), arXiv:1603.09420. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.output_size = hidden_size
        factory = {"device": device, "dtype": dtype}
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(2 * H, input_size, **factory))  # W_if, W_ih
        self.weight_hh = nn.Parameter(torch.empty(2 * H, H, **factory))  # W_hf, W_hh
        if check_flag("bias", bias):
            self.bias_ih = nn.Parameter(torch.empty(2 * H, **factory))  # b_if, b_ih
            self.bias_hh = nn.Parameter(torch.empty(2 * H, **factory))  # b_hf, b_hh
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    @classmethod
    def from_torch(cls, module: nn.Module):
        raise TypeError("MGUCell has no torch.nn counterpart to copy from")

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$h_0 = 0$, (B, H)."""
        return self._zeros(batch_size, self.hidden_size, dtype, device)

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.step_projected(F.linear(x_t, self.weight_ih, self.bias_ih), h)

    def step_projected(self, x_proj_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """One step from the input projection $W_{i\\cdot} x_t + b_{i\\cdot}$, (B, 2H), already computed."""
        H = self.hidden_size
        x_f, x_h = x_proj_t.split(H, dim=1)
        w_hf, w_hh = self.weight_hh.split(H, dim=0)
        b_hf, b_hh = (None, None) if self.bias_hh is None else self.bias_hh.split(H)
        # $$f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})$$
        f_t = torch.sigmoid(x_f + F.linear(h, w_hf, b_hf))
        # $$\tilde h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} (f_t \odot h_{t-1}) + b_{hh})$$
        candidate = torch.tanh(x_h + F.linear(f_t * h, w_hh, b_hh))
        # $$h_t = (1 - f_t) \odot h_{t-1} + f_t \odot \tilde h_t$$
        h_t = (1 - f_t) * h + f_t * candidate
        return h_t, h_t

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class _Projected:
    """A cell-protocol view of an `MGUCell` whose inputs are already projected, (B, 2H) per step."""

    def __init__(self, cell: MGUCell) -> None:
        self.cell = cell
        self.input_size = 2 * cell.hidden_size
        self.hidden_size = self.output_size = cell.hidden_size

    def init_state(self, batch_size: int, *, dtype=None, device=None) -> Tensor:
        return self.cell.init_state(batch_size, dtype=dtype, device=device)

    def step(self, x_proj_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.cell.step_projected(x_proj_t, h)


class MGU(RNNBase):
    r"""Multi-layer MGU with the interface of ``torch.nn.GRU``.

    For each layer, at each step t (layer 0 reads $x_t$, layer $l > 0$ reads the
    previous layer's output, with dropout in training):

    $$h_t = (1 - f_t) \odot h_{t-1} + f_t \odot \tilde h_t$$

    with $f_t$ and $\tilde h_t$ as in the module docstring.

    Args:
        input_size: I, features per input step.
        hidden_size: H, units per layer and direction.
        num_layers: L, stacked layers.
        bias: if False, no biases.
        batch_first: if True, batched input and output are (B, T, *).
        dropout: dropout probability on each layer's output except the last.
        bidirectional: if True, D = 2: a second cell per layer reads the
            sequence backwards and the outputs are concatenated.
        device, dtype: where and in which dtype to create the parameters.

    Inputs and outputs as ``torch.nn.GRU``: ``output, h_n = mgu(input, hx)``,
    output (T, B, D * H) (or batch-first, unbatched, packed), h_n (L * D, B, H).

    Parameters are initialised as ``torch.nn.GRU``
    ($\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$). ``cell(layer, direction)``
    returns the `MGUCell` that runs that layer; `forward` computes the same
    thing with the input projections hoisted out of the time loop, and
    ``reference_forward`` runs the cells step by step.

    Example::

        >>> mgu = MGU(10, 20, 2, batch_first=True)
        >>> output, h_n = mgu(torch.randn(3, 5, 10))
        >>> output.shape, h_n.shape
        (torch.Size([3, 5, 20]), torch.Size([2, 3, 20]))

    Paper: Zhou et al. (2016), arXiv:1603.09420. Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    cell_type = MGUCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device=device, dtype=dtype
        )
        self._hoisted = True  # forward with the input projection out of the time loop

    @classmethod
    def from_torch(cls, module: nn.Module):
        raise TypeError("MGU has no torch.nn counterpart to copy from")

    def to_torch(self) -> nn.Module:
        raise TypeError("MGU has no torch.nn counterpart to copy to")

    def reference_forward(self, input, hx=None):
        """`forward` through the readable path: `MGUCell.step` at every step of every layer."""
        self._hoisted = False
        try:
            return self.forward(input, hx)
        finally:
            self._hoisted = True

    def _run(
        self, cells: list[list[MGUCell]], x: Tensor, states: list[State], lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        if not self._hoisted:
            return super()._run(cells, x, states, lengths)
        dropout = self.dropout if self.training else 0.0
        layer_input = x  # (T, B, I) time-major
        finals: list[State] = []
        for layer, layer_cells in enumerate(cells):
            if layer > 0 and dropout > 0:
                layer_input = F.dropout(layer_input, p=dropout, training=True)
            outputs = []
            for direction, cell in enumerate(layer_cells):
                k = layer * len(layer_cells) + direction
                # One matrix product for all T steps: (T, B, 2H).
                x_proj = F.linear(layer_input, cell.weight_ih, cell.bias_ih)
                y, final = run_direction(_Projected(cell), x_proj, states[k], reverse=direction == 1, lengths=lengths)
                outputs.append(y)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1)
        return layer_input, finals
