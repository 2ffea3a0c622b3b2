r"""Neural network pushdown automaton: a recurrent controller with a continuous stack.

A neural network pushdown automaton (NNPDA) gives a recurrent network an external
stack, the memory of a pushdown automaton, so that it can recognise context-free
languages such as balanced parentheses, which need unbounded counting. To keep
the whole machine trainable by gradient descent the stack is *continuous*: every
element has a strength in [0, 1], a push adds an element with a fractional
strength, a pop removes a fractional amount from the top, and a read returns the
strength-weighted mixture of the elements that make up the top unit of depth.

This module implements the continuous stack in the form given by Grefenstette et
al. (2015), which generalises the NNPDA's continuous stack (Sun, Giles, Chen) to
separate push and pop strengths and vector-valued elements; the read takes
exactly depth 1 from the top, as the NNPDA does. The controller is an LSTM, not
the higher-order (second-order) network of the original NNPDA.

With stack values $V_t[i]$, strengths $s_t[i]$ for $i = 1 \dots t$, push strength
$d_t$, pop strength $u_t$ and pushed value $v_t$:

$$
\begin{aligned}
V_t[i] &= V_{t-1}[i] \ (i < t), \qquad V_t[t] = v_t \\
s_t[i] &= \max\Big(0,\ s_{t-1}[i] - \max\big(0,\ u_t - \textstyle\sum_{j=i+1}^{t-1} s_{t-1}[j]\big)\Big) \ (i < t),
  \qquad s_t[t] = d_t \\
r_t &= \sum_{i=1}^{t} \min\Big(s_t[i],\ \max\big(0,\ 1 - \textstyle\sum_{j=i+1}^{t} s_t[j]\big)\Big) V_t[i]
\end{aligned}
$$

The pop is applied before the push. The controller reads $[x_t; r_{t-1}]$, and its
output $h_t$ sets the stack actions and the output:

$$
d_t = \sigma(W_d h_t + b_d), \quad u_t = \sigma(W_u h_t + b_u), \quad
v_t = \tanh(W_v h_t + b_v), \quad y_t = W_o [h_t; r_t] + b_o
$$

| symbol              | parameter / tensor      | shape                  |
|---------------------|-------------------------|------------------------|
| controller          | `controller`            | LSTMCell(I + Z, H)     |
| $W_d, W_u, W_v$     | `actions`               | Linear(H, 2 + Z)       |
| $W_o, b_o$          | `readout`               | Linear(H + Z, O)       |
| $V_t$, $s_t$        | `stack_values`, `stack_strengths` | (B, t, Z), (B, t) |
| $r_t$               | read                    | (B, Z)                 |

Shape letters as in `rnnref.models._recurrent`, plus Z the size of a stack element.

References: Guo-Zheng Sun, C. Lee Giles, Hsing-Hen Chen (1998), "The Neural Network
Pushdown Automaton: Architecture, Dynamics and Training", in Adaptive Processing
of Sequences and Data Structures, LNCS, pp. 296–345, doi:10.1007/bfb0054003;
Edward Grefenstette, Karl Moritz Hermann, Mustafa Suleyman, Phil Blunsom (2015),
"Learning to Transduce with Unbounded Memory", arXiv:1506.02516.

Term: https://w3id.org/rnnref/term/neural-network-pushdown-automaton
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_sequence, check_size
from rnnref.models.lstm import LSTMCell

TERM_IRI = "https://w3id.org/rnnref/term/neural-network-pushdown-automaton"


def _suffix_sums(strengths: Tensor) -> Tensor:
    r"""$\sum_{j=i+1}^{n} s[j]$ for every i: (B, n) -> (B, n), the strength strictly above each element."""
    total = strengths.flip(-1).cumsum(-1).flip(-1)  # sum_{j >= i}
    return total - strengths


def stack_step(
    values: Tensor, strengths: Tensor, push: Tensor, pop: Tensor, value: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    r"""One update of the continuous stack and its read.

    values $V_{t-1}$ (B, n, Z), strengths $s_{t-1}$ (B, n), push $d_t$ (B,),
    pop $u_t$ (B,), value $v_t$ (B, Z). Returns ``(values, strengths, read)``:
    $V_t$ (B, n+1, Z), $s_t$ (B, n+1) and $r_t$ (B, Z).
    """
    # $$s_t[i] = \max(0, s_{t-1}[i] - \max(0, u_t - \sum_{j=i+1}^{t-1} s_{t-1}[j]))$$
    popped = torch.relu(strengths - torch.relu(pop.unsqueeze(-1) - _suffix_sums(strengths)))
    # $$V_t[t] = v_t, \quad s_t[t] = d_t$$
    values = torch.cat([values, value.unsqueeze(1)], dim=1)
    strengths = torch.cat([popped, push.unsqueeze(-1)], dim=1)
    # $$r_t = \sum_i \min(s_t[i], \max(0, 1 - \sum_{j=i+1}^{t} s_t[j])) V_t[i]$$
    weights = torch.minimum(strengths, torch.relu(1 - _suffix_sums(strengths)))
    read = torch.einsum("bn,bnz->bz", weights, values)
    return values, strengths, read


class NNPDAState(NamedTuple):
    """What the automaton carries from one step to the next."""

    controller: tuple[Tensor, Tensor]  #: LSTM (h, c), each (B, H)
    stack_values: Tensor  #: V_t, (B, t, Z)
    stack_strengths: Tensor  #: s_t, (B, t)
    read: Tensor  #: r_t, (B, Z)


class NNPDA(nn.Module):
    r"""Neural network pushdown automaton: LSTM controller and a continuous stack.

    Args:
        input_size: I, features per step.
        output_size: O, outputs per step.
        hidden_size: H, controller units.
        stack_size: Z, numbers per stack element.
        batch_first: if True, x and y are (B, T, *).
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): ``x, state``; x (T, B, I), state an `NNPDAState` or None
    (empty stack, zero read).

    Outputs (`forward`): ``(y, state)``, y (T, B, O); with ``return_actions=True``
    also the push and pop strengths of every step, each (T, B).

    Example::

        >>> pda = NNPDA(2, 1, hidden_size=16, stack_size=4)
        >>> y, state = pda(torch.randn(6, 3, 2))
        >>> y.shape, state.stack_strengths.shape
        (torch.Size([6, 3, 1]), torch.Size([3, 6]))

    Papers: Sun, Giles, Chen (1998), doi:10.1007/bfb0054003; Grefenstette et al.
    (2015), arXiv:1506.02516. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_size: int = 32,
        stack_size: int = 8,
        batch_first: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.output_size = check_size("output_size", output_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.stack_size = check_size("stack_size", stack_size)
        self.batch_first = batch_first
        factory = {"device": device, "dtype": dtype}
        self.controller = LSTMCell(input_size + stack_size, hidden_size, **factory)
        self.actions = nn.Linear(hidden_size, 2 + stack_size, **factory)  # W_d, W_u, W_v
        self.readout = nn.Linear(hidden_size + stack_size, output_size, **factory)  # W_o, b_o

    def init_state(self, batch_size: int) -> NNPDAState:
        """Empty stack (no elements), zero read, zero controller state."""
        reference = self.readout.weight
        factory = {"dtype": reference.dtype, "device": reference.device}
        B, Z = batch_size, self.stack_size
        return NNPDAState(
            self.controller.init_state(B), torch.zeros(B, 0, Z, **factory), torch.zeros(B, 0, **factory),
            torch.zeros(B, Z, **factory),
        )  # fmt: skip

    def step(self, x_t: Tensor, state: NNPDAState) -> tuple[Tensor, NNPDAState, Tensor, Tensor]:
        """One step: x_t (B, I) -> (y_t (B, O), new state, push d_t (B,), pop u_t (B,))."""
        h, controller_state = self.controller.step(torch.cat([x_t, state.read], dim=-1), state.controller)
        raw = self.actions(h)
        # $$d_t = \sigma(W_d h_t + b_d), \quad u_t = \sigma(W_u h_t + b_u), \quad v_t = \tanh(W_v h_t + b_v)$$
        push, pop, value = torch.sigmoid(raw[:, 0]), torch.sigmoid(raw[:, 1]), torch.tanh(raw[:, 2:])
        values, strengths, read = stack_step(state.stack_values, state.stack_strengths, push, pop, value)
        # $$y_t = W_o [h_t; r_t] + b_o$$
        y_t = self.readout(torch.cat([h, read], dim=-1))
        return y_t, NNPDAState(controller_state, values, strengths, read), push, pop

    def forward(self, x: Tensor, state: NNPDAState | None = None, *, return_actions: bool = False):
        check_sequence("NNPDA", x, self.input_size, self.readout.weight.dtype, batch_first=self.batch_first)
        if self.batch_first:
            x = x.transpose(0, 1)
        if state is None:
            state = self.init_state(x.size(1))
        outputs, pushes, pops = [], [], []
        for x_t in x:
            y_t, state, push, pop = self.step(x_t, state)
            outputs.append(y_t)
            pushes.append(push)
            pops.append(pop)
        y = torch.stack(outputs)
        if self.batch_first:
            y = y.transpose(0, 1)
        if return_actions:
            return y, state, torch.stack(pushes), torch.stack(pops)
        return y, state

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.output_size}, hidden_size={self.hidden_size}, stack_size={self.stack_size}"


def dyck1_batch(generator: torch.Generator, batch_size: int, max_pairs: int, dtype=torch.float32):
    """Dyck-1 recognition data: half balanced strings, half near misses, as one-hot sequences.

    Each string has an even length 2 .. 2 ``max_pairs``, padded on the left with a
    blank symbol (all inputs zero) to the common length 2 ``max_pairs``. Balanced
    strings are random walks that never go below zero and end at zero; the other
    half are random strings with as many "(" as ")" that are *not* balanced (they
    dip below zero somewhere), so counting alone cannot tell them apart.
    Returns ``(x, label)``: x (2 max_pairs, B, 2) with channel 0 = "(" and 1 = ")",
    label (B,) 1.0 for balanced.
    """
    T = 2 * max_pairs
    x = torch.zeros(T, batch_size, 2, dtype=dtype)
    labels = torch.zeros(batch_size, dtype=dtype)
    for b in range(batch_size):
        pairs = int(torch.randint(1, max_pairs + 1, (1,), generator=generator))
        balanced = b % 2 == 0
        while True:
            order = torch.randperm(2 * pairs, generator=generator) < pairs  # True = "("
            depths = torch.cumsum(order.long() * 2 - 1, 0)
            if bool((depths >= 0).all()) == balanced:
                break
        x[T - 2 * pairs :, b, 0] = order.to(dtype)
        x[T - 2 * pairs :, b, 1] = (~order).to(dtype)
        labels[b] = float(balanced)
    return x, labels
