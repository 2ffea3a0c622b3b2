r"""xLSTM: the sLSTM and mLSTM cells of Beck et al. (2024), with exponential gating.

xLSTM revisits the LSTM with two changes. *Exponential gating*: the input gate (and
optionally the forget gate) is $\exp(\cdot)$ instead of a sigmoid, so a new input
can outweigh everything stored so far; a *normaliser state* $n_t$ sums the gate
weights so the output stays a weighted average, and a *stabiliser state* $m_t$ (a
running maximum of the log gates) keeps $\exp$ from overflowing without changing
the result. *New memories*: the **sLSTM** keeps a scalar cell per unit with
recurrent mixing $R h_{t-1}$ like the LSTM; the **mLSTM** keeps a matrix memory
$C_t \in \mathbb{R}^{d \times d}$ written with a covariance (outer-product) rule,
read with a query, and has no hidden-to-hidden recurrence, so a whole sequence
can be computed in parallel like attention.

**sLSTM** (gate pre-activations $\tilde\imath, \tilde f, \tilde z, \tilde o$ from
$x_t$ and $h_{t-1}$; $f_t = \sigma(\tilde f_t)$, or $\exp(\tilde f_t)$ with
``forget="exp"``):

$$
\begin{aligned}
\tilde\jmath_t &= W_j x_t + R_j h_{t-1} + b_j, \quad j \in \{i, f, z, o\} \\
z_t &= \tanh(\tilde z_t), \quad i_t = \exp(\tilde\imath_t), \quad o_t = \sigma(\tilde o_t) \\
c_t &= f_t \odot c_{t-1} + i_t \odot z_t \\
n_t &= f_t \odot n_{t-1} + i_t \\
h_t &= o_t \odot c_t / n_t
\end{aligned}
$$

Stabilised (what the cell computes; equal to the above in exact arithmetic,
because $c$ and $n$ are both scaled by $e^{-m_t}$ and only their ratio is used):

$$
\begin{aligned}
m_t &= \max(\log f_t + m_{t-1}, \tilde\imath_t) \\
i'_t &= \exp(\tilde\imath_t - m_t), \quad f'_t = \exp(\log f_t + m_{t-1} - m_t) \\
c_t &= f'_t \odot c_{t-1} + i'_t \odot z_t, \quad n_t = f'_t \odot n_{t-1} + i'_t
\end{aligned}
$$

**mLSTM** (one head of size $d$; the gates $i_t, f_t$ are scalars per step, read
from $x_t$ only):

$$
\begin{aligned}
q_t &= W_q x_t + b_q, \quad k_t = \tfrac{1}{\sqrt d}(W_k x_t + b_k), \quad v_t = W_v x_t + b_v \\
i_t &= \exp(w_i^\top x_t + b_i), \quad f_t = \sigma(w_f^\top x_t + b_f), \quad o_t = \sigma(W_o x_t + b_o) \\
C_t &= f_t C_{t-1} + i_t\, v_t k_t^\top \\
n_t &= f_t n_{t-1} + i_t\, k_t \\
h_t &= o_t \odot \frac{C_t q_t}{\max(|n_t^\top q_t|, 1)}
\end{aligned}
$$

stabilised with the same $m_t$ (scalar) and the lower bound $e^{-m_t}$ instead of
1 in the denominator. Unrolled from $C_0 = 0, n_0 = 0$ this is a masked,
decay-weighted attention, the **parallel form** (tested equal to the recurrence):
with $\log F_t = \sum_{s \le t} \log f_s$,
$\tilde D_{ts} = \log F_t - \log F_s + \tilde\imath_s$ for $s \le t$ ($-\infty$
otherwise), $m_t = \max_s \tilde D_{ts}$,

$$
\tilde C = \big(Q K^\top\big) \odot e^{\tilde D - m}, \qquad
h_t = o_t \odot \frac{\sum_s \tilde C_{ts} v_s}{\max\big(|\sum_s \tilde C_{ts}|,\; e^{-m_t}\big)}.
$$

**Blocks.** `XLSTM` stacks residual blocks, each ``x + W_{out}\,\mathrm{cell}(\mathrm{LN}(x))``
(pre-layer-norm, one cell, a linear map back to the model width), with a string
such as ``"ms"`` choosing mLSTM and sLSTM blocks. This is a reduced form of the
paper's blocks (no up-projection, causal convolution, gated MLP or multi-head
block-diagonal recurrence): the cells are the paper's; the block wiring is the
simplest residual stack. The sLSTM's $R$ here is one full matrix (the paper uses
heads with block-diagonal $R$).

| symbol                            | parameter (`SLSTMCell`)  | shape     |
|-----------------------------------|--------------------------|-----------|
| $W_i, W_f, W_z, W_o$ stacked      | `weight_ih`              | (4H, I)   |
| $R_i, R_f, R_z, R_o$ stacked      | `weight_hh`              | (4H, H)   |
| $b_i, b_f, b_z, b_o$ stacked      | `bias`                   | (4H,)     |

| symbol                            | parameter (`MLSTMCell`)  | shape     |
|-----------------------------------|--------------------------|-----------|
| $W_q, W_k, W_v$ stacked, $b$      | `weight_qkv`, `bias_qkv` | (3d, I), (3d,) |
| $w_i, w_f$ stacked, $b_i, b_f$    | `weight_if`, `bias_if`   | (2, I), (2,) |
| $W_o, b_o$                        | `weight_o`, `bias_o`     | (d, I), (d,) |

States: sLSTM ``(h, c, n, m)`` each (B, H); mLSTM ``(C, n, m)`` of shapes
(B, d, d), (B, d), (B,). Sequences are batch-first, (B, T, *).

Reference: Maximilian Beck, Korbinian Pöppel, Markus Spanring, Andreas Auer,
Oleksandra Prudnikova, Michael Kopp, Günter Klambauer, Johannes Brandstetter and
Sepp Hochreiter (2024), "xLSTM: Extended Long Short-Term Memory", arXiv:2405.04517.

Term: https://w3id.org/rnnref/term/xlstm
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_sequence, check_size

TERM_IRI = "https://w3id.org/rnnref/term/xlstm"

FORGET_GATES = ("sigmoid", "exp")


def _check_forget(forget: str) -> str:
    if forget not in FORGET_GATES:
        raise ValueError(f"forget must be one of {FORGET_GATES}, got {forget!r}")
    return forget


def _log_forget(f_tilde: Tensor, forget: str) -> Tensor:
    r"""$\log f_t$: $\log \sigma(\tilde f_t)$ or $\tilde f_t$ (exponential forget gate)."""
    return F.logsigmoid(f_tilde) if forget == "sigmoid" else f_tilde


class SLSTMCell(nn.Module):
    r"""sLSTM: exponential input gate, normaliser $n_t$, stabiliser $m_t$, recurrent mixing $R h_{t-1}$.

    $$c_t = f_t c_{t-1} + i_t z_t, \quad n_t = f_t n_{t-1} + i_t, \quad h_t = o_t \odot c_t / n_t$$

    Args:
        input_size: I. hidden_size: H.
        forget: "sigmoid" ($f = \sigma(\tilde f)$) or "exp" ($f = \exp(\tilde f)$).
        device, dtype: of the parameters.

    ``step(x_t, state, stabilized=True)``, ``forward(x (B, T, I), state=None)`` ->
    ``(h (B, T, H), state)``. ``stabilized=False`` computes the naive
    $\exp$ form (for tests; overflows for large pre-activations).
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        forget: str = "sigmoid",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.forget = _check_forget(forget)
        factory = {"device": device, "dtype": dtype}
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size, **factory))  # W_{i,f,z,o}
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H, **factory))  # R_{i,f,z,o}
        self.bias = nn.Parameter(torch.empty(4 * H, **factory))  # b_{i,f,z,o}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)
        with torch.no_grad():  # forget gates start open, as in LSTM practice
            self.bias[self.hidden_size : 2 * self.hidden_size].add_(2.0)

    def init_state(self, batch_size: int, *, dtype=None, device=None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """$(h_0, c_0, n_0, m_0) = 0$, each (B, H)."""
        dtype = dtype or self.weight_ih.dtype
        device = device or self.weight_ih.device
        zeros = torch.zeros(batch_size, self.hidden_size, dtype=dtype, device=device)
        return zeros, zeros, zeros, zeros

    def step(self, x_t: Tensor, state, *, stabilized: bool = True):
        h, c, n, m = state
        # $$\tilde\jmath_t = W_j x_t + R_j h_{t-1} + b_j$$
        i_tilde, f_tilde, z_tilde, o_tilde = (F.linear(x_t, self.weight_ih, self.bias) + F.linear(h, self.weight_hh)).chunk(4, -1)
        # $$z_t = \tanh(\tilde z_t), \quad o_t = \sigma(\tilde o_t)$$
        z_t, o_t = torch.tanh(z_tilde), torch.sigmoid(o_tilde)
        log_f = _log_forget(f_tilde, self.forget)
        if stabilized:
            # $$m_t = \max(\log f_t + m_{t-1}, \tilde\imath_t)$$
            m_t = torch.maximum(log_f + m, i_tilde)
            # $$i'_t = \exp(\tilde\imath_t - m_t), \quad f'_t = \exp(\log f_t + m_{t-1} - m_t)$$
            i_t, f_t = torch.exp(i_tilde - m_t), torch.exp(log_f + m - m_t)
        else:
            # $$i_t = \exp(\tilde\imath_t), \quad f_t = \sigma(\tilde f_t) \text{ or } \exp(\tilde f_t)$$
            m_t, i_t, f_t = m, torch.exp(i_tilde), torch.exp(log_f)
        # $$c_t = f_t \odot c_{t-1} + i_t \odot z_t$$
        c_t = f_t * c + i_t * z_t
        # $$n_t = f_t \odot n_{t-1} + i_t$$
        n_t = f_t * n + i_t
        # $$h_t = o_t \odot c_t / n_t$$
        h_t = o_t * c_t / n_t
        return h_t, (h_t, c_t, n_t, m_t)

    def forward(self, x: Tensor, state=None, *, stabilized: bool = True):
        check_sequence("SLSTMCell", x, self.input_size)
        state = self.init_state(x.size(0), dtype=x.dtype, device=x.device) if state is None else state
        outputs = []
        for x_t in x.unbind(1):
            h_t, state = self.step(x_t, state, stabilized=stabilized)
            outputs.append(h_t)
        return torch.stack(outputs, 1), state


class MLSTMCell(nn.Module):
    r"""mLSTM: matrix memory $C_t = f_t C_{t-1} + i_t v_t k_t^\top$, read by a query; no $h_{t-1}$ recurrence.

    Args:
        input_size: I. hidden_size: d, the size of $q, k, v$ and of the output.
        forget: "sigmoid" or "exp", as `SLSTMCell`.
        device, dtype: of the parameters.

    ``step(x_t, state, stabilized=True)``; ``recurrent(x, state=None)`` (the loop);
    ``parallel(x)`` (the attention-like form, from a zero state); ``forward(x,
    mode="parallel")`` -> h (B, T, d).
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        forget: str = "sigmoid",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.forget = _check_forget(forget)
        factory = {"device": device, "dtype": dtype}
        d = hidden_size
        self.weight_qkv = nn.Parameter(torch.empty(3 * d, input_size, **factory))  # W_q, W_k, W_v
        self.bias_qkv = nn.Parameter(torch.empty(3 * d, **factory))
        self.weight_if = nn.Parameter(torch.empty(2, input_size, **factory))  # w_i, w_f
        self.bias_if = nn.Parameter(torch.empty(2, **factory))  # b_i, b_f
        self.weight_o = nn.Parameter(torch.empty(d, input_size, **factory))  # W_o
        self.bias_o = nn.Parameter(torch.empty(d, **factory))  # b_o
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.input_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)
        with torch.no_grad():
            self.bias_if[1].add_(3.0)  # forget gate starts open

    def init_state(self, batch_size: int, *, dtype=None, device=None) -> tuple[Tensor, Tensor, Tensor]:
        """$(C_0, n_0, m_0) = 0$: (B, d, d), (B, d), (B,)."""
        factory = {"dtype": dtype or self.weight_o.dtype, "device": device or self.weight_o.device}
        d = self.hidden_size
        return torch.zeros(batch_size, d, d, **factory), torch.zeros(batch_size, d, **factory), torch.zeros(batch_size, **factory)

    def projections(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        r"""$q, k, v, o$ (..., d) and $\tilde\imath, \log f$ (...,) for inputs x (..., I)."""
        q, k, v = F.linear(x, self.weight_qkv, self.bias_qkv).chunk(3, -1)
        # $$k_t = \tfrac{1}{\sqrt d}(W_k x_t + b_k)$$
        k = k / math.sqrt(self.hidden_size)
        i_tilde, f_tilde = F.linear(x, self.weight_if, self.bias_if).unbind(-1)
        o = torch.sigmoid(F.linear(x, self.weight_o, self.bias_o))
        return q, k, v, o, i_tilde, _log_forget(f_tilde, self.forget)

    def step(self, x_t: Tensor, state, *, stabilized: bool = True):
        C, n, m = state
        q, k, v, o, i_tilde, log_f = self.projections(x_t)
        if stabilized:
            # $$m_t = \max(\log f_t + m_{t-1}, \tilde\imath_t)$$
            m_t = torch.maximum(log_f + m, i_tilde)
            i_t, f_t = torch.exp(i_tilde - m_t), torch.exp(log_f + m - m_t)
            floor = torch.exp(-m_t)
        else:
            m_t, i_t, f_t = m, torch.exp(i_tilde), torch.exp(log_f)
            floor = torch.ones_like(m_t)
        # $$C_t = f_t C_{t-1} + i_t v_t k_t^\top$$
        C_t = f_t[:, None, None] * C + i_t[:, None, None] * (v[:, :, None] * k[:, None, :])
        # $$n_t = f_t n_{t-1} + i_t k_t$$
        n_t = f_t[:, None] * n + i_t[:, None] * k
        # $$h_t = o_t \odot C_t q_t / \max(|n_t^\top q_t|, 1)$$  (floor $e^{-m_t}$ when stabilised)
        denominator = torch.maximum((n_t * q).sum(-1).abs(), floor)
        h_t = o * (C_t @ q[:, :, None]).squeeze(-1) / denominator[:, None]
        return h_t, (C_t, n_t, m_t)

    def recurrent(self, x: Tensor, state=None, *, stabilized: bool = True):
        """The readable path: one `step` per time step; (h (B, T, d), final state)."""
        check_sequence("MLSTMCell", x, self.input_size)
        state = self.init_state(x.size(0), dtype=x.dtype, device=x.device) if state is None else state
        outputs = []
        for x_t in x.unbind(1):
            h_t, state = self.step(x_t, state, stabilized=stabilized)
            outputs.append(h_t)
        return torch.stack(outputs, 1), state

    def parallel(self, x: Tensor) -> Tensor:
        r"""All steps at once from a zero state: $h = o \odot (\tilde C V) / \max(|\tilde C \mathbf 1|, e^{-m})$, (B, T, d)."""
        check_sequence("MLSTMCell", x, self.input_size)
        T = x.size(1)
        q, k, v, o, i_tilde, log_f = self.projections(x)  # (B, T, d) and (B, T)
        # $$\log F_t = \sum_{s \le t} \log f_s$$
        log_F = torch.cumsum(log_f, dim=1)
        # $$\tilde D_{ts} = \log F_t - \log F_s + \tilde\imath_s \ (s \le t), \quad -\infty \text{ otherwise}$$
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        D_tilde = log_F[:, :, None] - log_F[:, None, :] + i_tilde[:, None, :]
        D_tilde = D_tilde.masked_fill(~causal, float("-inf"))
        # $$m_t = \max_s \tilde D_{ts}$$
        m = D_tilde.max(dim=-1, keepdim=True).values  # (B, T, 1)
        # $$\tilde C = (Q K^\top) \odot e^{\tilde D - m}$$
        C_tilde = (q @ k.transpose(1, 2)) * torch.exp(D_tilde - m)
        # $$h_t = o_t \odot \sum_s \tilde C_{ts} v_s / \max(|\sum_s \tilde C_{ts}|, e^{-m_t})$$
        denominator = torch.maximum(C_tilde.sum(-1, keepdim=True).abs(), torch.exp(-m))
        return o * (C_tilde @ v) / denominator

    def forward(self, x: Tensor, *, mode: str = "parallel") -> Tensor:
        if mode == "parallel":
            return self.parallel(x)
        if mode == "recurrent":
            return self.recurrent(x)[0]
        raise ValueError(f"mode must be 'parallel' or 'recurrent', got {mode!r}")


class XLSTM(nn.Module):
    r"""Residual stack of mLSTM and sLSTM blocks: $x \leftarrow x + W_{out}\,\mathrm{cell}(\mathrm{LN}(x))$.

    Args:
        input_size: I, features per step (projected to the model width E first).
        model_size: E, the residual stream's width.
        hidden_size: H = d, the width inside each cell.
        output_size: O, features of the linear readout per step.
        blocks: a string of "m" (mLSTM block) and "s" (sLSTM block), bottom first.
        forget: "sigmoid" or "exp" forget gates in every cell.
        device, dtype: of the parameters.

    ``forward(x (B, T, I)) -> y (B, T, O)``; mLSTM blocks run their parallel form
    (``mode="recurrent"`` runs the loop instead, same result).
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        model_size: int,
        hidden_size: int,
        output_size: int,
        blocks: str = "ms",
        *,
        forget: str = "sigmoid",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(blocks, str) or not blocks or set(blocks) - {"m", "s"}:
            raise ValueError(f"blocks must be a non-empty string of 'm' and 's', got {blocks!r}")
        self.input_size = check_size("input_size", input_size)
        E = check_size("model_size", model_size)
        H = check_size("hidden_size", hidden_size)
        check_size("output_size", output_size)
        factory = {"device": device, "dtype": dtype}
        self.blocks = blocks
        self.embed = nn.Linear(input_size, E, **factory)
        self.norms = nn.ModuleList(nn.LayerNorm(E, **factory) for _ in blocks)
        self.cells = nn.ModuleList(
            (MLSTMCell if kind == "m" else SLSTMCell)(E, H, forget=forget, **factory) for kind in blocks
        )
        self.out_projections = nn.ModuleList(nn.Linear(H, E, **factory) for _ in blocks)
        self.final_norm = nn.LayerNorm(E, **factory)
        self.readout = nn.Linear(E, output_size, **factory)

    def forward(self, x: Tensor, *, mode: str = "parallel") -> Tensor:
        check_sequence("XLSTM", x, self.input_size)
        if mode not in ("parallel", "recurrent"):
            raise ValueError(f"mode must be 'parallel' or 'recurrent', got {mode!r}")
        stream = self.embed(x)  # (B, T, E)
        for kind, norm, cell, out in zip(self.blocks, self.norms, self.cells, self.out_projections, strict=True):
            h = cell(norm(stream), mode=mode) if kind == "m" else cell(norm(stream))[0]
            stream = stream + out(h)
        return self.readout(self.final_norm(stream))


def associative_recall_batch(generator: torch.Generator, batch_size: int, num_keys: int = 8, pairs: int = 4):
    """The associative recall task: ``pairs`` (key, value) tokens, then a query key; answer its value.

    Returns x (B, pairs + 1, 2 K + 1) (one-hot key and one-hot value per token; the
    query token has its key and a flag in the last feature) and the answer (B,) in
    0..K-1. Keys in a sequence are distinct; values are drawn independently.
    """
    check_size("batch_size", batch_size)
    check_size("num_keys", num_keys)
    check_size("pairs", pairs)
    if pairs > num_keys:
        raise ValueError(f"pairs ({pairs}) cannot exceed num_keys ({num_keys}): keys in a sequence are distinct")
    K, rows = num_keys, torch.arange(batch_size)
    keys = torch.stack([torch.randperm(K, generator=generator)[:pairs] for _ in range(batch_size)])
    values = torch.randint(0, K, (batch_size, pairs), generator=generator)
    asked = torch.randint(0, pairs, (batch_size,), generator=generator)
    x = torch.zeros(batch_size, pairs + 1, 2 * K + 1)
    for p in range(pairs):
        x[rows, p, keys[:, p]] = 1.0
        x[rows, p, K + values[:, p]] = 1.0
    x[rows, pairs, keys[rows, asked]] = 1.0
    x[:, pairs, 2 * K] = 1.0
    return x, values[rows, asked]
