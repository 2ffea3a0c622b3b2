r"""Multiple timescales recurrent neural network (MTRNN): fast and slow context units.

The MTRNN of Yamashita and Tani (2008) is a leaky-integrator network whose units
come in groups with different time constants. Input–output units are connected
only to *fast* context units (small $\tau$, they follow the input closely), and
the fast units are connected to *slow* context units (large $\tau$, they change
little from step to step). Trained on sequences of behaviour, the fast units come
to encode reusable primitives and the slow units the order in which primitives are
chained: a functional hierarchy that arises from the timescales alone, without
separate modules.

Every unit integrates its input with its own time constant (a continuous-time
network discretised with $\Delta t = 1$): for the fast (f), slow (s) and output (o)
units,

$$
\begin{aligned}
u^{f}_t &= \Big(1 - \tfrac{1}{\tau_f}\Big) u^{f}_{t-1} + \tfrac{1}{\tau_f}\big(W_{fx} x_t + W_{ff} c^{f}_{t-1} + W_{fs} c^{s}_{t-1} + b_f\big) \\
u^{s}_t &= \Big(1 - \tfrac{1}{\tau_s}\Big) u^{s}_{t-1} + \tfrac{1}{\tau_s}\big(W_{sf} c^{f}_{t-1} + W_{ss} c^{s}_{t-1} + b_s\big) \\
c^{f}_t &= \tanh(u^{f}_t), \qquad c^{s}_t = \tanh(u^{s}_t) \\
u^{o}_t &= \Big(1 - \tfrac{1}{\tau_o}\Big) u^{o}_{t-1} + \tfrac{1}{\tau_o}\big(W_{of} c^{f}_t + b_o\big), \qquad y_t = u^{o}_t
\end{aligned}
$$

There is no connection between the input and the slow units, nor between the slow
units and the output: the slow units see the world only through the fast ones.
With all $\tau = 1$ the network is an Elman network with a block-structured
recurrent matrix plus a linear readout (tested against ``torch.nn.RNN``).

| symbol    | parameter   | shape  |
|-----------|-------------|--------|
| $W_{fx}$  | `weight_fx` | (F, I) |
| $W_{ff}$  | `weight_ff` | (F, F) |
| $W_{fs}$  | `weight_fs` | (F, S) |
| $W_{sf}$  | `weight_sf` | (S, F) |
| $W_{ss}$  | `weight_ss` | (S, S) |
| $W_{of}$  | `weight_of` | (O, F) |
| $b_f, b_s, b_o$ | `bias_f`, `bias_s`, `bias_o` | (F,), (S,), (O,) |

Shape letters: B batch, T length, I input, F fast units, S slow units, O outputs;
sequences batch-first. The state is the tuple of potentials $(u^f, u^s, u^o)$.
Yamashita and Tani used sigmoid units, a softmax output over a topology-preserving
map, and $\tau$ = 2 (input–output), 5 (fast) and 70 (slow); here the contexts use
$\tanh$, the output is linear, and those time constants are the defaults.

Reference: Yuichi Yamashita and Jun Tani (2008), "Emergence of Functional
Hierarchy in a Multiple Timescale Neural Network Model: A Humanoid Robot
Experiment", PLOS Computational Biology 4(11): e1000220,
doi:10.1371/journal.pcbi.1000220.

Term: https://w3id.org/rnnref/term/multiple-timescales-rnn
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_size

TERM_IRI = "https://w3id.org/rnnref/term/multiple-timescales-rnn"

#: The potentials $(u^f, u^s, u^o)$, (B, F), (B, S), (B, O).
MTRNNState = tuple[Tensor, Tensor, Tensor]


def _check_tau(name: str, value: object) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 1 <= value < math.inf:
        raise ValueError(f"{name} must be a number >= 1 (the time step), got {value!r}")
    return float(value)


class MTRNN(nn.Module):
    r"""Leaky-integrator RNN with fast context units (time constant $\tau_f$) and slow ones ($\tau_s$).

    Args:
        input_size: I.
        fast_size: F, fast context units.
        slow_size: S, slow context units.
        output_size: O.
        tau_fast, tau_slow, tau_output: the time constants (>= 1, in steps); defaults 5, 70, 2
            as in Yamashita and Tani (2008).
        device, dtype: of the parameters.

    Inputs: ``x, state``: x (B, T, I); state $(u^f, u^s, u^o)$, zeros if None.
    Outputs: ``y, (c_fast, c_slow), state``: y (B, T, O); the context activations
    (B, T, F) and (B, T, S); the final state.

    Example::

        >>> net = MTRNN(2, 10, 4, 2)
        >>> y, (c_fast, c_slow), state = net(torch.randn(3, 20, 2))
        >>> y.shape, c_slow.shape
        (torch.Size([3, 20, 2]), torch.Size([3, 20, 4]))
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        fast_size: int,
        slow_size: int,
        output_size: int,
        *,
        tau_fast: float = 5.0,
        tau_slow: float = 70.0,
        tau_output: float = 2.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.fast_size = check_size("fast_size", fast_size)
        self.slow_size = check_size("slow_size", slow_size)
        self.output_size = check_size("output_size", output_size)
        self.tau_fast = _check_tau("tau_fast", tau_fast)
        self.tau_slow = _check_tau("tau_slow", tau_slow)
        self.tau_output = _check_tau("tau_output", tau_output)
        Fn, S, O, I = fast_size, slow_size, output_size, input_size
        factory = {"device": device, "dtype": dtype}
        self.weight_fx = nn.Parameter(torch.empty(Fn, I, **factory))
        self.weight_ff = nn.Parameter(torch.empty(Fn, Fn, **factory))
        self.weight_fs = nn.Parameter(torch.empty(Fn, S, **factory))
        self.bias_f = nn.Parameter(torch.empty(Fn, **factory))
        self.weight_sf = nn.Parameter(torch.empty(S, Fn, **factory))
        self.weight_ss = nn.Parameter(torch.empty(S, S, **factory))
        self.bias_s = nn.Parameter(torch.empty(S, **factory))
        self.weight_of = nn.Parameter(torch.empty(O, Fn, **factory))
        self.bias_o = nn.Parameter(torch.empty(O, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """$\\mathcal{U}(-1/\\sqrt{F+S}, 1/\\sqrt{F+S})$ for every parameter."""
        bound = 1.0 / math.sqrt(self.fast_size + self.slow_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    @property
    def hidden_size(self) -> int:
        return self.fast_size + self.slow_size

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> MTRNNState:
        """All potentials zero."""
        factory = {
            "dtype": self.weight_ff.dtype if dtype is None else dtype,
            "device": self.weight_ff.device if device is None else device,
        }
        return (
            torch.zeros(batch_size, self.fast_size, **factory),
            torch.zeros(batch_size, self.slow_size, **factory),
            torch.zeros(batch_size, self.output_size, **factory),
        )

    def _advance(self, fast_input: Tensor, state: MTRNNState) -> tuple[Tensor, MTRNNState]:
        """One step given $W_{fx} x_t + b_f$ (the only place the input enters)."""
        u_f, u_s, u_o = state
        c_f, c_s = torch.tanh(u_f), torch.tanh(u_s)  # c_{t-1}
        # $$u^f_t = (1 - 1/\tau_f) u^f_{t-1} + (1/\tau_f)(W_{fx} x_t + W_{ff} c^f_{t-1} + W_{fs} c^s_{t-1} + b_f)$$
        u_f = (1 - 1 / self.tau_fast) * u_f + (1 / self.tau_fast) * (
            fast_input + F.linear(c_f, self.weight_ff) + F.linear(c_s, self.weight_fs)
        )
        # $$u^s_t = (1 - 1/\tau_s) u^s_{t-1} + (1/\tau_s)(W_{sf} c^f_{t-1} + W_{ss} c^s_{t-1} + b_s)$$
        u_s = (1 - 1 / self.tau_slow) * u_s + (1 / self.tau_slow) * (
            F.linear(c_f, self.weight_sf) + F.linear(c_s, self.weight_ss, self.bias_s)
        )
        # $$c^f_t = \tanh(u^f_t)$$
        c_f = torch.tanh(u_f)
        # $$u^o_t = (1 - 1/\tau_o) u^o_{t-1} + (1/\tau_o)(W_{of} c^f_t + b_o), \quad y_t = u^o_t$$
        u_o = (1 - 1 / self.tau_output) * u_o + (1 / self.tau_output) * F.linear(c_f, self.weight_of, self.bias_o)
        return u_o, (u_f, u_s, u_o)

    def step(self, x_t: Tensor, state: MTRNNState) -> tuple[Tensor, MTRNNState]:
        """One step (readable path): x_t (B, I) -> (y_t (B, O), new state)."""
        return self._advance(F.linear(x_t, self.weight_fx, self.bias_f), state)

    def _check(self, x: Tensor, state: MTRNNState | None) -> MTRNNState:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        if x.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if state is None:
            return self.init_state(x.size(0), dtype=x.dtype, device=x.device)
        expected = [(x.size(0), n) for n in (self.fast_size, self.slow_size, self.output_size)]
        if len(state) != 3 or [tuple(s.shape) for s in state] != expected:
            raise ValueError(f"expected state (u_fast, u_slow, u_output) of shapes {expected}")
        return tuple(state)

    def forward(self, x: Tensor, state: MTRNNState | None = None) -> tuple[Tensor, tuple[Tensor, Tensor], MTRNNState]:
        """Fast path: $W_{fx} x_t + b_f$ for every step in one product, then the loop."""
        state = self._check(x, state)
        fast_input = F.linear(x, self.weight_fx, self.bias_f)  # (B, T, F)
        outputs, fast, slow = [], [], []
        for t in range(x.size(1)):
            y_t, state = self._advance(fast_input[:, t], state)
            outputs.append(y_t)
            fast.append(torch.tanh(state[0]))
            slow.append(torch.tanh(state[1]))
        stack = lambda xs: torch.stack(xs, dim=1)  # noqa: E731
        return stack(outputs), (stack(fast), stack(slow)), state

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, fast={self.fast_size}, slow={self.slow_size}, {self.output_size}, "
            f"tau_fast={self.tau_fast}, tau_slow={self.tau_slow}, tau_output={self.tau_output}"
        )
