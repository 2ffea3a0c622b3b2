r"""Attention mechanism (additive, Bahdanau et al.): a decoder that looks back at every encoder state.

In a plain encoder-decoder (`rnnref.models.encoder_decoder`) everything the
decoder knows about the source is the encoder's final state, a fixed-size
vector, which becomes a bottleneck for long sources. The attention mechanism
removes it: the encoder keeps one *annotation* $h_j$ per source position, and at
every output step the decoder computes a score for each annotation from its own
previous state, turns the scores into weights with a softmax, and reads the
weighted sum of the annotations, the *context vector*. The weights are soft and
differentiable, so where to look is learned with the rest of the model, and they
show which source positions each output step used (an alignment).

Additive attention, for a query $s$ (the decoder's previous state) and
annotations $h_1 \dots h_S$:

$$
\begin{aligned}
e_{j} &= v^\top \tanh(W s + U h_j + b) \\
\alpha_{j} &= \frac{\exp(e_{j})}{\sum_{k=1}^{S} \exp(e_{k})} \\
c &= \sum_{j=1}^{S} \alpha_{j} h_j
\end{aligned}
$$

(positions masked out get $\alpha_j = 0$; $U h_j + b$ does not depend on the
step and is computed once per source). The encoder-decoder with attention
(`AttentionEncoderDecoder`) uses it at every decoder step $t$:

$$
\begin{aligned}
h_j &= [\overrightarrow{h}_j; \overleftarrow{h}_j] && \text{bidirectional GRU over } E_\text{src}[x_j] \\
s_0 &= \tanh(W_s \overleftarrow{h}_1 + b_s) \\
c_t &= \operatorname{attend}(s_{t-1}; h_1 \dots h_S) \\
s_t &= \operatorname{GRU}([E_\text{tgt}[y_{t-1}]; c_t], s_{t-1}) \\
p(y_t \mid y_{<t}, x) &= \operatorname{softmax}(W_o [s_t; c_t; E_\text{tgt}[y_{t-1}]] + b_o)
\end{aligned}
$$

The paper's deep output layer (a maxout unit) is replaced by one linear layer.

| symbol          | parameter                 | shape          |
|-----------------|---------------------------|----------------|
| $W$             | `attention.query`         | Linear(Q, A, bias=False) |
| $U$, $b$        | `attention.key`           | Linear(K, A)   |
| $v$             | `attention.score`         | Linear(A, 1, bias=False) |
| encoder         | `encoder`                 | GRU(E, H, bidirectional) |
| $W_s, b_s$      | `init_state`              | Linear(H, H)   |
| decoder         | `decoder`                 | GRUCell(E + 2H, H) |
| $W_o, b_o$      | `readout`                 | Linear(H + 2H + E, V) |

Shape letters: B batch, S source length, T target length, Q query size, K key
(annotation) size, A attention size, E embedding, H hidden, V target vocabulary.

Reference: Dzmitry Bahdanau, Kyunghyun Cho, Yoshua Bengio (2014), "Neural Machine
Translation by Jointly Learning to Align and Translate", arXiv:1409.0473.

Term: https://w3id.org/rnnref/term/attention-mechanism
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_size
from rnnref.models.gru import GRU, GRUCell

TERM_IRI = "https://w3id.org/rnnref/term/attention-mechanism"


class BahdanauAttention(nn.Module):
    r"""Additive attention: $e_j = v^\top \tanh(W s + U h_j + b)$, $\alpha = \operatorname{softmax}(e)$, $c = \sum_j \alpha_j h_j$.

    Args:
        query_size: Q, size of the query $s$.
        key_size: K, size of each annotation $h_j$.
        attention_size: A, size of the hidden layer of the score.
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): ``query`` (B, Q), ``keys`` (B, S, K), optional ``mask``
    (B, S) bool (True = attend; every row needs one True), optional
    ``projected_keys`` $U h_j + b$ (B, S, A) from `project_keys`.

    Outputs (`forward`): ``(context, weights)``, (B, K) and (B, S).

    Example::

        >>> attention = BahdanauAttention(4, 6, 5)
        >>> context, weights = attention(torch.randn(2, 4), torch.randn(2, 7, 6))
        >>> context.shape, weights.sum(-1)
        (torch.Size([2, 6]), tensor([1.0000, 1.0000], grad_fn=<SumBackward1>))

    Paper: Bahdanau, Cho, Bengio (2014), arXiv:1409.0473. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        query_size: int,
        key_size: int,
        attention_size: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.query_size = check_size("query_size", query_size)
        self.key_size = check_size("key_size", key_size)
        self.attention_size = check_size("attention_size", attention_size)
        factory = {"device": device, "dtype": dtype}
        self.query = nn.Linear(query_size, attention_size, bias=False, **factory)  # W
        self.key = nn.Linear(key_size, attention_size, **factory)  # U, b
        self.score = nn.Linear(attention_size, 1, bias=False, **factory)  # v

    def project_keys(self, keys: Tensor) -> Tensor:
        """$U h_j + b$ for every annotation, (B, S, K) -> (B, S, A): once per source, not per step."""
        return self.key(keys)

    def forward(
        self, query: Tensor, keys: Tensor, mask: Tensor | None = None, projected_keys: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        if query.dim() != 2 or query.size(-1) != self.query_size:
            raise ValueError(f"query must be (B, {self.query_size}), got {tuple(query.shape)}")
        if keys.dim() != 3 or keys.size(-1) != self.key_size or keys.size(0) != query.size(0) or keys.size(1) == 0:
            raise ValueError(f"keys must be (B={query.size(0)}, S >= 1, {self.key_size}), got {tuple(keys.shape)}")
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        # $$e_j = v^\top \tanh(W s + U h_j + b)$$
        scores = self.score(torch.tanh(self.query(query).unsqueeze(1) + projected_keys)).squeeze(-1)  # (B, S)
        if mask is not None:
            if mask.shape != scores.shape or mask.dtype != torch.bool:
                raise ValueError(f"mask must be a bool tensor of shape {tuple(scores.shape)}, got {mask.dtype} {tuple(mask.shape)}")
            if not bool(mask.any(dim=-1).all()):
                raise ValueError("mask must leave at least one position to attend to in every row")
            scores = scores.masked_fill(~mask, float("-inf"))
        # $$\alpha_j = \exp(e_j) / \sum_k \exp(e_k)$$
        weights = torch.softmax(scores, dim=-1)
        # $$c = \sum_j \alpha_j h_j$$
        context = torch.einsum("bs,bsk->bk", weights, keys)
        return context, weights

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, attention_size={self.attention_size}"


class AttentionEncoderDecoder(nn.Module):
    r"""Encoder-decoder with additive attention (RNNsearch): bidirectional GRU encoder, attentive GRU decoder.

    The interface matches `rnnref.models.encoder_decoder.EncoderDecoder`:
    ``forward(src, tgt_in) -> logits`` (teacher forcing) and
    ``greedy_decode(src, max_len, bos)``.

    Args:
        src_vocab_size: source tokens.
        tgt_vocab_size: V, target tokens (including BOS).
        hidden_size: H, state size of each encoder direction and of the decoder.
        embedding_size: E (default H).
        attention_size: A (default H).
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): src (B, S) ids, tgt_in (B, T) ids (BOS then the target
    shifted right); ``return_attention=True`` also returns the weights (B, T, S).

    Outputs (`forward`): logits (B, T, V).

    Example::

        >>> model = AttentionEncoderDecoder(10, 10, 16)
        >>> src = torch.randint(1, 10, (3, 5))
        >>> logits, weights = model(src, src[:, :4], return_attention=True)
        >>> logits.shape, weights.shape
        (torch.Size([3, 4, 10]), torch.Size([3, 4, 5]))

    Paper: Bahdanau, Cho, Bengio (2014), arXiv:1409.0473. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        hidden_size: int,
        *,
        embedding_size: int | None = None,
        attention_size: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.src_vocab_size = check_size("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = check_size("tgt_vocab_size", tgt_vocab_size)
        self.hidden_size = H = check_size("hidden_size", hidden_size)
        self.embedding_size = E = check_size("embedding_size", H if embedding_size is None else embedding_size)
        A = check_size("attention_size", H if attention_size is None else attention_size)
        factory = {"device": device, "dtype": dtype}
        self.src_embedding = nn.Embedding(src_vocab_size, E, **factory)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, E, **factory)
        self.encoder = GRU(E, H, batch_first=True, bidirectional=True, **factory)
        self.init_state = nn.Linear(H, H, **factory)  # W_s, b_s
        self.attention = BahdanauAttention(H, 2 * H, A, **factory)
        self.decoder = GRUCell(E + 2 * H, H, **factory)
        self.readout = nn.Linear(H + 2 * H + E, tgt_vocab_size, **factory)  # W_o, b_o

    def _check_tokens(self, name: str, tokens: Tensor, vocab_size: int) -> None:
        if not isinstance(tokens, Tensor) or tokens.dim() != 2 or tokens.dtype != torch.long or tokens.size(1) == 0:
            shape = f"{tokens.dtype} {tuple(tokens.shape)}" if isinstance(tokens, Tensor) else type(tokens).__name__
            raise ValueError(f"expected {name} as a non-empty (B, length) tensor of token ids, got {shape}")
        if tokens.min() < 0 or tokens.max() >= vocab_size:
            raise ValueError(f"{name} token ids must be in [0, {vocab_size}), got [{tokens.min()}, {tokens.max()}]")

    def encode(self, src: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Annotations $h_j$ (B, S, 2H), their projections $U h_j + b$ (B, S, A), and $s_0$ (B, H)."""
        self._check_tokens("src", src, self.src_vocab_size)
        # $$h_j = [\overrightarrow{h}_j; \overleftarrow{h}_j]$$
        annotations, _ = self.encoder(self.src_embedding(src))
        # $$s_0 = \tanh(W_s \overleftarrow{h}_1 + b_s)$$
        s0 = torch.tanh(self.init_state(annotations[:, 0, self.hidden_size :]))
        return annotations, self.attention.project_keys(annotations), s0

    def decode_step(
        self, y_prev: Tensor, s: Tensor, annotations: Tensor, projected: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One decoder step from token ids y_prev (B,): (logits (B, V), s_t (B, H), weights (B, S))."""
        embedded = self.tgt_embedding(y_prev)
        # $$c_t = \operatorname{attend}(s_{t-1}; h_1 \dots h_S)$$
        context, weights = self.attention(s, annotations, projected_keys=projected)
        # $$s_t = \operatorname{GRU}([E_\text{tgt}[y_{t-1}]; c_t], s_{t-1})$$
        s, _ = self.decoder.step(torch.cat([embedded, context], dim=-1), s)
        # $$\text{logits}_t = W_o [s_t; c_t; E_\text{tgt}[y_{t-1}]] + b_o$$
        logits = self.readout(torch.cat([s, context, embedded], dim=-1))
        return logits, s, weights

    def forward(self, src: Tensor, tgt_in: Tensor, *, return_attention: bool = False):
        self._check_tokens("tgt_in", tgt_in, self.tgt_vocab_size)
        if src.size(0) != tgt_in.size(0):
            raise ValueError(f"src and tgt_in have different batch sizes: {src.size(0)} and {tgt_in.size(0)}")
        annotations, projected, s = self.encode(src)
        all_logits, all_weights = [], []
        for t in range(tgt_in.size(1)):
            logits, s, weights = self.decode_step(tgt_in[:, t], s, annotations, projected)
            all_logits.append(logits)
            all_weights.append(weights)
        logits = torch.stack(all_logits, dim=1)
        return (logits, torch.stack(all_weights, dim=1)) if return_attention else logits

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, max_len: int, bos: int) -> Tensor:
        """Feed back the argmax token for ``max_len`` steps: -> (B, max_len), without the BOS."""
        if not isinstance(max_len, int) or max_len <= 0:
            raise ValueError(f"max_len must be a positive int, got {max_len!r}")
        if not 0 <= bos < self.tgt_vocab_size:
            raise ValueError(f"bos must be a target token id in [0, {self.tgt_vocab_size}), got {bos!r}")
        annotations, projected, s = self.encode(src)
        token = torch.full((src.size(0),), bos, dtype=torch.long, device=src.device)
        generated = []
        for _ in range(max_len):
            logits, s, _ = self.decode_step(token, s, annotations, projected)
            token = logits.argmax(dim=-1)
            generated.append(token)
        return torch.stack(generated, dim=1)

    def extra_repr(self) -> str:
        return f"src_vocab_size={self.src_vocab_size}, tgt_vocab_size={self.tgt_vocab_size}, hidden_size={self.hidden_size}"
