r"""Gated recurrent unit (GRU).

A GRU is a gated recurrent cell with a single state $h_t$. An *update gate* $z_t$
interpolates between keeping the previous state and taking a new candidate $n_t$,
and a *reset gate* $r_t$ decides how much of the previous state the candidate may
see. Keeping is an elementwise copy, so, as in the LSTM, information and gradients
can pass many steps unchanged; with two gates and no separate cell state it is a
smaller cell than the LSTM. This is the formulation of ``torch.nn.GRU``:

$$
\begin{aligned}
r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
\end{aligned}
$$

Note where the reset gate acts: here (and in cuDNN) it scales $W_{hn} h_{t-1} +
b_{hn}$, after the matrix product. In Cho et al. (2014) it scales the state before
it: $\tilde h_t = \tanh(W x_t + U (r_t \odot h_{t-1}))$. The two are different
functions of the same parameters; this module follows ``torch.nn.GRU``. The
roles of $z$ match the paper: $z_t = 1$ keeps the previous state.

| symbol                              | parameter   | shape   |
|-------------------------------------|-------------|---------|
| $W_{ir}, W_{iz}, W_{in}$ stacked    | `weight_ih` | (3H, I) |
| $W_{hr}, W_{hz}, W_{hn}$ stacked    | `weight_hh` | (3H, H) |
| $b_{ir}, b_{iz}, b_{in}$ stacked    | `bias_ih`   | (3H,)   |
| $b_{hr}, b_{hz}, b_{hn}$ stacked    | `bias_hh`   | (3H,)   |

In `GRU` the names carry the layer and direction: ``weight_ih_l0``,
``bias_hh_l1_reverse``. Shape letters as in `rnnref.models._recurrent`.

Reference: Kyunghyun Cho, Bart van Merriënboer, Caglar Gulcehre, Dzmitry Bahdanau,
Fethi Bougares, Holger Schwenk and Yoshua Bengio (2014), "Learning Phrase
Representations using RNN Encoder–Decoder for Statistical Machine Translation",
EMNLP 2014, arXiv:1406.1078.

Term: https://w3id.org/rnnref/term/gru
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models import _fused
from rnnref.models._recurrent import RecurrentCell, RNNBase, check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/gru"


class GRUCell(RecurrentCell):
    r"""One GRU layer in one direction, one time step at a time.

    $$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$$

    (gates as in the module docstring). Implements the cell protocol of
    `rnnref.models._recurrent`; parameters as ``torch.nn.GRUCell``
    (``from_torch`` copies one).

    Args:
        input_size: I, features per step.
        hidden_size: H, hidden units.
        bias: if False, the biases $b$ are left out.
        device, dtype: where and in which dtype to create the parameters.

    Step: ``step(x_t, h) -> (h_t, h_t)``, x_t (B, I), h (B, H).

    Example::

        >>> cell = GRUCell(3, 4)
        >>> y, h = cell.step(torch.randn(2, 3), cell.init_state(2))
        >>> y.shape
        torch.Size([2, 4])

    Paper: Cho et al. (2014), arXiv:1406.1078. Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    torch_type = nn.GRUCell

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
        self.weight_ih = nn.Parameter(torch.empty(3 * H, input_size, **factory))  # W_i{r,z,n}
        self.weight_hh = nn.Parameter(torch.empty(3 * H, H, **factory))  # W_h{r,z,n}
        if check_flag("bias", bias):
            self.bias_ih = nn.Parameter(torch.empty(3 * H, **factory))  # b_i{r,z,n}
            self.bias_hh = nn.Parameter(torch.empty(3 * H, **factory))  # b_h{r,z,n}
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """$h_0 = 0$, (B, H)."""
        return self._zeros(batch_size, self.hidden_size, dtype, device)

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        # The input and hidden pre-activations stay apart (the reset gate scales
        # only the hidden part of n), each (B, 3H) in torch's order r, z, n.
        x_r, x_z, x_n = F.linear(x_t, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, dim=1)
        # $$r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})$$
        r_t = torch.sigmoid(x_r + h_r)
        # $$z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})$$
        z_t = torch.sigmoid(x_z + h_z)
        # $$n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))$$
        n_t = torch.tanh(x_n + r_t * h_n)
        # $$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$$
        h_t = (1 - z_t) * n_t + z_t * h
        return h_t, h_t

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class GRU(RNNBase):
    r"""Multi-layer GRU with the interface of ``torch.nn.GRU``.

    For each layer, at each step t (layer 0 reads $x_t$, layer $l > 0$ reads the
    previous layer's output, with dropout in training):

    $$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$$

    with $r_t, z_t, n_t$ as in the module docstring.

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
        fast: if True, forward runs the fast path of `rnnref.models._fused`
            (same function and gradients; the attribute ``fast`` may be changed
            later).

    Inputs: ``input, hx``
        input: (T, I) unbatched, (T, B, I), or (B, T, I) if batch_first; or a
            ``PackedSequence``.
        hx: (L * D, H) unbatched or (L * D, B, H); zeros if None.

    Outputs: ``output, h_n``
        output: (T, D * H) unbatched, (T, B, D * H), or (B, T, D * H) if
            batch_first; the last layer's $h_t$ for every t. A ``PackedSequence``
            if the input was one.
        h_n: (L * D, H) or (L * D, B, H), the final state of every layer and
            direction (for packed input, at each sequence's true last step).

    Parameters are named and initialised as ``torch.nn.GRU``
    ($\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$), so ``from_torch`` and ``to_torch``
    are state-dict copies. ``cell(layer, direction)`` returns the `GRUCell` that
    runs that layer.

    Example::

        >>> gru = GRU(10, 20, 2)
        >>> output, h_n = gru(torch.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))

    Paper: Cho et al. (2014), arXiv:1406.1078. Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    cell_type = GRUCell
    torch_type = nn.GRU

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
        *,
        fast: bool = False,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
            fast=fast,
        )

    def _fused_direction(self, cell: GRUCell, x: Tensor, state: Tensor, *, reverse: bool, mask: Tensor | None):
        y, h_n = _fused.gru_layer(
            x, state, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, reverse=reverse, mask=mask
        )
        return y, h_n
