r"""Adam: gradient descent with per-parameter step sizes from running moment estimates.

Adam keeps, for every parameter, an exponential moving average of its gradient
(the first moment $m$) and of its squared gradient (the second moment $v$). It
steps along $m$ divided by $\sqrt{v}$, so each coordinate moves about $\gamma$
per step whatever the scale of its gradient; both averages start at zero and are
divided by $1 - \beta^t$ to remove the bias that start gives them. It is the
default optimiser for recurrent networks in practice: the rescaling copes with
gradients whose size differs by orders of magnitude between the input, recurrent
and output weights.

The update for step $t = 1, 2, \dots$, written as ``torch.optim.Adam`` documents it:

$$
\begin{aligned}
g_t &= \nabla_\theta \mathcal{L}(\theta_{t-1}) \quad (\text{or } -\nabla \text{ if maximising}) \\
g_t &\leftarrow g_t + \lambda \theta_{t-1} && \text{(L2 weight decay, Adam)} \\
\theta_{t-1} &\leftarrow \theta_{t-1} (1 - \gamma \lambda) && \text{(decoupled weight decay, AdamW, instead)} \\
m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat v_t &= \max(\hat v_{t-1}, v_t) \text{ if amsgrad, else } v_t \\
\theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \cdot
    \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}
\end{aligned}
$$

with $m_0 = v_0 = \hat v_0 = 0$.

| symbol               | argument       | meaning                                    |
|----------------------|----------------|--------------------------------------------|
| $\gamma$             | `lr`           | learning rate                              |
| $\beta_1, \beta_2$   | `betas`        | decay rates of the two moving averages     |
| $\epsilon$           | `eps`          | keeps the denominator away from zero       |
| $\lambda$            | `weight_decay` | weight decay (L2 in Adam, decoupled in AdamW) |

References: Diederik P. Kingma, Jimmy Ba (2014), "Adam: A Method for Stochastic
Optimization", arXiv:1412.6980 (AMSGrad: Reddi, Kale, Kumar (2018), "On the
Convergence of Adam and Beyond", ICLR); Ilya Loshchilov, Frank Hutter (2017),
"Decoupled Weight Decay Regularization", arXiv:1711.05101 (AdamW).

Term: https://w3id.org/rnnref/term/adam
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/adam"


class Adam(torch.optim.Optimizer):
    r"""Adam, with optional AMSGrad, L2 or decoupled (AdamW) weight decay, and maximisation.

    A readable twin of ``torch.optim.Adam`` (and, with ``decoupled_weight_decay``,
    of ``torch.optim.AdamW``); per-parameter state ``step``, ``exp_avg`` ($m$),
    ``exp_avg_sq`` ($v$) and, with AMSGrad, ``max_exp_avg_sq`` ($\hat v$).

    Args:
        params: parameters (or parameter groups) to optimise.
        lr: $\gamma > 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$.
        eps: $\epsilon > 0$.
        weight_decay: $\lambda \ge 0$.
        amsgrad: divide by the running maximum $\hat v_t$ of $v_t$.
        decoupled_weight_decay: shrink the weights directly (AdamW) instead of
            adding $\lambda\theta$ to the gradient.
        maximize: ascend instead of descend.

    Example::

        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> (w ** 2).sum().backward(); opt.step()
        >>> round(w.item(), 6)  # the first step moves by lr whatever the gradient's size
        0.9
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        if len(betas) != 2 or not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                state = self.state[theta]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(theta)  # m_0
                    state["exp_avg_sq"] = torch.zeros_like(theta)  # v_0
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(theta)  # \hat v_0
                state["step"] += 1
                t = state["step"]
                # $$g_t = \nabla_\theta \mathcal{L}(\theta_{t-1})$$
                g = -theta.grad if group["maximize"] else theta.grad
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        # $$\theta_{t-1} \leftarrow \theta_{t-1} (1 - \gamma \lambda)$$
                        theta.mul_(1 - lr * weight_decay)
                    else:
                        # $$g_t \leftarrow g_t + \lambda \theta_{t-1}$$
                        g = torch.add(g, theta, alpha=weight_decay)
                # $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$$
                # (lerp(a, b, w) = a + w (b - a), addcmul(a, b, c, value=w) = a + w b c and add(a, b, alpha=w)
                # = a + w b compute these averages as torch does, so that the two agree to the last bit)
                m = torch.lerp(state["exp_avg"], g, 1 - beta1)
                # $$v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$$
                v = torch.addcmul(beta2 * state["exp_avg_sq"], g, g, value=1 - beta2)
                state["exp_avg"], state["exp_avg_sq"] = m, v
                if group["amsgrad"]:
                    # $$\hat v_t = \max(\hat v_{t-1}, v_t)$$
                    v = torch.maximum(state["max_exp_avg_sq"], v)
                    state["max_exp_avg_sq"] = v
                # $$\theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \cdot \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}$$
                step_size = lr / (1 - beta1**t)
                denominator = v.sqrt() / (1 - beta2**t) ** 0.5 + eps
                theta.sub_(step_size * m / denominator)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), defaults as ``torch.optim.AdamW``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True, maximize=maximize
        )
