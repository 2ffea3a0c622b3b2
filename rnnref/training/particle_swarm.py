r"""Particle swarm optimisation over the weights of a small recurrent network.

Particle swarm optimisation (PSO) searches a space with a swarm of particles, each
a candidate weight vector with a velocity. Every particle remembers the best
position it has visited (its *personal best*), and the swarm shares the best
position any particle has visited (the *global best*). At each iteration a
particle's velocity keeps part of its momentum (the inertia) and is pulled at
random strengths towards both bests; no gradient is used.

For particles $i = 1 \dots N$ with positions $x_i$, velocities $v_i$, personal bests
$p_i$ and global best $g$, minimising a loss $E$:

$$
\begin{aligned}
v_i &\leftarrow \omega v_i + c_1 r_1 \odot (p_i - x_i) + c_2 r_2 \odot (g - x_i), \quad
    r_1, r_2 \sim \mathcal{U}(0, 1)^D \\
v_i &\leftarrow \operatorname{clamp}(v_i, -v_{\max}, v_{\max}) \quad \text{(if } v_{\max} \text{ is set)} \\
x_i &\leftarrow x_i + v_i \\
p_i &\leftarrow x_i \ \text{ if } E(x_i) < E(p_i), \qquad g \leftarrow \arg\min_i E(p_i)
\end{aligned}
$$

Because $g$ only ever changes to a position with a lower loss, $E(g)$ never
increases. The network and task are those of `rnnref.training.genetic`
(`FlatElman`, `ParityObjective`).

| symbol        | argument       | meaning                          |
|---------------|----------------|----------------------------------|
| $N$           | `n_particles`  | swarm size                       |
| $\omega$      | `inertia`      | share of the velocity kept       |
| $c_1$         | `cognitive`    | pull towards the personal best   |
| $c_2$         | `social`       | pull towards the global best     |
| $v_{\max}$    | `max_velocity` | per-coordinate speed limit       |

References: James Kennedy, Russell Eberhart (1995), "Particle swarm optimization",
Proceedings of ICNN'95, International Conference on Neural Networks, pp. 1942–1948;
the inertia weight from Yuhui Shi, Russell Eberhart (1998), "A modified particle
swarm optimizer".

Term: https://w3id.org/rnnref/term/particle-swarm-optimization
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/particle-swarm-optimization"


@dataclass
class SwarmResult:
    best: Tensor  #: (D,) the global best position g
    best_loss: float  #: E(g)
    history: list[float] = field(default_factory=list)  #: E(g) after each iteration (index 0: the initial swarm)


class ParticleSwarm:
    r"""Global-best particle swarm optimisation with inertia (minimises a loss).

    Args:
        n_particles: N.
        inertia: $\omega$.
        cognitive: $c_1$.
        social: $c_2$.
        init_std: positions start $\mathcal{N}(0, \text{init\_std}^2)$, velocities at 0.
        max_velocity: $v_{\max}$, or None for no limit.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        n_particles: int = 40,
        inertia: float = 0.7,
        cognitive: float = 1.5,
        social: float = 1.5,
        init_std: float = 1.0,
        max_velocity: float | None = 1.0,
    ) -> None:
        if n_particles < 1:
            raise ValueError(f"n_particles must be >= 1, got {n_particles}")
        if inertia < 0 or cognitive < 0 or social < 0 or init_std <= 0:
            raise ValueError("inertia, cognitive and social must be >= 0 and init_std > 0")
        if max_velocity is not None and max_velocity <= 0:
            raise ValueError(f"max_velocity must be positive or None, got {max_velocity}")
        self.n_particles, self.inertia, self.cognitive, self.social = n_particles, inertia, cognitive, social
        self.init_std, self.max_velocity = init_std, max_velocity

    def run(
        self,
        loss_fn: Callable[[Tensor], Tensor],
        dim: int,
        iterations: int,
        generator: torch.Generator,
        *,
        target_loss: float | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> SwarmResult:
        r"""Fly the swarm for up to ``iterations`` iterations.

        Args:
            loss_fn: (N, D) -> (N,) losses $E$, lower is better.
            dim: D.
            iterations: maximum number of velocity/position updates.
            generator: the only random source: the same generator state gives the same run.
            target_loss: stop as soon as $E(g)$ is at or below it.
        """
        if dim < 1 or iterations < 0:
            raise ValueError(f"dim must be >= 1 and iterations >= 0, got {dim} and {iterations}")
        N = self.n_particles
        x = self.init_std * torch.randn(N, dim, generator=generator, dtype=dtype)
        v = torch.zeros_like(x)
        energy = self._losses(loss_fn, x)
        personal_best, personal_energy = x.clone(), energy.clone()
        i = int(personal_energy.argmin())
        g, g_energy = personal_best[i].clone(), personal_energy[i].item()
        history = [g_energy]
        for _ in range(iterations):
            if target_loss is not None and g_energy <= target_loss:
                break
            r1 = torch.rand(N, dim, generator=generator, dtype=dtype)
            r2 = torch.rand(N, dim, generator=generator, dtype=dtype)
            # $$v_i \leftarrow \omega v_i + c_1 r_1 (p_i - x_i) + c_2 r_2 (g - x_i)$$
            v = self.inertia * v + self.cognitive * r1 * (personal_best - x) + self.social * r2 * (g - x)
            if self.max_velocity is not None:
                v = v.clamp(-self.max_velocity, self.max_velocity)
            # $$x_i \leftarrow x_i + v_i$$
            x = x + v
            energy = self._losses(loss_fn, x)
            # $$p_i \leftarrow x_i \text{ if } E(x_i) < E(p_i)$$
            improved = energy < personal_energy
            personal_best = torch.where(improved[:, None], x, personal_best)
            personal_energy = torch.where(improved, energy, personal_energy)
            # $$g \leftarrow \arg\min_i E(p_i)$$, only if it is better than g
            i = int(personal_energy.argmin())
            if personal_energy[i].item() < g_energy:
                g, g_energy = personal_best[i].clone(), personal_energy[i].item()
            history.append(g_energy)
        return SwarmResult(best=g, best_loss=g_energy, history=history)

    def _losses(self, loss_fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
        energy = loss_fn(x)
        if energy.shape != (self.n_particles,):
            raise ValueError(f"loss_fn must return ({self.n_particles},), got {tuple(energy.shape)}")
        # nan is never an improvement: treat it as +inf
        return torch.nan_to_num(energy, nan=torch.inf)
