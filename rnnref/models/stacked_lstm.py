r"""Stacked (deep) LSTM: L >= 2 LSTM layers, each reading the hidden states of the one below.

A stacked LSTM feeds the hidden-state sequence of LSTM layer $l - 1$ as the input
sequence of layer $l$; every layer keeps its own cell and hidden state, and the
network's output is the top layer's hidden states. Between layers, dropout may be
applied in training (as ``torch.nn.LSTM``'s ``dropout``).

$$
\begin{aligned}
h^{(0)}_t &= x_t \\
h^{(l)}_t, c^{(l)}_t &= \operatorname{LSTM}^{(l)}\big(h^{(l-1)}_t, h^{(l)}_{t-1}, c^{(l)}_{t-1}\big), \qquad l = 1 \dots L \\
y_t &= h^{(L)}_t
\end{aligned}
$$

with each LSTM step that of `rnnref.models.lstm`. This is ``torch.nn.LSTM`` with
``num_layers=L``; `StackedLSTM` is `rnnref.models.lstm.LSTM` with at least two
layers required (one layer is not a stack), so it inherits the readable and fast
paths, projections, bidirectionality, packed sequences and ``from_torch`` /
``to_torch``.

| symbol                         | parameter                                    | shape                  |
|--------------------------------|----------------------------------------------|------------------------|
| layer l's LSTM (l = 0..L-1)    | `weight_ih_l{l}`, `weight_hh_l{l}`, `bias_ih_l{l}`, `bias_hh_l{l}` | as `LSTM`; layer 0 reads I features, the others D O |

h_n, c_n: (L D, B, *), one row per layer (and direction). Shape letters as in
`rnnref.models._recurrent`.

Reference: Alex Graves, Abdel-rahman Mohamed and Geoffrey Hinton (2013), "Speech
recognition with deep recurrent neural networks", ICASSP 2013 (deep LSTMs for
speech).

Term: https://w3id.org/rnnref/term/stacked-lstm
"""

from __future__ import annotations

import torch

from rnnref.models._recurrent import run_layers
from rnnref.models.lstm import LSTM

TERM_IRI = "https://w3id.org/rnnref/term/stacked-lstm"


class StackedLSTM(LSTM):
    r"""`LSTM` with ``num_layers >= 2`` required: $h^{(l)}_t = \operatorname{LSTM}^{(l)}(h^{(l-1)}_t, \dots)$.

    Args: as `rnnref.models.lstm.LSTM`, but ``num_layers`` defaults to 2 and must
    be at least 2 (ValueError otherwise).

    ``layer_outputs(input)`` returns every layer's output sequence, not only the
    top one (for inspecting what each level of the stack computes).

    Example::

        >>> deep = StackedLSTM(3, 4, num_layers=3)
        >>> y, (h_n, c_n) = deep(torch.randn(5, 2, 3))
        >>> y.shape, h_n.shape
        (torch.Size([5, 2, 4]), torch.Size([3, 2, 4]))

    Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 2,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        peephole: bool = False,
        layer_norm: bool = False,
        fast: bool = False,
    ) -> None:
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 2:
            raise ValueError(f"a StackedLSTM has at least 2 layers, got num_layers={num_layers!r} (use LSTM for one)")
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
            peephole=peephole,
            layer_norm=layer_norm,
            fast=fast,
        )

    def layer_outputs(self, input: torch.Tensor) -> list[torch.Tensor]:
        r"""$[h^{(1)}, \dots, h^{(L)}]$ for a time-major (T, B, I) input (zero initial states, eval dropout).

        Each (T, B, D O), computed with the readable path, one layer at a time.
        """
        if not isinstance(input, torch.Tensor) or input.dim() != 3 or input.size(-1) != self.input_size:
            shape = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
            raise ValueError(f"layer_outputs expects a (T, B, {self.input_size}) tensor, got {shape}")
        outputs = []
        layer_input = input
        for layer in range(self.num_layers):
            cells = [[self.cell(layer, d) for d in range(self.num_directions)]]
            zero = cells[0][0].init_state(input.size(1), dtype=input.dtype, device=input.device)
            layer_input, _ = run_layers(cells, layer_input, [zero] * self.num_directions, dropout=0.0, lengths=None)
            outputs.append(layer_input)
        return outputs
