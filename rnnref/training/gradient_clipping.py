r"""Gradient clipping: bound the size of the gradient before the update.

In a recurrent network the gradient of a long sequence is a product of many
Jacobians, and when those grow it *explodes*: one step of gradient descent then
throws the weights far away from where they were. Clipping caps the step. *Clipping
by norm* rescales the whole gradient (every parameter's, seen as one vector $g$)
when its norm exceeds a threshold, keeping its direction; *clipping by value*
clamps each component separately, which changes the direction.

Clip by global norm (Pascanu et al.'s rule, as ``torch.nn.utils.clip_grad_norm_``
computes it, including its small constant that avoids dividing by zero):

$$
\begin{aligned}
\lVert g \rVert_p &= \Big\lVert \big(\lVert g^{(1)} \rVert_p, \dots, \lVert g^{(n)} \rVert_p\big) \Big\rVert_p
    \qquad (\text{for } p = \infty\text{: } \max_k \max_i |g^{(k)}_i|) \\
c &= \min\!\Big(1, \frac{\tau}{\lVert g \rVert_p + 10^{-6}}\Big) \\
g^{(k)} &\leftarrow c \, g^{(k)}
\end{aligned}
$$

for the parameters' gradients $g^{(1)}, \dots, g^{(n)}$ and threshold $\tau$
(``max_norm``). Clip by value, with threshold $\kappa$ (``clip_value``):

$$
g_i \leftarrow \min(\kappa, \max(-\kappa, g_i))
$$

A gradient containing ``nan`` or ``inf`` has a non-finite norm; it cannot be
clipped meaningfully. By default the gradients are scaled by the resulting
coefficient anyway (so they become ``nan``, as with ``torch``); with
``error_if_nonfinite=True`` `clip_grad_norm` raises `NonFiniteNormError` (a
``RuntimeError``, as torch's) before touching them.

Reference: Razvan Pascanu, Tomas Mikolov, Yoshua Bengio (2013), "On the difficulty
of training recurrent neural networks", ICML, arXiv:1211.5063.

Term: https://w3id.org/rnnref/term/gradient-clipping
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/gradient-clipping"

#: Added to the norm before dividing, as in ``torch.nn.utils.clip_grad_norm_``.
NORM_EPS = 1e-6


class NonFiniteNormError(RuntimeError):
    """The total gradient norm is nan or inf, and the caller asked for an error."""


def _gradients(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0) -> Tensor:
    r"""$\lVert (\lVert g^{(1)} \rVert_p, \dots, \lVert g^{(n)} \rVert_p) \rVert_p$: the p-norm of all tensors as one vector.

    Differentiable (for finite $p$ away from zero); 0 if there are no tensors.
    """
    tensors = list(tensors)
    if not tensors:
        return torch.tensor(0.0)
    p = float(norm_type)
    # $$\lVert g^{(k)} \rVert_p$$ for each tensor, then the p-norm of those norms
    norms = torch.stack([torch.linalg.vector_norm(g, p) for g in tensors])
    return torch.linalg.vector_norm(norms, p)


def clip_coefficient(norm: Tensor, max_norm: float) -> Tensor:
    r"""$c = \min(1, \tau / (\lVert g \rVert + 10^{-6}))$."""
    return torch.clamp(max_norm / (norm + NORM_EPS), max=1.0)


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    r"""Rescale the gradients of ``parameters`` in place so their global p-norm is at most ``max_norm``.

    Same contract as ``torch.nn.utils.clip_grad_norm_``: parameters without a
    gradient are skipped; the returned value is the total norm *before* clipping.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: $\tau \ge 0$.
        norm_type: $p$; ``float("inf")`` (or ``"inf"``) for the max-norm.
        error_if_nonfinite: raise `NonFiniteNormError` instead of scaling by a
            non-finite coefficient when the total norm is nan or inf.

    Returns:
        The total norm $\lVert g \rVert_p$ of the gradients before clipping, a 0-d tensor.
    """
    max_norm = float(max_norm)
    if math.isnan(max_norm) or max_norm < 0:
        raise ValueError(f"max_norm must be a number >= 0, got {max_norm!r}")
    norm_type = float(norm_type)
    if math.isnan(norm_type) or norm_type <= 0:
        raise ValueError(f"norm_type must be a positive number or inf, got {norm_type!r}")
    grads = _gradients(parameters)
    if not grads:
        return torch.tensor(0.0)
    with torch.no_grad():
        norm = total_norm(grads, norm_type)
        if error_if_nonfinite and not torch.isfinite(norm):
            raise NonFiniteNormError(
                f"the total gradient norm of order {norm_type} is {norm.item()}, so the gradients cannot be "
                f"clipped; look for nan/inf gradients (or pass error_if_nonfinite=False to scale by it anyway)"
            )
        # $$c = \min(1, \tau / (\lVert g \rVert_p + 10^{-6}))$$
        c = clip_coefficient(norm, max_norm)
        for g in grads:
            # $$g^{(k)} \leftarrow c \, g^{(k)}$$
            g.mul_(c.to(g.device, g.dtype))
    return norm


clip_grad_norm.term_iri = TERM_IRI  # type: ignore[attr-defined]


def clip_grad_value(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    r"""Clamp every gradient component of ``parameters`` in place to $[-\kappa, \kappa]$.

    Same contract as ``torch.nn.utils.clip_grad_value_``.
    """
    clip_value = float(clip_value)
    if math.isnan(clip_value) or clip_value < 0:
        raise ValueError(f"clip_value must be a number >= 0, got {clip_value!r}")
    with torch.no_grad():
        for g in _gradients(parameters):
            # $$g_i \leftarrow \min(\kappa, \max(-\kappa, g_i))$$
            g.clamp_(min=-clip_value, max=clip_value)


def clip_by_norm(tensors: list[Tensor], max_norm: float, norm_type: float = 2.0) -> list[Tensor]:
    r"""The functional form: $c \, g^{(k)}$ for each tensor, out of place and differentiable."""
    c = clip_coefficient(total_norm(tensors, norm_type), float(max_norm))
    return [c * g for g in tensors]
