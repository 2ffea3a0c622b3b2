r"""RWKV: a recurrent block with a linear-attention-like WKV mixing (RWKV-4).

RWKV ("receptance weighted key value") replaces self-attention with a weighted
average over the past whose weights decay exponentially with distance, so it can
be trained over a whole sequence at once and run as an RNN with a constant-size
state at inference. Each channel $c$ has a learned decay $w_c > 0$ and a "bonus"
$u_c$ for the current token. For keys $k_t$ and values $v_t$ (per channel):

$$
wkv_t = \frac{\sum_{i=1}^{t-1} e^{-(t-1-i) w + k_i} \odot v_i + e^{u + k_t} \odot v_t}
             {\sum_{i=1}^{t-1} e^{-(t-1-i) w + k_i} + e^{u + k_t}}
$$

Three computations of the same $wkv$, tested equal in float64:

- `wkv_quadratic`: the sum formula itself, as a softmax over $i \le t$ of the
  exponents above, (T, T) weights per channel: parallel over time, $O(T^2)$.
- `wkv_recurrent`: the readable recurrence on numerator and denominator,
  $a_t = e^{-w} \odot a_{t-1} + e^{k_t} \odot v_t$,
  $b_t = e^{-w} \odot b_{t-1} + e^{k_t}$,
  $wkv_t = (a_{t-1} + e^{u + k_t} v_t) / (b_{t-1} + e^{u + k_t})$; it overflows
  once $k$ is large (in float32 at $k \approx 89$).
- `wkv_stable`: the same recurrence with the running maximum exponent $p_t$
  factored out, $a_t = \sum e^{\dots - p_t} v_i$, which is what the RWKV-4 kernels
  compute; it never overflows.

**Time mixing** (`TimeMixing`), with token shift (the previous token, zero before
the first) interpolated by learned $\mu$:

$$
\begin{aligned}
r_t &= W_r (\mu_r \odot x_t + (1 - \mu_r) \odot x_{t-1}) \\
k_t &= W_k (\mu_k \odot x_t + (1 - \mu_k) \odot x_{t-1}) \\
v_t &= W_v (\mu_v \odot x_t + (1 - \mu_v) \odot x_{t-1}) \\
o_t &= W_o (\sigma(r_t) \odot wkv_t)
\end{aligned}
$$

**Channel mixing** (`ChannelMixing`):

$$
\begin{aligned}
r'_t &= W'_r (\mu'_r \odot x_t + (1 - \mu'_r) \odot x_{t-1}) \\
k'_t &= W'_k (\mu'_k \odot x_t + (1 - \mu'_k) \odot x_{t-1}) \\
o'_t &= \sigma(r'_t) \odot W'_v \max(k'_t, 0)^2
\end{aligned}
$$

**The block** (`RWKVBlock`): $x \leftarrow x + \text{TimeMix}(\text{LN}(x))$, then
$x \leftarrow x + \text{ChannelMix}(\text{LN}(x))$.

Here the decay is stored as $w = \exp(\text{time\_decay})$, so it is positive for
any parameter value (the released RWKV-4 code stores $-\exp(\text{time\_decay})$,
the same number with the sign folded in).

| symbol                           | parameter                                   | shape  |
|----------------------------------|---------------------------------------------|--------|
| $w = e^{\text{time\_decay}}$     | `time_decay`                                | (C,)   |
| $u$                              | `time_first`                                | (C,)   |
| $\mu_r, \mu_k, \mu_v$            | `time_mix_r`, `time_mix_k`, `time_mix_v`    | (C,)   |
| $W_r, W_k, W_v, W_o$             | `receptance`, `key`, `value`, `output`      | (C, C) |
| $\mu'_r, \mu'_k$                 | `time_mix_r`, `time_mix_k` (channel mixing) | (C,)   |
| $W'_r$, $W'_k$, $W'_v$           | `receptance`, `key`, `value`                | (C, C), (F, C), (C, F) |

C is the model width, F the hidden width of the channel mixing. Signals are
batch-first: x (B, T, C).

Reference: Bo Peng et al. (2023), "RWKV: Reinventing RNNs for the Transformer
Era", arXiv:2305.13048.

Term: https://w3id.org/rnnref/term/rwkv
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_sequence, check_size

TERM_IRI = "https://w3id.org/rnnref/term/rwkv"

WKV_MODES = ("stable", "recurrent", "quadratic")


def _check_wkv(w: Tensor, u: Tensor, k: Tensor, v: Tensor) -> None:
    if k.dim() != 3 or k.shape != v.shape:
        raise ValueError(f"k and v must both be (B, T, C), got {tuple(k.shape)} and {tuple(v.shape)}")
    C = k.size(-1)
    if w.shape != (C,) or u.shape != (C,):
        raise ValueError(f"w and u must be ({C},), got {tuple(w.shape)} and {tuple(u.shape)}")


def wkv_quadratic(w: Tensor, u: Tensor, k: Tensor, v: Tensor) -> Tensor:
    r"""$wkv_t$ by the sum formula: a softmax over $i \le t$ of the exponents, (B, T, C).

    $e_{t,i} = -(t-1-i) w + k_i$ for $i < t$, $e_{t,t} = u + k_t$; then
    $wkv_t = \sum_i \operatorname{softmax}_i(e_{t,\cdot}) v_i$.
    """
    _check_wkv(w, u, k, v)
    T = k.size(1)
    t = torch.arange(T, device=k.device)
    distance = (t.view(T, 1) - 1 - t.view(1, T)).to(k.dtype)  # t - 1 - i, (T, T)
    # $$e_{t,i} = -(t-1-i) w + k_i$$, (B, T, T, C) indexed [b, t, i, c]
    exponents = -distance.unsqueeze(-1) * w + k.unsqueeze(1)
    diagonal = (u + k).unsqueeze(2)  # (B, T, 1, C): $$e_{t,t} = u + k_t$$
    eye = torch.eye(T, dtype=torch.bool, device=k.device).unsqueeze(-1)
    exponents = torch.where(eye, diagonal, exponents)
    future = (t.view(1, T) > t.view(T, 1)).unsqueeze(-1)  # i > t
    exponents = exponents.masked_fill(future, float("-inf"))
    weights = torch.softmax(exponents, dim=2)
    return torch.einsum("btic,bic->btc", weights, v)


def wkv_recurrent(w: Tensor, u: Tensor, k: Tensor, v: Tensor) -> Tensor:
    r"""$wkv_t$ by the plain recurrence on numerator $a$ and denominator $b$ (overflows for large $k$)."""
    _check_wkv(w, u, k, v)
    a = torch.zeros_like(k[:, 0])  # (B, C)
    b = torch.zeros_like(k[:, 0])
    decay = torch.exp(-w)
    outputs = []
    for k_t, v_t in zip(k.unbind(1), v.unbind(1), strict=True):
        bonus = torch.exp(u + k_t)
        # $$wkv_t = (a_{t-1} + e^{u + k_t} v_t) / (b_{t-1} + e^{u + k_t})$$
        outputs.append((a + bonus * v_t) / (b + bonus))
        # $$a_t = e^{-w} a_{t-1} + e^{k_t} v_t, \quad b_t = e^{-w} b_{t-1} + e^{k_t}$$
        a = decay * a + torch.exp(k_t) * v_t
        b = decay * b + torch.exp(k_t)
    return torch.stack(outputs, 1)


def wkv_stable(
    w: Tensor, u: Tensor, k: Tensor, v: Tensor, state: tuple[Tensor, Tensor, Tensor] | None = None
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    r"""$wkv_t$ by the recurrence with the largest exponent $p$ factored out (RWKV-4's kernel).

    The state is $(a, b, p)$ with the true numerator and denominator
    $a e^{p}$, $b e^{p}$; every exponential taken is of a number $\le 0$.

    Returns ``(wkv, state)``: (B, T, C) and the state after the last step, to
    continue a sequence (the initial state is empty: $a = b = 0$, $p = -\infty$).
    """
    _check_wkv(w, u, k, v)
    if state is None:
        a = torch.zeros_like(k[:, 0])
        b = torch.zeros_like(k[:, 0])
        p = torch.full_like(k[:, 0], float("-inf"))
    else:
        a, b, p = state
    outputs = []
    for k_t, v_t in zip(k.unbind(1), v.unbind(1), strict=True):
        # Output: the past (a, b at scale e^p) and the current token with its bonus (e^{u + k_t}).
        current = u + k_t
        q = torch.maximum(p, current)
        e_past, e_now = torch.exp(p - q), torch.exp(current - q)
        outputs.append((e_past * a + e_now * v_t) / (e_past * b + e_now))
        # Update: decay the past by e^{-w} and add the current token with weight e^{k_t}.
        decayed = p - w
        q = torch.maximum(decayed, k_t)
        e_past, e_now = torch.exp(decayed - q), torch.exp(k_t - q)
        a = e_past * a + e_now * v_t
        b = e_past * b + e_now
        p = q
    return torch.stack(outputs, 1), (a, b, p)


def _token_shift(x: Tensor) -> Tensor:
    """$x_{t-1}$ for every t, zeros before the first: (B, T, C) -> (B, T, C)."""
    return F.pad(x, (0, 0, 1, -1))


def _mix(x: Tensor, x_prev: Tensor, mu: Tensor) -> Tensor:
    r"""$\mu \odot x_t + (1 - \mu) \odot x_{t-1}$."""
    return mu * x + (1 - mu) * x_prev


class TimeMixing(nn.Module):
    r"""RWKV-4 time mixing: $o_t = W_o(\sigma(r_t) \odot wkv_t)$ (equations in the module docstring).

    Args:
        d_model: C, width.
        device, dtype: where and in which dtype to create the parameters.

    Input: x (B, T, C); keyword ``mode`` picks the WKV computation ("stable",
    "recurrent" or "quadratic"). Output: (B, T, C).
    """

    def __init__(self, d_model: int, device=None, dtype=None) -> None:
        super().__init__()
        self.d_model = C = check_size("d_model", d_model)
        factory = {"device": device, "dtype": dtype}
        self.time_decay = nn.Parameter(torch.empty(C, **factory))
        self.time_first = nn.Parameter(torch.empty(C, **factory))
        self.time_mix_r = nn.Parameter(torch.empty(C, **factory))
        self.time_mix_k = nn.Parameter(torch.empty(C, **factory))
        self.time_mix_v = nn.Parameter(torch.empty(C, **factory))
        self.receptance = nn.Linear(C, C, bias=False, **factory)
        self.key = nn.Linear(C, C, bias=False, **factory)
        self.value = nn.Linear(C, C, bias=False, **factory)
        self.output = nn.Linear(C, C, bias=False, **factory)
        self.reset_mixing_parameters()

    @torch.no_grad()
    def reset_mixing_parameters(self) -> None:
        """Decays spread over channels ($w$ from about 0.007 to 1), bonus $\\log 0.3$, $\\mu$ uniform in (0, 1)."""
        C = self.d_model
        position = torch.arange(C, dtype=torch.float64) / max(C - 1, 1)
        self.time_decay.copy_(-5 + 5 * position)  # w = exp(time_decay) in [e^-5, 1]
        self.time_first.fill_(torch.log(torch.tensor(0.3)).item())
        for mu in (self.time_mix_r, self.time_mix_k, self.time_mix_v):
            mu.uniform_(0, 1)

    def forward(self, x: Tensor, *, mode: str = "stable") -> Tensor:
        if mode not in WKV_MODES:
            raise ValueError(f"mode must be one of {', '.join(WKV_MODES)}, got {mode!r}")
        x_prev = _token_shift(x)
        # $$r_t, k_t, v_t = W_{r,k,v} (\mu \odot x_t + (1 - \mu) \odot x_{t-1})$$
        r = self.receptance(_mix(x, x_prev, self.time_mix_r))
        k = self.key(_mix(x, x_prev, self.time_mix_k))
        v = self.value(_mix(x, x_prev, self.time_mix_v))
        w = torch.exp(self.time_decay)
        if mode == "stable":
            wkv, _ = wkv_stable(w, self.time_first, k, v)
        elif mode == "recurrent":
            wkv = wkv_recurrent(w, self.time_first, k, v)
        else:
            wkv = wkv_quadratic(w, self.time_first, k, v)
        # $$o_t = W_o (\sigma(r_t) \odot wkv_t)$$
        return self.output(torch.sigmoid(r) * wkv)


class ChannelMixing(nn.Module):
    r"""RWKV-4 channel mixing: $o'_t = \sigma(r'_t) \odot W'_v \max(k'_t, 0)^2$.

    Args:
        d_model: C, width.
        d_hidden: F, hidden width (default 4C).
        device, dtype: where and in which dtype to create the parameters.
    """

    def __init__(self, d_model: int, d_hidden: int | None = None, device=None, dtype=None) -> None:
        super().__init__()
        self.d_model = C = check_size("d_model", d_model)
        self.d_hidden = Fh = 4 * C if d_hidden is None else check_size("d_hidden", d_hidden)
        factory = {"device": device, "dtype": dtype}
        self.time_mix_r = nn.Parameter(torch.empty(C, **factory))
        self.time_mix_k = nn.Parameter(torch.empty(C, **factory))
        self.receptance = nn.Linear(C, C, bias=False, **factory)
        self.key = nn.Linear(C, Fh, bias=False, **factory)
        self.value = nn.Linear(Fh, C, bias=False, **factory)
        with torch.no_grad():
            self.time_mix_r.uniform_(0, 1)
            self.time_mix_k.uniform_(0, 1)

    def forward(self, x: Tensor) -> Tensor:
        x_prev = _token_shift(x)
        # $$r'_t = W'_r (\mu'_r \odot x_t + (1 - \mu'_r) \odot x_{t-1})$$
        r = self.receptance(_mix(x, x_prev, self.time_mix_r))
        # $$k'_t = W'_k (\mu'_k \odot x_t + (1 - \mu'_k) \odot x_{t-1})$$
        k = self.key(_mix(x, x_prev, self.time_mix_k))
        # $$o'_t = \sigma(r'_t) \odot W'_v \max(k'_t, 0)^2$$
        return torch.sigmoid(r) * self.value(torch.relu(k) ** 2)


class RWKVBlock(nn.Module):
    r"""One RWKV-4 block: $x + \text{TimeMix}(\text{LN}(x))$, then $x + \text{ChannelMix}(\text{LN}(x))$.

    Args:
        d_model: C, width of the residual stream.
        d_hidden: F, hidden width of the channel mixing (default 4C).
        device, dtype: where and in which dtype to create the parameters.

    Input: x (B, T, C), batch-first; keyword ``mode`` for the WKV ("stable",
    "recurrent" or "quadratic"). Output: (B, T, C). Causal: the output at t
    depends on $x_1 \dots x_t$ only.

    Example::

        >>> block = RWKVBlock(8)
        >>> block(torch.randn(2, 20, 8)).shape
        torch.Size([2, 20, 8])

    Paper: Peng et al. (2023), arXiv:2305.13048. Term: ``term_iri``.
    """

    term_iri = TERM_IRI

    def __init__(self, d_model: int, d_hidden: int | None = None, device=None, dtype=None) -> None:
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        factory = {"device": device, "dtype": dtype}
        self.ln1 = nn.LayerNorm(d_model, **factory)
        self.att = TimeMixing(d_model, **factory)
        self.ln2 = nn.LayerNorm(d_model, **factory)
        self.ffn = ChannelMixing(d_model, d_hidden, **factory)

    def forward(self, x: Tensor, *, mode: str = "stable") -> Tensor:
        check_sequence("RWKVBlock", x, self.d_model, self.att.time_decay.dtype)
        x = x + self.att(self.ln1(x), mode=mode)
        return x + self.ffn(self.ln2(x))
