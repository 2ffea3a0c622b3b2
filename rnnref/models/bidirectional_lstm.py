r"""Bidirectional LSTM (BiLSTM): two LSTMs per layer, one reading forwards, one backwards.

A bidirectional LSTM runs, in every layer, one LSTM over the sequence from the
first step to the last and a second LSTM, with its own weights, from the last
step to the first; the output at step t is the concatenation of the two hidden
states, so it summarises the whole input on both sides of t. With L > 1 layers,
layer l reads the concatenated outputs of layer l - 1.

$$
\begin{aligned}
\overrightarrow{h}_t, \overrightarrow{c}_t &= \operatorname{LSTM}_{\rightarrow}(x_t, \overrightarrow{h}_{t-1}, \overrightarrow{c}_{t-1}) \\
\overleftarrow{h}_t, \overleftarrow{c}_t &= \operatorname{LSTM}_{\leftarrow}(x_t, \overleftarrow{h}_{t+1}, \overleftarrow{c}_{t+1}) \\
y_t &= [\overrightarrow{h}_t ; \overleftarrow{h}_t]
\end{aligned}
$$

with each LSTM step that of `rnnref.models.lstm` ($c_t = f_t \odot c_{t-1} +
i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$). This is ``torch.nn.LSTM`` with
``bidirectional=True``; `BidirectionalLSTM` is `rnnref.models.lstm.LSTM` with that
option fixed, so it inherits the readable and the fast path, packed sequences,
projections and the ``torch.nn`` interop (``from_torch`` / ``to_torch``).

| symbol                                 | parameter                          | shape               |
|----------------------------------------|------------------------------------|---------------------|
| forward LSTM of layer l                | `weight_ih_l{l}`, `weight_hh_l{l}`, `bias_*_l{l}` | as `LSTM` |
| backward LSTM of layer l               | `weight_ih_l{l}_reverse`, ...      | as `LSTM`           |

Output (T, B, 2 O); h_n and c_n (2 L, B, *) in torch's order (layer 0 forward,
layer 0 backward, layer 1 forward, ...). Shape letters as in
`rnnref.models._recurrent`.

References: Mike Schuster and Kuldip K. Paliwal (1997), "Bidirectional recurrent
neural networks", IEEE Transactions on Signal Processing 45(11) (the bidirectional
scheme); Alex Graves and Jürgen Schmidhuber (2005), "Framewise phoneme
classification with bidirectional LSTM and other neural network architectures",
Neural Networks 18(5): 602–610, doi:10.1016/j.neunet.2005.06.042.

Term: https://w3id.org/rnnref/term/bidirectional-lstm
"""

from __future__ import annotations

import torch

from rnnref.models.lstm import LSTM

TERM_IRI = "https://w3id.org/rnnref/term/bidirectional-lstm"


class BidirectionalLSTM(LSTM):
    r"""`LSTM` with ``bidirectional=True`` fixed: $y_t = [\overrightarrow{h}_t ; \overleftarrow{h}_t]$.

    Args: as `rnnref.models.lstm.LSTM` (input_size, hidden_size, num_layers, bias,
    batch_first, dropout, proj_size, device, dtype, peephole, layer_norm, fast);
    ``bidirectional`` is accepted only as True (so ``from_torch`` of a
    bidirectional ``torch.nn.LSTM`` works) and is a ValueError otherwise.

    Inputs and outputs as `LSTM` with D = 2.

    Example::

        >>> bilstm = BidirectionalLSTM(3, 4)
        >>> y, (h_n, c_n) = bilstm(torch.randn(5, 2, 3))
        >>> y.shape, h_n.shape
        (torch.Size([5, 2, 8]), torch.Size([2, 2, 4]))

    Paper: Graves & Schmidhuber (2005), doi:10.1016/j.neunet.2005.06.042.
    Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = True,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        peephole: bool = False,
        layer_norm: bool = False,
        fast: bool = False,
    ) -> None:
        if bidirectional is not True:
            raise ValueError(f"a BidirectionalLSTM is always bidirectional; got bidirectional={bidirectional!r} (use LSTM)")
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            True,
            proj_size,
            device,
            dtype,
            peephole=peephole,
            layer_norm=layer_norm,
            fast=fast,
        )

    def directions(self, output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Split an output (..., 2 O) into $\overrightarrow{h}$ and $\overleftarrow{h}$, each (..., O)."""
        if output.size(-1) != 2 * self.output_size:
            raise ValueError(f"expected an output with {2 * self.output_size} features, got {tuple(output.shape)}")
        return output[..., : self.output_size], output[..., self.output_size :]
