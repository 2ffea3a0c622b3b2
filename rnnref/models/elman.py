r"""Elman network: the simple recurrent network.

An Elman network is a feedforward network whose hidden layer also reads a copy of
its own previous activation, held in *context units*. The hidden state $h_t$ is
therefore a summary of the whole input so far, learned for the task: Elman used it
to show that a network can discover structure in time (word boundaries, lexical
classes) from next-element prediction alone. It is the "vanilla" recurrent network
that ``torch.nn.RNN`` implements:

$$
h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad h_0 = 0 \text{ unless given}
$$

with $\phi$ either $\tanh$ or $\mathrm{ReLU}$. Elman's output layer (a readout of
$h_t$) is left out, as in ``torch.nn.RNN``: the output at step t is $h_t$; put a
``Linear`` on top for a readout. The two biases are one bias written twice, kept
so the parameters match ``torch.nn.RNN`` one to one.

| symbol   | parameter   | shape  |
|----------|-------------|--------|
| $W_{ih}$ | `weight_ih` | (H, I) |
| $W_{hh}$ | `weight_hh` | (H, H) |
| $b_{ih}$ | `bias_ih`   | (H,)   |
| $b_{hh}$ | `bias_hh`   | (H,)   |

In `RNN` the names carry the layer and direction: ``weight_ih_l0``,
``bias_hh_l1_reverse``. Shape letters as in `rnnref.models._recurrent`.

Reference: Jeffrey L. Elman (1990), "Finding Structure in Time", Cognitive Science
14(2): 179–211, doi:10.1016/0364-0213(90)90002-E.

Term: https://w3id.org/rnnref/term/elman-network
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models import _fused
from rnnref.models._recurrent import RecurrentCell, RNNBase, check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/elman-network"

_NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


class ElmanCell(RecurrentCell):
    r"""One Elman layer in one direction, one time step at a time.

    $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$

    Implements the cell protocol of `rnnref.models._recurrent`; parameters as
    ``torch.nn.RNNCell`` (``from_torch`` copies one).

    Args:
        input_size: I, features per step.
        hidden_size: H, hidden units.
        bias: if False, $b_{ih}$ and $b_{hh}$ are left out.
        nonlinearity: $\phi$, ``"tanh"`` or ``"relu"``.
        device, dtype: where and in which dtype to create the parameters.

    Step: ``step(x_t, h) -> (h_t, h_t)``, x_t (B, I), h (B, H).

    Example::

        >>> cell = ElmanCell(3, 4)
        >>> h = cell.init_state(2)
        >>> y, h = cell.step(torch.randn(2, 3), h)
        >>> y.shape
        torch.Size([2, 4])

    Paper: Elman (1990), doi:10.1016/0364-0213(90)90002-E. Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    torch_type = nn.RNNCell
    torch_options = ("nonlinearity",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.output_size = hidden_size
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **factory))  # W_ih
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size, **factory))  # W_hh
        if check_flag("bias", bias):
            self.bias_ih = nn.Parameter(torch.empty(hidden_size, **factory))  # b_ih
            self.bias_hh = nn.Parameter(torch.empty(hidden_size, **factory))  # b_hh
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
        phi = _NONLINEARITIES[self.nonlinearity]
        # $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$
        h_t = phi(F.linear(x_t, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh))
        return h_t, h_t

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}, nonlinearity={self.nonlinearity!r}"


class RNN(RNNBase):
    r"""Multi-layer Elman network with the interface of ``torch.nn.RNN``.

    For each layer, at each step t (layer 0 reads $x_t$, layer $l > 0$ reads the
    previous layer's output, with dropout in training):

    $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$

    Args:
        input_size: I, features per input step.
        hidden_size: H, units per layer and direction.
        num_layers: L, stacked layers.
        nonlinearity: $\phi$, ``"tanh"`` or ``"relu"``.
        bias: if False, no $b_{ih}$, $b_{hh}$.
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

    Parameters are named and initialised as ``torch.nn.RNN``
    ($\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$), so ``from_torch`` and ``to_torch``
    are state-dict copies. ``cell(layer, direction)`` returns the `ElmanCell`
    that runs that layer.

    Example::

        >>> rnn = RNN(10, 20, 2)
        >>> output, h_n = rnn(torch.randn(5, 3, 10), torch.randn(2, 3, 20))
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))

    Paper: Elman (1990), doi:10.1016/0364-0213(90)90002-E. Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    cell_type = ElmanCell
    torch_type = nn.RNN
    options = ("nonlinearity",)
    option_defaults = {"nonlinearity": "tanh"}

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
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
            nonlinearity=nonlinearity,
        )

    def _fused_direction(self, cell: ElmanCell, x: Tensor, state: Tensor, *, reverse: bool, mask: Tensor | None):
        y, h_n = _fused.elman_layer(
            x,
            state,
            cell.weight_ih,
            cell.weight_hh,
            cell.bias_ih,
            cell.bias_hh,
            nonlinearity=cell.nonlinearity,
            reverse=reverse,
            mask=mask,
        )
        return y, h_n
