r"""Long short-term memory (LSTM).

An LSTM cell keeps, next to its output $h_t$, a *cell state* $c_t$ that is changed
only by elementwise gating and addition. Error signals flowing back along $c_t$ are
therefore not repeatedly squashed and multiplied by a weight matrix, which is what
makes plain recurrent networks forget after a few steps; gates learn when to write
to, keep, and read from the cell. This is the formulation of ``torch.nn.LSTM``
(input gate $i$, forget gate $f$, cell candidate $g$, output gate $o$):

$$
\begin{aligned}
i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
h_t &= o_t \odot \tanh(c_t)
\end{aligned}
$$

and, with a projection (``proj_size`` P > 0), $h_t = W_{hr}(o_t \odot \tanh(c_t))$,
so $h_t$ has P units instead of H.

History: the 1997 paper's cell has input and output gates but no forget gate; the
forget gate was added by Gers, Schmidhuber & Cummins (2000), "Learning to Forget:
Continual Prediction with LSTM", Neural Computation 12(10): 2451–2471. The
projection follows Sak, Senior & Beaufays (2014), arXiv:1402.1128.

**Options** (off by default, so the default cell is ``torch.nn.LSTM``'s; neither
has a ``torch.nn`` twin). *Peephole connections* (``peephole=True``; Gers &
Schmidhuber (2000), "Recurrent Nets that Time and Count", IJCNN 2000) let the
gates see the cell through diagonal weights $w_{ci}, w_{cf}, w_{co}$ (vectors,
elementwise): the input and forget gates see $c_{t-1}$, the output gate sees the
new $c_t$:

$$
\begin{aligned}
i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi} + w_{ci} \odot c_{t-1}) \\
f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf} + w_{cf} \odot c_{t-1}) \\
o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho} + w_{co} \odot c_t)
\end{aligned}
$$

*Layer normalisation* (``layer_norm=True``; Ba, Kiros & Hinton (2016), "Layer
Normalization", arXiv:1607.06450) normalises the input and the recurrent
contributions separately, and the cell before its tanh. For a gate
$k \in \{i, f, g, o\}$ ($\sigma$ for i, f, o and $\tanh$ for g as above):

$$
\begin{aligned}
a^k_t &= \operatorname{LN}(W_{ik} x_t; \gamma^{ih}_k) + \operatorname{LN}(W_{hk} h_{t-1}; \gamma^{hh}_k) + b_{ik} + b_{hk} \\
h_t &= o_t \odot \tanh(\operatorname{LN}(c_t; \gamma^c, \beta^c)), \qquad
\operatorname{LN}(v; \gamma, \beta) = \gamma \odot \frac{v - \mu(v)}{\sqrt{\sigma^2(v) + \epsilon}} + \beta
\end{aligned}
$$

with $\mu, \sigma^2$ the mean and (biased) variance over the H units of one
example, $\epsilon = 10^{-5}$. Each gate is normalised on its own (statistics over
its H units, not over all 4H pre-activations together as the paper writes
$\operatorname{LN}(W_h h_{t-1})$; ``rnnref.training.layer_norm.LayerNormLSTMCell``
is that joint form), so one gate's scale cannot swamp another's. The gate LNs
have gains only, since $b$ already shifts them. With both options, the peephole
terms are added after the normalisation.

| symbol                                   | parameter   | shape                 |
|------------------------------------------|-------------|-----------------------|
| $W_{ii}, W_{if}, W_{ig}, W_{io}$ stacked | `weight_ih` | (4H, I)               |
| $W_{hi}, W_{hf}, W_{hg}, W_{ho}$ stacked | `weight_hh` | (4H, O)               |
| $b_{ii}, b_{if}, b_{ig}, b_{io}$ stacked | `bias_ih`   | (4H,)                 |
| $b_{hi}, b_{hf}, b_{hg}, b_{ho}$ stacked | `bias_hh`   | (4H,)                 |
| $W_{hr}$                                 | `weight_hr` | (P, H), if P > 0      |
| $w_{ci}, w_{cf}, w_{co}$                 | `weight_ci`, `weight_cf`, `weight_co` | (H,) each, if peephole |
| $\gamma^{ih}, \gamma^{hh}$ (i, f, g, o stacked) | `ln_ih_weight`, `ln_hh_weight` | (4H,), if layer_norm |
| $\gamma^c, \beta^c$                       | `ln_c_weight`, `ln_c_bias` | (H,), if layer_norm |

O is P if projected, else H. Peephole weights start as the other weights,
$\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$; LN gains start at 1 and $\beta^c$ at 0.
In `LSTM` the names carry the layer and direction:
``weight_ih_l0``, ``weight_hr_l1_reverse``. Shape letters as in
`rnnref.models._recurrent`.

Reference: Sepp Hochreiter and Jürgen Schmidhuber (1997), "Long Short-Term Memory",
Neural Computation 9(8): 1735–1780, doi:10.1162/neco.1997.9.8.1735.

Term: https://w3id.org/rnnref/term/lstm
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models import _fused
from rnnref.models._recurrent import RecurrentCell, RNNBase, check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/lstm"

#: $\epsilon$ of the layer normalisations (``layer_norm=True``), as ``torch.nn.LayerNorm``.
LN_EPS = 1e-5


def group_layer_norm(v: Tensor, gain: Tensor, bias: Tensor | None = None, *, groups: int = 1) -> Tensor:
    r"""$\gamma \odot (v - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$, with statistics per group.

    v (B, groups * H): the last dimension is cut into ``groups`` blocks of H units
    (the gates) and each block is normalised over its own H units. gain, bias:
    (groups * H,).
    """
    blocks = v.unflatten(-1, (groups, -1))  # (B, groups, H)
    mu = blocks.mean(-1, keepdim=True)
    var = ((blocks - mu) ** 2).mean(-1, keepdim=True)  # biased, as in LayerNorm
    normalised = ((blocks - mu) / torch.sqrt(var + LN_EPS)).flatten(-2)
    return normalised * gain if bias is None else normalised * gain + bias


class LSTMCell(RecurrentCell):
    r"""One LSTM layer in one direction, one time step at a time.

    $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$

    (gates as in the module docstring; $h_t = W_{hr}(o_t \odot \tanh(c_t))$ if
    ``proj_size > 0``). Implements the cell protocol of
    `rnnref.models._recurrent`; parameters as ``torch.nn.LSTMCell`` (``from_torch``
    copies one), plus the projection that ``torch.nn.LSTM`` supports.

    Args:
        input_size: I, features per step.
        hidden_size: H, cell units.
        bias: if False, the biases $b$ are left out.
        proj_size: P, if > 0 the output $h_t$ is projected to P units (P < H).
        device, dtype: where and in which dtype to create the parameters.
        peephole: if True, peephole connections $w_{ci}, w_{cf}, w_{co}$ (module
            docstring).
        layer_norm: if True, layer normalisation of the gate pre-activations and
            of the cell (module docstring).

    Step: ``step(x_t, (h, c)) -> (h_t, (h_t, c_t))``, x_t (B, I), h (B, O), c (B, H).

    Example::

        >>> cell = LSTMCell(3, 4)
        >>> state = cell.init_state(2)
        >>> y, (h, c) = cell.step(torch.randn(2, 3), state)
        >>> y.shape, c.shape
        (torch.Size([2, 4]), torch.Size([2, 4]))

    Paper: Hochreiter & Schmidhuber (1997), doi:10.1162/neco.1997.9.8.1735.
    Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    torch_type = nn.LSTMCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        peephole: bool = False,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        self.peephole = check_flag("peephole", peephole)
        self.layer_norm = check_flag("layer_norm", layer_norm)
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.proj_size = check_size("proj_size", proj_size, minimum=0)
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}")
        self.output_size = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        H, O = hidden_size, self.output_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size, **factory))  # W_i{i,f,g,o}
        self.weight_hh = nn.Parameter(torch.empty(4 * H, O, **factory))  # W_h{i,f,g,o}
        if check_flag("bias", bias):
            self.bias_ih = nn.Parameter(torch.empty(4 * H, **factory))  # b_i{i,f,g,o}
            self.bias_hh = nn.Parameter(torch.empty(4 * H, **factory))  # b_h{i,f,g,o}
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if proj_size > 0:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, H, **factory))  # W_hr
        else:
            self.register_parameter("weight_hr", None)
        for name in ("weight_ci", "weight_cf", "weight_co"):  # w_ci, w_cf, w_co
            self.register_parameter(name, nn.Parameter(torch.empty(H, **factory)) if peephole else None)
        for name, size in (("ln_ih_weight", 4 * H), ("ln_hh_weight", 4 * H), ("ln_c_weight", H), ("ln_c_bias", H)):
            self.register_parameter(name, nn.Parameter(torch.empty(size, **factory)) if layer_norm else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """$\\mathcal{U}(-1/\\sqrt{H}, 1/\\sqrt{H})$ as ``torch.nn``; LN gains 1 and biases 0."""
        super().reset_parameters()
        _init_layer_norm(self, "")

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> tuple[Tensor, Tensor]:
        """$(h_0, c_0) = (0, 0)$: (B, O) and (B, H)."""
        h = self._zeros(batch_size, self.output_size, dtype, device)
        c = self._zeros(batch_size, self.hidden_size, dtype, device)
        return h, c

    def gate_preactivations(self, x_t: Tensor, h: Tensor) -> Tensor:
        """The gates' pre-activations before any peephole term, (B, 4H) in torch's order i, f, g, o."""
        if not self.layer_norm:
            return F.linear(x_t, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        # $$a^k_t = \operatorname{LN}(W_{ik} x_t; \gamma^{ih}_k) + \operatorname{LN}(W_{hk} h_{t-1}; \gamma^{hh}_k) + b_{ik} + b_{hk}$$
        gates = group_layer_norm(F.linear(x_t, self.weight_ih), self.ln_ih_weight, groups=4)
        gates = gates + group_layer_norm(F.linear(h, self.weight_hh), self.ln_hh_weight, groups=4)
        return gates if self.bias_ih is None else gates + self.bias_ih + self.bias_hh

    def step(self, x_t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        h, c = state
        # All four pre-activations at once, (B, 4H), split in torch's order i, f, g, o.
        i, f, g, o = self.gate_preactivations(x_t, h).chunk(4, dim=1)
        if self.peephole:
            # Peepholes: the input and forget gates also see the old cell, $w_{ci} \odot c_{t-1}$, $w_{cf} \odot c_{t-1}$.
            i, f = i + self.weight_ci * c, f + self.weight_cf * c
        # $$i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})$$
        i_t = torch.sigmoid(i)
        # $$f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})$$
        f_t = torch.sigmoid(f)
        # $$g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})$$
        g_t = torch.tanh(g)
        # $$c_t = f_t \odot c_{t-1} + i_t \odot g_t$$
        c_t = f_t * c + i_t * g_t
        if self.peephole:
            # Peephole: the output gate also sees the new cell, $w_{co} \odot c_t$.
            o = o + self.weight_co * c_t
        # $$o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})$$
        o_t = torch.sigmoid(o)
        if self.layer_norm:
            # $$h_t = o_t \odot \tanh(\operatorname{LN}(c_t; \gamma^c, \beta^c))$$
            h_t = o_t * torch.tanh(group_layer_norm(c_t, self.ln_c_weight, self.ln_c_bias))
        else:
            # $$h_t = o_t \odot \tanh(c_t)$$
            h_t = o_t * torch.tanh(c_t)
        if self.weight_hr is not None:
            # $$h_t = W_{hr}(o_t \odot \tanh(c_t))$$
            h_t = F.linear(h_t, self.weight_hr)
        return h_t, (h_t, c_t)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"
        text += f", proj_size={self.proj_size}" if self.proj_size else ""
        text += ", peephole=True" if self.peephole else ""
        return text + (", layer_norm=True" if self.layer_norm else "")


def _init_layer_norm(module: nn.Module, suffix: str) -> None:
    """LN gains to 1 and LN biases to 0 (after the uniform init of everything)."""
    with torch.no_grad():
        for name in ("ln_ih_weight", "ln_hh_weight", "ln_c_weight", "ln_c_bias"):
            parameter = getattr(module, name + suffix, None)
            if parameter is not None:
                parameter.fill_(0.0 if name.endswith("bias") else 1.0)


class LSTM(RNNBase):
    r"""Multi-layer LSTM with the interface of ``torch.nn.LSTM``.

    For each layer, at each step t (layer 0 reads $x_t$, layer $l > 0$ reads the
    previous layer's output, with dropout in training):

    $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$

    with the gates $i_t, f_t, g_t, o_t$ of the module docstring, and
    $h_t = W_{hr}(o_t \odot \tanh(c_t))$ if ``proj_size > 0``.

    Args:
        input_size: I, features per input step.
        hidden_size: H, cell units per layer and direction.
        num_layers: L, stacked layers.
        bias: if False, no biases.
        batch_first: if True, batched input and output are (B, T, *).
        dropout: dropout probability on each layer's output except the last.
        bidirectional: if True, D = 2: a second cell per layer reads the
            sequence backwards and the outputs are concatenated.
        proj_size: P, if > 0 every layer's $h_t$ is projected to P units (P < H).
        device, dtype: where and in which dtype to create the parameters.
        peephole: if True, every cell has peephole connections (module docstring).
        layer_norm: if True, every cell has layer normalisation (module docstring).
        fast: if True, forward runs the fast path of `rnnref.models._fused`
            (same function and gradients; the attribute ``fast`` may be changed
            later). With ``peephole`` or ``layer_norm`` forward uses the readable
            path whatever ``fast`` says.

    Inputs: ``input, (h_0, c_0)``
        input: (T, I) unbatched, (T, B, I), or (B, T, I) if batch_first; or a
            ``PackedSequence``.
        h_0: (L * D, O) unbatched or (L * D, B, O); c_0: (L * D, H) or
            (L * D, B, H). Both zeros if hx is None.

    Outputs: ``output, (h_n, c_n)``
        output: (T, D * O) unbatched, (T, B, D * O), or (B, T, D * O) if
            batch_first; the last layer's $h_t$ for every t. A ``PackedSequence``
            if the input was one.
        h_n, c_n: shaped as h_0, c_0; the final states of every layer and
            direction (for packed input, at each sequence's true last step).

    Parameters are named and initialised as ``torch.nn.LSTM``
    ($\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$), so ``from_torch`` and ``to_torch``
    are state-dict copies (``to_torch`` refuses a network with ``peephole`` or
    ``layer_norm``). ``cell(layer, direction)`` returns the `LSTMCell` that runs
    that layer.

    Example::

        >>> lstm = LSTM(10, 20, 2)
        >>> output, (h_n, c_n) = lstm(torch.randn(5, 3, 10))
        >>> output.shape, c_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))

    Paper: Hochreiter & Schmidhuber (1997), doi:10.1162/neco.1997.9.8.1735.
    Term: ``term_iri``.
    """

    term_iri = TERM_IRI
    cell_type = LSTMCell
    torch_type = nn.LSTM
    options = ("proj_size",)
    extra_options = ("peephole", "layer_norm")
    option_defaults = {"proj_size": 0, "peephole": False, "layer_norm": False}

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        peephole: bool = False,
        layer_norm: bool = False,
        fast: bool = False,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
            fast=fast,
            proj_size=proj_size,
            peephole=peephole,
            layer_norm=layer_norm,
        )

    def reset_parameters(self) -> None:
        """$\\mathcal{U}(-1/\\sqrt{H}, 1/\\sqrt{H})$ as ``torch.nn``; LN gains 1 and biases 0."""
        super().reset_parameters()
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                _init_layer_norm(self, self._suffix(layer, direction))

    @property
    def fast_supported(self) -> bool:
        """The fast path has no peephole connections and no layer normalisation."""
        return not (self.peephole or self.layer_norm)

    def _fused_direction(self, cell: LSTMCell, x: Tensor, state: tuple[Tensor, Tensor], *, reverse, mask):
        h0, c0 = state
        y, h_n, c_n = _fused.lstm_layer(
            x,
            h0,
            c0,
            cell.weight_ih,
            cell.weight_hh,
            cell.bias_ih,
            cell.bias_hh,
            cell.weight_hr,
            reverse=reverse,
            mask=mask,
        )
        return y, (h_n, c_n)
