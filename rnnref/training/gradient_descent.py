r"""Gradient descent: step every parameter against its gradient, optionally with momentum.

Gradient descent minimises a loss $\mathcal{L}(\theta)$ by repeatedly moving the
parameters a small step $\gamma$ (the learning rate) in the direction of steepest
descent, $-\nabla_\theta \mathcal{L}$. Computed on a mini-batch rather than the
whole data set it is *stochastic* gradient descent (SGD), the method with which
recurrent networks are trained once backpropagation through time has supplied the
gradient. *Momentum* keeps a running sum of past gradients (a velocity $b$), which
damps oscillation across a ravine and speeds travel along it; the *Nesterov*
variant looks one momentum step ahead.

The update, written as ``torch.optim.SGD`` documents it, for step $t = 1, 2, \dots$:

$$
\begin{aligned}
g_t &= \nabla_\theta \mathcal{L}(\theta_{t-1}) \quad (\text{or } -\nabla \text{ if maximising}) \\
g_t &\leftarrow g_t + \lambda \theta_{t-1} && \text{(weight decay } \lambda\text{)} \\
b_t &= \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases}
    && \text{(momentum } \mu\text{, dampening } \tau\text{)} \\
g_t &\leftarrow \begin{cases} g_t + \mu b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases}
    && \text{(only if } \mu \ne 0\text{)} \\
\theta_t &= \theta_{t-1} - \gamma g_t
\end{aligned}
$$

| symbol    | argument       | meaning                                   |
|-----------|----------------|-------------------------------------------|
| $\gamma$  | `lr`           | learning rate                             |
| $\mu$     | `momentum`     | momentum factor, 0 for plain SGD          |
| $\tau$    | `dampening`    | dampening of the new gradient in $b_t$    |
| $\lambda$ | `weight_decay` | L2 penalty coefficient                    |

References: Cauchy (1847) proposed the method of steepest descent; Robbins and
Monro (1951), "A Stochastic Approximation Method", Annals of Mathematical Statistics
22(3): 400–407, for its stochastic form; Polyak (1964) for momentum; Sutskever,
Martens, Dahl, Hinton (2013), "On the importance of initialization and momentum in
deep learning" (ICML) for the Nesterov form used here.

Term: https://w3id.org/rnnref/term/gradient-descent
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/gradient-descent"


class SGD(torch.optim.Optimizer):
    r"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

    A readable twin of ``torch.optim.SGD`` (same arguments, same update, same
    per-parameter state name ``momentum_buffer``); the test checks the two agree
    step by step in float64.

    Args:
        params: parameters (or parameter groups) to optimise.
        lr: learning rate $\gamma > 0$.
        momentum: $\mu \ge 0$.
        dampening: $\tau$; must be 0 with ``nesterov``.
        weight_decay: $\lambda \ge 0$.
        nesterov: use the Nesterov form (needs ``momentum > 0``).
        maximize: ascend instead of descend.

    Example::

        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = SGD([w], lr=0.1)
        >>> (w ** 2).sum().backward(); opt.step()
        >>> w.item()
        0.8
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov, maximize=maximize
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss."""
        # (add(a, b, alpha=w) is a + w b, rounded as torch.optim.SGD rounds it, so the two agree to the bit)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                # $$g_t = \nabla_\theta \mathcal{L}(\theta_{t-1})$$
                g = -theta.grad if group["maximize"] else theta.grad
                if weight_decay != 0:
                    # $$g_t \leftarrow g_t + \lambda \theta_{t-1}$$
                    g = torch.add(g, theta, alpha=weight_decay)
                if mu != 0:
                    state = self.state[theta]
                    if "momentum_buffer" not in state:
                        # $$b_1 = g_1$$
                        b = g.clone()
                    else:
                        # $$b_t = \mu b_{t-1} + (1 - \tau) g_t$$
                        b = torch.add(mu * state["momentum_buffer"], g, alpha=1 - tau)
                    state["momentum_buffer"] = b
                    # $$g_t \leftarrow g_t + \mu b_t \text{ (Nesterov) or } b_t$$
                    g = torch.add(g, b, alpha=mu) if nesterov else b
                # $$\theta_t = \theta_{t-1} - \gamma g_t$$
                theta.add_(g, alpha=-lr)
        return loss
