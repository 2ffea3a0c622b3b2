r"""A genetic algorithm that searches the weights of a small recurrent network.

Gradient-free global optimisation treats a network's weights as one vector and
searches that space directly, needing only the value of a fitness function, not
its gradient. In a genetic algorithm one *gene* is one weight and the whole
network is one *chromosome*; a population of chromosomes evolves by selection,
crossover and mutation. The fitness of a network is the reciprocal of its mean
squared error on the task, so maximising fitness minimises the error.

One generation, for a population $\{w_1, \dots, w_P\}$ of weight vectors with
fitness $f(w_i)$:

$$
\begin{aligned}
&\text{elitism: the } E \text{ fittest } w_i \text{ pass on unchanged} \\
&\text{tournament: } \operatorname{sel}() = \arg\max_{i \in K} f(w_i), \quad K \text{ a uniform sample of } k \text{ indices} \\
&\text{uniform crossover: } c_j = \begin{cases} a_j & \text{with probability } 1/2 \\ b_j & \text{otherwise} \end{cases}
    \quad (a = \operatorname{sel}(),\ b = \operatorname{sel}(); \text{ with probability } 1 - p_c\text{, } c = a) \\
&\text{Gaussian mutation: } c_j \leftarrow c_j + \sigma \, \xi_j \text{ with probability } p_m, \quad \xi_j \sim \mathcal{N}(0, 1)
\end{aligned}
$$

and the next population is the $E$ elites and $P - E$ children. With $E \ge 1$ the
best fitness never decreases from one generation to the next.

The network searched (`FlatElman`) is an Elman network with a sigmoid output
unit, all of whose weights are read from one flat vector, so a whole population is
evaluated in one batched pass:

$$
h_t = \tanh(W_x x_t + W_h h_{t-1} + b), \qquad y_t = \sigma(W_y h_t + b_y), \qquad h_0 = 0
$$

| symbol     | shape  | position in the flat vector     |
|------------|--------|---------------------------------|
| $W_x$      | (H, I) | first H·I entries               |
| $W_h$      | (H, H) | next H·H                        |
| $b$        | (H,)   | next H                          |
| $W_y$      | (O, H) | next O·H                        |
| $b_y$      | (O,)   | last O                          |

The same network and task serve `rnnref.training.annealing` and
`rnnref.training.particle_swarm`.

References: John H. Holland (1975), *Adaptation in Natural and Artificial Systems*,
University of Michigan Press; the chromosome encoding and the reciprocal-MSE
fitness follow the description of genetic algorithms for RNN training in the
Wikipedia article "Recurrent neural network".

Term: https://w3id.org/rnnref/term/genetic-algorithm
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/genetic-algorithm"


# -- the network and the task the weight-search methods share ---------------------------


class FlatElman:
    r"""An Elman network with sigmoid outputs whose weights are one flat vector; batched over a population.

    Args:
        input_size: I. hidden_size: H. output_size: O.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        self.sizes = (input_size, hidden_size, output_size)
        I, H, O = self.sizes
        self.shapes = {"W_x": (H, I), "W_h": (H, H), "b": (H,), "W_y": (O, H), "b_y": (O,)}

    @property
    def dim(self) -> int:
        """D, the number of weights."""
        return sum(torch.Size(s).numel() for s in self.shapes.values())

    def unflatten(self, weights: Tensor) -> dict[str, Tensor]:
        """(P, D) flat vectors -> each matrix with a leading population dimension, (P, *shape)."""
        if weights.dim() != 2 or weights.size(1) != self.dim:
            raise ValueError(f"weights must be (P, {self.dim}), got {tuple(weights.shape)}")
        parts, start = {}, 0
        for name, shape in self.shapes.items():
            n = torch.Size(shape).numel()
            parts[name] = weights[:, start : start + n].reshape(weights.size(0), *shape)
            start += n
        return parts

    def forward(self, weights: Tensor, xs: Tensor) -> Tensor:
        """Outputs of P networks on N sequences: weights (P, D), xs (N, T, I) -> (P, N, T, O)."""
        p = self.unflatten(weights)
        P, (N, T, _) = weights.size(0), xs.shape
        h = xs.new_zeros(P, N, self.sizes[1])
        outputs = []
        W_x_T, W_h_T, W_y_T = p["W_x"].transpose(1, 2), p["W_h"].transpose(1, 2), p["W_y"].transpose(1, 2)
        b, b_y = p["b"].unsqueeze(1), p["b_y"].unsqueeze(1)  # (P, 1, H), (P, 1, O)
        for t in range(T):
            # $$h_t = \tanh(W_x x_t + W_h h_{t-1} + b)$$, for all P networks and N sequences: (P, N, H)
            h = torch.tanh(torch.matmul(xs[:, t], W_x_T) + torch.bmm(h, W_h_T) + b)
            # $$y_t = \sigma(W_y h_t + b_y)$$, (P, N, O)
            outputs.append(torch.sigmoid(torch.bmm(h, W_y_T) + b_y))
        return torch.stack(outputs, dim=2)

    __call__ = forward


def running_parity_task(length: int = 3, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    r"""All $2^L$ bit sequences of length $L$ and their running parity $y_t = x_1 \oplus \dots \oplus x_t$.

    Returns ``(xs (2^L, L, 1), targets (2^L, L, 1))`` with bits 0/1. The second step
    is XOR-in-time: $y_2 = x_1 \oplus x_2$.
    """
    bits = torch.tensor(list(itertools.product([0.0, 1.0], repeat=length)), dtype=dtype)  # (2^L, L)
    parity = torch.cumsum(bits, dim=1) % 2
    return bits.unsqueeze(2), parity.unsqueeze(2)


@dataclass
class ParityObjective:
    r"""Mean squared error, fitness $1/\mathrm{MSE}$ and accuracy of flat-weight networks on running parity."""

    length: int = 3  #: L, bits per sequence
    hidden_size: int = 4  #: H of the `FlatElman`

    def __post_init__(self) -> None:
        self.net = FlatElman(1, self.hidden_size, 1)
        self.xs, self.targets = running_parity_task(self.length)

    @property
    def dim(self) -> int:
        return self.net.dim

    def mse(self, weights: Tensor) -> Tensor:
        """(P, D) or (D,) -> (P,) or 0-d mean squared error over all sequences and steps."""
        single = weights.dim() == 1
        y = self.net(weights.unsqueeze(0) if single else weights, self.xs)
        error = ((y - self.targets) ** 2).mean(dim=(1, 2, 3))
        return error[0] if single else error

    def fitness(self, weights: Tensor) -> Tensor:
        r"""$f = 1 / \mathrm{MSE}$ (to be maximised)."""
        return 1.0 / self.mse(weights).clamp(min=1e-12)

    def accuracy(self, weights: Tensor) -> float:
        """Fraction of the outputs of one network (D,) on the right side of 0.5."""
        y = self.net(weights.unsqueeze(0), self.xs)[0]
        return ((y > 0.5).to(y.dtype) == self.targets).to(torch.float64).mean().item()


# -- the genetic algorithm -----------------------------------------------------------------


@dataclass
class GeneticResult:
    best: Tensor  #: (D,) the fittest weight vector found
    best_fitness: float  #: its fitness
    history: list[float] = field(default_factory=list)  #: best fitness of each generation's population
    population: Tensor | None = None  #: (P, D) the last population


class GeneticAlgorithm:
    r"""Elitist genetic algorithm over real-valued weight vectors (maximises fitness).

    Args:
        population_size: P.
        elite: E, fittest individuals copied unchanged (0 disables elitism).
        tournament_size: k.
        crossover_rate: $p_c$, probability that a child mixes two parents.
        mutation_rate: $p_m$, probability that a gene is mutated.
        mutation_std: $\sigma$ of the Gaussian mutation.
        init_std: the initial population is $\mathcal{N}(0, \text{init\_std}^2)$.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        population_size: int = 100,
        elite: int = 2,
        tournament_size: int = 3,
        crossover_rate: float = 0.9,
        mutation_rate: float = 0.1,
        mutation_std: float = 0.5,
        init_std: float = 1.0,
    ) -> None:
        if population_size < 2:
            raise ValueError(f"population_size must be >= 2, got {population_size}")
        if not 0 <= elite < population_size:
            raise ValueError(f"elite must be in [0, population_size), got {elite}")
        if not 1 <= tournament_size <= population_size:
            raise ValueError(f"tournament_size must be in [1, population_size], got {tournament_size}")
        for name, value in (("crossover_rate", crossover_rate), ("mutation_rate", mutation_rate)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability, got {value}")
        if mutation_std < 0 or init_std <= 0:
            raise ValueError("mutation_std must be >= 0 and init_std > 0")
        self.population_size, self.elite, self.tournament_size = population_size, elite, tournament_size
        self.crossover_rate, self.mutation_rate, self.mutation_std = crossover_rate, mutation_rate, mutation_std
        self.init_std = init_std

    def select(self, fitness: Tensor, count: int, generator: torch.Generator) -> Tensor:
        r"""``count`` tournament winners: $\arg\max_{i \in K} f(w_i)$, each from its own sample $K$ of size k."""
        contestants = torch.randint(0, fitness.numel(), (count, self.tournament_size), generator=generator)
        winners = fitness[contestants].argmax(dim=1)
        return contestants[torch.arange(count), winners]

    def next_generation(self, population: Tensor, fitness: Tensor, generator: torch.Generator) -> Tensor:
        """Elites, then children by tournament selection, uniform crossover and Gaussian mutation."""
        P, D = population.shape
        n_children = P - self.elite
        # elitism: the E fittest, unchanged
        elites = population[fitness.argsort(descending=True, stable=True)[: self.elite]]
        a = population[self.select(fitness, n_children, generator)]
        b = population[self.select(fitness, n_children, generator)]
        # $$c_j = a_j \text{ or } b_j \text{ with probability } 1/2$$, for children that cross over
        crosses = torch.rand(n_children, 1, generator=generator, dtype=population.dtype) < self.crossover_rate
        from_b = torch.rand(n_children, D, generator=generator, dtype=population.dtype) < 0.5
        children = torch.where(crosses & from_b, b, a)
        # $$c_j \leftarrow c_j + \sigma \xi_j$$ with probability $p_m$
        mutate = torch.rand(n_children, D, generator=generator, dtype=population.dtype) < self.mutation_rate
        noise = torch.randn(n_children, D, generator=generator, dtype=population.dtype)
        children = children + self.mutation_std * noise * mutate
        return torch.cat([elites, children])

    def run(
        self,
        fitness_fn: Callable[[Tensor], Tensor],
        dim: int,
        generations: int,
        generator: torch.Generator,
        *,
        target_fitness: float | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> GeneticResult:
        r"""Evolve for up to ``generations`` generations.

        Args:
            fitness_fn: (P, D) -> (P,) fitness, higher is better.
            dim: D.
            generations: maximum number of generations (populations evaluated: up to
                ``generations``).
            generator: the only random source: the same generator state gives the same run.
            target_fitness: stop as soon as the best fitness reaches it.
        """
        if dim < 1 or generations < 1:
            raise ValueError(f"dim and generations must be >= 1, got {dim} and {generations}")
        population = self.init_std * torch.randn(self.population_size, dim, generator=generator, dtype=dtype)
        history: list[float] = []
        for generation in range(generations):
            fitness = fitness_fn(population)
            if fitness.shape != (self.population_size,):
                raise ValueError(f"fitness_fn must return ({self.population_size},), got {tuple(fitness.shape)}")
            best = int(fitness.argmax())
            history.append(fitness[best].item())
            best_vector = population[best].clone()
            if target_fitness is not None and history[-1] >= target_fitness:
                break
            if generation + 1 < generations:
                population = self.next_generation(population, fitness, generator)
        return GeneticResult(best=best_vector, best_fitness=history[-1], history=history, population=population)
