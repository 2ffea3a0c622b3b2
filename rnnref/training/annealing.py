r"""Simulated annealing over the weights of a small recurrent network.

Simulated annealing is a gradient-free global search modelled on the slow cooling
of a metal. From the current weight vector it proposes a random nearby one and
always accepts it if the loss goes down; if the loss goes up by $\Delta$ it still
accepts it with probability $e^{-\Delta / T}$ (the Metropolis rule), where the
*temperature* $T$ falls over the run. Early on, at high temperature, the search
climbs out of local minima freely; as $T \to 0$ it settles into a descent. At
$T = 0$ a worse proposal is never accepted.

Step $k = 0, 1, \dots, K - 1$, for a loss $E(w)$ to minimise:

$$
\begin{aligned}
T_k &= T_0 \, (T_{K-1} / T_0)^{k / (K - 1)} && \text{(geometric schedule; or linear in } k\text{)} \\
w' &= w + \sigma \xi, \quad \xi \sim \mathcal{N}(0, I) \\
\Delta &= E(w') - E(w) \\
w &\leftarrow \begin{cases}
    w' & \text{if } \Delta \le 0 \text{ or } (T_k > 0 \text{ and } u < e^{-\Delta / T_k}), \ u \sim \mathcal{U}(0, 1) \\
    w & \text{otherwise}
\end{cases}
\end{aligned}
$$

The best $w$ seen is kept apart from the current one. The network and task are
those of `rnnref.training.genetic` (`FlatElman`, `ParityObjective`).

References: S. Kirkpatrick, C. D. Gelatt, M. P. Vecchi (1983), "Optimization by
Simulated Annealing", Science 220(4598): 671–680, doi:10.1126/science.220.4598.671;
the acceptance rule from N. Metropolis, A. W. Rosenbluth, M. N. Rosenbluth,
A. H. Teller, E. Teller (1953), "Equation of State Calculations by Fast Computing
Machines", J. Chem. Phys. 21: 1087–1092, doi:10.1063/1.1699114.

Term: https://w3id.org/rnnref/term/simulated-annealing
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/simulated-annealing"

_SCHEDULES = ("geometric", "linear")


@dataclass
class AnnealingResult:
    best: Tensor  #: (D,) the lowest-loss vector seen
    best_loss: float  #: its loss
    losses: list[float] = field(default_factory=list)  #: loss of the *current* vector after each step
    temperatures: list[float] = field(default_factory=list)  #: T_k used at each step
    accepted: int = 0  #: proposals accepted
    accepted_worse: int = 0  #: of which had Delta > 0


class SimulatedAnnealing:
    r"""Simulated annealing with Gaussian proposals and Metropolis acceptance (minimises a loss).

    Args:
        initial_temperature: $T_0 \ge 0$ (0: a pure descent that never accepts a worse vector).
        final_temperature: $T_{K-1}$, with $0 < T_{K-1} \le T_0$ for the geometric schedule
            (ignored when $T_0 = 0$); $0 \le T_{K-1} \le T_0$ for the linear one.
        steps: K.
        step_std: $\sigma$ of the proposal.
        schedule: ``"geometric"`` or ``"linear"``.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        initial_temperature: float = 1.0,
        final_temperature: float = 1e-4,
        steps: int = 5000,
        step_std: float = 0.1,
        schedule: str = "geometric",
    ) -> None:
        if schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
        if initial_temperature < 0 or final_temperature < 0 or final_temperature > initial_temperature:
            raise ValueError(
                f"need 0 <= final_temperature <= initial_temperature, got {final_temperature} and {initial_temperature}"
            )
        if schedule == "geometric" and initial_temperature > 0 and final_temperature == 0:
            raise ValueError("a geometric schedule cannot reach temperature 0; use a positive final_temperature")
        if steps < 1 or step_std <= 0:
            raise ValueError(f"steps must be >= 1 and step_std > 0, got {steps} and {step_std}")
        self.initial_temperature, self.final_temperature = float(initial_temperature), float(final_temperature)
        self.steps, self.step_std, self.schedule = steps, float(step_std), schedule

    def temperature(self, k: int) -> float:
        r"""$T_k$: non-increasing in $k$, $T_0$ at $k = 0$, $T_{K-1}$ at $k = K - 1$."""
        if not 0 <= k < self.steps:
            raise ValueError(f"k must be in [0, {self.steps}), got {k}")
        T0, T1 = self.initial_temperature, self.final_temperature
        if T0 == 0:
            return 0.0
        fraction = k / (self.steps - 1) if self.steps > 1 else 0.0
        if self.schedule == "linear":
            return T0 + (T1 - T0) * fraction
        # $$T_k = T_0 (T_{K-1} / T_0)^{k / (K-1)}$$
        return T0 * (T1 / T0) ** fraction

    def run(
        self,
        loss_fn: Callable[[Tensor], Tensor | float],
        x0: Tensor,
        generator: torch.Generator,
        *,
        target_loss: float | None = None,
    ) -> AnnealingResult:
        r"""Anneal from ``x0`` (D,) for up to K steps; ``loss_fn`` maps (D,) to a number $E(w)$.

        ``generator`` is the only random source: the same generator state gives the same
        run. With ``target_loss`` the run stops once the best loss is at or below it.
        """
        if x0.dim() != 1:
            raise ValueError(f"x0 must be a vector (D,), got shape {tuple(x0.shape)}")
        w = x0.clone()
        energy = float(loss_fn(w))
        result = AnnealingResult(best=w.clone(), best_loss=energy)
        for k in range(self.steps):
            if target_loss is not None and result.best_loss <= target_loss:
                break
            T = self.temperature(k)
            # $$w' = w + \sigma \xi$$
            proposal = w + self.step_std * torch.randn(w.shape, generator=generator, dtype=w.dtype)
            proposed_energy = float(loss_fn(proposal))
            # $$\Delta = E(w') - E(w)$$
            delta = proposed_energy - energy
            u = torch.rand((), generator=generator, dtype=torch.float64).item()  # drawn every step: runs stay aligned
            # $$\text{accept if } \Delta \le 0 \text{ or } u < e^{-\Delta / T}$$
            accept = delta <= 0 or (T > 0 and u < math.exp(-delta / T))
            if accept:
                w, energy = proposal, proposed_energy
                result.accepted += 1
                result.accepted_worse += delta > 0
                if energy < result.best_loss:
                    result.best, result.best_loss = w.clone(), energy
            result.losses.append(energy)
            result.temperatures.append(T)
        return result
