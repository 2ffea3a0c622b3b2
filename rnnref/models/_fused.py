r"""Fast paths for `RNN`, `LSTM` and `GRU`: the same functions, computed the way cuDNN does.

The readable path (`rnnref.models._recurrent.run_layers`) calls ``cell.step`` once
per time step and lets autograd record every small operation. For one layer in one
direction, each ``torch.autograd.Function`` here computes the same outputs and
gradients with far fewer, larger operations:

1. **Hoisted input projection.** $W_{ih} x_t + b$ does not depend on the state, so
   it is computed for all T steps with one GEMM, $(T B, I) \times (I, G)$, before
   the time loop (G = H, 3H or 4H), straight into the buffer that then holds the
   gate activations.
2. **A lean time loop.** Per step, one GEMM with $W_{hh}$ added in place to that
   step's slice, then a few in-place pointwise operations writing into
   preallocated buffers through views made once before the loop; no autograd
   graph. Two tricks cut the operations per step: $\tanh(a) = 2\sigma(2a) - 1$,
   with the rows of the tanh gates' weights doubled once per call (exact in
   floating point), so one sigmoid covers all gates (and ``torch.tanh`` is slow
   on CPU); and the LSTM keeps its gates internally in the order o, i, f, g so
   that the gates that are treated alike are contiguous.
3. **Hand-written backward.** Every factor that does not depend on the incoming
   gradient (the gate derivatives, the masks of padded steps) is computed for all
   steps at once before the loop, so the backward loop for $\partial h$ (and
   $\partial c$) is a handful of operations per step. The per-step gradients of the
   pre-activations $\delta_t$ are stacked into one (T, B, G) tensor, and then each
   weight gradient is ONE operation over all steps:
   $\partial W_{hh} = \delta^\top H_{\text{prev}}$, $\partial W_{ih} = \delta^\top X$,
   $\partial b = \sum_{t, b} \delta$, and $\partial X = \delta W_{ih}$.

Memory: the forward keeps, for the backward, the gate activations (T, B, G), the
states, and (GRU) $W_{hn} h_{t-1} + b_{hn}$. The backward's temporaries and the
forward's buffers when no gradient is needed live in a per-thread scratch buffer
that is reused from call to call (fresh memory is expensive to touch; see
`clear_workspace`).

Padded sequences: ``mask`` (T, B, 1), True while a sequence lasts. Past its length
a sequence's state is held and its output is zero, exactly as in
`rnnref.models._recurrent.run_direction`. The masks fold into the precomputed
factors of the backward, so they cost one operation per step.

Not here (`RNNBase.forward` then takes the readable path): forward-mode AD,
``torch.func`` transforms and ``torch.compile`` tracing, and the LSTM options
``peephole`` and ``layer_norm``. ``torch.jit.script`` is not used: the loops are
plain Python over a handful of large operations, where it gains nothing.
Double backward (``create_graph=True``) works: the backward then recomputes the
layer with plain differentiable operations (slow, but exact).

The code is device-agnostic (no host synchronisation inside the loops); it has
been tested on CPU only.
"""

from __future__ import annotations

import math
import threading

import torch
from torch import Tensor

# -- helpers -----------------------------------------------------------------------

_local = threading.local()


def _scratch(like: Tensor, *shapes: tuple[int, ...]) -> list[Tensor]:
    """Uninitialised tensors of the given shapes, carved from a per-thread buffer reused across calls.

    For temporaries only: nothing carved here may outlive the call that asked for it.
    """
    sizes = [math.prod(shape) for shape in shapes]
    buffers = _local.__dict__.setdefault("buffers", {})
    key = (like.device, like.dtype)
    buffer = buffers.get(key)
    if buffer is None or buffer.numel() < sum(sizes):
        buffer = buffers[key] = torch.empty(sum(sizes), dtype=like.dtype, device=like.device)
    views, offset = [], 0
    for shape, size in zip(shapes, sizes, strict=True):
        views.append(buffer[offset : offset + size].view(shape))
        offset += size
    return views


def clear_workspace() -> None:
    """Free this thread's scratch buffers (they are reallocated on the next call)."""
    _local.__dict__.pop("buffers", None)


def _order(T: int, reverse: bool) -> range:
    """The time steps in processing order."""
    return range(T - 1, -1, -1) if reverse else range(T)


def _backward_steps(T: int, reverse: bool):
    """Pairs (t, t_next) in backward order; t_next is the step the backward visits next (None at the end)."""
    order = list(_order(T, not reverse))
    return zip(order, [*order[1:], None], strict=True)


def _project(x: Tensor, w_ih: Tensor, bias: Tensor | None, out: Tensor) -> Tensor:
    """$W_{ih} x_t + b$ for all steps in one GEMM: x (T, B, I) -> out (T, B, G)."""
    x2, out2 = x.reshape(-1, x.size(-1)), out.view(-1, out.size(-1))
    if bias is None:
        return torch.mm(x2, w_ih.t(), out=out2)
    return torch.addmm(bias, x2, w_ih.t(), out=out2)


def _recurrent_weight_grad(dG: Tensor, hs: Tensor, h0: Tensor, reverse: bool) -> Tensor:
    r"""$\sum_t \delta_t^\top h_{\text{prev}(t)}$ without building $H_{\text{prev}}$: two GEMMs.

    dG (T, B, G), possibly a column range of a wider buffer; hs (T, B, O) the states
    after each step; h0 the state before the first processed step.
    """
    T, B, _ = dG.shape
    flat = dG.flatten(0, 1)  # (T B, G), a view
    first, rest = (T - 1, slice(0, (T - 1) * B)) if reverse else (0, slice(B, T * B))
    grad = dG[first].t().mm(h0)
    if T > 1:
        states = hs[1:] if reverse else hs[:-1]  # the state before each of the other steps
        grad.addmm_(flat[rest].t(), states.flatten(0, 1))
    return grad


def _input_grads(ctx, dG: Tensor, x: Tensor, w_ih: Tensor, bias: Tensor | None):
    r"""$\partial X = \delta W_{ih}$, $\partial W_{ih} = \delta^\top X$, $\partial b = \sum \delta$; one op each."""
    T, B, _ = dG.shape
    flat = dG.flatten(0, 1)  # (T B, G), a view
    dx = flat.mm(w_ih).view(T, B, -1) if ctx.needs_input_grad[0] else None
    dw_ih = flat.t().mm(x.reshape(T * B, -1)) if ctx.needs_input_grad[1] else None
    db = flat.sum(0) if bias is not None and ctx.needs_input_grad[2] else None
    return dx, dw_ih, db


def _double_backward(reference, inputs: tuple, output_grads: tuple, needs: tuple[bool, ...]):
    """For ``create_graph=True``: differentiate the plain-operation `reference` of the layer."""
    with torch.enable_grad():
        outputs = reference(*inputs)
        wrt = [x for x, n in zip(inputs, needs, strict=True) if n]
        grads = iter(torch.autograd.grad(outputs, wrt, output_grads, create_graph=True, allow_unused=True))
    return tuple(next(grads) if n else None for n in needs)


def _tanh_from_sigmoid_(s: Tensor, neg_one: Tensor) -> Tensor:
    """In place, $s \\leftarrow 2 s - 1$: with $s = \\sigma(2 a)$ that is $\\tanh(a)$.

    $\\tanh(a) = 2 \\sigma(2 a) - 1$ exactly; the doubled pre-activation $2 a$ comes
    from weights scaled by 2 (exact in floating point). On CPU ``torch.tanh`` costs
    several times ``torch.sigmoid`` (and is multi-threaded at sizes where that does
    not pay), so the loops use one sigmoid for all gates and this one cheap op.
    """
    return torch.add(neg_one, s, alpha=2, out=s)


def _scaled_rows(w: Tensor | None, rows: slice, factor: float = 2.0) -> Tensor | None:
    """A copy of ``w`` with ``w[rows]`` multiplied by ``factor``."""
    if w is None:
        return None
    w = w.clone()
    w[rows] *= factor
    return w


def _wants_grad(*tensors: Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


# -- Elman ----------------------------------------------------------------------------


def _elman_reference(x, w_ih, bias, h0, w_hh, mask, reverse, relu):
    """$h_t = \\phi(W_{ih} x_t + b + W_{hh} h_{t-1})$ with plain differentiable operations."""
    phi = torch.relu if relu else torch.tanh
    xw = torch.nn.functional.linear(x, w_ih, bias)
    h, outputs = h0, [None] * x.size(0)
    for t in _order(x.size(0), reverse):
        h_new = phi(torch.addmm(xw[t], h, w_hh.t()))
        outputs[t] = h_new if mask is None else torch.where(mask[t], h_new, h)
        h = outputs[t]
    hs = torch.stack(outputs)
    return (hs if mask is None else hs * mask), h


class ElmanRecurrence(torch.autograd.Function):
    """One Elman layer-direction: (x, W_ih, b, h0, W_hh) -> (y, h_n). b is $b_{ih} + b_{hh}$ or None."""

    @staticmethod
    def forward(ctx, x, w_ih, bias, h0, w_hh, mask, reverse: bool, relu: bool, save: bool):
        inputs = (w_ih, bias, h0, w_hh)
        T, B, _ = x.shape
        hs = x.new_empty(T, B, w_hh.size(0))  # the state after each step; first the input projections
        if not relu:  # tanh(a) = 2 sigmoid(2a) - 1: doubled weights give 2a
            w_ih, w_hh, bias = 2 * w_ih, 2 * w_hh, None if bias is None else 2 * bias
            neg_one = x.new_full((), -1.0)
        _project(x, w_ih, bias, hs)
        Hs = hs.unbind(0)  # per-step views, made once
        w_t, h = w_hh.t(), h0
        for t in _order(T, reverse):
            # $$h_t = \phi(W_{ih} x_t + b + W_{hh} h_{t-1})$$
            h_t = Hs[t].addmm_(h, w_t)
            h_t.relu_() if relu else _tanh_from_sigmoid_(h_t.sigmoid_(), neg_one)
            if mask is not None:
                torch.where(mask[t], h_t, h, out=h_t)
            h = h_t
        y = hs if mask is None else hs * mask
        if save:
            ctx.save_for_backward(x, *inputs, mask, hs)
        ctx.reverse, ctx.relu = reverse, relu
        return y, h.clone()

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, w_ih, bias, h0, w_hh, mask, hs = ctx.saved_tensors
        reverse, relu = ctx.reverse, ctx.relu
        if torch.is_grad_enabled():  # create_graph=True

            def reference(x, w_ih, bias, h0, w_hh):
                return _elman_reference(x, w_ih, bias, h0, w_hh, mask, reverse, relu)

            grads = _double_backward(reference, (x, w_ih, bias, h0, w_hh), (dy, dh_n), ctx.needs_input_grad[:5])
            return (*grads, None, None, None, None)
        T, B, H = hs.shape
        dG, slope = _scratch(hs, (T, B, H), (T, B, H))
        # $\partial h_t / \partial a_t$ for every step at once: 1 - h^2, or 0/1 for ReLU.
        if relu:
            torch.sign(hs, out=slope)
        else:
            torch.mul(hs, hs, out=slope).neg_().add_(1)
        if mask is not None:
            m = mask.to(hs.dtype)
            slope.mul_(m)  # no gradient into padded steps ...
            dy = dy * m
            held = (1 - m).unbind(0)  # ... they pass dh straight through
        DG, S, DY = dG.unbind(0), slope.unbind(0), dy.unbind(0)  # per-step views, made once
        t_first = 0 if reverse else T - 1
        dh = dh_n + DY[t_first]
        for t, t_next in _backward_steps(T, reverse):
            torch.mul(dh, S[t], out=DG[t])
            dh_prev = DG[t].mm(w_hh) if t_next is None else torch.addmm(DY[t_next], DG[t], w_hh)
            if mask is not None:
                dh_prev.addcmul_(dh, held[t])
            dh = dh_prev
        dw_hh = _recurrent_weight_grad(dG, hs, h0, reverse) if ctx.needs_input_grad[4] else None
        return (*_input_grads(ctx, dG, x, w_ih, bias), dh, dw_hh, None, None, None, None)


def elman_layer(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, *, nonlinearity="tanh", reverse=False, mask=None):
    """One Elman layer in one direction: x (T, B, I), h0 (B, H) -> (y (T, B, H), h_n (B, H))."""
    bias = None if bias_ih is None else bias_ih + bias_hh
    save = _wants_grad(x, weight_ih, bias, h0, weight_hh)
    return ElmanRecurrence.apply(x, weight_ih, bias, h0, weight_hh, mask, reverse, nonlinearity == "relu", save)


# -- LSTM -----------------------------------------------------------------------------


def _lstm_reference(x, w_ih, bias, h0, c0, w_hh, w_hr, mask, reverse):
    """The LSTM layer-direction with plain differentiable operations."""
    xw = torch.nn.functional.linear(x, w_ih, bias)
    h, c = h0, c0
    outputs = [None] * x.size(0)
    for t in _order(x.size(0), reverse):
        i, f, g, o = torch.addmm(xw[t], h, w_hh.t()).chunk(4, dim=1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        if w_hr is not None:
            h_new = h_new.mm(w_hr.t())
        if mask is not None:
            h_new = torch.where(mask[t], h_new, h)
            c_new = torch.where(mask[t], c_new, c)
        outputs[t] = h_new
        h, c = h_new, c_new
    hs = torch.stack(outputs)
    return (hs if mask is None else hs * mask), h, c


def _gates_oifg(w: Tensor | None) -> Tensor | None:
    """Rows (or entries) in gate order i, f, g, o -> o, i, f, g (see `LSTMRecurrence`)."""
    if w is None:
        return None
    H = w.size(0) // 4
    return torch.cat((w[3 * H :], w[: 3 * H]))


def _gates_ifgo(w: Tensor | None) -> Tensor | None:
    """The inverse of `_gates_oifg`."""
    if w is None:
        return None
    H = w.size(0) // 4
    return torch.cat((w[H:], w[:H]))


class LSTMRecurrence(torch.autograd.Function):
    r"""One LSTM layer-direction: (x, W_ih, b, h0, c0, W_hh, W_hr) -> (y, h_n, c_n).

    b is $b_{ih} + b_{hh}$ or None. Inside, the gates are kept in the order o, i, f,
    g instead of torch's i, f, g, o (the weight rows are permuted on the way in and
    the gradients on the way out): then the three sigmoid gates are one contiguous
    block in the forward, and the three gates driven by $\partial c_t$ are one
    contiguous block in the backward, so each is one operation per step.
    """

    @staticmethod
    def forward(ctx, x, w_ih, bias, h0, c0, w_hh, w_hr, mask, reverse: bool, save: bool):
        T, B, _ = x.shape
        G, O = w_hh.shape
        H = G // 4
        # Gate order o, i, f, g, with the g rows doubled: tanh(a) = 2 sigmoid(2a) - 1.
        g_rows = slice(3 * H, 4 * H)
        w_ih_p, w_hh_p = _scaled_rows(_gates_oifg(w_ih), g_rows), _scaled_rows(_gates_oifg(w_hh), g_rows)
        bias_p = _scaled_rows(_gates_oifg(bias), g_rows)
        neg_one = x.new_full((), -1.0)
        if save:
            acts, cs = x.new_empty(T, B, G), x.new_empty(T, B, H)
        else:
            acts, cs = _scratch(x, (T, B, G), (T, B, H))
        hs = x.new_empty(T, B, O)  # h_t, the output
        tanh_c = x.new_empty(B, H)  # one step's tanh(c_t)
        m_t = x.new_empty(B, H) if w_hr is not None else None  # one step's o_t * tanh(c_t), before W_hr
        _project(x, w_ih_p, bias_p, acts)  # acts[t] = W_ih x_t + b, then the activations
        # Per-step views, made once: all gates (B, 4H) and o, i, f, g (B, H).
        A = acts.unbind(0)
        Og, Ig, Fg, Gg = (acts[..., k * H : (k + 1) * H].unbind(0) for k in range(4))
        C, Hs = cs.unbind(0), hs.unbind(0)
        w_t = w_hh_p.t()
        w_r = None if w_hr is None else w_hr.t()
        h, c = h0, c0
        for t in _order(T, reverse):
            # $$o_t, i_t, f_t = \sigma(\cdot), \quad g_t = \tanh(\cdot) = 2 \sigma(2 \cdot) - 1$$
            A[t].addmm_(h, w_t).sigmoid_()
            _tanh_from_sigmoid_(Gg[t], neg_one)
            # $$c_t = f_t \odot c_{t-1} + i_t \odot g_t$$
            c_t = torch.mul(Fg[t], c, out=C[t]).addcmul_(Ig[t], Gg[t])
            # $$h_t = o_t \odot \tanh(c_t)$$ (then $W_{hr}$ if projected)
            _tanh_from_sigmoid_(torch.mul(c_t, 2, out=tanh_c).sigmoid_(), neg_one)
            h_t = Hs[t]
            if w_r is None:
                torch.mul(Og[t], tanh_c, out=h_t)
            else:
                torch.mm(torch.mul(Og[t], tanh_c, out=m_t), w_r, out=h_t)
            if mask is not None:
                torch.where(mask[t], h_t, h, out=h_t)
                torch.where(mask[t], c_t, c, out=c_t)
            h, c = h_t, c_t
        y = hs if mask is None else hs * mask
        if save:
            ctx.save_for_backward(x, w_ih, bias, h0, c0, w_hh, w_hr, mask, acts, cs, hs)
        ctx.reverse = reverse
        return y, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n):
        x, w_ih, bias, h0, c0, w_hh, w_hr, mask, acts, cs, hs = ctx.saved_tensors
        reverse = ctx.reverse
        if torch.is_grad_enabled():  # create_graph=True

            def reference(x, w_ih, bias, h0, c0, w_hh, w_hr):
                return _lstm_reference(x, w_ih, bias, h0, c0, w_hh, w_hr, mask, reverse)

            inputs = (x, w_ih, bias, h0, c0, w_hh, w_hr)
            grads = _double_backward(reference, inputs, (dy, dh_n, dc_n), ctx.needs_input_grad[:7])
            return (*grads, None, None, None)
        w_ih_p, w_hh_p = _gates_oifg(w_ih), _gates_oifg(w_hh)
        T, B, G = acts.shape
        H, O = G // 4, hs.size(-1)
        proj = w_hr is not None
        dG, k_o, k_ifg, k_c, tanh_cs, f_carry, dhs = _scratch(
            acts, (T, B, G), (T, B, H), (T, B, 3, H), (T, B, H), (T, B, H), (T, B, H), (T, B, O) if proj else (0,)
        )
        # Everything that does not depend on the incoming gradient, for all steps at once.
        o, i, f, g = acts.unflatten(-1, (4, H)).unbind(2)
        # tanh(c_t) = 2 sigmoid(2 c_t) - 1; on padded steps cs holds the carried state (masked below)
        torch.mul(cs, 2, out=tanh_cs).sigmoid_().mul_(2).sub_(1)
        # d pre-activation of o per unit of dL/d(o * tanh c): tanh(c) o (1 - o)
        torch.mul(o, o, out=k_o).neg_().add_(o).mul_(tanh_cs)
        # dc_t per unit of dL/d(o * tanh c): o (1 - tanh^2 c)
        torch.mul(tanh_cs, tanh_cs, out=k_c).neg_().add_(1).mul_(o)
        # d pre-activations of i, f, g per unit of dc_t: g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2)
        k_i, k_f, k_g = k_ifg.unbind(2)
        torch.mul(i, i, out=k_i).neg_().add_(i).mul_(g)
        torch.mul(f, f, out=k_f).neg_().add_(f)
        first, rest, before = (T - 1, slice(0, T - 1), slice(1, T)) if reverse else (0, slice(1, T), slice(0, T - 1))
        k_f[first].mul_(c0)
        k_f[rest].mul_(cs[before])
        torch.mul(g, g, out=k_g).neg_().add_(1).mul_(i)
        if proj:  # o * tanh(c) for dW_hr, kept in tanh_cs (no longer needed)
            m_all = tanh_cs.mul_(o)
        if mask is not None:
            m = mask.to(acts.dtype)
            dy = dy * m
            for k in (k_o, k_c, *((m_all,) if proj else ())):
                k.mul_(m)  # no gradient into padded steps ...
            k_ifg.mul_(m.unsqueeze(2))
            torch.where(mask, f, f.new_ones(()), out=f_carry)  # ... dc and dh pass through them
            held = (1 - m).unbind(0)
            f = f_carry
        # Per-step views, made once.
        DG, DGo, DGifg = dG.unbind(0), dG[..., :H].unbind(0), dG[..., H:].unflatten(-1, (3, H)).unbind(0)
        KO, KC, KIFG, Fc, DY = k_o.unbind(0), k_c.unbind(0), k_ifg.unbind(0), f.unbind(0), dy.unbind(0)
        DH = dhs.unbind(0) if proj else None
        t_first = 0 if reverse else T - 1
        dh = dh_n + DY[t_first]
        dc = dc_n
        if proj:
            DH[t_first].copy_(dh)
        for t, t_next in _backward_steps(T, reverse):
            dm = dh if not proj else dh.mm(w_hr)  # dL/d(o_t * tanh(c_t))
            dc = torch.addcmul(dc, dm, KC[t])
            torch.mul(dm, KO[t], out=DGo[t])
            torch.mul(dc.unsqueeze(1), KIFG[t], out=DGifg[t])
            dc.mul_(Fc[t])  # dc_{t-1}
            if t_next is None:
                dh_prev = DG[t].mm(w_hh_p)
            else:
                dh_prev = torch.addmm(DY[t_next], DG[t], w_hh_p, out=DH[t_next] if proj else None)
            if mask is not None:
                dh_prev.addcmul_(dh, held[t])
            dh = dh_prev
        dw_hh = _gates_ifgo(_recurrent_weight_grad(dG, hs, h0, reverse)) if ctx.needs_input_grad[5] else None
        dw_hr = None
        if proj and ctx.needs_input_grad[6]:
            dw_hr = dhs.flatten(0, 1).t().mm(m_all.flatten(0, 1))
        dx, dw_ih, db = _input_grads(ctx, dG, x, w_ih_p, bias)
        return dx, _gates_ifgo(dw_ih), _gates_ifgo(db), dh, dc, dw_hh, dw_hr, None, None, None


def lstm_layer(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr=None, *, reverse=False, mask=None):
    """One LSTM layer in one direction: x (T, B, I), (h0 (B, O), c0 (B, H)) -> (y (T, B, O), h_n, c_n)."""
    bias = None if bias_ih is None else bias_ih + bias_hh
    save = _wants_grad(x, weight_ih, bias, h0, c0, weight_hh, weight_hr)
    return LSTMRecurrence.apply(x, weight_ih, bias, h0, c0, weight_hh, weight_hr, mask, reverse, save)


# -- GRU ------------------------------------------------------------------------------


def _gru_reference(x, w_ih, b_ih, h0, w_hh, b_hh, mask, reverse):
    """The GRU layer-direction with plain differentiable operations."""
    xw = torch.nn.functional.linear(x, w_ih, b_ih)
    h, outputs = h0, [None] * x.size(0)
    for t in _order(x.size(0), reverse):
        x_r, x_z, x_n = xw[t].chunk(3, dim=1)
        h_r, h_z, h_n = torch.nn.functional.linear(h, w_hh, b_hh).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h_new = (1 - z) * n + z * h
        outputs[t] = h_new if mask is None else torch.where(mask[t], h_new, h)
        h = outputs[t]
    hs = torch.stack(outputs)
    return (hs if mask is None else hs * mask), h


class GRURecurrence(torch.autograd.Function):
    """One GRU layer-direction: (x, W_ih, b_ih, h0, W_hh, b_hh) -> (y, h_n); gates in torch's order r, z, n.

    $b_{hh}$ stays apart from $b_{ih}$: the reset gate scales $W_{hn} h_{t-1} + b_{hn}$.
    """

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, h0, w_hh, b_hh, mask, reverse: bool, save: bool):
        inputs = (w_ih, b_ih, h0, w_hh, b_hh)
        T, B, _ = x.shape
        G, H = w_hh.shape
        if save:
            acts, hw_ns = x.new_empty(T, B, G), x.new_empty(T, B, H)
        else:
            (acts,) = _scratch(x, (T, B, G))
        hs = x.new_empty(T, B, H)
        hw = x.new_empty(B, G)  # one step's W_hh h_{t-1} + b_hh (its n part doubled)
        # The n rows doubled: tanh(a) = 2 sigmoid(2a) - 1.
        n_rows = slice(2 * H, 3 * H)
        w_ih, b_ih, w_hh, b_hh = (_scaled_rows(w, n_rows) for w in (w_ih, b_ih, w_hh, b_hh))
        neg_one = x.new_full((), -1.0)
        _project(x, w_ih, b_ih, acts)  # acts[t] = W_ih x_t + b_ih, then r_t, z_t, n_t
        # Per-step views, made once.
        RZ, Rg, Zg, Ng = acts[..., : 2 * H].unbind(0), *(acts[..., k * H : (k + 1) * H].unbind(0) for k in range(3))
        Hs, HWn = hs.unbind(0), hw_ns.unbind(0) if save else None
        hw_rz, hw_n = hw[:, : 2 * H], hw[:, 2 * H :]
        w_t, h = w_hh.t(), h0
        for t in _order(T, reverse):
            if b_hh is None:
                torch.mm(h, w_t, out=hw)
            else:
                torch.addmm(b_hh, h, w_t, out=hw)
            # $$r_t, z_t = \sigma(W_{i\cdot} x_t + b_{i\cdot} + W_{h\cdot} h_{t-1} + b_{h\cdot})$$
            RZ[t].add_(hw_rz).sigmoid_()
            # $$n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))$$
            n = _tanh_from_sigmoid_(Ng[t].addcmul_(Rg[t], hw_n).sigmoid_(), neg_one)
            if save:
                HWn[t].copy_(hw_n)
            # $$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$$
            h_t = torch.lerp(n, h, Zg[t], out=Hs[t])
            if mask is not None:
                torch.where(mask[t], h_t, h, out=h_t)
            h = h_t
        y = hs if mask is None else hs * mask
        if save:
            ctx.save_for_backward(x, *inputs, mask, acts, hw_ns, hs)
        ctx.reverse = reverse
        return y, h.clone()

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, w_ih, b_ih, h0, w_hh, b_hh, mask, acts, hw_ns, hs = ctx.saved_tensors
        reverse = ctx.reverse
        if torch.is_grad_enabled():  # create_graph=True

            def reference(x, w_ih, b_ih, h0, w_hh, b_hh):
                return _gru_reference(x, w_ih, b_ih, h0, w_hh, b_hh, mask, reverse)

            inputs = (x, w_ih, b_ih, h0, w_hh, b_hh)
            grads = _double_backward(reference, inputs, (dy, dh_n), ctx.needs_input_grad[:6])
            return (*grads, None, None, None)
        T, B, G = acts.shape
        H = G // 3
        # dG holds the pre-activation gradients as [n (hidden side), r, z, n (input side)], so
        # that both sides are contiguous column ranges: the hidden side [:3H] in the order
        # n, r, z (W_hh's rows permuted to match) and the input side [H:] in torch's r, z, n.
        dG, k_zn, k_nr, z_carry = _scratch(acts, (T, B, 4 * H), (T, B, 2, H), (T, B, 2, H), (T, B, H))
        r, z, n = acts.unflatten(-1, (3, H)).unbind(2)
        k_z, k_n = k_zn.unbind(2)
        k_hn, k_r = k_nr.unbind(2)
        # Per unit of dh_t: d pre-activation of z, (h_{t-1} - n) z (1 - z), and of n, (1 - z)(1 - n^2).
        torch.mul(z, z, out=k_r).neg_().add_(z)  # z (1 - z), parked in k_r
        first, rest, before = (T - 1, slice(0, T - 1), slice(1, T)) if reverse else (0, slice(1, T), slice(0, T - 1))
        torch.sub(h0, n[first], out=k_z[first])
        torch.sub(hs[before], n[rest], out=k_z[rest])
        k_z.mul_(k_r)
        torch.mul(n, n, out=k_n).neg_().add_(1)
        k_n.addcmul_(z, k_n, value=-1)
        # Per unit of dn (input side): d of W_hn h + b_hn, r; d pre-activation of r, (W_hn h + b_hn) r (1 - r).
        k_hn.copy_(r)
        torch.mul(r, r, out=k_r).neg_().add_(r).mul_(hw_ns).mul_(0.5)  # hw_ns holds 2 (W_hn h + b_hn)
        if mask is not None:
            m = mask.to(acts.dtype)
            dy = dy * m
            k_zn.mul_(m.unsqueeze(2))  # no gradient into padded steps; dh passes through them
            z = torch.where(mask, z, z.new_ones(()), out=z_carry)
        w_perm = torch.cat((w_hh[2 * H :], w_hh[: 2 * H]))  # rows n, r, z
        # Per-step views, made once.
        dG4 = dG.unflatten(-1, (4, H))
        DGh = dG[..., : 3 * H].unbind(0)
        DGzn, DGnr, DGn = dG4[:, :, 2:].unbind(0), dG4[:, :, :2].unbind(0), dG4[:, :, 3:].unbind(0)
        KZN, KNR, Zc, DY = k_zn.unbind(0), k_nr.unbind(0), z.unbind(0), dy.unbind(0)
        dh = dh_n + DY[0 if reverse else T - 1]
        for t, t_next in _backward_steps(T, reverse):
            torch.mul(dh.unsqueeze(1), KZN[t], out=DGzn[t])  # z, n (input side)
            torch.mul(DGn[t], KNR[t], out=DGnr[t])  # n (hidden side), r
            dh_prev = DGh[t].mm(w_perm) if t_next is None else torch.addmm(DY[t_next], DGh[t], w_perm)
            dh = dh_prev.addcmul_(dh, Zc[t])
        dw_hh = db_hh = None
        if ctx.needs_input_grad[4]:
            dw = _recurrent_weight_grad(dG[..., : 3 * H], hs, h0, reverse)  # rows n, r, z
            dw_hh = torch.cat((dw[H:], dw[:H]))
        if b_hh is not None and ctx.needs_input_grad[5]:
            db = dG[..., : 3 * H].sum((0, 1))
            db_hh = torch.cat((db[H:], db[:H]))
        dx, dw_ih, db_ih = _input_grads(ctx, dG[..., H:], x, w_ih, b_ih)
        return dx, dw_ih, db_ih, dh, dw_hh, db_hh, None, None, None


def gru_layer(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, *, reverse=False, mask=None):
    """One GRU layer in one direction: x (T, B, I), h0 (B, H) -> (y (T, B, H), h_n (B, H))."""
    save = _wants_grad(x, weight_ih, bias_ih, h0, weight_hh, bias_hh)
    return GRURecurrence.apply(x, weight_ih, bias_ih, h0, weight_hh, bias_hh, mask, reverse, save)
