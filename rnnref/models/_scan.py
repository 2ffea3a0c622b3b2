r"""Parallel scan for the first-order linear recurrence $h_t = a_t \odot h_{t-1} + b_t$.

Every model in this package whose state update is *linear* in the previous state
(minGRU, minLSTM, the diagonal linear RNN, the selective SSM of Mamba) reduces to

$$h_t = a_t \odot h_{t-1} + b_t, \qquad t = 1 \dots T,$$

with $a_t, b_t$ computed from the inputs alone. Unrolled,

$$h_t = \Big(\prod_{s=1}^{t} a_s\Big) h_0 + \sum_{s=1}^{t} \Big(\prod_{r=s+1}^{t} a_r\Big) b_s ,$$

and because the pairs $(a, b)$ compose associatively,
$(a_2, b_2) \circ (a_1, b_1) = (a_2 a_1,\; a_2 b_1 + b_2)$, all $T$ states can be
computed in $O(\log T)$ dependent steps instead of $T$ (Blelloch 1990, "Prefix sums
and their applications").

Three ways to compute it, all equal up to rounding (``tests/models/test_scan.py``):

| function                | what it is                                                        |
|-------------------------|-------------------------------------------------------------------|
| `sequential_scan`       | the readable reference: a Python loop over $t$                     |
| `parallel_scan`         | recursive odd-even reduction, $O(T)$ work, $O(\log T)$ depth       |
| `log_space_scan`        | Heinsen's log-space scan for positive $a, b$ (used by Feng et al.) |

`parallel_scan` is work-efficient: it combines neighbouring pairs $(2k, 2k+1)$ into
one step of a sequence half as long, scans that recursively (which gives the states
at the odd positions), then fills in each even position with one more step. Each
level is a handful of whole-tensor operations, so there are about $\log_2 T$ levels of
Python overhead instead of $T$ steps. Its backward pass is itself a linear recurrence,
run backwards in time, so it uses the same scan:

$$\lambda_t = g_t + \bar a_{t+1} \odot \lambda_{t+1}, \quad
\frac{\partial L}{\partial b_t} = \lambda_t, \quad
\frac{\partial L}{\partial a_t} = \lambda_t \odot \bar h_{t-1}, \quad
\frac{\partial L}{\partial h_0} = \bar a_1 \odot \lambda_1$$

($g_t = \partial L / \partial h_t$ from later layers; the bar is complex
conjugation, a no-op for real tensors). The backward is written in differentiable
operations, so second derivatives work too. Complex $a, b$ are supported (the
linear recurrent unit uses complex eigenvalues).

`log_space_scan` is the form of Feng et al. (2024): for $a_t > 0$, $b_t > 0$,
$\log h_t = a^*_t + \operatorname{logcumsumexp}_{s \le t}(\log b_s - a^*_s)$ with
$a^*_t = \sum_{s \le t} \log a_s$; two library scans (cumsum and logcumsumexp) and
no Python loop, numerically stable because everything stays in log space.

Shapes: ``a`` and ``b`` have the same shape with time along ``dim`` (default 1,
batch-first (B, T, ...)); ``h0`` has that shape without the time axis. The output
``h`` has the shape of ``b`` and holds $h_1 \dots h_T$ (not $h_0$).

`rnnref.bench.scan_speed` measures `parallel_scan` against `sequential_scan` at
$T = 4096$.

References: Guy E. Blelloch (1990), "Prefix Sums and Their Applications", CMU
technical report CMU-CS-90-190; Franz A. Heinsen (2023), "Efficient Parallelization
of a Ubiquitous Sequential Computation"; Leo Feng, Frederick Tung, Mohamed Osama
Ahmed, Yoshua Bengio and Hossein Hajimirsadeghi (2024), "Were RNNs All We Needed?",
arXiv:2410.01201.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["log_space_scan", "parallel_scan", "sequential_scan"]


def _check(a: Tensor, b: Tensor, h0: Tensor | None, dim: int) -> int:
    """Validate the arguments; returns ``dim`` as a non-negative axis."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"a and b must be Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.dim() == 0:
        raise ValueError("a and b need a time axis; got 0-dimensional tensors")
    if not -a.dim() <= dim < a.dim():
        raise ValueError(f"dim={dim} is out of range for {a.dim()}-dimensional a and b")
    dim = dim % a.dim()
    if a.size(dim) == 0:
        raise ValueError("a and b must have at least one time step along dim, got length 0")
    if a.dtype != b.dtype:
        raise ValueError(f"a and b must have the same dtype, got {a.dtype} and {b.dtype}")
    if h0 is not None:
        expected = a.shape[:dim] + a.shape[dim + 1 :]
        if not isinstance(h0, Tensor) or h0.shape != expected:
            got = tuple(h0.shape) if isinstance(h0, Tensor) else type(h0).__name__
            raise ValueError(f"h0 must have shape {tuple(expected)} (a without its time axis), got {got}")
        if h0.dtype != b.dtype:
            raise ValueError(f"h0 dtype {h0.dtype} does not match b's dtype {b.dtype}")
    return dim


def sequential_scan(a: Tensor, b: Tensor, h0: Tensor | None = None, dim: int = 1) -> Tensor:
    r"""The reference: $h_t = a_t \odot h_{t-1} + b_t$ one step at a time, $h_0$ = ``h0`` or 0."""
    dim = _check(a, b, h0, dim)
    h = torch.zeros_like(b.select(dim, 0)) if h0 is None else h0
    states = []
    for a_t, b_t in zip(a.unbind(dim), b.unbind(dim), strict=True):
        # $$h_t = a_t \odot h_{t-1} + b_t$$
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states, dim)


def _fold_h0(a: Tensor, b: Tensor, h0: Tensor | None, dim: int) -> Tensor:
    """b with $b_1 \\leftarrow a_1 h_0 + b_1$, so the scan can start from zero."""
    if h0 is None:
        return b
    first = a.narrow(dim, 0, 1) * h0.unsqueeze(dim) + b.narrow(dim, 0, 1)
    return torch.cat([first, b.narrow(dim, 1, b.size(dim) - 1)], dim)


def _scan_into(out: Tensor, a: Tensor, b: Tensor, dim: int, reverse: bool = False) -> None:
    r"""Write $h_t = a_t h_{t-1} + b_t$ ($h_0 = 0$) into ``out``; no autograd, no Python loop over t.

    The recursion halves the length at each level: the steps pair up, a pair
    (first, second) in the order of the recursion composes to one step
    $(a_s a_f,\; a_s b_f + b_s)$, the scan of the pairs gives the states at the
    second elements, and the first elements follow in one step each. With
    ``reverse`` the recursion runs from $t = T$ down to 1:
    $h_t = a_t h_{t+1} + b_t$, $h_{T+1} = 0$ (the backward pass needs this).
    """
    T = a.size(dim)
    if T == 1:
        out.copy_(b)
        return
    odd = T % 2  # an odd leftover step: the last one (forward) or the first one (reverse)

    def take(x: Tensor, start: int, stop: int) -> Tensor:
        index = [slice(None)] * x.dim()
        index[dim] = slice(start, stop, 2)
        return x[tuple(index)]

    if reverse:  # pairs (T-1, T-2), (T-3, T-4), ...: the first of each is the later step
        first, second = (odd + 1, T), (odd, T - 1)
    else:  # pairs (0, 1), (2, 3), ...
        first, second = (0, T - odd), (1, T - odd)
    a_f, b_f, out_f = take(a, *first), take(b, *first), take(out, *first)
    a_s, b_s, out_s = take(a, *second), take(b, *second), take(out, *second)
    # The pair as one step: (a_s a_f, a_s b_f + b_s); its scan gives h at the second elements.
    _scan_into(out_s, a_s * a_f, torch.addcmul(b_s, a_s, b_f), dim, reverse)
    # The first element of each pair: one step from the second element of the pair before.
    m = out_f.size(dim)
    begin = m - 1 if reverse else 0  # the pair the recursion starts with: its first element is b
    out_f.narrow(dim, begin, 1).copy_(b_f.narrow(dim, begin, 1))
    if m > 1:
        rest, previous = (0, 1) if reverse else (1, 0)
        torch.addcmul(
            b_f.narrow(dim, rest, m - 1),
            a_f.narrow(dim, rest, m - 1),
            out_s.narrow(dim, previous, m - 1),
            out=out_f.narrow(dim, rest, m - 1),
        )
    if odd:
        t, neighbour = (0, 1) if reverse else (T - 1, T - 2)
        torch.addcmul(b.narrow(dim, t, 1), a.narrow(dim, t, 1), out.narrow(dim, neighbour, 1), out=out.narrow(dim, t, 1))


def _shift(x: Tensor, dim: int, later: bool) -> Tensor:
    """x moved one step along dim, zero-filled: $x_{t+1}$ if ``later`` else $x_{t-1}$."""
    T = x.size(dim)
    zero = torch.zeros_like(x.narrow(dim, 0, 1))
    if later:
        return torch.cat([x.narrow(dim, 1, T - 1), zero], dim)
    return torch.cat([zero, x.narrow(dim, 0, T - 1)], dim)


class _LinearScan(torch.autograd.Function):
    r"""$h = \operatorname{scan}(a, b)$, zero initial state, forward or reverse in time.

    The backward is the scan in the other direction: for
    $h_t = a_t h_{t-1} + b_t$, $\lambda_t = g_t + \bar a_{t+1} \lambda_{t+1}$,
    $\partial_b = \lambda$, $\partial_{a_t} = \lambda_t \bar h_{t-1}$; mirrored for reverse.
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, dim: int, reverse: bool) -> Tensor:
        h = torch.empty(b.shape, dtype=b.dtype, device=b.device)
        _scan_into(h, a.detach(), b.detach(), dim, reverse)
        ctx.dim, ctx.reverse = dim, reverse
        ctx.save_for_backward(a, h)
        return h

    @staticmethod
    def backward(ctx, grad_h: Tensor):
        a, h = ctx.saved_tensors
        dim, reverse = ctx.dim, ctx.reverse
        # $$\lambda_t = g_t + \bar a_{t+1} \lambda_{t+1}$$ (forward recurrence): a scan backwards in time.
        a_next = _shift(a, dim, later=not reverse).conj()
        lam = _LinearScan.apply(a_next, grad_h, dim, not reverse)
        grad_a = None
        if ctx.needs_input_grad[0]:
            # $$\partial L / \partial a_t = \lambda_t \bar h_{t-1}$$
            grad_a = lam * _shift(h, dim, later=reverse).conj()
        return grad_a, lam, None, None


def parallel_scan(a: Tensor, b: Tensor, h0: Tensor | None = None, dim: int = 1) -> Tensor:
    r"""All states of $h_t = a_t \odot h_{t-1} + b_t$ by a parallel scan ($O(\log T)$ depth).

    Args:
        a: the multipliers, time along ``dim``; real or complex.
        b: the inputs, same shape and dtype as ``a``.
        h0: the initial state, ``a``'s shape without the time axis; zeros if None.
        dim: the time axis (default 1: batch-first (B, T, ...)).

    Returns:
        $h_1 \dots h_T$, the shape of ``b``. Differentiable in ``a``, ``b`` and
        ``h0`` (first and second derivatives).
    """
    dim = _check(a, b, h0, dim)
    return _LinearScan.apply(a, _fold_h0(a, b, h0, dim), dim, False)


def log_space_scan(log_a: Tensor, log_b: Tensor, log_h0: Tensor | None = None, dim: int = 1) -> Tensor:
    r"""$\log h_t$ for positive $a_t, b_t$, computed in log space (Heinsen 2023; Feng et al. 2024).

    $$\log h_t = a^*_t + \operatorname{logcumsumexp}_{s \le t}(\log b_s - a^*_s),
    \qquad a^*_t = \sum_{s \le t} \log a_s$$

    with $\log h_0$ entering as an extra first term ($s = 0$, $a^*_0 = 0$).

    Args:
        log_a: $\log a_t$ (real), time along ``dim``.
        log_b: $\log b_t$, same shape.
        log_h0: $\log h_0$, the shape without the time axis; $h_0 = 0$ if None.
        dim: the time axis.

    Returns:
        $\log h_1 \dots \log h_T$, the shape of ``log_b``.
    """
    dim = _check(log_a, log_b, log_h0, dim)
    if log_a.is_complex() or log_b.is_complex():
        raise ValueError("log_space_scan takes real logarithms; use parallel_scan for complex values")
    a_star = torch.cumsum(log_a, dim)
    terms = log_b - a_star
    if log_h0 is not None:
        terms = torch.cat([log_h0.unsqueeze(dim), terms], dim)
        return a_star + torch.logcumsumexp(terms, dim).narrow(dim, 1, log_a.size(dim))
    return a_star + torch.logcumsumexp(terms, dim)
