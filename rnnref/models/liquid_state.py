r"""Liquid state machine: a fixed random reservoir of spiking neurons and a trained linear readout.

A liquid state machine (LSM) is reservoir computing with spiking neurons: the
echo state network's analogue units are replaced by leaky integrate-and-fire
(LIF) neurons, sparsely and randomly connected and never trained. Input spike
trains (or currents) perturb this "liquid"; its recent spiking, low-pass filtered,
holds a fading trace of the input history, and a linear readout trained by ridge
regression maps that trace to the answer. The reservoir does not need to settle
into a stable state: the readout reads the transient.

Each neuron $i$, in discrete time with step $\Delta t$ (one step per tensor step):

$$
\begin{aligned}
I_t &= W_{in} u_t + W s_{t-1} + b \\
v'_t &= v_{t-1} + \frac{\Delta t}{\tau_m}\big(v_{rest} - v_{t-1}\big) + I_t \\
s_t &= \mathbb{1}[v'_t \ge \vartheta] \\
v_t &= s_t\, v_{reset} + (1 - s_t)\, v'_t \\
r_t &= \lambda\, r_{t-1} + s_t, \qquad \lambda = e^{-\Delta t / \tau_s} \\
y_t &= W_{out} [1; r_t]
\end{aligned}
$$

$v'_t$ is the membrane potential before the reset, $s_t \in \{0, 1\}$ the spikes,
$r_t$ the synaptically filtered spike trains the readout sees. A neuron that
spiked stays at $v_{reset}$, ignoring its input, for ``refractory`` further steps.
Because a spike resets the potential, $v_t < \vartheta$ at every step.

Connectivity: each pair (i, j), i ≠ j, is connected with probability ``connectivity``;
a fraction of the neurons are inhibitory (all their outgoing weights negative, as
Dale's law says), the rest excitatory. Each neuron reads each input line with
probability ``input_connectivity``.

| symbol    | attribute    | shape     | set by                           |
|-----------|--------------|-----------|----------------------------------|
| $W_{in}$  | `weight_in`  | (N, I)    | random sparse, fixed             |
| $W$       | `weight`     | (N, N)    | random sparse, signed by Dale's law, fixed |
| $b$       | `bias`       | (N,)      | constant background current      |
| $W_{out}$ | `weight_out` | (O, 1 + N)| `fit` (ridge regression)         |

All are buffers; spikes have no useful gradient, so nothing is trained by
backpropagation. Shape letters: B batch, T steps, I inputs, N neurons, O outputs;
sequences batch-first. `step` is the readable path; `simulate` hoists the input
current out of the loop and is tested equal to it.

Reference: Wolfgang Maass, Thomas Natschläger and Henry Markram (2002),
"Real-time computing without stable states: a new framework for neural
computation based on perturbations", Neural Computation 14(11): 2531–2560,
doi:10.1162/089976602760407955.

Term: https://w3id.org/rnnref/term/liquid-state-machine
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size
from rnnref.models.echo_state import _check_real, ridge_regression

TERM_IRI = "https://w3id.org/rnnref/term/liquid-state-machine"


class LiquidState(NamedTuple):
    """The state of the liquid after a step, each (B, N)."""

    voltage: Tensor  #: $v_t$, after the reset
    spikes: Tensor  #: $s_t$, 0 or 1
    refractory: Tensor  #: steps left in the refractory period (integer-valued)
    trace: Tensor  #: $r_t$, filtered spikes


class LiquidRun(NamedTuple):
    """A simulated run, each (B, T, N)."""

    voltage: Tensor  #: $v_t$ after the reset
    potential: Tensor  #: $v'_t$ before the reset
    spikes: Tensor  #: $s_t$
    trace: Tensor  #: $r_t$


class LiquidStateMachine(nn.Module):
    r"""N leaky integrate-and-fire neurons with fixed random sparse synapses and a ridge-regression readout.

    $$v'_t = v_{t-1} + \tfrac{\Delta t}{\tau_m}(v_{rest} - v_{t-1}) + W_{in} u_t + W s_{t-1} + b, \quad s_t = \mathbb{1}[v'_t \ge \vartheta], \quad v_t = v'_t \text{ or } v_{reset}$$

    Args:
        input_size: I, input lines (spike trains of 0/1 or analogue currents).
        num_neurons: N.
        output_size: O.
        tau_m: membrane time constant $\tau_m$ (in units of $\Delta t$), > dt.
        tau_s: readout filter time constant $\tau_s$.
        dt: the step $\Delta t$.
        threshold, v_rest, v_reset: $\vartheta$, $v_{rest}$, $v_{reset}$ (``v_reset < threshold``).
        refractory: steps a neuron is held at $v_{reset}$ after a spike (0: none).
        connectivity: probability of each recurrent synapse.
        input_connectivity: probability that a neuron reads a given input line.
        inhibitory_fraction: fraction of neurons whose outgoing weights are negative.
        weight_scale: recurrent weights are drawn from $\mathcal{U}(0, w)$ before the sign.
        input_scale: input weights are drawn from $\mathcal{U}(0, w_{in})$.
        bias: constant background current $b$ for every neuron.
        generator: a ``torch.Generator`` for the random connectivity (global RNG if None).
        device, dtype: of the buffers (float64 by default).

    Inputs of ``forward``: u (B, T, I). Outputs: ``y, run``: y (B, T, O) the readout
    at every step and the `LiquidRun`.
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        num_neurons: int,
        output_size: int,
        *,
        tau_m: float = 20.0,
        tau_s: float = 10.0,
        dt: float = 1.0,
        threshold: float = 1.0,
        v_rest: float = 0.0,
        v_reset: float = 0.0,
        refractory: int = 2,
        connectivity: float = 0.1,
        input_connectivity: float = 0.3,
        inhibitory_fraction: float = 0.2,
        weight_scale: float = 0.3,
        input_scale: float = 0.5,
        bias: float = 0.0,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = torch.float64,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.num_neurons = check_size("num_neurons", num_neurons)
        self.hidden_size = num_neurons
        self.output_size = check_size("output_size", output_size)
        self.dt = _check_real("dt", dt, 0.0, float("inf"), low_open=True)
        self.tau_m = _check_real("tau_m", tau_m, self.dt, float("inf"))
        self.tau_s = _check_real("tau_s", tau_s, 0.0, float("inf"), low_open=True)
        self.threshold = _check_real("threshold", threshold, -float("inf"), float("inf"))
        self.v_rest = _check_real("v_rest", v_rest, -float("inf"), float("inf"))
        self.v_reset = _check_real("v_reset", v_reset, -float("inf"), float("inf"))
        if not self.v_reset < self.threshold:
            raise ValueError(f"v_reset must be below threshold, got v_reset={v_reset}, threshold={threshold}")
        self.refractory = check_size("refractory", refractory, minimum=0)
        self.connectivity = _check_real("connectivity", connectivity, 0.0, 1.0)
        self.input_connectivity = _check_real("input_connectivity", input_connectivity, 0.0, 1.0)
        self.inhibitory_fraction = _check_real("inhibitory_fraction", inhibitory_fraction, 0.0, 1.0)
        self.weight_scale = _check_real("weight_scale", weight_scale, 0.0, float("inf"))
        self.input_scale = _check_real("input_scale", input_scale, 0.0, float("inf"))
        self.decay = math.exp(-self.dt / self.tau_s)  # lambda
        N = num_neurons
        draw = {"generator": generator, "dtype": torch.float64}
        connected = torch.rand(N, N, **draw) < self.connectivity
        connected.fill_diagonal_(False)  # no autapses
        magnitude = torch.rand(N, N, **draw) * self.weight_scale
        inhibitory = torch.rand(N, **draw) < self.inhibitory_fraction  # presynaptic neuron j
        sign = torch.where(inhibitory, -1.0, 1.0).to(torch.float64)
        weight = magnitude * connected * sign  # column j: synapses from neuron j
        weight_in = torch.rand(N, input_size, **draw) * self.input_scale
        weight_in = weight_in * (torch.rand(N, input_size, **draw) < self.input_connectivity)
        factory = {"device": device, "dtype": dtype}
        self.register_buffer("weight_in", weight_in.to(**factory))
        self.register_buffer("weight", weight.to(**factory))
        self.register_buffer("bias", torch.full((N,), float(bias), **factory))
        self.register_buffer("inhibitory", inhibitory.to(device=device))
        self.register_buffer("weight_out", torch.zeros(output_size, 1 + N, **factory))

    # -- the liquid ------------------------------------------------------------------

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> LiquidState:
        """At rest: $v_0 = v_{rest}$, no spikes, not refractory, empty traces."""
        factory = {
            "dtype": self.weight.dtype if dtype is None else dtype,
            "device": self.weight.device if device is None else device,
        }
        zeros = torch.zeros(batch_size, self.num_neurons, **factory)
        return LiquidState(zeros + self.v_rest, zeros.clone(), zeros.clone(), zeros.clone())

    def _integrate(self, current: Tensor, state: LiquidState) -> tuple[Tensor, LiquidState]:
        """Everything after the input current: leak, threshold, reset, refractoriness, trace."""
        v_prev, s_prev, refractory, r_prev = state
        # $$I_t = W_{in} u_t + W s_{t-1} + b$$  (the W_in u_t + b part arrives in ``current``)
        current = current + F.linear(s_prev, self.weight)
        # $$v'_t = v_{t-1} + \frac{\Delta t}{\tau_m}(v_{rest} - v_{t-1}) + I_t$$
        v_pre = v_prev + (self.dt / self.tau_m) * (self.v_rest - v_prev) + current
        # refractory neurons are held at the reset potential and cannot fire
        resting = refractory > 0
        v_pre = torch.where(resting, torch.full_like(v_pre, self.v_reset), v_pre)
        # $$s_t = \mathbb{1}[v'_t \ge \vartheta]$$
        s_t = (v_pre >= self.threshold).to(v_pre.dtype)
        # $$v_t = s_t v_{reset} + (1 - s_t) v'_t$$
        v_t = s_t * self.v_reset + (1 - s_t) * v_pre
        refractory = torch.where(s_t > 0, float(self.refractory), (refractory - 1).clamp(min=0))
        # $$r_t = \lambda r_{t-1} + s_t$$
        r_t = self.decay * r_prev + s_t
        return v_pre, LiquidState(v_t, s_t, refractory, r_t)

    def step(self, u_t: Tensor, state: LiquidState) -> tuple[Tensor, LiquidState]:
        """One step (readable path): u_t (B, I) -> (s_t (B, N), new state)."""
        _, new_state = self._integrate(F.linear(u_t, self.weight_in, self.bias), state)
        return new_state.spikes, new_state

    def simulate(self, u: Tensor, state: LiquidState | None = None) -> LiquidRun:
        """Run the liquid over u (B, T, I), input current hoisted out of the loop."""
        if not isinstance(u, Tensor) or u.dim() != 3 or u.size(-1) != self.input_size:
            shape = tuple(u.shape) if isinstance(u, Tensor) else type(u).__name__
            raise ValueError(f"expected u of shape (B, T, {self.input_size}), got {shape}")
        if u.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if state is None:
            state = self.init_state(u.size(0), dtype=u.dtype, device=u.device)
        drive = F.linear(u, self.weight_in, self.bias)  # (B, T, N)
        voltages, potentials, spikes, traces = [], [], [], []
        for t in range(u.size(1)):
            v_pre, state = self._integrate(drive[:, t], state)
            voltages.append(state.voltage)
            potentials.append(v_pre)
            spikes.append(state.spikes)
            traces.append(state.trace)
        stack = lambda xs: torch.stack(xs, dim=1)  # noqa: E731
        return LiquidRun(stack(voltages), stack(potentials), stack(spikes), stack(traces))

    # -- readout ---------------------------------------------------------------------

    @staticmethod
    def features(trace: Tensor) -> Tensor:
        """$[1; r_t]$, (..., 1 + N)."""
        return torch.cat([torch.ones_like(trace[..., :1]), trace], dim=-1)

    def fit(self, u: Tensor, targets: Tensor, *, ridge: float = 1e-3, mask: Tensor | None = None) -> LiquidRun:
        r"""Set $W_{out}$ by ridge regression of targets (B, T, O) on $[1; r_t]$.

        ``mask`` (B, T) of bools picks the steps that enter the regression (all if None),
        e.g. only the last step of each sequence for a classification read at the end.
        """
        if not isinstance(targets, Tensor) or targets.shape != (*u.shape[:2], self.output_size):
            raise ValueError(f"expected targets of shape {(*u.shape[:2], self.output_size)}, got {tuple(targets.shape)}")
        ridge = _check_real("ridge", ridge, 0.0, float("inf"))
        run = self.simulate(u)
        z = self.features(run.trace)
        y = targets.to(z.dtype)
        if mask is not None:
            if mask.shape != u.shape[:2]:
                raise ValueError(f"expected mask of shape {tuple(u.shape[:2])}, got {tuple(mask.shape)}")
            z, y = z[mask], y[mask]
        self.weight_out.copy_(ridge_regression(z.reshape(-1, z.size(-1)), y.reshape(-1, self.output_size), ridge))
        return run

    def forward(self, u: Tensor, state: LiquidState | None = None) -> tuple[Tensor, LiquidRun]:
        run = self.simulate(u, state)
        # $$y_t = W_{out} [1; r_t]$$
        return F.linear(self.features(run.trace), self.weight_out), run

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.num_neurons}, {self.output_size}, tau_m={self.tau_m}, "
            f"threshold={self.threshold}, connectivity={self.connectivity}"
        )
