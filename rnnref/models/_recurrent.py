r"""Shared machinery for the recurrent cells and the ``torch.nn``-compatible networks.

Shape letters, the same across ``rnnref.models``:

| letter | meaning                                                          |
|--------|------------------------------------------------------------------|
| B      | batch size                                                       |
| T      | sequence length (time steps)                                     |
| I      | input size, features per step                                    |
| H      | hidden size, units per cell                                      |
| P      | projection size (LSTM with ``proj_size > 0``)                    |
| O      | output size of a cell: P if projected, else H                    |
| D      | directions: 2 if bidirectional, else 1                           |
| L      | layers                                                           |

**The cell protocol.** A cell is one layer in one direction. Every cell provides

- ``cell.input_size``, ``cell.hidden_size``, ``cell.output_size`` (I, H, O);
- ``cell.init_state(batch_size, *, dtype=None, device=None)``: the zero state, a
  Tensor (B, H) (Elman, GRU) or a tuple of Tensors (LSTM: ``(h, c)``, h is (B, O),
  c is (B, H)); ``dtype``/``device`` default to those of the cell's parameters;
- ``cell.step(x_t, state) -> (y_t, new_state)``: one time step, x_t (B, I), y_t (B, O),
  the output at that step (for the cells here, $y_t = h_t$).

`run_direction` runs any such cell over a sequence and `run_layers` stacks them
into layers and directions. `RNNBase` is the shared body of `RNN`, `LSTM` and `GRU`:
the ``torch.nn`` interface (parameter names, initialisation, batch_first,
unbatched and packed input, hx checks) around `run_layers`.

**Two paths, one function.** `run_layers` is the readable path: one ``cell.step``
per time step, differentiated by autograd. With ``fast=True`` (a constructor
argument and a plain attribute, ``network.fast``, that can be switched at any
time) a network runs each layer-direction through `rnnref.models._fused` instead:
the input projections of all steps in one GEMM, the recurrence in a
``torch.autograd.Function`` with a hand-written backward. Both compute the same
function and the same gradients (tests/models/test_fast_paths.py compares them
in float64). The fast path is skipped, silently, where it does not apply: under
forward-mode AD, ``torch.func`` transforms or ``torch.compile``, and for cell
options it does not implement (`RNNBase.fast_supported`).

Parameters live on the network under ``torch.nn``'s names (``weight_ih_l0``,
``bias_hh_l1_reverse``, ...), so a state dict moves between the two unchanged. A
network does not keep cell modules: `RNNBase.cell` builds a cell *view* that
computes with the network's own tensors, so gradients reach the network's
parameters and ``torch.func.functional_call`` substitutes them as expected.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol, Self, runtime_checkable

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

#: A cell's recurrent state: one Tensor, or a tuple of them (LSTM: ``(h, c)``).
State = Tensor | tuple[Tensor, ...]


@runtime_checkable
class Cell(Protocol):
    """What a cell provides; what `run_direction` and wrappers rely on."""

    input_size: int
    hidden_size: int
    output_size: int

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> State: ...

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]: ...


# -- argument checks ----------------------------------------------------------------


def check_size(name: str, value: object, *, minimum: int = 1) -> int:
    """A size argument: an int (not a bool) of at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return value


def check_sequence(
    name: str, x: object, features: int, dtype: torch.dtype | None = None, *, batch_first: bool = True
) -> Tensor:
    """A 3-D input sequence of ``features`` per step, (B, T, F) or, with
    ``batch_first=False``, (T, B, F); at least one step; ``dtype`` (the parameters')
    if given. Returns ``x``; raises one ValueError that says what was expected."""
    layout = f"(B, T, {features})" if batch_first else f"(T, B, {features}) (batch_first: (B, T, {features}))"
    if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != features:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} expects x of shape {layout}, got {shape}")
    if x.size(1 if batch_first else 0) == 0:
        raise ValueError(f"{name} expects at least one time step, got a sequence of length 0")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(f"{name} input dtype {x.dtype} does not match the parameters' dtype {dtype}")
    return x


def check_dropout(value: object) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"dropout must be a probability in [0, 1], got {value!r}")
    return float(value)


# -- states: one Tensor or a tuple of Tensors -----------------------------------------


def map_state(fn, *states: State) -> State:
    """Apply ``fn`` to each Tensor of one or more states of the same structure."""
    if isinstance(states[0], Tensor):
        return fn(*states)
    return tuple(fn(*parts) for parts in zip(*states, strict=True))


def _state_at(stacked: State, k: int) -> State:
    """The state of layer-direction ``k`` from a stacked hx, (L*D, B, *) -> (B, *)."""
    return map_state(lambda s: s[k], stacked)


def _stack_states(states: Sequence[State]) -> State:
    """Per layer-direction states -> the stacked form, (L*D, B, *)."""
    if isinstance(states[0], Tensor):
        return torch.stack(list(states))
    return tuple(torch.stack(list(parts)) for parts in zip(*states, strict=True))


# -- cells --------------------------------------------------------------------------


class RecurrentCell(nn.Module):
    """Base of the cells in this package: the protocol plus shared plumbing.

    Subclasses set ``input_size``, ``hidden_size``, ``output_size``, register their
    parameters in ``torch.nn``'s order and names, and implement `init_state` and
    `step`.
    """

    input_size: int
    hidden_size: int
    output_size: int
    #: The ``torch.nn`` cell with the same parameters (for `from_torch`).
    torch_type: ClassVar[type[nn.Module]]
    #: Constructor arguments beyond (input_size, hidden_size, bias) shared with torch_type.
    torch_options: ClassVar[tuple[str, ...]] = ()

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> State:
        raise NotImplementedError

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        raise NotImplementedError

    def forward(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One checked step: x_t (B, I), state as from `init_state` (zeros if None)."""
        if not isinstance(x_t, Tensor) or x_t.dim() != 2 or x_t.size(1) != self.input_size:
            shape = tuple(x_t.shape) if isinstance(x_t, Tensor) else type(x_t).__name__
            raise ValueError(f"{type(self).__name__} expects x_t of shape (B, {self.input_size}), got {shape}")
        if state is None:
            state = self.init_state(x_t.size(0), dtype=x_t.dtype, device=x_t.device)
        return self.step(x_t, state)

    def _zeros(self, batch_size: int, size: int, dtype, device) -> Tensor:
        reference = self.weight_ih
        return torch.zeros(
            batch_size,
            size,
            dtype=reference.dtype if dtype is None else dtype,
            device=reference.device if device is None else device,
        )

    def reset_parameters(self) -> None:
        """$\\mathcal{U}(-1/\\sqrt{H}, 1/\\sqrt{H})$ for every parameter, as ``torch.nn``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def _bind(self, weights: Mapping[str, Tensor]) -> Self:
        """Compute with ``weights`` (no copy) instead of this cell's own parameters.

        Used on a cell built on the meta device: it turns it into a view of some
        other module's tensors. A Parameter is registered again (same object); a
        plain Tensor (as under ``torch.func.functional_call``) becomes an attribute.
        """
        for name, tensor in weights.items():
            delattr(self, name)
            setattr(self, name, tensor)
        return self

    @classmethod
    def from_torch(cls, module: nn.Module) -> Self:
        """A copy of a ``torch.nn`` cell (same dtype, device and parameter values)."""
        if not isinstance(module, cls.torch_type):
            raise TypeError(f"{cls.__name__}.from_torch expects {cls.torch_type.__name__}, got {type(module).__name__}")
        reference = module.weight_ih
        cell = cls(
            module.input_size,
            module.hidden_size,
            bias=module.bias,
            **{name: getattr(module, name) for name in cls.torch_options},
            device=reference.device,
            dtype=reference.dtype,
        )
        cell.load_state_dict(module.state_dict())
        return cell


# -- the sequence runner ------------------------------------------------------------


def run_direction(
    cell: Cell, x: Tensor, state: State, *, reverse: bool = False, lengths: Tensor | None = None
) -> tuple[Tensor, State]:
    """Run one cell over a time-major sequence, one `Cell.step` per time step.

    Args:
        cell: any object with the cell protocol.
        x: (T, B, I), time-major.
        state: the initial state, as from ``cell.init_state(B)``.
        reverse: run from t = T-1 down to 0 (the backward direction).
        lengths: (B,) true lengths if the sequences are padded; past its length a
            sequence's state is held and its output is zero, so the final state is
            the one at its true last step (and, in reverse, the sequence starts at
            its own last step).

    Returns:
        ``(y, state)``: y is (T, B, O), the output at every step in time order;
        state the final state.
    """
    T = x.size(0)
    outputs: list[Tensor | None] = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        y_t, new_state = cell.step(x[t], state)
        if lengths is not None:
            active = (t < lengths).unsqueeze(1)  # (B, 1), True while the sequence lasts
            new_state = map_state(lambda new, old: torch.where(active, new, old), new_state, state)
            y_t = y_t.masked_fill(~active, 0.0)
        outputs[t] = y_t
        state = new_state
    return torch.stack(outputs), state


def run_layers(
    cells: Sequence[Sequence[Cell]],
    x: Tensor,
    states: Sequence[State],
    *,
    dropout: float = 0.0,
    lengths: Tensor | None = None,
) -> tuple[Tensor, list[State]]:
    """Run a stack of layers, each with one cell per direction, over a sequence.

    Layer ``l`` reads the output of layer ``l - 1``: the directions' outputs
    concatenated, (T, B, D * O), with dropout of probability ``dropout`` applied
    to it (so after every layer but the last, as ``torch.nn``).

    Args:
        cells: ``cells[l][d]``, the cell of layer l and direction d (0 forward,
            1 backward).
        x: (T, B, I), time-major.
        states: initial states, indexed ``k = l * D + d`` as in ``torch.nn``'s h_0.
        dropout: probability between layers; pass 0 when not training.
        lengths: (B,) true lengths of padded sequences, see `run_direction`.

    Returns:
        ``(y, final_states)``: y (T, B, D * O), the last layer's output;
        ``final_states[k]`` the final state of layer-direction k.
    """
    layer_input = x
    final_states: list[State] = []
    for layer, layer_cells in enumerate(cells):
        if layer > 0 and dropout > 0:
            layer_input = nn.functional.dropout(layer_input, p=dropout, training=True)
        outputs = []
        for direction, cell in enumerate(layer_cells):
            k = layer * len(layer_cells) + direction
            y, final = run_direction(cell, layer_input, states[k], reverse=direction == 1, lengths=lengths)
            outputs.append(y)
            final_states.append(final)
        layer_input = torch.cat(outputs, dim=-1)
    return layer_input, final_states


# -- the torch.nn-compatible networks -----------------------------------------------


def _plain_autograd() -> bool:
    """False under forward-mode AD, a ``torch.func`` transform or ``torch.compile`` tracing.

    The fast path's ``autograd.Function`` has a hand-written backward only, and its
    loops write into buffers in place; in those contexts the readable path runs.
    """
    from torch.autograd import forward_ad

    try:
        if forward_ad._current_level >= 0 or torch._C._functorch.peek_interpreter_stack() is not None:
            return False
    except AttributeError:  # private hooks moved in some torch version: assume plain autograd
        pass
    return not torch.compiler.is_compiling()


class RNNBase(nn.Module):
    """Multi-layer, optionally bidirectional network of one cell type, with ``torch.nn``'s interface.

    Subclasses give the cell type, the matching ``torch.nn`` class and the
    constructor options beyond the common ones (``nonlinearity``, ``proj_size``);
    the rest is here.
    """

    cell_type: ClassVar[type[RecurrentCell]]
    torch_type: ClassVar[type[nn.Module]]
    #: Constructor arguments beyond the common ones, passed on to the cells, and their defaults.
    options: ClassVar[tuple[str, ...]] = ()
    option_defaults: ClassVar[dict[str, object]] = {}
    #: Options (also passed on to the cells, defaults in option_defaults) that the
    #: ``torch.nn`` class does not have: `to_torch` refuses a network that uses one.
    extra_options: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        fast: bool = False,
        **options: object,
    ) -> None:
        super().__init__()
        #: Run the fast path (`rnnref.models._fused`) in forward; may be changed at any time.
        self.fast = check_flag("fast", fast)
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        self.bias = check_flag("bias", bias)
        self.batch_first = check_flag("batch_first", batch_first)
        self.dropout = check_dropout(dropout)
        self.bidirectional = check_flag("bidirectional", bidirectional)
        if self.dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout acts between layers, so dropout={dropout} does nothing with num_layers=1",
                stacklevel=3,
            )
        for name, value in options.items():
            setattr(self, name, value)
        # Meta-device cells give the parameter names and shapes (and check the
        # options); the parameters themselves are created here, in torch.nn's order.
        first = self._make_cell(0, device="meta")
        self.output_size = first.output_size
        for layer in range(num_layers):
            template = first if layer == 0 else self._make_cell(layer, device="meta")
            for direction in range(self.num_directions):
                for name, meta in template.named_parameters():
                    empty = torch.empty(meta.shape, device=device, dtype=dtype)
                    setattr(self, name + self._suffix(layer, direction), nn.Parameter(empty))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def _make_cell(self, layer: int, **factory) -> RecurrentCell:
        input_size = self.input_size if layer == 0 else self.num_directions * self.output_size
        options = {name: getattr(self, name) for name in (*self.options, *self.extra_options)}
        return self.cell_type(input_size, self.hidden_size, bias=self.bias, **options, **factory)

    def reset_parameters(self) -> None:
        """$\\mathcal{U}(-1/\\sqrt{H}, 1/\\sqrt{H})$ for every parameter, in order, as ``torch.nn``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def cell(self, layer: int, direction: int = 0) -> RecurrentCell:
        """The cell of one layer and direction, computing with this network's parameters.

        A view, not a copy: gradients through it reach this network's parameters.
        """
        if not 0 <= layer < self.num_layers or not 0 <= direction < self.num_directions:
            raise ValueError(
                f"no cell at layer={layer}, direction={direction}: "
                f"{self.num_layers} layer(s), {self.num_directions} direction(s)"
            )
        view = self._make_cell(layer, device="meta")
        suffix = self._suffix(layer, direction)
        names = [name for name, _ in view.named_parameters()]
        return view._bind({name: getattr(self, name + suffix) for name in names})

    # -- forward ----------------------------------------------------------------

    def forward(self, input: Tensor | PackedSequence, hx: State | None = None):
        """Returns ``(output, h_n)`` shaped as ``torch.nn`` (see the subclass docstring)."""
        name = type(self).__name__
        weight = self.weight_ih_l0
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            self._check_features(data, weight, expected_dim=2, what="PackedSequence data")
            # Padded in the packed (sorted) order: (T, B, I) and (B,) lengths.
            x, lengths = pad_packed_sequence(PackedSequence(data, batch_sizes))
            lengths = lengths.to(x.device)
            batched = True
        elif isinstance(input, Tensor):
            if input.dim() not in (2, 3):
                raise ValueError(f"{name} expects a 2-D (unbatched) or 3-D input, got {input.dim()}-D")
            self._check_features(input, weight, expected_dim=input.dim(), what="input")
            batched = input.dim() == 3
            if not batched:
                x = input.unsqueeze(1)  # (T, I) -> (T, 1, I); batch_first does not apply
            elif self.batch_first:
                x = input.transpose(0, 1)  # (B, T, I) -> (T, B, I)
            else:
                x = input
        else:
            raise TypeError(f"{name} expects a Tensor or PackedSequence, got {type(input).__name__}")
        T, B = x.shape[:2]
        if T == 0:
            raise ValueError(f"{name} expects at least one time step, got a sequence of length 0")

        cells = [[self.cell(layer, d) for d in range(self.num_directions)] for layer in range(self.num_layers)]
        zero = cells[0][0].init_state(B, dtype=x.dtype, device=x.device)
        LD = self.num_layers * self.num_directions
        if hx is None:
            states = [zero] * LD
        else:
            hx = self._check_hx(hx, zero, LD, batched)
            if not batched:
                hx = map_state(lambda s: s.unsqueeze(1), hx)
            if packed and sorted_indices is not None:
                # hx follows the caller's batch order; the packed data is sorted by length.
                hx = map_state(lambda s: s.index_select(1, sorted_indices), hx)
            states = [_state_at(hx, k) for k in range(LD)]

        if self.fast and self.fast_supported and _plain_autograd():
            output, finals = self._run_fast(cells, x, states, lengths)
        else:
            output, finals = self._run(cells, x, states, lengths)
        h_n = _stack_states(finals)

        if packed:
            packed_output = pack_padded_sequence(output, lengths.cpu())
            output = PackedSequence(packed_output.data, batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = map_state(lambda s: s.index_select(1, unsorted_indices), h_n)
        elif not batched:
            output = output.squeeze(1)
            h_n = map_state(lambda s: s.squeeze(1), h_n)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n

    def _run(
        self, cells: list[list[RecurrentCell]], x: Tensor, states: list[State], lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        """The readable reference path: a Python loop over time steps.

        Time-major x (T, B, I) and per layer-direction states in; (T, B, D * O)
        and final states out. `_run_fast` is the fast path.
        """
        dropout = self.dropout if self.training else 0.0
        return run_layers(cells, x, states, dropout=dropout, lengths=lengths)

    # -- the fast path ------------------------------------------------------------

    @property
    def fast_supported(self) -> bool:
        """Whether `_run_fast` implements this configuration (else forward uses `_run`)."""
        return True

    def _run_fast(
        self, cells: list[list[RecurrentCell]], x: Tensor, states: list[State], lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        """The fast path: as `_run` (same arguments, results, dropout draws), one fused kernel per layer-direction."""
        dropout = self.dropout if self.training else 0.0
        mask = None
        if lengths is not None:
            steps = torch.arange(x.size(0), device=lengths.device)
            mask = (steps.unsqueeze(1) < lengths.unsqueeze(0)).unsqueeze(2)  # (T, B, 1), True while a sequence lasts
        layer_input = x
        final_states: list[State] = []
        for layer, layer_cells in enumerate(cells):
            if layer > 0 and dropout > 0:
                layer_input = nn.functional.dropout(layer_input, p=dropout, training=True)
            outputs = []
            for direction, cell in enumerate(layer_cells):
                k = layer * len(layer_cells) + direction
                y, final = self._fused_direction(cell, layer_input, states[k], reverse=direction == 1, mask=mask)
                outputs.append(y)
                final_states.append(final)
            layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
        return layer_input, final_states

    def _fused_direction(
        self, cell: RecurrentCell, x: Tensor, state: State, *, reverse: bool, mask: Tensor | None
    ) -> tuple[Tensor, State]:
        """One layer-direction on the fast path: x (T, B, I) -> (y (T, B, O), final state)."""
        raise NotImplementedError

    def _check_features(self, x: Tensor, weight: Tensor, *, expected_dim: int, what: str) -> None:
        name = type(self).__name__
        if x.dim() != expected_dim:
            raise ValueError(f"{name} expects {what} with {expected_dim} dimensions, got {x.dim()}")
        if x.size(-1) != self.input_size:
            raise ValueError(
                f"{name} expects {what} with input_size={self.input_size} features in the last dimension, "
                f"got shape {tuple(x.shape)}"
            )
        if x.dtype != weight.dtype:
            raise ValueError(
                f"{name} {what} dtype {x.dtype} does not match the parameters' dtype {weight.dtype}; "
                f"convert one with .to()"
            )

    def _check_hx(self, hx: object, zero: State, LD: int, batched: bool) -> State:
        """hx must have the structure of a cell state, each part (L*D, B, size)."""
        name = type(self).__name__
        structure = "a Tensor" if isinstance(zero, Tensor) else f"a tuple of {len(zero)} Tensors"
        if isinstance(zero, Tensor):
            ok = isinstance(hx, Tensor)
        else:
            ok = isinstance(hx, (tuple, list)) and len(hx) == len(zero) and all(isinstance(s, Tensor) for s in hx)
            hx = tuple(hx) if ok else hx
        if not ok:
            raise ValueError(f"{name} expects hx as {structure}, got {type(hx).__name__}")
        parts = [hx] if isinstance(hx, Tensor) else list(hx)
        zeros = [zero] if isinstance(zero, Tensor) else list(zero)
        for part, z in zip(parts, zeros, strict=True):
            expected = (LD, *z.shape) if batched else (LD, z.size(1))
            if tuple(part.shape) != expected:
                kind = "batched" if batched else "unbatched"
                raise ValueError(f"{name} expects hx of shape {expected} for this {kind} input, got {tuple(part.shape)}")
            if part.dtype != z.dtype:
                raise ValueError(f"{name} hx dtype {part.dtype} does not match the input dtype {z.dtype}")
        return hx

    # -- torch.nn interop ---------------------------------------------------------

    def _config(self) -> dict[str, object]:
        """The constructor arguments that ``torch.nn``'s class shares."""
        config = {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": self.batch_first,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
        }
        config.update({name: getattr(self, name) for name in self.options})
        return config

    @classmethod
    def from_torch(cls, module: nn.Module, *, fast: bool = False) -> Self:
        """A copy of a ``torch.nn`` network: same configuration, dtype, device and weights.

        ``fast`` selects the fast path for the copy (see `RNNBase`).
        """
        if not isinstance(module, cls.torch_type):
            raise TypeError(f"{cls.__name__}.from_torch expects {cls.torch_type.__name__}, got {type(module).__name__}")
        config = {name: getattr(module, name) for name in ("input_size", "hidden_size", "num_layers", "bias")}
        config.update(batch_first=module.batch_first, dropout=module.dropout, bidirectional=module.bidirectional)
        config.update({name: getattr(module, name) for name in cls.options})
        reference = module.weight_ih_l0
        with warnings.catch_warnings():  # torch already warned about dropout with one layer
            warnings.simplefilter("ignore", UserWarning)
            network = cls(**config, device=reference.device, dtype=reference.dtype, fast=fast)
        network.load_state_dict(module.state_dict())
        network.train(module.training)
        return network

    def to_torch(self) -> nn.Module:
        """The ``torch.nn`` network with this one's configuration and weights."""
        used = [name for name in self.extra_options if getattr(self, name) != self.option_defaults[name]]
        if used:
            options = ", ".join(used)
            raise ValueError(f"{self.torch_type.__name__} has no {options} option; this network has no torch.nn twin")
        reference = self.weight_ih_l0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            module = self.torch_type(**self._config(), device=reference.device, dtype=reference.dtype)
        module.load_state_dict(self.state_dict())
        module.train(self.training)
        return module

    def extra_repr(self) -> str:
        config = self._config()
        config.update({name: getattr(self, name) for name in self.extra_options})
        config["fast"] = self.fast
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False}
        defaults.update(self.option_defaults, fast=False)
        text = f"{self.input_size}, {self.hidden_size}"
        for key, value in config.items():
            if key not in ("input_size", "hidden_size") and defaults.get(key) != value:
                text += f", {key}={value!r}"
        return text
