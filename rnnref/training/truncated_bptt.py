r"""Truncated backpropagation through time, BPTT(k1, k2).

Full BPTT (`rnnref.training.bptt`) sends the error of a sequence back to its first
step, so it must store every state and can update the weights only after the
sequence ends. Truncated BPTT runs the network forward over a long (possibly
endless) stream and, every $k_1$ steps, updates the weights with the gradient of
the losses of those $k_1$ steps, sent back at most $k_2 \ge k_1$ steps. The state
carries on across updates, but the gradient does not: the state $h_{t-k_2}$ at the
start of the window is treated as a constant (in PyTorch: detached). Memory is
$O(k_2)$ instead of $O(T)$, and the weights can change while the stream goes on.

For update points $u = k_1, 2k_1, \dots$ (and the end of the sequence), with
losses $\mathcal{L}_s$ at every step $s$:

$$
\begin{aligned}
\tilde h_{u-k_2} &= \operatorname{stopgrad}(h_{u-k_2}) \\
h_s &= f_\theta(x_s, h_{s-1}), \qquad s = u - k_2 + 1, \dots, u \quad (\text{from } \tilde h_{u-k_2}) \\
g_u &= \nabla_\theta \sum_{s = u - k_1 + 1}^{u} \mathcal{L}_s(h_s) \\
\theta &\leftarrow \operatorname{update}(\theta, g_u) \quad \text{(or accumulate } \textstyle\sum_u g_u\text{)}
\end{aligned}
$$

(windows are cut at the start of the sequence: $u - k_2$ below 0 means from $h_0$).
The loss at step $s$ therefore reaches back only to step $u - k_2 + 1$: its
gradient is that of full BPTT minus every contribution through steps
$\le u - k_2$. With $k_1 = k_2 \ge T$ there is a single window, and the result is
full BPTT exactly. The common "chunked" form is $k_1 = k_2 = k$: split the sequence
into chunks of $k$, backpropagate within each, carry the detached state across.

Here the window $[u-k_2+1, u]$ is re-run forward from the stored state
$h_{u-k_2}$ with the current weights (when $k_2 > k_1$ the overlap is computed
again, which keeps the code short; with $k_1 = k_2$ nothing is recomputed), and
the state carried on is the one this run reaches at $u$.

Shape letters: B batch, T length, I input, O output. Sequences are batch-first.

Reference: Ronald J. Williams, Jing Peng (1990), "An Efficient Gradient-Based
Algorithm for On-Line Training of Recurrent Network Trajectories", Neural
Computation 2(4): 490–501 (the BPTT(h; h') family; $k_2 = h$, $k_1 = h'$ here).

Term: https://w3id.org/rnnref/term/truncated-bptt
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import map_state

TERM_IRI = "https://w3id.org/rnnref/term/truncated-bptt"


@dataclass
class TruncatedBPTTResult:
    """What one pass over a sequence produced."""

    losses: list[float] = field(default_factory=list)  #: the loss of each window's k1 steps, in order
    update_points: list[int] = field(default_factory=list)  #: u for each window (1-based step index)
    state: Any = None  #: the (detached) state after the last step

    @property
    def total_loss(self) -> float:
        """$\\sum_s \\mathcal{L}_s$ over the whole sequence."""
        return sum(self.losses)


class TruncatedBPTT:
    r"""BPTT(k1, k2): every $k_1$ steps, backpropagate the last $k_1$ losses through $k_2$ steps.

    Args:
        k1: steps between updates, $\ge 1$.
        k2: steps the gradient travels back, $\ge k_1$; default $k_1$ (chunked TBPTT).

    Call `run` with a cell (the cell protocol of `rnnref.models._recurrent`), a
    readout, a per-step loss and a sequence. Without an optimizer the gradients of
    all windows are accumulated into the parameters' ``.grad`` (what a single
    ``backward`` would do, but truncated); with one, ``optimizer.step()`` runs after
    every window, online.

    Example::

        >>> from rnnref.models.elman import ElmanCell
        >>> cell, readout = ElmanCell(1, 8), torch.nn.Linear(8, 1)
        >>> xs, ys = torch.randn(4, 100, 1), torch.randn(4, 100, 1)
        >>> mse = lambda y, t: ((y - t) ** 2).mean()
        >>> result = TruncatedBPTT(k1=10).run(cell, readout, xs, ys, mse)
        >>> len(result.losses)
        10
    """

    term_iri = TERM_IRI

    def __init__(self, k1: int, k2: int | None = None) -> None:
        if not isinstance(k1, int) or isinstance(k1, bool) or k1 < 1:
            raise ValueError(f"k1 must be an int >= 1, got {k1!r}")
        k2 = k1 if k2 is None else k2
        if not isinstance(k2, int) or isinstance(k2, bool) or k2 < k1:
            raise ValueError(f"k2 must be an int >= k1 = {k1}, got {k2!r}")
        self.k1, self.k2 = k1, k2

    def update_points(self, T: int) -> list[int]:
        """The steps $u$ after which the weights are updated: $k_1, 2k_1, \\dots$ and $T$."""
        points = list(range(self.k1, T + 1, self.k1))
        if not points or points[-1] != T:
            points.append(T)
        return points

    def run(
        self,
        cell: nn.Module,
        readout: Callable[[Tensor], Tensor],
        xs: Tensor,
        targets: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        state=None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> TruncatedBPTTResult:
        r"""One pass of BPTT(k1, k2) over ``xs``.

        Args:
            cell: ``cell.step(x_t, state) -> (y_t, state)``, ``cell.init_state(B)``.
            readout: maps the cell output y_t to the prediction compared with the target.
            xs: (B, T, I) inputs.
            targets: (B, T, ...) one target per step.
            loss_fn: ``loss_fn(prediction_t, target_t)`` -> 0-d loss $\mathcal{L}_t$.
            state: initial state (default ``cell.init_state(B)``).
            optimizer: if given, ``zero_grad``/``step`` around every window.

        Returns:
            a `TruncatedBPTTResult`.
        """
        if xs.dim() != 3 or targets.dim() < 2 or targets.shape[:2] != xs.shape[:2]:
            raise ValueError(
                f"expected xs (B, T, I) and targets (B, T, ...) with the same B and T, "
                f"got {tuple(xs.shape)} and {tuple(targets.shape)}"
            )
        B, T, _ = xs.shape
        if T == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if state is None:
            state = cell.init_state(B, dtype=xs.dtype, device=xs.device)
        # stored[s] = h_s, detached: the only thing kept between windows
        stored = {0: map_state(Tensor.detach, state)}
        result = TruncatedBPTTResult()
        previous = 0
        points = self.update_points(T)
        for i, u in enumerate(points):
            start = max(0, u - self.k2)
            # $$\tilde h_{u-k_2} = \operatorname{stopgrad}(h_{u-k_2})$$
            h = stored[start]
            window_loss = xs.new_zeros(())
            for s in range(start + 1, u + 1):  # s is 1-based; xs[:, s - 1] is x_s
                # $$h_s = f_\theta(x_s, h_{s-1})$$
                y, h = cell.step(xs[:, s - 1], h)
                stored[s] = map_state(Tensor.detach, h)
                if s > previous:
                    # $$\sum_{s=u-k_1+1}^{u} \mathcal{L}_s$$: only the steps since the last update
                    window_loss = window_loss + loss_fn(readout(y), targets[:, s - 1])
            # $$g_u = \nabla_\theta \sum_s \mathcal{L}_s$$
            if optimizer is not None:
                optimizer.zero_grad()
            if window_loss.requires_grad:
                window_loss.backward()
            if optimizer is not None:
                optimizer.step()
            if i + 1 < len(points):
                for s in [s for s in stored if s < points[i + 1] - self.k2]:
                    del stored[s]  # the next window starts at its own u - k2
            result.losses.append(window_loss.item())
            result.update_points.append(u)
            previous = u
        result.state = stored[T]
        return result
