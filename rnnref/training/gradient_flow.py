r"""The vanishing gradient problem, measured: how far back the error of the last step reaches.

In backpropagation through time the error at the last step $T$ reaches an earlier
state $s_{T-\ell}$ only through the $\ell$ steps in between, by the chain rule:

$$
\frac{\partial \mathcal{L}_T}{\partial s_{T-\ell}}
  = \Big(\frac{\partial s_{T-\ell+1}}{\partial s_{T-\ell}}\Big)^{\!\top}
    \frac{\partial \mathcal{L}_T}{\partial s_{T-\ell+1}}
  = \Big(\prod_{j=T-\ell+1}^{T} J_j\Big)^{\!\top} \frac{\partial \mathcal{L}_T}{\partial s_T},
\qquad J_j = \frac{\partial s_j}{\partial s_{j-1}} .
$$

For an Elman network, $h_j = \tanh(W_{ih} x_j + W_{hh} h_{j-1} + b)$, the step
Jacobian is $J_j = \operatorname{diag}(1 - h_j^2)\, W_{hh}$. Since
$0 < 1 - h_j^2 \le 1$,

$$
\Big\lVert \frac{\partial \mathcal{L}_T}{\partial h_{T-\ell}} \Big\rVert
  \le \lVert W_{hh} \rVert_2^{\,\ell}\, \Big\lVert \frac{\partial \mathcal{L}_T}{\partial h_T} \Big\rVert ,
$$

so when the largest singular value $\lVert W_{hh} \rVert_2$ is below 1 the
gradient shrinks at least geometrically with the lag $\ell$, and saturated units
($h \approx \pm 1$) shrink it further. The error of a step cannot then teach the
network about inputs more than a few steps back: the vanishing gradient problem.
(With $\lVert W_{hh} \rVert_2 > 1$ the product can instead grow: exploding
gradients.)

An LSTM adds a path that avoids the repeated matrix product. Its cell state is
updated additively, $c_j = f_j \odot c_{j-1} + i_j \odot g_j$, so along the cell
the step Jacobian has the term $\operatorname{diag}(f_j)$: as long as the forget
gate stays near 1, the error passes back almost unchanged. A positive forget gate
bias at initialisation holds the gate near 1 from the start (``forget_bias`` here;
with bias 0 the gate sits near 1/2 and the LSTM's gradient fades too, only more
slowly than the Elman network's).

`gradient_norm_by_lag` measures this on a freshly initialised network driven by
random inputs. It takes the loss of the last step alone,
$\mathcal{L}_T = \sum_b r^\top y^{(b)}_T$ with a random unit vector $r$, and
reports, for every lag $\ell = 0 \dots T$, the norm of
$\partial \mathcal{L}_T / \partial s_{T-\ell}$ averaged over the batch. The state
$s$ is the cell's whole recurrent state: $h$ for Elman and GRU, $(h, c)$ for an
LSTM (the norm is taken over both together). The gradient is with respect to the
state as the input of the remaining steps, so $h_t$ and $c_t$ count as independent
variables. At lag 0 the norm is exactly 1 for every cell: $\partial \mathcal{L}_T
/ \partial h_T = r$ (and $\partial \mathcal{L}_T / \partial c_T = 0$).

Shape letters: B batch, T length, I input, H hidden. Sequences are batch-first,
(B, T, I).

Reference: Hochreiter 1991, diploma thesis.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

TERM_IRI = "https://w3id.org/rnnref/term/vanishing-gradient-problem"

#: Cell per kind: "module:Class", imported on first use.
CELLS = {
    "elman": "rnnref.models.elman:ElmanCell",
    "gru": "rnnref.models.gru:GRUCell",
    "lstm": "rnnref.models.lstm:LSTMCell",
}

State = Any  # a cell's recurrent state: a Tensor, or a tuple such as (h, c)


def _parts(state: State) -> list[Tensor]:
    return [state] if isinstance(state, Tensor) else list(state)


def _cell_class(cell_type: str) -> type[nn.Module]:
    if cell_type not in CELLS:
        raise ValueError(f"cell_type must be one of {sorted(CELLS)}, got {cell_type!r}")
    module_name, class_name = CELLS[cell_type].split(":")
    return getattr(importlib.import_module(module_name), class_name)


@dataclass
class GradientProbe:
    """A network, an input sequence and a last-step loss to measure gradients with."""

    cell: nn.Module  #: the recurrent cell (cell protocol of `rnnref.models`)
    xs: Tensor  #: (B, T, I) inputs
    readout: Tensor  #: (O,) unit vector r; the loss is sum_b r . y_T

    def run(self, state: State, start: int = 0) -> tuple[Tensor, list[State]]:
        r"""Run from ``state`` at step ``start`` to T: (the loss, the states s_{start+1} .. s_T).

        Each returned state is a copy made right after its step, so the gradient
        with respect to it counts only what flows through it *into later steps*
        (for an LSTM, $\partial \mathcal{L}_T / \partial c_t$ does not also count the
        path $c_t \to h_t$ inside step t, which belongs to $h_t$'s gradient).
        """
        states = []
        for t in range(start, self.xs.size(1)):
            _, state = self.cell.step(self.xs[:, t], state)
            state = _copy(state)
            states.append(state)
        # The cells here output the first part of their state: y_T = h_T.
        y_T = _parts(state)[0]
        # $$\mathcal{L}_T = \sum_b r^\top y^{(b)}_T$$
        return (y_T @ self.readout).sum(), states


def _copy(state: State) -> State:
    """A copy of each part of a state: new autograd nodes, same values."""
    if isinstance(state, Tensor):
        return state.clone()
    return tuple(part.clone() for part in state)


def build_probe(
    cell_type: str,
    hidden_size: int,
    length: int,
    seed: int,
    *,
    input_size: int = 4,
    batch_size: int = 8,
    spectral_norm: float | None = None,
    forget_bias: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> GradientProbe:
    r"""A seeded cell of ``cell_type`` ("elman", "lstm", "gru"), random inputs and readout.

    The cell has the default initialisation of its class; then, if
    ``spectral_norm`` is given, each recurrent weight block ($W_{hh}$ of an Elman
    cell, each gate's block of an LSTM or GRU) is rescaled to that largest singular
    value. An LSTM's forget gate bias $b_{if} + b_{hf}$ is set to ``forget_bias``.
    """
    cell_class = _cell_class(cell_type)
    sizes = {"hidden_size": hidden_size, "length": length, "input_size": input_size, "batch_size": batch_size}
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if spectral_norm is not None and not spectral_norm > 0:
        raise ValueError(f"spectral_norm must be positive, got {spectral_norm!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cell = cell_class(input_size, hidden_size, dtype=dtype)
    H = hidden_size
    with torch.no_grad():
        if spectral_norm is not None:
            for block in cell.weight_hh.split(H, dim=0):  # one block per gate
                block.mul_(spectral_norm / torch.linalg.matrix_norm(block, ord=2))
        if cell_type == "lstm":
            # torch's gate order is i, f, g, o: the forget gate is the second block.
            cell.bias_ih[H : 2 * H].fill_(forget_bias)
            cell.bias_hh[H : 2 * H].zero_()
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(batch_size, length, input_size, generator=g, dtype=dtype)
    readout = torch.randn(cell.output_size, generator=g, dtype=dtype)
    return GradientProbe(cell=cell, xs=xs, readout=readout / readout.norm())


def state_gradients(probe: GradientProbe) -> list[list[Tensor]]:
    r"""$\partial \mathcal{L}_T / \partial s_{T-\ell}$ for $\ell = 0 \dots T$, by one backward pass.

    Entry $\ell$ is the list of the state's parts, each (B, size).
    """
    B = probe.xs.size(0)
    x = probe.xs
    s0 = tuple(p.requires_grad_() for p in _parts(probe.cell.init_state(B, dtype=x.dtype, device=x.device)))
    s0 = s0[0] if len(s0) == 1 else s0
    loss, states = probe.run(s0)
    all_states = [s0, *states]  # s_0 .. s_T
    flat = [part for state in all_states for part in _parts(state)]
    # One backward pass gives the adjoint of every state: $\partial\mathcal{L}_T/\partial s_j$.
    grads = torch.autograd.grad(loss, flat, allow_unused=True, materialize_grads=True)
    k = len(_parts(s0))
    per_step = [list(grads[j * k : (j + 1) * k]) for j in range(len(all_states))]
    return per_step[::-1]  # index by lag: lag 0 is s_T


def gradient_norm_by_lag(
    cell_type: str,
    hidden_size: int,
    length: int,
    seed: int,
    *,
    input_size: int = 4,
    batch_size: int = 8,
    spectral_norm: float | None = None,
    forget_bias: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> list[tuple[int, float]]:
    r"""How strongly the last step's loss reaches back: ``[(lag, norm), ...]`` for lag 0..length.

    $$\text{norm}(\ell) = \frac{1}{B} \sum_b \Big\lVert \frac{\partial \mathcal{L}_T}{\partial s^{(b)}_{T-\ell}} \Big\rVert_2$$

    Args:
        cell_type: ``"elman"`` (tanh), ``"lstm"`` or ``"gru"``.
        hidden_size: H.
        length: T, steps run before the loss.
        seed: seeds the weights, the inputs and the readout.
        input_size, batch_size: I and B of the random inputs.
        spectral_norm: if given, rescale the recurrent weights to this largest
            singular value (see `build_probe`).
        forget_bias: the LSTM forget gate bias (ignored by other cells).
        dtype: computation dtype (float64 keeps tiny norms meaningful).

    Returns:
        ``length + 1`` pairs ``(lag, norm)``, lag 0 (the last state) first.
    """
    probe = build_probe(
        cell_type, hidden_size, length, seed,
        input_size=input_size, batch_size=batch_size, spectral_norm=spectral_norm,
        forget_bias=forget_bias, dtype=dtype,
    )  # fmt: skip
    result = []
    for lag, parts in enumerate(state_gradients(probe)):
        # $$\lVert \partial\mathcal{L}_T / \partial s_{T-\ell} \rVert$$, (h, c) taken together, per sample
        per_sample = torch.sqrt(sum(p.pow(2).sum(dim=1) for p in parts))
        result.append((lag, per_sample.mean().item()))
    return result


gradient_norm_by_lag.term_iri = TERM_IRI  # type: ignore[attr-defined]
