r"""Hopfield network: binary units, symmetric weights, an energy that updates only lower.

A Hopfield network (1982) is a recurrent network of $N$ binary units
$s_i \in \{-1, +1\}$, every unit connected to every other one with a symmetric
weight $w_{ij} = w_{ji}$ and no self-connection ($w_{ii} = 0$). It does not read a
sequence: it is started in a state (a probe) and left to run until no unit wants
to change. Under one-unit-at-a-time (*asynchronous*) updates the energy

$$
E(s) = -\tfrac{1}{2} \sum_{i,j} w_{ij} s_i s_j + \sum_i \theta_i s_i
$$

never increases, so the network always settles in a fixed point, a local minimum
of $E$. Storing patterns $\xi^{1}, \dots, \xi^{P}$ with the Hebbian rule

$$
w_{ij} = \frac{1}{N} \sum_{\mu=1}^{P} \xi^{\mu}_i \xi^{\mu}_j \quad (i \ne j), \qquad w_{ii} = 0
$$

makes them (for few, nearly orthogonal patterns) such minima, so a corrupted
pattern is pulled back to the stored one: a content-addressable memory.

Update of unit $i$ (its local field $h_i = \sum_j w_{ij} s_j - \theta_i$):

$$
s_i \leftarrow \begin{cases} +1 & h_i > 0 \\ -1 & h_i < 0 \\ s_i & h_i = 0 \end{cases}
$$

Asynchronous: one unit at a time, in a given or random order (a *sweep* visits
every unit once). Synchronous: every unit at once from the same old state; the
energy argument no longer holds and the network can end in a two-state cycle.

| symbol     | attribute   | shape  |
|------------|-------------|--------|
| $w_{ij}$   | `weight`    | (N, N) |
| $\theta_i$ | `threshold` | (N,)   |

Both are buffers, not trainable parameters: the network is set by `store`, not by
gradient descent (the sign function has no useful gradient). States are (B, N) or
(N,) tensors of ±1.

Reference: J. J. Hopfield (1982), "Neural networks and physical systems with
emergent collective computational abilities", Proceedings of the National Academy
of Sciences 79(8): 2554–2558, doi:10.1073/pnas.79.8.2554.

Term: https://w3id.org/rnnref/term/hopfield-network
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/hopfield-network"


def _check_bipolar(name: str, value: Tensor, size: int) -> Tensor:
    if not isinstance(value, Tensor) or value.dim() not in (1, 2) or value.size(-1) != size:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"{name} must have shape (N,) or (B, N) with N={size}, got {shape}")
    if not bool(((value == 1) | (value == -1)).all()):
        raise ValueError(f"{name} must contain only -1 and +1")
    return value


class HopfieldNetwork(nn.Module):
    r"""N binary ±1 units with symmetric weights, Hebbian storage, async and sync updates.

    $$E(s) = -\tfrac{1}{2} s^\top W s + \theta^\top s, \qquad s_i \leftarrow \operatorname{sgn}(\textstyle\sum_j w_{ij} s_j - \theta_i)$$

    Args:
        num_units: N.
        device, dtype: of the weight and threshold buffers (float64 by default for
            exact energy bookkeeping).

    Methods: `store` (Hebbian rule), `energy`, `local_field`, `update_unit`,
    `sweep` (asynchronous), `update_synchronous`, `recall` (run to a fixed point).

    Example::

        >>> net = HopfieldNetwork(8)
        >>> patterns = torch.tensor([[1, 1, 1, 1, -1, -1, -1, -1], [1, -1, 1, -1, 1, -1, 1, -1]])
        >>> net.store(patterns)
        >>> probe = patterns[0].clone(); probe[0] = -1  # one bit flipped
        >>> bool((net.recall(probe) == patterns[0]).all())
        True
    """

    term_iri = TERM_IRI

    def __init__(
        self, num_units: int, *, device: torch.device | str | None = None, dtype: torch.dtype | None = torch.float64
    ) -> None:
        super().__init__()
        self.num_units = check_size("num_units", num_units)
        self.register_buffer("weight", torch.zeros(num_units, num_units, device=device, dtype=dtype))
        self.register_buffer("threshold", torch.zeros(num_units, device=device, dtype=dtype))

    # -- storage ---------------------------------------------------------------------

    def store(self, patterns: Tensor) -> None:
        r"""Set the weights by the Hebbian rule from patterns (P, N) of ±1 (replacing earlier ones).

        $$w_{ij} = \frac{1}{N} \sum_\mu \xi^\mu_i \xi^\mu_j, \quad w_{ii} = 0$$
        """
        patterns = _check_bipolar("patterns", patterns, self.num_units)
        xi = patterns.reshape(-1, self.num_units).to(self.weight.dtype)
        # $$w_{ij} = \frac{1}{N} \sum_\mu \xi^\mu_i \xi^\mu_j$$
        weight = xi.T @ xi / self.num_units
        # $$w_{ii} = 0$$
        weight.fill_diagonal_(0)
        self.weight.copy_(weight)

    def set_weights(self, weight: Tensor, threshold: Tensor | None = None) -> None:
        """Use a given symmetric weight matrix with zero diagonal (and thresholds) instead of `store`."""
        N = self.num_units
        if not isinstance(weight, Tensor) or weight.shape != (N, N):
            raise ValueError(f"weight must have shape ({N}, {N})")
        if not torch.equal(weight, weight.T):
            raise ValueError("weight must be symmetric")
        if bool((weight.diagonal() != 0).any()):
            raise ValueError("weight must have a zero diagonal (no self-connections)")
        if threshold is not None and (not isinstance(threshold, Tensor) or threshold.shape != (N,)):
            raise ValueError(f"threshold must have shape ({N},)")
        self.weight.copy_(weight)
        self.threshold.copy_(torch.zeros(N) if threshold is None else threshold)

    # -- energy and fields -----------------------------------------------------------

    def energy(self, state: Tensor) -> Tensor:
        r"""$E(s) = -\tfrac12 s^\top W s + \theta^\top s$, () for (N,) or (B,) for (B, N)."""
        s = _check_bipolar("state", state, self.num_units).to(self.weight.dtype)
        return -0.5 * ((s @ self.weight) * s).sum(-1) + s @ self.threshold

    def local_field(self, state: Tensor) -> Tensor:
        r"""$h = W s - \theta$, same shape as ``state``."""
        s = _check_bipolar("state", state, self.num_units).to(self.weight.dtype)
        return s @ self.weight.T - self.threshold

    # -- dynamics --------------------------------------------------------------------

    @staticmethod
    def _sign_keep(field: Tensor, previous: Tensor) -> Tensor:
        r"""$+1$ if $h > 0$, $-1$ if $h < 0$, the previous value if $h = 0$."""
        return torch.where(field > 0, 1, torch.where(field < 0, -1, previous)).to(previous.dtype)

    def _update_rows(self, rows: list[list[float]], order: list[int]) -> None:
        r"""Asynchronous updates of ``order``, in place, on states given as lists of floats.

        The field is summed exactly (``math.fsum``; the products $w_{ij} s_j$ are exact for
        $s_j = \pm 1$), so a field that is zero in exact arithmetic is recognised as zero.
        """
        weight, threshold = self.weight.tolist(), self.threshold.tolist()
        for s in rows:
            for i in order:
                # $$h_i = \sum_j w_{ij} s_j - \theta_i$$
                h_i = math.fsum([w * x for w, x in zip(weight[i], s)] + [-threshold[i]])
                # $$s_i \leftarrow +1 \text{ if } h_i > 0,\ -1 \text{ if } h_i < 0,\ s_i \text{ if } h_i = 0$$
                if h_i > 0:
                    s[i] = 1.0
                elif h_i < 0:
                    s[i] = -1.0

    def _run_async(self, state: Tensor, order: list[int]) -> Tensor:
        s = _check_bipolar("state", state, self.num_units)
        rows = s.reshape(-1, self.num_units).tolist()
        self._update_rows(rows, order)
        return torch.tensor(rows, dtype=s.dtype, device=s.device).reshape(s.shape)

    def update_unit(self, state: Tensor, i: int) -> Tensor:
        r"""Asynchronous update of unit i, a new state: $s_i \leftarrow \operatorname{sgn}(\sum_j w_{ij} s_j - \theta_i)$."""
        if not isinstance(i, int) or not 0 <= i < self.num_units:
            raise ValueError(f"unit index must be in [0, {self.num_units}), got {i}")
        return self._run_async(state, [i])

    def sweep(self, state: Tensor, order: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        """One asynchronous sweep: every unit once, in ``order`` (a random permutation if None)."""
        if order is None:
            order = torch.randperm(self.num_units, generator=generator)
        return self._run_async(state, [int(i) for i in order.tolist()])

    def update_synchronous(self, state: Tensor) -> Tensor:
        r"""All units at once from the same old state: $s \leftarrow \operatorname{sgn}(W s - \theta)$."""
        s = _check_bipolar("state", state, self.num_units)
        return self._sign_keep(self.local_field(s), s)

    def recall(
        self,
        probe: Tensor,
        *,
        mode: str = "async",
        max_sweeps: int = 100,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Run from ``probe`` until a state repeats (a fixed point) or ``max_sweeps`` sweeps.

        ``mode="async"``: random-order sweeps (``generator`` seeds the order);
        ``"sync"``: synchronous updates. Returns the last state.
        """
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
        check_size("max_sweeps", max_sweeps)
        s = _check_bipolar("probe", probe, self.num_units)
        for _ in range(max_sweeps):
            new = self.sweep(s, generator=generator) if mode == "async" else self.update_synchronous(s)
            if torch.equal(new, s):
                break
            s = new
        return s

    def is_fixed_point(self, state: Tensor) -> Tensor:
        """True where no unit would change: bool, () or (B,)."""
        s = _check_bipolar("state", state, self.num_units)
        return (self.update_synchronous(s) == s).all(-1)

    def extra_repr(self) -> str:
        return f"{self.num_units}"
