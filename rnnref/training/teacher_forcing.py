r"""Teacher forcing: train a sequence generator on the true previous outputs, not its own.

An autoregressive decoder produces $y_1, y_2, \dots$ one token at a time, each step
reading the token produced before. At generation time it must read its *own*
previous prediction (free running). In training it can instead read the *true*
previous token from the target sequence: teacher forcing. Every step then learns
from a correct context even while the model is still poor, all steps can be
supervised at once, and training is much faster; the price is *exposure bias*,
since at test time the model meets its own mistakes, which it never saw in
training. *Scheduled sampling* mixes the two: at each step it feeds the model's own
prediction with probability $\epsilon$ and the true token otherwise, raising
$\epsilon$ as training goes on.

The decoder here is a GRU cell reading the previous token one-hot, with a linear
readout to logits over the $V$ tokens. With ground-truth tokens $y_0$ (a start or
prompt token), $y_1, \dots, y_T$:

$$
\begin{aligned}
u_t &= \begin{cases}
    y_{t-1} & \text{teacher forcing, or } t \le m \text{ (forced prefix)} \\
    \hat y_{t-1} = \arg\max_k z_{t-1,k} & \text{free running} \\
    \hat y_{t-1} \text{ with probability } \epsilon, \text{ else } y_{t-1} & \text{scheduled sampling}
\end{cases} \\
h_t &= \operatorname{GRU}(\operatorname{onehot}(u_t), h_{t-1}), \qquad z_t = W_o h_t + b_o \\
\mathcal{L} &= -\sum_t \log \operatorname{softmax}(z_t)_{y_t}
\end{aligned}
$$

so $\epsilon = 0$ is teacher forcing and $\epsilon = 1$ free running. The model's
own tokens are passed on as data (no gradient flows through the argmax).
Shape letters: B batch, T length, V vocabulary, H hidden.

References: Ronald J. Williams, David Zipser (1989), "A Learning Algorithm for
Continually Running Fully Recurrent Neural Networks", Neural Computation 1(2):
270–280, doi:10.1162/neco.1989.1.2.270 (teacher forcing); Samy Bengio, Oriol
Vinyals, Navdeep Jaitly, Noam Shazeer (2015), "Scheduled Sampling for Sequence
Prediction with Recurrent Neural Networks", arXiv:1506.03099.

Term: https://w3id.org/rnnref/term/teacher-forcing
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models.gru import GRUCell

TERM_IRI = "https://w3id.org/rnnref/term/teacher-forcing"


def teacher_forcing_inputs(sequence: Tensor) -> Tensor:
    r"""The decoder inputs under teacher forcing: $u_t = y_{t-1}$, i.e. ``sequence[:, :-1]``.

    ``sequence`` is (B, T + 1): $y_0, y_1, \dots, y_T$; the targets are ``sequence[:, 1:]``.
    """
    return sequence[:, :-1]


def inverse_sigmoid_schedule(step: int, k: float) -> float:
    r"""Scheduled sampling's $\epsilon$ at ``step``: $1 - k / (k + e^{\text{step}/k})$, rising from about 0 to 1.

    Bengio et al.'s inverse sigmoid decay gives the probability $k / (k + e^{i/k})$ of
    using the true token; $\epsilon$ is its complement. Needs $k \ge 1$.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k!r}")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step!r}")
    exponent = step / k
    if exponent > 700:  # e^700 is near the float limit; epsilon is 1 to double precision long before
        return 1.0
    return 1.0 - k / (k + math.exp(exponent))


class AutoregressiveDecoder(nn.Module):
    r"""A GRU decoder over tokens, trainable with teacher forcing, free running or scheduled sampling.

    $$h_t = \operatorname{GRU}(\operatorname{onehot}(u_t), h_{t-1}), \quad z_t = W_o h_t + b_o$$

    Args:
        vocab_size: V.
        hidden_size: H.
        device, dtype: for the parameters.

    ``forward(sequence, sampling_probability=0.0, forced_prefix=1, generator=None)``:
    sequence (B, T + 1) holds $y_0 \dots y_T$; returns ``(logits (B, T, V), inputs (B, T))``,
    the logits $z_t$ predicting $y_t$ and the tokens $u_t$ actually fed at each step.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an int >= 2, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.cell = GRUCell(vocab_size, hidden_size, device=device, dtype=dtype)
        self.readout = nn.Linear(hidden_size, vocab_size, device=device, dtype=dtype)  # W_o, b_o

    def forward(
        self,
        sequence: Tensor,
        sampling_probability: float = 0.0,
        forced_prefix: int = 1,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        r"""Run the decoder along ``sequence``, feeding true or own tokens.

        Args:
            sequence: (B, T + 1) long, $y_0 \dots y_T$.
            sampling_probability: $\epsilon \in [0, 1]$; 0 is teacher forcing, 1 free running.
            forced_prefix: $m \ge 1$; the first $m$ inputs are always the true tokens
                (the prompt; at least $y_0$, which the model has no prediction for).
            generator: random source for scheduled sampling's coin flips.
        """
        if sequence.dim() != 2 or sequence.size(1) < 2:
            raise ValueError(f"sequence must be (B, T + 1) with T >= 1, got {tuple(sequence.shape)}")
        if not 0.0 <= sampling_probability <= 1.0:
            raise ValueError(f"sampling_probability must be in [0, 1], got {sampling_probability!r}")
        if not isinstance(forced_prefix, int) or forced_prefix < 1:
            raise ValueError(f"forced_prefix must be an int >= 1, got {forced_prefix!r}")
        if (sequence < 0).any() or (sequence >= self.vocab_size).any():
            raise ValueError(f"tokens must be in [0, {self.vocab_size})")
        B, T = sequence.size(0), sequence.size(1) - 1
        true_inputs = teacher_forcing_inputs(sequence)  # y_{t-1} for t = 1..T
        dtype = self.readout.weight.dtype
        h = self.cell.init_state(B)
        logits, inputs = [], []
        for t in range(T):  # 0-based: step t + 1 of the equations
            if t < forced_prefix or sampling_probability == 0.0:
                # $$u_t = y_{t-1}$$
                u_t = true_inputs[:, t]
            else:
                # $$\hat y_{t-1} = \arg\max_k z_{t-1,k}$$, data only: no gradient through the argmax
                own = logits[-1].detach().argmax(dim=1)
                if sampling_probability == 1.0:
                    u_t = own
                else:
                    # $$u_t = \hat y_{t-1} \text{ with probability } \epsilon, \text{ else } y_{t-1}$$
                    coin = torch.rand(B, generator=generator, device=sequence.device) < sampling_probability
                    u_t = torch.where(coin, own, true_inputs[:, t])
            # $$h_t = \operatorname{GRU}(\operatorname{onehot}(u_t), h_{t-1})$$
            _, h = self.cell.step(F.one_hot(u_t, self.vocab_size).to(dtype), h)
            # $$z_t = W_o h_t + b_o$$
            logits.append(self.readout(h))
            inputs.append(u_t)
        return torch.stack(logits, dim=1), torch.stack(inputs, dim=1)

    def loss(
        self,
        sequence: Tensor,
        sampling_probability: float = 0.0,
        forced_prefix: int = 1,
        generator: torch.Generator | None = None,
        from_step: int = 1,
    ) -> Tensor:
        r"""Mean cross-entropy $-\log \operatorname{softmax}(z_t)_{y_t}$ over steps $t \ge$ ``from_step``.

        The other arguments are those of `forward`; ``from_step`` leaves out the
        steps whose targets cannot be predicted (the rest of a random prompt).
        """
        if not isinstance(from_step, int) or not 1 <= from_step < sequence.size(1):
            raise ValueError(f"from_step must be an int in [1, T], got {from_step!r}")
        logits, _ = self(sequence, sampling_probability, forced_prefix, generator)
        targets = sequence[:, 1:]
        scored = slice(from_step - 1, None)  # steps from_step .. T
        return F.cross_entropy(logits[:, scored].reshape(-1, self.vocab_size), targets[:, scored].reshape(-1))

    @torch.no_grad()
    def generate(self, prompt: Tensor, length: int) -> Tensor:
        r"""Free running after a prompt: (B, m) true tokens in, (B, length) predicted tokens out.

        The decoder reads the prompt $y_0 \dots y_{m-1}$, then its own predictions.
        """
        if prompt.dim() != 2 or prompt.size(1) < 1:
            raise ValueError(f"prompt must be (B, m) with m >= 1, got {tuple(prompt.shape)}")
        m = prompt.size(1)
        padded = torch.cat([prompt, prompt.new_zeros(prompt.size(0), length)], dim=1)
        logits, _ = self(padded, sampling_probability=1.0, forced_prefix=m)
        return logits[:, m - 1 :].argmax(dim=2)
