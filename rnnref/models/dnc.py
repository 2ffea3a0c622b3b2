r"""Differentiable neural computer: an NTM-like memory with allocation and temporal links.

The differentiable neural computer (DNC) keeps the neural Turing machine's idea
(a recurrent controller that reads and writes a memory matrix through soft,
differentiable weightings) and replaces location-based shifting with two
mechanisms that do not depend on where things are stored: *dynamic allocation*
(a usage vector says which locations are free; writes can go to the least-used
one, and read heads can free what they have read) and a *temporal link matrix*
that records the order in which locations were written, so read heads can step
forwards or backwards through what was written.

With $C(M, k, \beta)_i = \operatorname{softmax}_i(\beta\, K(k, M_i))$ the content
weighting of `rnnref.models.ntm` (cosine similarity $K$), $\phi_t$ the indices of
$u_t$ in ascending order, R read heads $i = 1 \dots R$ and $\circ$ elementwise:

$$
\begin{aligned}
\psi_t &= \prod_{i=1}^{R} (\mathbf{1} - f^i_t w^{r,i}_{t-1}) && \text{retention} \\
u_t &= (u_{t-1} + w^w_{t-1} - u_{t-1} \circ w^w_{t-1}) \circ \psi_t && \text{usage} \\
a_t[\phi_t[j]] &= (1 - u_t[\phi_t[j]]) \prod_{l=1}^{j-1} u_t[\phi_t[l]] && \text{allocation} \\
c^w_t &= C(M_{t-1}, k^w_t, \beta^w_t) \\
w^w_t &= g^w_t \left(g^a_t a_t + (1 - g^a_t) c^w_t\right) && \text{write weighting} \\
M_t &= M_{t-1} \circ (E - w^w_t e_t^\top) + w^w_t v_t^\top \\
p_t &= \Big(1 - \sum_i w^w_t[i]\Big) p_{t-1} + w^w_t && \text{precedence} \\
L_t[i, j] &= (1 - w^w_t[i] - w^w_t[j]) L_{t-1}[i, j] + w^w_t[i] p_{t-1}[j], \quad L_t[i, i] = 0 \\
f^i_t &= L_t w^{r,i}_{t-1}, \qquad b^i_t = L_t^\top w^{r,i}_{t-1} && \text{forward, backward} \\
c^{r,i}_t &= C(M_t, k^{r,i}_t, \beta^{r,i}_t) \\
w^{r,i}_t &= \pi^i_t[1] b^i_t + \pi^i_t[2] c^{r,i}_t + \pi^i_t[3] f^i_t && \text{read weighting} \\
r^i_t &= M_t^\top w^{r,i}_t \\
y_t &= W_y h_t + W_r [r^1_t; \dots; r^R_t]
\end{aligned}
$$

The controller is an LSTM reading $[x_t; r^1_{t-1}; \dots; r^R_{t-1}]$; its output
$h_t$ gives the interface vector $\xi_t = W_\xi h_t$, split into read keys
$k^{r,i}$, read strengths $\beta^{r,i} = \operatorname{oneplus}$, write key $k^w$,
write strength $\beta^w = \operatorname{oneplus}$, erase $e = \sigma$, write
vector $v$, free gates $f^i = \sigma$, allocation gate $g^a = \sigma$, write gate
$g^w = \sigma$ and read modes $\pi^i = \operatorname{softmax}$ (3 each), where
$\operatorname{oneplus}(x) = 1 + \log(1 + e^x)$. Everything starts at zero:
$M_0, u_0, p_0, L_0, w_0, r_0$. As in the paper, the sort that gives $\phi_t$ is
not differentiated (gradients flow through the usage values, not the order).

| symbol        | parameter / tensor          | shape                          |
|---------------|-----------------------------|--------------------------------|
| controller    | `controller`                | LSTMCell(I + R W, H)           |
| $W_\xi$       | `interface`                 | Linear(H, R W + 3 W + 5 R + 3) |
| $W_y$, $W_r$  | `output`, `read_output`     | Linear(H, O), Linear(R W, O, bias=False) |
| $M_t$         | `state.memory`              | (B, N, W)                      |
| $u_t$, $p_t$  | `state.usage`, `state.precedence` | (B, N)                   |
| $L_t$         | `state.link`                | (B, N, N)                      |
| $w^r_t$, $w^w_t$ | `state.read_weights`, `state.write_weights` | (B, R, N), (B, N) |

Shape letters as in `rnnref.models._recurrent`, plus N memory locations, W word
size, R read heads.

Reference: Alex Graves, Greg Wayne, Malcolm Reynolds, Tim Harley, Ivo Danihelka,
Agnieszka Grabska-Barwińska, Sergio Gómez Colmenarejo, Edward Grefenstette, Tiago
Ramalho et al. (2016), "Hybrid computing using a neural network with dynamic
external memory", Nature 538(7626): 471–476, doi:10.1038/nature20101.

Term: https://w3id.org/rnnref/term/differentiable-neural-computer
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_sequence, check_size
from rnnref.models.lstm import LSTMCell
from rnnref.models.ntm import content_addressing, write

TERM_IRI = "https://w3id.org/rnnref/term/differentiable-neural-computer"


# -- the memory mechanisms as functions ----------------------------------------------------


def usage_update(usage: Tensor, write_weights: Tensor, read_weights: Tensor, free_gates: Tensor) -> Tensor:
    r"""$u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} \circ w^w_{t-1}) \circ \prod_i (1 - f^i_t w^{r,i}_{t-1})$.

    usage $u_{t-1}$ (B, N), write_weights $w^w_{t-1}$ (B, N), read_weights
    $w^r_{t-1}$ (B, R, N), free_gates $f_t$ (B, R) -> (B, N).
    """
    # $$\psi_t = \prod_i (1 - f^i_t w^{r,i}_{t-1})$$
    retention = torch.prod(1 - free_gates.unsqueeze(-1) * read_weights, dim=1)
    # $$u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} \circ w^w_{t-1}) \circ \psi_t$$
    return (usage + write_weights - usage * write_weights) * retention


def allocation_weighting(usage: Tensor) -> Tensor:
    r"""$a_t[\phi_t[j]] = (1 - u_t[\phi_t[j]]) \prod_{l<j} u_t[\phi_t[l]]$: usage (B, N) -> (B, N).

    $\phi_t$ sorts the usage ascending (stable: ties keep location order); the
    sort order is not differentiated. The least-used location gets
    $1 - \min_i u_t[i]$, the most any location gets.
    """
    sorted_usage, phi = torch.sort(usage.detach(), dim=-1, stable=True)
    sorted_usage = usage.gather(-1, phi)  # the same values, with gradients
    # $$\prod_{l<j} u_t[\phi_t[l]]$$: exclusive cumulative product
    ones = torch.ones_like(sorted_usage[:, :1])
    preceding = torch.cumprod(torch.cat([ones, sorted_usage[:, :-1]], dim=-1), dim=-1)
    sorted_allocation = (1 - sorted_usage) * preceding
    return torch.zeros_like(usage).scatter(-1, phi, sorted_allocation)


def precedence_update(precedence: Tensor, write_weights: Tensor) -> Tensor:
    r"""$p_t = (1 - \sum_i w^w_t[i]) p_{t-1} + w^w_t$: (B, N), (B, N) -> (B, N)."""
    return (1 - write_weights.sum(dim=-1, keepdim=True)) * precedence + write_weights


def link_update(link: Tensor, write_weights: Tensor, precedence: Tensor) -> Tensor:
    r"""$L_t[i,j] = (1 - w^w_t[i] - w^w_t[j]) L_{t-1}[i,j] + w^w_t[i] p_{t-1}[j]$, zero diagonal.

    link $L_{t-1}$ (B, N, N), write_weights $w^w_t$ (B, N), precedence $p_{t-1}$ (B, N).
    """
    w_i = write_weights.unsqueeze(-1)  # (B, N, 1)
    w_j = write_weights.unsqueeze(-2)  # (B, 1, N)
    new = (1 - w_i - w_j) * link + w_i * precedence.unsqueeze(-2)
    N = link.size(-1)
    # $$L_t[i, i] = 0$$
    return new * (1 - torch.eye(N, dtype=link.dtype, device=link.device))


def temporal_weightings(link: Tensor, read_weights: Tensor) -> tuple[Tensor, Tensor]:
    r"""$f^i_t = L_t w^{r,i}_{t-1}$ and $b^i_t = L_t^\top w^{r,i}_{t-1}$: (B, N, N), (B, R, N) -> 2 x (B, R, N)."""
    forward = torch.einsum("bij,brj->bri", link, read_weights)
    backward = torch.einsum("bji,brj->bri", link, read_weights)
    return forward, backward


# -- the computer -----------------------------------------------------------------------


class DNCState(NamedTuple):
    """Everything a DNC carries from one step to the next."""

    controller: tuple[Tensor, Tensor]  #: LSTM (h, c), each (B, H)
    memory: Tensor  #: M_t, (B, N, W)
    usage: Tensor  #: u_t, (B, N)
    link: Tensor  #: L_t, (B, N, N)
    precedence: Tensor  #: p_t, (B, N)
    read_weights: Tensor  #: w^r_t, (B, R, N)
    write_weights: Tensor  #: w^w_t, (B, N)
    reads: Tensor  #: r_t, (B, R, W)


def _oneplus(x: Tensor) -> Tensor:
    return 1 + F.softplus(x)


class DNC(nn.Module):
    r"""Differentiable neural computer: LSTM controller, one write head, R read heads.

    Args:
        input_size: I, features per step.
        output_size: O, outputs per step.
        hidden_size: H, controller units.
        memory_size: N, memory locations.
        word_size: W, numbers per location.
        num_reads: R, read heads.
        batch_first: if True, x and y are (B, T, *).
        device, dtype: where and in which dtype to create the parameters.

    Inputs (`forward`): ``x, state``; x (T, B, I), state a `DNCState` or None (zeros).

    Outputs (`forward`): ``(y, state)``, y (T, B, O) logits; with
    ``return_states=True`` also the list of every step's `DNCState`.

    Example::

        >>> dnc = DNC(5, 4, hidden_size=32, memory_size=8, word_size=6, num_reads=2)
        >>> y, state = dnc(torch.randn(7, 3, 5))
        >>> y.shape, state.link.shape
        (torch.Size([7, 3, 4]), torch.Size([3, 8, 8]))

    Paper: Graves et al. (2016), doi:10.1038/nature20101. Term: ``term_iri``.
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
        self.batch_first = batch_first
        factory = {"device": device, "dtype": dtype}
        R, W = num_reads, word_size
        self.controller = LSTMCell(input_size + R * W, hidden_size, **factory)
        # read keys RW, read strengths R, write key W, write strength 1, erase W, write vector W,
        # free gates R, allocation gate 1, write gate 1, read modes 3R
        self._split = [R * W, R, W, 1, W, W, R, 1, 1, 3 * R]
        self.interface = nn.Linear(hidden_size, sum(self._split), **factory)  # W_xi
        self.output = nn.Linear(hidden_size, output_size, **factory)  # W_y
        self.read_output = nn.Linear(R * W, output_size, bias=False, **factory)  # W_r

    def init_state(self, batch_size: int) -> DNCState:
        """All zeros: controller, memory, usage, link, precedence, weightings, reads."""
        reference = self.output.weight
        B, N, W, R = batch_size, self.memory_size, self.word_size, self.num_reads

        def zeros(*shape: int) -> Tensor:
            return torch.zeros(*shape, dtype=reference.dtype, device=reference.device)

        return DNCState(
            self.controller.init_state(B), zeros(B, N, W), zeros(B, N), zeros(B, N, N), zeros(B, N),
            zeros(B, R, N), zeros(B, N), zeros(B, R, W),
        )  # fmt: skip

    def step(self, x_t: Tensor, state: DNCState) -> tuple[Tensor, DNCState]:
        """One step: x_t (B, I) -> (y_t (B, O), new state)."""
        B, R, W = x_t.size(0), self.num_reads, self.word_size
        h, controller_state = self.controller.step(torch.cat([x_t, state.reads.reshape(B, -1)], -1), state.controller)
        parts = self.interface(h).split(self._split, dim=-1)
        read_keys = parts[0].reshape(B, R, W)
        read_strengths = _oneplus(parts[1])  # (B, R)
        write_key, write_strength = parts[2], _oneplus(parts[3])
        erase, write_vector = torch.sigmoid(parts[4]), parts[5]
        free_gates = torch.sigmoid(parts[6])  # (B, R)
        allocation_gate, write_gate = torch.sigmoid(parts[7]), torch.sigmoid(parts[8])  # (B, 1)
        read_modes = torch.softmax(parts[9].reshape(B, R, 3), dim=-1)  # backward, content, forward

        # $$u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} \circ w^w_{t-1}) \circ \psi_t$$
        usage = usage_update(state.usage, state.write_weights, state.read_weights, free_gates)
        # $$a_t[\phi_t[j]] = (1 - u_t[\phi_t[j]]) \prod_{l<j} u_t[\phi_t[l]]$$
        allocation = allocation_weighting(usage)
        # $$c^w_t = C(M_{t-1}, k^w_t, \beta^w_t)$$
        write_content = content_addressing(state.memory, write_key, write_strength)
        # $$w^w_t = g^w_t (g^a_t a_t + (1 - g^a_t) c^w_t)$$
        write_weights = write_gate * (allocation_gate * allocation + (1 - allocation_gate) * write_content)
        # $$M_t = M_{t-1} \circ (E - w^w_t e_t^\top) + w^w_t v_t^\top$$
        memory = write(state.memory, write_weights, erase, write_vector)
        # $$L_t[i,j] = (1 - w^w_t[i] - w^w_t[j]) L_{t-1}[i,j] + w^w_t[i] p_{t-1}[j]$$
        link = link_update(state.link, write_weights, state.precedence)
        # $$p_t = (1 - \sum_i w^w_t[i]) p_{t-1} + w^w_t$$
        precedence = precedence_update(state.precedence, write_weights)
        # $$f^i_t = L_t w^{r,i}_{t-1}, \quad b^i_t = L_t^\top w^{r,i}_{t-1}$$
        forward, backward = temporal_weightings(link, state.read_weights)
        # $$c^{r,i}_t = C(M_t, k^{r,i}_t, \beta^{r,i}_t)$$
        read_content = torch.stack(
            [content_addressing(memory, read_keys[:, i], read_strengths[:, i : i + 1]) for i in range(R)], dim=1
        )
        # $$w^{r,i}_t = \pi^i_t[1] b^i_t + \pi^i_t[2] c^{r,i}_t + \pi^i_t[3] f^i_t$$
        read_weights = read_modes[..., 0:1] * backward + read_modes[..., 1:2] * read_content + read_modes[..., 2:3] * forward
        # $$r^i_t = M_t^\top w^{r,i}_t$$
        reads = torch.einsum("brn,bnw->brw", read_weights, memory)
        # $$y_t = W_y h_t + W_r [r^1_t; \dots; r^R_t]$$
        y_t = self.output(h) + self.read_output(reads.reshape(B, -1))
        return y_t, DNCState(controller_state, memory, usage, link, precedence, read_weights, write_weights, reads)

    def forward(self, x: Tensor, state: DNCState | None = None, *, return_states: bool = False):
        check_sequence("DNC", x, self.input_size, self.output.weight.dtype, batch_first=self.batch_first)
        if self.batch_first:
            x = x.transpose(0, 1)
        if state is None:
            state = self.init_state(x.size(1))
        outputs, states = [], []
        for x_t in x:
            y_t, state = self.step(x_t, state)
            outputs.append(y_t)
            states.append(state)
        y = torch.stack(outputs)
        if self.batch_first:
            y = y.transpose(0, 1)
        return (y, state, states) if return_states else (y, state)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.output_size}, hidden_size={self.hidden_size}, "
            f"memory_size={self.memory_size}, word_size={self.word_size}, num_reads={self.num_reads}"
        )
