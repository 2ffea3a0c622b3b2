r"""ELMo: the bidirectional language model of Peters et al. (2018) and its task-specific scalar mix.

ELMo ("Embeddings from Language Models") represents each token of a sentence by the
internal states of a pretrained *bidirectional language model* (biLM) run over the
whole sentence, so the same word gets different vectors in different contexts. The
biLM has two halves that share only the token representation and the softmax:

* a **forward LM**, L stacked LSTM layers reading $t_1 \dots t_N$ left to right,
  whose top state at position k predicts the next token $t_{k+1}$;
* a **backward LM**, L stacked LSTM layers with their own weights reading right to
  left, whose top state at k predicts the previous token $t_{k-1}$.

Both are trained together by maximising

$$
\sum_{k=1}^{N} \Big( \log p(t_k \mid t_1, \dots, t_{k-1}) + \log p(t_k \mid t_{k+1}, \dots, t_N) \Big).
$$

For token k the biLM gives L + 1 representations: the token layer
$h_{k,0} = [x_k; x_k]$ and, for each layer j, $h_{k,j} = [\overrightarrow{h}_{k,j};
\overleftarrow{h}_{k,j}]$. A downstream task learns its own **scalar mix**:

$$
\mathrm{ELMo}_k = \gamma \sum_{j=0}^{L} s_j\, h_{k,j}, \qquad s = \operatorname{softmax}(w)
$$

In this module:

$$
\begin{aligned}
x_k &= E[t_k] \\
\overrightarrow{h}_{k,j} &= \operatorname{LSTM}^{\rightarrow}_j(\overrightarrow{h}_{k,j-1}, \overrightarrow{h}_{k-1,j}), \quad
\overleftarrow{h}_{k,j} = \operatorname{LSTM}^{\leftarrow}_j(\overleftarrow{h}_{k,j-1}, \overleftarrow{h}_{k+1,j}), \quad
\overrightarrow{h}_{k,0} = \overleftarrow{h}_{k,0} = x_k \\
p(t_{k+1} \mid t_{\le k}) &= \operatorname{softmax}(E\, \overrightarrow{h}_{k,L} + b), \qquad
p(t_{k-1} \mid t_{\ge k}) = \operatorname{softmax}(E\, \overleftarrow{h}_{k,L} + b)
\end{aligned}
$$

The softmax weights are **tied** to the token embedding $E$ and shared by both
directions, so every LSTM layer projects its cell output back to the embedding size
d (an LSTM with projection, as ELMo's 4096-cell, 512-projection layers); with
``residual=True`` layers $j \ge 2$ add their input to their output, as in the
paper. Simplification, stated: the token representation is a plain embedding
lookup, not the paper's character CNN with highway layers; the paper ties the
token and softmax parameters *across directions*, and this module in addition ties
the softmax matrix to the embedding (``E``), which needs the projection to d.

| symbol                     | parameter                                | shape              |
|----------------------------|------------------------------------------|--------------------|
| $E$                        | `embedding.weight`                       | (V, d)             |
| $b$                        | `softmax_bias`                           | (V,)               |
| $\operatorname{LSTM}^{\rightarrow}_j$, $\operatorname{LSTM}^{\leftarrow}_j$ | `forward_layers.{j-1}`, `backward_layers.{j-1}` (`rnnref.models.lstm.LSTM`, proj d) | |
| $w$                        | `mix_weights`                            | (L + 1,)           |
| $\gamma$                   | `gamma`                                  | ()                 |

tokens (B, N) integer ids; representations (B, N, 2d). Batch-first, equal lengths.

Reference: Matthew E. Peters, Mark Neumann, Mohit Iyyer, Matt Gardner, Christopher
Clark, Kenton Lee and Luke Zettlemoyer (2018), "Deep contextualized word
representations", NAACL 2018, arXiv:1802.05365.

Term: https://w3id.org/rnnref/term/elmo
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_size
from rnnref.models.lstm import LSTM

TERM_IRI = "https://w3id.org/rnnref/term/elmo"


class ELMo(nn.Module):
    r"""Bidirectional LSTM language model with tied softmax, and the scalar mix $\gamma \sum_j \operatorname{softmax}(w)_j h_{k,j}$.

    Args:
        vocab_size: V.
        embedding_size: d, token vectors and every layer's projected output.
        hidden_size: H >= d, LSTM cells per layer and direction (projected to d if H > d).
        num_layers: L.
        residual: if True, layers j >= 2 add their input to their output.
        device, dtype: of the parameters.

    ``forward(tokens)`` -> ELMo vectors (B, N, 2d); ``layers(tokens)`` -> the L + 1
    biLM representations; ``bilm_states(x)`` does the same from embeddings x
    (B, N, d); ``lm_logits(tokens)`` -> (forward, backward) logits (B, N, V);
    ``lm_loss(tokens)`` -> the mean negative log-likelihood of both directions.

    Example::

        >>> elmo = ELMo(vocab_size=20, embedding_size=4, hidden_size=8)
        >>> tokens = torch.randint(0, 20, (2, 7))
        >>> elmo(tokens).shape
        torch.Size([2, 7, 8])

    Paper: Peters et al. (2018), arXiv:1802.05365. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int,
        hidden_size: int,
        num_layers: int = 2,
        *,
        residual: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.vocab_size = check_size("vocab_size", vocab_size)
        self.embedding_size = d = check_size("embedding_size", embedding_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        self.residual = check_flag("residual", residual)
        if hidden_size < embedding_size:
            raise ValueError(f"hidden_size ({hidden_size}) must be at least embedding_size ({embedding_size})")
        factory = {"device": device, "dtype": dtype}
        proj = d if hidden_size > d else 0
        self.embedding = nn.Embedding(vocab_size, d, **factory)
        self.forward_layers = nn.ModuleList(LSTM(d, hidden_size, proj_size=proj, batch_first=True, fast=True, **factory) for _ in range(num_layers))
        self.backward_layers = nn.ModuleList(LSTM(d, hidden_size, proj_size=proj, batch_first=True, fast=True, **factory) for _ in range(num_layers))
        self.softmax_bias = nn.Parameter(torch.zeros(vocab_size, **factory))
        self.mix_weights = nn.Parameter(torch.zeros(num_layers + 1, **factory))  # w
        self.gamma = nn.Parameter(torch.ones((), **factory))  # gamma
        with torch.no_grad():
            self.embedding.weight.mul_(0.5)

    # -- the biLM ---------------------------------------------------------------------

    def _run(self, layers: nn.ModuleList, x: Tensor) -> list[Tensor]:
        """One direction's L layers over x (B, N, d) in reading order; each layer's output (B, N, d)."""
        outputs, layer_input = [], x
        for j, lstm in enumerate(layers, start=1):
            h = lstm(layer_input)[0]
            if self.residual and j >= 2:
                h = h + layer_input
            outputs.append(h)
            layer_input = h
        return outputs

    def bilm_states(self, x: Tensor) -> list[Tensor]:
        r"""$[h_{\cdot,0}, \dots, h_{\cdot,L}]$ from token vectors x (B, N, d); each (B, N, 2d)."""
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.embedding_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"ELMo expects token vectors of shape (B, N, {self.embedding_size}), got {shape}")
        # $$\overrightarrow{h}_{k,j} = \operatorname{LSTM}^{\rightarrow}_j(\overrightarrow{h}_{k,j-1}, \overrightarrow{h}_{k-1,j})$$
        forward = self._run(self.forward_layers, x)
        # $$\overleftarrow{h}_{k,j} = \operatorname{LSTM}^{\leftarrow}_j(\overleftarrow{h}_{k,j-1}, \overleftarrow{h}_{k+1,j})$$: read the reversed sentence
        backward = [h.flip(1) for h in self._run(self.backward_layers, x.flip(1))]
        # $$h_{k,0} = [x_k; x_k], \quad h_{k,j} = [\overrightarrow{h}_{k,j}; \overleftarrow{h}_{k,j}]$$
        return [torch.cat([x, x], -1)] + [torch.cat([f, b], -1) for f, b in zip(forward, backward, strict=True)]

    def _tokens(self, tokens: Tensor) -> Tensor:
        if not isinstance(tokens, Tensor) or tokens.dim() != 2 or tokens.dtype not in (torch.int64, torch.int32):
            raise ValueError("ELMo expects tokens as an integer tensor of shape (B, N)")
        if tokens.size(1) == 0:
            raise ValueError("ELMo expects at least one token per sentence")
        if bool((tokens < 0).any()) or bool((tokens >= self.vocab_size).any()):
            raise ValueError(f"token ids must be in 0..{self.vocab_size - 1}")
        # $$x_k = E[t_k]$$
        return self.embedding(tokens)

    def layers(self, tokens: Tensor) -> list[Tensor]:
        """The L + 1 biLM representations of every token, each (B, N, 2d)."""
        return self.bilm_states(self._tokens(tokens))

    # -- the language-model objective ----------------------------------------------------

    def lm_logits(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        r"""Logits $E \overrightarrow{h}_{k,L} + b$ (for $t_{k+1}$) and $E \overleftarrow{h}_{k,L} + b$ (for $t_{k-1}$), (B, N, V) each."""
        top = self.layers(tokens)[-1]
        d = self.embedding_size
        forward, backward = top[..., :d], top[..., d:]
        return F.linear(forward, self.embedding.weight, self.softmax_bias), F.linear(backward, self.embedding.weight, self.softmax_bias)

    def lm_loss(self, tokens: Tensor) -> Tensor:
        r"""$-\frac{1}{2}\big(\overline{\log p(t_{k+1} \mid t_{\le k})} + \overline{\log p(t_{k-1} \mid t_{\ge k})}\big)$, means over positions."""
        if tokens.dim() != 2 or tokens.size(1) < 2:
            raise ValueError("lm_loss needs sentences of at least two tokens, shape (B, N >= 2)")
        forward, backward = self.lm_logits(tokens)
        V = self.vocab_size
        next_loss = F.cross_entropy(forward[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))
        previous_loss = F.cross_entropy(backward[:, 1:].reshape(-1, V), tokens[:, :-1].reshape(-1))
        return (next_loss + previous_loss) / 2

    # -- the task-specific scalar mix --------------------------------------------------------

    def mix_coefficients(self) -> Tensor:
        r"""$s = \operatorname{softmax}(w)$, (L + 1,); sums to 1."""
        return torch.softmax(self.mix_weights, dim=0)

    def mix(self, states: list[Tensor]) -> Tensor:
        r"""$\gamma \sum_j s_j h_{k,j}$ for the L + 1 representations ``states``."""
        if len(states) != self.num_layers + 1:
            raise ValueError(f"expected {self.num_layers + 1} layer representations, got {len(states)}")
        s = self.mix_coefficients()
        # $$\mathrm{ELMo}_k = \gamma \sum_{j=0}^{L} s_j h_{k,j}$$
        return self.gamma * sum(s_j * h_j for s_j, h_j in zip(s, states, strict=True))

    def forward(self, tokens: Tensor) -> Tensor:
        return self.mix(self.layers(tokens))


def stepping_sentences(generator: torch.Generator, batch_size: int, length: int = 12, vocab_size: int = 10) -> Tensor:
    """Sentences $t_k = (a + k\\,s) \\bmod V$ with a random start a and a random stride s in {1, 2}: (B, N) ids.

    After two tokens the next one is determined (and, reading backwards, the previous
    one); the first prediction of each direction is a guess between the two strides.
    """
    for name, value in (("batch_size", batch_size), ("length", length), ("vocab_size", vocab_size)):
        check_size(name, value)
    start = torch.randint(0, vocab_size, (batch_size, 1), generator=generator)
    stride = torch.randint(1, 3, (batch_size, 1), generator=generator)
    return (start + stride * torch.arange(length)) % vocab_size
