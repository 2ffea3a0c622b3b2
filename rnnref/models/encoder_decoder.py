r"""Encoder-decoder (sequence to sequence): one RNN reads the source, a second writes the target.

An encoder-decoder maps a source sequence $x_1 \dots x_S$ to a target sequence
$y_1 \dots y_T$ of a different length. The *encoder* RNN reads the whole source
and its final state $c$ is a fixed-size summary of it. The *decoder* RNN starts
from $c$ and produces the target one token at a time, each step reading the token
produced (or, in training, the true token) at the previous step:

$$
\begin{aligned}
e_t &= f_\text{enc}(E_\text{src}[x_t], e_{t-1}), \quad t = 1 \dots S, \quad e_0 = 0 \\
c &= e_S \\
s_0 &= c \\
s_t &= f_\text{dec}(E_\text{tgt}[y_{t-1}], s_{t-1}), \quad y_0 = \text{BOS} \\
p(y_t \mid y_{<t}, x) &= \operatorname{softmax}(W_o s_t + b_o)
\end{aligned}
$$

$E_\text{src}$ and $E_\text{tgt}$ are embedding tables, $f_\text{enc}$ and
$f_\text{dec}$ two recurrent networks of the same kind (``"gru"``, ``"lstm"`` or
``"elman"``, from `rnnref.models`) with their own weights. The source reaches the
decoder only through $c$: everything the decoder knows about $x$ is in the
encoder's final state (with an LSTM, the pair $(h_S, c_S)$; with several layers,
every layer's final state initialises the same layer of the decoder).

*Training* uses teacher forcing: the decoder reads the true previous token
$y_{t-1}$ (``tgt_in`` = BOS followed by the target without its last token), so all
$T$ steps run in one call and the loss is the cross-entropy of the logits against
the target. *Inference* runs free: `greedy_decode` feeds back the most likely token
$\hat y_t = \arg\max_k p(y_t = k \mid \hat y_{<t}, x)$.

Either way the decoder is causal: the logits at step $t$ depend on
$y_0 \dots y_{t-1}$ and on $c$, never on later target tokens.

Shape letters: B batch, S source length, T target length, E embedding, H hidden,
V target vocabulary, L layers. Token sequences are batch-first, (B, S) and (B, T);
all sequences in a batch have the same length (no padding).

References: Sutskever, Vinyals, Le (2014), arXiv:1409.3215; Cho et al. (2014),
arXiv:1406.1078.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch
from torch import Tensor, nn

TERM_IRI = "https://w3id.org/rnnref/term/encoder-decoder"

#: Recurrent network per cell kind: "module:Class", imported on first use.
RECURRENT_NETWORKS = {
    "elman": "rnnref.models.elman:RNN",
    "gru": "rnnref.models.gru:GRU",
    "lstm": "rnnref.models.lstm:LSTM",
}

State = Any  # h_n (L, B, H), or (h_n, c_n) for an LSTM


def _network_class(cell: str) -> type[nn.Module]:
    if cell not in RECURRENT_NETWORKS:
        raise ValueError(f"cell must be one of {sorted(RECURRENT_NETWORKS)}, got {cell!r}")
    module_name, class_name = RECURRENT_NETWORKS[cell].split(":")
    return getattr(importlib.import_module(module_name), class_name)


class EncoderDecoder(nn.Module):
    r"""Encoder RNN over the source; its final state starts the decoder RNN.

    $$s_0 = e_S, \quad s_t = f_\text{dec}(E_\text{tgt}[y_{t-1}], s_{t-1}), \quad
    p(y_t \mid y_{<t}, x) = \operatorname{softmax}(W_o s_t + b_o)$$

    Args:
        src_vocab_size: number of source tokens.
        tgt_vocab_size: V, number of target tokens (including BOS).
        hidden_size: H, state size of encoder and decoder.
        embedding_size: E, embedding width; defaults to ``hidden_size``.
        cell: ``"gru"`` (default), ``"lstm"`` or ``"elman"``.
        num_layers: L, layers of both encoder and decoder.
        dropout: between layers of encoder and decoder (training only).
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): ``src, tgt_in``
        src: (B, S) source token ids.
        tgt_in: (B, T) decoder inputs: BOS then the target shifted right.

    Outputs (`forward`): logits (B, T, V); ``logits[:, t]`` scores $y_{t+1}$.

    Example::

        >>> model = EncoderDecoder(10, 10, 32, cell="gru")
        >>> src = torch.randint(1, 10, (4, 5))
        >>> tgt_in = torch.cat([torch.zeros(4, 1, dtype=torch.long), src.flip(1)[:, :-1]], 1)
        >>> model(src, tgt_in).shape
        torch.Size([4, 5, 10])
        >>> model.greedy_decode(src, max_len=5, bos=0).shape
        torch.Size([4, 5])
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        hidden_size: int,
        *,
        embedding_size: int | None = None,
        cell: str = "gru",
        num_layers: int = 1,
        dropout: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        embedding_size = hidden_size if embedding_size is None else embedding_size
        for name, value in (
            ("src_vocab_size", src_vocab_size),
            ("tgt_vocab_size", tgt_vocab_size),
            ("hidden_size", hidden_size),
            ("embedding_size", embedding_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        network = _network_class(cell)
        factory = {"device": device, "dtype": dtype}
        self.cell = cell
        self.src_vocab_size = src_vocab_size
        self.tgt_vocab_size = tgt_vocab_size
        self.hidden_size = hidden_size
        self.embedding_size = embedding_size
        self.num_layers = num_layers
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_size, **factory)  # E_src
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_size, **factory)  # E_tgt
        layers = {"num_layers": num_layers, "dropout": dropout, "batch_first": True}
        self.encoder = network(embedding_size, hidden_size, **layers, **factory)  # f_enc
        self.decoder = network(embedding_size, hidden_size, **layers, **factory)  # f_dec
        self.readout = nn.Linear(hidden_size, tgt_vocab_size, **factory)  # W_o, b_o

    def _check_tokens(self, name: str, tokens: Tensor, vocab_size: int) -> None:
        if tokens.dim() != 2 or tokens.dtype != torch.long:
            raise ValueError(
                f"expected {name} as a (B, length) tensor of token ids, got {tokens.dtype} {tuple(tokens.shape)}"
            )
        if tokens.size(1) == 0:
            raise ValueError(f"{name} is empty: expected at least one token per sequence")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
            raise ValueError(f"{name} token ids must be in [0, {vocab_size}), got [{tokens.min()}, {tokens.max()}]")

    def encode(self, src: Tensor) -> State:
        """The encoder's final state $c = e_S$: (L, B, H), or ``(h, c)`` for an LSTM."""
        self._check_tokens("src", src, self.src_vocab_size)
        # $$e_t = f_\text{enc}(E_\text{src}[x_t], e_{t-1}), \quad c = e_S$$
        _, context = self.encoder(self.src_embedding(src))
        return context

    def decode(self, tgt_in: Tensor, state: State) -> tuple[Tensor, State]:
        """Run the decoder from ``state`` over ``tgt_in`` (B, T): (logits (B, T, V), final state)."""
        self._check_tokens("tgt_in", tgt_in, self.tgt_vocab_size)
        # $$s_t = f_\text{dec}(E_\text{tgt}[y_{t-1}], s_{t-1})$$
        s, state = self.decoder(self.tgt_embedding(tgt_in), state)
        # $$\text{logits}_t = W_o s_t + b_o$$
        return self.readout(s), state

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher-forced logits (B, T, V) for ``tgt_in`` given ``src``."""
        if src.size(0) != tgt_in.size(0):
            raise ValueError(f"src and tgt_in have different batch sizes: {src.size(0)} and {tgt_in.size(0)}")
        # $$s_0 = c$$: the only path from the source to the decoder.
        logits, _ = self.decode(tgt_in, self.encode(src))
        return logits

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, max_len: int, bos: int) -> Tensor:
        """Free-running decoding: feed back the argmax token for ``max_len`` steps.

        Returns the generated tokens (B, max_len), without the leading BOS.
        """
        if not isinstance(max_len, int) or max_len <= 0:
            raise ValueError(f"max_len must be a positive int, got {max_len!r}")
        if not 0 <= bos < self.tgt_vocab_size:
            raise ValueError(f"bos must be a target token id in [0, {self.tgt_vocab_size}), got {bos!r}")
        state = self.encode(src)
        token = torch.full((src.size(0), 1), bos, dtype=torch.long, device=src.device)  # y_0 = BOS
        generated = []
        for _ in range(max_len):
            logits, state = self.decode(token, state)
            # $$\hat y_t = \arg\max_k p(y_t = k \mid \hat y_{<t}, x)$$
            token = logits[:, -1].argmax(dim=-1, keepdim=True)
            generated.append(token)
        return torch.cat(generated, dim=1)

    def extra_repr(self) -> str:
        return (
            f"src_vocab_size={self.src_vocab_size}, tgt_vocab_size={self.tgt_vocab_size}, "
            f"hidden_size={self.hidden_size}, cell={self.cell!r}, num_layers={self.num_layers}"
        )
