r"""Second-order recurrent network: the next state is a bilinear function of state and input.

In a first-order network the input and the previous state are *added* inside the
nonlinearity. In a second-order network (Giles et al., 1992) they are
*multiplied*: every weight $W_{ijk}$ connects a pair (state unit j, input unit k)
to state unit i,

$$
h_{t,i} = \sigma\Big(\sum_{j,k} W_{ijk}\, h_{t-1,j}\, x_{t,k} + b_i\Big)
$$

For one-hot inputs (one symbol of an alphabet per step) the input picks one
matrix $W_{\cdot\cdot k}$ per symbol, $h_t = \sigma(W^{(k)} h_{t-1} + b)$: the
network has a state-transition matrix per symbol, exactly like the transition
function of a finite automaton. That is why second-order networks learn regular
languages well and why automata can be extracted from (and inserted into) them.
The string is accepted if the *response unit* $h_{T,0}$ ends above 1/2.

| symbol | parameter | shape     |
|--------|-----------|-----------|
| $W$    | `weight`  | (H, H, I) |
| $b$    | `bias`    | (H,)      |

``weight[i, j, k]`` is $W_{ijk}$, the layout of ``torch.nn.Bilinear(H, I, H)``
(whose step it equals, tested). Shape letters: B batch, T length, I input
symbols (or features), H state units; sequences batch-first. The default start
state is one-hot on unit 0.

`step` is the readable path (the triple sum as one ``einsum``). `forward` first
contracts the weights with every input at once, $M_t = \sum_k W_{\cdot\cdot k}
x_{t,k}$ (B, T, H, H), so the loop is one batched matrix-vector product per step.

`tomita` gives the membership of a 0/1 string in Tomita's grammars 1, 2, 4, 5, 6
and 7, the benchmark regular languages used with second-order networks. (Grammar 3
is left out: its definition is stated inconsistently in the literature.)

Reference: C. Lee Giles, Clifford B. Miller, Dong Chen, Hsing-Hen Chen, Guo-Zheng
Sun and Yee-Chun Lee (1992), "Learning and Extracting Finite State Automata with
Second-Order Recurrent Neural Networks", Neural Computation 4(3): 393–405,
doi:10.1162/neco.1992.4.3.393.

Term: https://w3id.org/rnnref/term/second-order-rnn
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnref.models._recurrent import check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/second-order-rnn"

_ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}


def tomita(grammar: int, string: Sequence[int] | str) -> bool:
    """Whether a string over {0, 1} belongs to Tomita grammar 1, 2, 4, 5, 6 or 7.

    1: ``1*``; 2: ``(10)*``; 4: no ``000`` substring; 5: an even number of 0s and an
    even number of 1s; 6: (number of 0s - number of 1s) divisible by 3; 7: ``0*1*0*1*``.
    """
    s = "".join(str(int(c)) for c in string)
    if set(s) - {"0", "1"}:
        raise ValueError(f"a Tomita string has only 0s and 1s, got {string!r}")
    if grammar == 1:
        return "0" not in s
    if grammar == 2:
        return s == "10" * (len(s) // 2)
    if grammar == 4:
        return "000" not in s
    if grammar == 5:
        return s.count("0") % 2 == 0 and s.count("1") % 2 == 0
    if grammar == 6:
        return (s.count("0") - s.count("1")) % 3 == 0
    if grammar == 7:
        changes = sum(1 for a, b in zip(s, s[1:]) if a != b) + (1 if s.startswith("1") else 0)
        return changes <= 3  # at most the blocks 0* 1* 0* 1*
    raise ValueError(f"grammar must be one of 1, 2, 4, 5, 6, 7, got {grammar!r}")


class SecondOrderRNN(nn.Module):
    r"""$h_{t,i} = \sigma(\sum_{jk} W_{ijk} h_{t-1,j} x_{t,k} + b_i)$; unit 0 is the response unit.

    Args:
        input_size: I, input symbols (one-hot) or features.
        hidden_size: H, state units.
        bias: if False, $b$ is left out.
        nonlinearity: $\sigma$, ``"sigmoid"`` (default, as Giles et al.) or ``"tanh"``.
        device, dtype: of the parameters.

    Inputs: ``x, h0``: x (B, T, I); h0 (B, H), one-hot on unit 0 if None.
    Outputs: ``h, h_T``: h (B, T, H) every state, h_T (B, H) the last one.
    `accept_probability` gives $h_{T,0}$.

    Parameters are drawn from $\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$, as ``torch.nn.Bilinear``.

    Example::

        >>> net = SecondOrderRNN(2, 4)
        >>> x = torch.nn.functional.one_hot(torch.tensor([[1, 0, 1]]), 2).float()
        >>> net.accept_probability(x).shape
        torch.Size([1])
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "sigmoid",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = self.output_size = check_size("hidden_size", hidden_size)
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"nonlinearity must be 'sigmoid' or 'tanh', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(hidden_size, hidden_size, input_size, **factory))  # W_ijk
        if check_flag("bias", bias):
            self.bias = nn.Parameter(torch.empty(hidden_size, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """The start state, one-hot on unit 0, (B, H)."""
        h0 = torch.zeros(
            batch_size,
            self.hidden_size,
            dtype=self.weight.dtype if dtype is None else dtype,
            device=self.weight.device if device is None else device,
        )
        h0[:, 0] = 1
        return h0

    def step(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """One step (readable path): x_t (B, I), h (B, H) -> (h_t, h_t)."""
        # $$h_{t,i} = \sigma(\sum_{j,k} W_{ijk} h_{t-1,j} x_{t,k} + b_i)$$
        pre = torch.einsum("ijk,bj,bk->bi", self.weight, h, x_t)
        if self.bias is not None:
            pre = pre + self.bias
        h_t = _ACTIVATIONS[self.nonlinearity](pre)
        return h_t, h_t

    def _check(self, x: Tensor, h0: Tensor | None) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != self.input_size:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected x of shape (B, T, {self.input_size}), got {shape}")
        if x.size(1) == 0:
            raise ValueError("expected a sequence of length T >= 1, got T = 0")
        if h0 is None:
            return self.init_state(x.size(0), dtype=x.dtype, device=x.device)
        if h0.shape != (x.size(0), self.hidden_size):
            raise ValueError(f"expected h0 of shape ({x.size(0)}, {self.hidden_size}), got {tuple(h0.shape)}")
        return h0

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Fast path: $M_t = \\sum_k W_{\\cdot\\cdot k} x_{t,k}$ for all t at once, then $h_t = \\sigma(M_t h_{t-1} + b)$."""
        h = self._check(x, h0)
        phi = _ACTIVATIONS[self.nonlinearity]
        transitions = torch.einsum("ijk,btk->btij", self.weight, x)  # (B, T, H, H)
        states = []
        for t in range(x.size(1)):
            pre = (transitions[:, t] @ h.unsqueeze(-1)).squeeze(-1)
            h = phi(pre if self.bias is None else pre + self.bias)
            states.append(h)
        return torch.stack(states, dim=1), h

    def forward_stepwise(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Readable path over a sequence: `step` at every t (same result as `forward`)."""
        h = self._check(x, h0)
        states = []
        for t in range(x.size(1)):
            _, h = self.step(x[:, t], h)
            states.append(h)
        return torch.stack(states, dim=1), h

    def accept_probability(self, x: Tensor, h0: Tensor | None = None) -> Tensor:
        """The response unit at the end, $h_{T,0}$, (B,) (in (0, 1) with the sigmoid)."""
        return self(x, h0)[1][:, 0]

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, bias={self.bias is not None}, "
            f"nonlinearity={self.nonlinearity!r}"
        )
