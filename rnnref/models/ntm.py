r"""Neural Turing machine: a recurrent controller with a differentiable memory matrix.

A neural Turing machine (NTM) couples a neural network, the *controller*, to an
external memory $M \in \mathbb{R}^{N \times W}$ ($N$ locations of $W$ numbers).
At every step the controller emits, for each *head*, the parameters of a soft
weighting $w_t$ over the locations; a read head returns the weighted sum of the
rows, a write head erases and adds at the weighted rows. Every operation is
differentiable, so the whole machine trains end to end with backpropagation
through time, and it can learn small algorithms such as copying a sequence.

Addressing (one head; $K$ is cosine similarity, $s_t$ a distribution over the
shifts $-\lfloor S/2 \rfloor \dots \lfloor S/2 \rfloor$):

$$
\begin{aligned}
K(k, M_i) &= \frac{k \cdot M_i}{\lVert k \rVert \, \lVert M_i \rVert} \\
w^c_t(i) &= \frac{\exp(\beta_t K(k_t, M_{t-1}(i)))}{\sum_j \exp(\beta_t K(k_t, M_{t-1}(j)))}
  && \text{content addressing} \\
w^g_t &= g_t w^c_t + (1 - g_t) w_{t-1} && \text{interpolation} \\
\tilde w_t(i) &= \sum_{j=0}^{N-1} w^g_t(j) \, s_t(i - j) && \text{circular shift (indices mod } N) \\
w_t(i) &= \frac{\tilde w_t(i)^{\gamma_t}}{\sum_j \tilde w_t(j)^{\gamma_t}} && \text{sharpening}
\end{aligned}
$$

Writing (erase $e_t \in [0, 1]^W$, add $a_t$) then reading:

$$
\begin{aligned}
M_t(i) &= M_{t-1}(i) \odot (\mathbf{1} - w^w_t(i) e_t) + w^w_t(i) a_t \\
r_t &= \sum_i w^r_t(i) M_t(i)
\end{aligned}
$$

The controller reads $[x_t; r_{t-1}]$ (an LSTM, or a one-layer tanh network for a
feedforward controller) and its output $h_t$ gives every head's parameters through
one linear map with the activations $\beta = \operatorname{softplus}$,
$g = \sigma$, $s = \operatorname{softmax}$, $\gamma = 1 + \operatorname{softplus}$,
$e = \sigma$, $a = \tanh$ (keys are linear). The output is
$y_t = W_y [h_t; r^1_t; \dots; r^R_t] + b_y$. At each step the write heads act
first and the read heads then read the updated memory. The initial memory is the
constant $10^{-6}$, every initial weighting is a one-hot vector on location 0,
and $r_0 = M_0^\top w_0$ (choices the paper leaves open).

| symbol                | parameter / tensor        | shape                  |
|-----------------------|---------------------------|------------------------|
| controller            | `controller`              | LSTMCell(I + R W, H) or Linear(I + R W, H) |
| head parameters       | `head_projection`         | Linear(H, R (W+6) + Wh (3W+6))  (S = 3) |
| $W_y, b_y$            | `readout`                 | Linear(H + R W, O)     |
| $M_t$                 | `state.memory`            | (B, N, W)              |
| $w^r_t$, $w^w_t$      | `state.read_weights`, `state.write_weights` | (B, R, N), (B, Wh, N) |
| $r_t$                 | `state.reads`             | (B, R, W)              |

Shape letters as in `rnnref.models._recurrent`, plus N memory locations, W word
size, R read heads, Wh write heads, S shift range.

Reference: Alex Graves, Greg Wayne, Ivo Danihelka (2014), "Neural Turing
Machines", arXiv:1410.5401.

Term: https://w3id.org/rnnref/term/neural-turing-machine
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_sequence, check_size
from rnnref.models.lstm import LSTMCell

TERM_IRI = "https://w3id.org/rnnref/term/neural-turing-machine"

_CONTROLLERS = ("lstm", "feedforward")


# -- addressing, reading, writing: the memory operations as functions ---------------------


def cosine_similarity(memory: Tensor, key: Tensor, eps: float = 1e-8) -> Tensor:
    r"""$K(k, M_i) = k \cdot M_i / (\lVert k \rVert \lVert M_i \rVert)$: memory (B, N, W), key (B, W) -> (B, N).

    The product of the norms is clamped at ``eps`` so an all-zero row or key
    gives similarity 0 instead of a division by zero.
    """
    dot = torch.einsum("bnw,bw->bn", memory, key)
    norms = memory.norm(dim=-1) * key.norm(dim=-1, keepdim=True)
    return dot / norms.clamp_min(eps)


def content_addressing(memory: Tensor, key: Tensor, strength: Tensor) -> Tensor:
    r"""$w^c(i) = \operatorname{softmax}_i(\beta K(k, M_i))$: key (B, W), strength $\beta$ (B, 1) -> (B, N)."""
    return torch.softmax(strength * cosine_similarity(memory, key), dim=-1)


def circular_shift(weights: Tensor, shift: Tensor) -> Tensor:
    r"""$\tilde w(i) = \sum_j w(j) s(i - j)$, indices mod N.

    weights (B, N); shift (B, S), a distribution over the offsets
    $-\lfloor S/2 \rfloor \dots \lfloor S/2 \rfloor$ (S odd). Offset +1 moves the
    weighting one location forward.
    """
    S = shift.size(-1)
    offsets = range(-(S // 2), S // 2 + 1)
    return sum(shift[:, k : k + 1] * torch.roll(weights, offset, dims=-1) for k, offset in enumerate(offsets))


def sharpen(weights: Tensor, gamma: Tensor) -> Tensor:
    r"""$w(i) = \tilde w(i)^\gamma / \sum_j \tilde w(j)^\gamma$: weights (B, N), gamma (B, 1), $\gamma \ge 1$."""
    # A weight that underflowed to 0 would make d(w^gamma)/d(gamma) = 0 * log(0) = nan.
    powered = weights.clamp_min(torch.finfo(weights.dtype).tiny) ** gamma
    return powered / powered.sum(dim=-1, keepdim=True)


def address(
    memory: Tensor,
    previous: Tensor,
    key: Tensor,
    strength: Tensor,
    gate: Tensor,
    shift: Tensor,
    gamma: Tensor,
) -> Tensor:
    r"""The full NTM addressing of one head: content, interpolation, shift, sharpening -> (B, N).

    memory (B, N, W), previous $w_{t-1}$ (B, N), key (B, W), strength $\beta$ (B, 1),
    gate $g$ (B, 1), shift $s$ (B, S), gamma $\gamma$ (B, 1).
    """
    # $$w^c_t = \operatorname{softmax}(\beta_t K(k_t, M_{t-1}))$$
    w_c = content_addressing(memory, key, strength)
    # $$w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}$$
    w_g = gate * w_c + (1 - gate) * previous
    # $$\tilde w_t(i) = \sum_j w^g_t(j) s_t(i - j)$$
    w_tilde = circular_shift(w_g, shift)
    # $$w_t(i) = \tilde w_t(i)^{\gamma_t} / \sum_j \tilde w_t(j)^{\gamma_t}$$
    return sharpen(w_tilde, gamma)


def read(memory: Tensor, weights: Tensor) -> Tensor:
    r"""$r = \sum_i w(i) M(i)$: memory (B, N, W), weights (B, N) -> (B, W)."""
    return torch.einsum("bn,bnw->bw", weights, memory)


def write(memory: Tensor, weights: Tensor, erase: Tensor, add: Tensor) -> Tensor:
    r"""$M_t(i) = M_{t-1}(i) \odot (1 - w(i) e) + w(i) a$: weights (B, N), erase, add (B, W) -> (B, N, W)."""
    w = weights.unsqueeze(-1)  # (B, N, 1)
    return memory * (1 - w * erase.unsqueeze(1)) + w * add.unsqueeze(1)


# -- the machine -------------------------------------------------------------------------


class NTMState(NamedTuple):
    """Everything an NTM carries from one step to the next."""

    controller: tuple[Tensor, ...]  #: LSTM (h, c), each (B, H); () for a feedforward controller
    memory: Tensor  #: M_t, (B, N, W)
    read_weights: Tensor  #: w^r_t, (B, R, N)
    write_weights: Tensor  #: w^w_t, (B, Wh, N)
    reads: Tensor  #: r_t, (B, R, W)


class NTM(nn.Module):
    r"""Neural Turing machine with an LSTM or feedforward controller.

    Per step: controller on $[x_t; r_{t-1}]$, heads from $h_t$ (write heads first),
    $y_t = W_y [h_t; r_t] + b_y$ (logits; apply a sigmoid or softmax outside).

    Args:
        input_size: I, features per step.
        output_size: O, outputs per step.
        hidden_size: H, controller units.
        memory_size: N, memory locations.
        word_size: W, numbers per location.
        num_reads: R, read heads.
        num_writes: write heads.
        shift_range: S, odd number of allowed shifts (3: -1, 0, +1).
        controller: ``"lstm"`` or ``"feedforward"``.
        batch_first: if True, x and y are (B, T, *).
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): ``x, state``; x (T, B, I) (or (B, T, I) with
    ``batch_first``), state an `NTMState` or None for the initial one.

    Outputs (`forward`): ``(y, state)``; y (T, B, O) (or (B, T, O)), and the final
    state. ``forward(..., return_weights=True)`` also returns the weightings of
    every step, (T, B, R, N) and (T, B, Wh, N).

    Example::

        >>> ntm = NTM(5, 4, hidden_size=32, memory_size=16, word_size=8)
        >>> y, state = ntm(torch.randn(7, 2, 5))
        >>> y.shape, state.memory.shape
        (torch.Size([7, 2, 4]), torch.Size([2, 16, 8]))

    Paper: Graves, Wayne, Danihelka (2014), arXiv:1410.5401. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_size: int = 64,
        memory_size: int = 16,
        word_size: int = 8,
        num_reads: int = 1,
        num_writes: int = 1,
        shift_range: int = 3,
        controller: str = "lstm",
        batch_first: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.output_size = check_size("output_size", output_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.memory_size = check_size("memory_size", memory_size)
        self.word_size = check_size("word_size", word_size)
        self.num_reads = check_size("num_reads", num_reads)
        self.num_writes = check_size("num_writes", num_writes)
        self.shift_range = check_size("shift_range", shift_range)
        if shift_range % 2 == 0 or shift_range > memory_size:
            raise ValueError(f"shift_range must be odd and at most memory_size ({memory_size}), got {shift_range}")
        if controller not in _CONTROLLERS:
            raise ValueError(f"controller must be one of {_CONTROLLERS}, got {controller!r}")
        self.controller_kind = controller
        self.batch_first = batch_first
        factory = {"device": device, "dtype": dtype}
        W, S = word_size, shift_range
        controller_input = input_size + num_reads * W
        if controller == "lstm":
            self.controller = LSTMCell(controller_input, hidden_size, **factory)
        else:
            self.controller = nn.Linear(controller_input, hidden_size, **factory)
        # Per read head: key W, beta 1, g 1, s S, gamma 1; a write head adds erase W and add W.
        self._read_split = [W, 1, 1, S, 1]
        self._write_split = [W, 1, 1, S, 1, W, W]
        head_outputs = num_reads * sum(self._read_split) + num_writes * sum(self._write_split)
        self.head_projection = nn.Linear(hidden_size, head_outputs, **factory)
        self.readout = nn.Linear(hidden_size + num_reads * W, output_size, **factory)  # W_y, b_y
        self.register_buffer("memory_init", torch.full((memory_size, W), 1e-6, **factory))

    def init_state(self, batch_size: int) -> NTMState:
        """Constant memory $10^{-6}$, one-hot weightings on location 0, $r_0 = M_0^\\top w_0$."""
        reference = self.readout.weight
        B, N = batch_size, self.memory_size
        controller = self.controller.init_state(B) if self.controller_kind == "lstm" else ()
        memory = self.memory_init.expand(B, N, self.word_size).clone()
        first = torch.zeros(N, dtype=reference.dtype, device=reference.device)
        first[0] = 1.0
        read_weights = first.expand(B, self.num_reads, N).clone()
        write_weights = first.expand(B, self.num_writes, N).clone()
        reads = torch.einsum("brn,bnw->brw", read_weights, memory)
        return NTMState(controller, memory, read_weights, write_weights, reads)

    def _head_parameters(self, params: Tensor, split: list[int]) -> list[Tensor]:
        """Split one head's raw parameters and apply the activations of the module docstring."""
        parts = params.split(split, dim=-1)
        key, beta, gate, shift, gamma = parts[:5]
        activated = [key, F.softplus(beta), torch.sigmoid(gate), torch.softmax(shift, dim=-1), 1 + F.softplus(gamma)]
        if len(parts) == 7:  # write head: erase, add
            activated += [torch.sigmoid(parts[5]), torch.tanh(parts[6])]
        return activated

    def step(self, x_t: Tensor, state: NTMState) -> tuple[Tensor, NTMState]:
        """One step: x_t (B, I) -> (y_t (B, O), new state)."""
        B = x_t.size(0)
        controller_in = torch.cat([x_t, state.reads.reshape(B, -1)], dim=-1)  # [x_t; r_{t-1}]
        if self.controller_kind == "lstm":
            h, controller_state = self.controller.step(controller_in, state.controller)
        else:
            h, controller_state = torch.tanh(self.controller(controller_in)), ()
        params = self.head_projection(h)
        n_read = self.num_reads * sum(self._read_split)
        read_params = params[:, :n_read].reshape(B, self.num_reads, -1)
        write_params = params[:, n_read:].reshape(B, self.num_writes, -1)
        memory = state.memory
        write_weights = []
        for i in range(self.num_writes):
            key, beta, gate, shift, gamma, erase, add = self._head_parameters(write_params[:, i], self._write_split)
            w = address(memory, state.write_weights[:, i], key, beta, gate, shift, gamma)
            # $$M_t(i) = M_{t-1}(i) \odot (1 - w^w_t(i) e_t) + w^w_t(i) a_t$$
            memory = write(memory, w, erase, add)
            write_weights.append(w)
        read_weights, reads = [], []
        for i in range(self.num_reads):
            key, beta, gate, shift, gamma = self._head_parameters(read_params[:, i], self._read_split)
            w = address(memory, state.read_weights[:, i], key, beta, gate, shift, gamma)
            # $$r_t = \sum_i w^r_t(i) M_t(i)$$
            reads.append(read(memory, w))
            read_weights.append(w)
        reads_t = torch.stack(reads, dim=1)
        # $$y_t = W_y [h_t; r_t] + b_y$$
        y_t = self.readout(torch.cat([h, reads_t.reshape(B, -1)], dim=-1))
        new_state = NTMState(controller_state, memory, torch.stack(read_weights, 1), torch.stack(write_weights, 1), reads_t)
        return y_t, new_state

    def forward(self, x: Tensor, state: NTMState | None = None, *, return_weights: bool = False):
        check_sequence("NTM", x, self.input_size, self.readout.weight.dtype, batch_first=self.batch_first)
        if self.batch_first:
            x = x.transpose(0, 1)
        if state is None:
            state = self.init_state(x.size(1))
        outputs, read_ws, write_ws = [], [], []
        for x_t in x:
            y_t, state = self.step(x_t, state)
            outputs.append(y_t)
            read_ws.append(state.read_weights)
            write_ws.append(state.write_weights)
        y = torch.stack(outputs)
        if self.batch_first:
            y = y.transpose(0, 1)
        if return_weights:
            return y, state, torch.stack(read_ws), torch.stack(write_ws)
        return y, state

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.output_size}, hidden_size={self.hidden_size}, memory_size={self.memory_size}, "
            f"word_size={self.word_size}, num_reads={self.num_reads}, num_writes={self.num_writes}, "
            f"controller={self.controller_kind!r}"
        )


def copy_task_batch(generator: torch.Generator, batch_size: int, length: int, width: int, dtype=torch.float32):
    """The copy task of the paper, time-major.

    Input: ``length`` random bit vectors of ``width`` bits, then a delimiter (an
    extra input channel), then ``length`` blank steps. Target: the same bits
    during the blank steps. Returns ``(x, target)``: x (2 length + 1, B, width + 1),
    target (length, B, width); the model's output over the last ``length`` steps
    is compared with the target.
    """
    bits = torch.randint(0, 2, (length, batch_size, width), generator=generator).to(dtype)
    x = torch.zeros(2 * length + 1, batch_size, width + 1, dtype=dtype)
    x[:length, :, :width] = bits
    x[length, :, width] = 1.0  # delimiter
    return x, bits
