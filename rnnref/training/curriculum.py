r"""Curriculum learning: train on easy examples first and make them harder on a schedule.

A curriculum orders the training data by difficulty, the way people are taught:
the network first sees easy examples, and harder ones are let in as training goes
on. For recurrent networks the natural measure of difficulty is the sequence
length. A task such as the parity of a bit string is learnt readily on short
strings, and a network that has learnt it there extends it to longer ones, while a
network trained on long strings from the start may get no useful gradient at all
and stay at chance.

The schedule maps the training step $n$ to the largest difficulty $d(n)$ allowed,
an integer that rises from $d_0$ to $d_1$ over $N$ steps and stays at $d_1$ after:

$$
\begin{aligned}
c(n) &= \min\!\big(1, n / N\big) && \text{(linear)} \\
c(n) &= \min\!\Big(1, \sqrt{n (1 - c_0^2) / N + c_0^2}\Big), \ c_0 = 0 && \text{(root: fast at first, then slower)} \\
c(n) &= \min\!\big(1, \lfloor K n / N \rfloor / (K - 1)\big) && \text{(stairs: } K \text{ equal stages)} \\
d(n) &= d_0 + \lfloor c(n) \, (d_1 - d_0) \rfloor
\end{aligned}
$$

Each $c$ is non-decreasing in $n$, so $d$ is too; there is no randomness in the
schedule. Examples are then drawn with difficulty uniform in $[d_0, d(n)]$
(`Curriculum.sample`): mixing in the easier levels keeps the network from
forgetting them (Zaremba and Sutskever's "mixed" strategy), or exactly $d(n)$
with ``mix=False``.

References: Yoshua Bengio, Jérôme Louradour, Ronan Collobert, Jason Weston (2009),
"Curriculum learning", ICML; Jeffrey L. Elman (1993), "Learning and development in
neural networks: the importance of starting small", Cognition 48(1): 71–99;
Wojciech Zaremba, Ilya Sutskever (2014), "Learning to Execute", arXiv:1410.4615;
the root schedule from Platanios et al. (2019), "Competence-based Curriculum
Learning for Neural Machine Translation", NAACL.

Term: https://w3id.org/rnnref/term/curriculum-learning
"""

from __future__ import annotations

import math

import torch

TERM_IRI = "https://w3id.org/rnnref/term/curriculum-learning"

KINDS = ("linear", "root", "stairs")


class Curriculum:
    r"""A difficulty schedule $d(n)$ from $d_0$ to $d_1$ over $N$ steps, and a sampler that follows it.

    Args:
        start: $d_0$, the easiest difficulty (e.g. shortest length), an int.
        end: $d_1 \ge d_0$, the hardest.
        steps: $N \ge 1$, the step from which $d(n) = d_1$.
        kind: ``"linear"``, ``"root"`` or ``"stairs"``.
        stages: $K \ge 2$ for ``"stairs"`` (default: one stage per difficulty).
        mix: sample difficulties uniformly from $[d_0, d(n)]$ (True) or use $d(n)$ (False).

    Example::

        >>> c = Curriculum(2, 10, steps=100)
        >>> [c(n) for n in (0, 25, 50, 100, 1000)]
        [2, 4, 6, 10, 10]
    """

    term_iri = TERM_IRI

    def __init__(
        self, start: int, end: int, steps: int, kind: str = "linear", stages: int | None = None, mix: bool = True
    ) -> None:
        for name, value in (("start", start), ("end", end), ("steps", steps)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an int, got {value!r}")
        if end < start:
            raise ValueError(f"end must be >= start, got start={start}, end={end}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if stages is None:
            stages = max(2, end - start + 1)
        if not isinstance(stages, int) or stages < 2:
            raise ValueError(f"stages must be an int >= 2, got {stages!r}")
        self.start, self.end, self.steps, self.kind, self.stages, self.mix = start, end, steps, kind, stages, mix

    def competence(self, n: int) -> float:
        r"""$c(n) \in [0, 1]$, non-decreasing in $n$."""
        if n < 0:
            raise ValueError(f"step must be >= 0, got {n}")
        N = self.steps
        if self.kind == "linear":
            # $$c(n) = \min(1, n / N)$$
            return min(1.0, n / N)
        if self.kind == "root":
            # $$c(n) = \min(1, \sqrt{n / N})$$ (c_0 = 0)
            return min(1.0, math.sqrt(n / N))
        # $$c(n) = \min(1, \lfloor K n / N \rfloor / (K - 1))$$
        return min(1.0, (self.stages * n // N) / (self.stages - 1))

    def __call__(self, n: int) -> int:
        r"""$d(n) = d_0 + \lfloor c(n) (d_1 - d_0) \rfloor$, the hardest difficulty allowed at step $n$."""
        # the small tolerance keeps an exact product such as 0.5 * 8 from flooring to 3.999...
        return self.start + math.floor(self.competence(n) * (self.end - self.start) + 1e-9)

    def sample(self, n: int, generator: torch.Generator) -> int:
        """A difficulty for step ``n``: uniform in $[d_0, d(n)]$ with ``mix``, else $d(n)$."""
        hardest = self(n)
        if not self.mix or hardest == self.start:
            return hardest
        return int(torch.randint(self.start, hardest + 1, (1,), generator=generator))
