r"""What to benchmark: a default workload per runnable term, sweeps and named presets.

A *spec* says, for one term, how to build its implementations on a device for a
shape (B batch, T length, I input, H hidden), which implementations to time, how
many floating-point operations a forward call does, and how much memory it needs.
Implementations are named as in ``rnnref bench --json``:

| kind   | implementations           | ratios                           |
|--------|---------------------------|----------------------------------|
| cell   | readable, fast, torch     | fast/torch, readable/torch       |
| paths  | readable, fast            | fast/readable                    |
| twin   | readable, torch           | readable/torch                   |
| scan   | loop, scan                | scan/loop                        |
| single | readable                  | none                             |

``torch`` is the ``torch.nn`` counterpart (oneDNN on CPU, cuDNN on CUDA) with the
same weights; ``fast`` is the fused path of the same module (``model.fast = True``).

FLOPs are analytic and count only the matrix products: a product of an (m, k) and a
(k, n) matrix is $2mnk$. A step of a cell with $W_{ih}$ (G·H, I) and $W_{hh}$ (G·H, H)
on a batch of B does $2 B G H (I + H)$ (G = 4 for the LSTM, 3 for the GRU, 1 for
Elman); forward and backward together count three times the forward (the backward
has one product for the input gradient and one for the weight gradient per forward
product). Pointwise gate math is left out. Models without a formula here count
$2 B T$ per weight-matrix entry (each weight used once per step and example).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rnnref.bench.memory import Estimate, check_fits
from rnnref.errors import InputError, NotFoundError

DTYPE_BYTES = 4  # float32 throughout
MAX_SIZE = 2**31 - 1  # torch's int32 index limits; anything above is refused as input


@dataclass(frozen=True)
class Shape:
    batch: int  # B
    length: int  # T
    input: int  # I
    hidden: int  # H

    def describe(self) -> str:
        return f"B={self.batch} T={self.length} I={self.input} H={self.hidden}"

    def to_json(self) -> dict:
        return {"batch": self.batch, "length": self.length, "input": self.input, "hidden": self.hidden}


def check_shape(shape: Shape) -> Shape:
    for name, value in (("batch", shape.batch), ("length", shape.length), ("input", shape.input), ("hidden", shape.hidden)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"--{name} must be a positive integer, got {value!r}")
        if value > MAX_SIZE:
            raise InputError(f"--{name} {value} is larger than {MAX_SIZE}, the largest size torch can index")
    return shape


@dataclass
class Impl:
    """One built implementation: ``forward(x) -> y`` and the parameters it trains."""

    name: str
    forward: Callable
    parameters: list


@dataclass
class Built:
    impls: list[Impl]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Spec:
    term: str
    kind: str  # "cell", "paths", "scan" or "single"
    build: Callable[[Shape, str], Built]  # (shape, device) -> implementations
    weights: Callable[[Shape], int]  # weight-matrix entries (and biases) of one model
    flops: Callable[[Shape], int] | None = None  # forward FLOPs; None: 2 B T weights
    saved_per_unit: int = 16  # floats kept for backward per example, step and hidden unit
    batch_first: bool = False  # x is (B, T, I) instead of (T, B, I)
    backward: bool = True  # False when the output does not depend differentiably on weights
    default: Shape = Shape(32, 128, 256, 256)
    input_is_hidden: bool = False  # the model maps width H to width H (Mamba, RWKV): I is H
    extra_activations: Callable[[Shape], int] | None = None  # floats beyond saved_per_unit (e.g. T x T)
    note: str | None = None  # what the implementation names mean for this term, if not the usual

    @property
    def impl_names(self) -> tuple[str, ...]:
        return {"cell": ("readable", "fast", "torch"), "paths": ("readable", "fast"), "twin": ("readable", "torch"),
                "scan": ("loop", "scan"), "single": ("readable",)}[self.kind]

    @property
    def ratio_pairs(self) -> list[tuple[str, str]]:
        return {"cell": [("fast", "torch"), ("readable", "torch")], "paths": [("fast", "readable")],
                "twin": [("readable", "torch")], "scan": [("scan", "loop")], "single": []}[self.kind]

    def forward_flops(self, shape: Shape) -> int:
        if self.flops is not None:
            return self.flops(shape)
        return 2 * shape.batch * shape.length * self.weights(shape)

    def estimate(self, shape: Shape) -> Estimate:
        """Bytes for all implementations alive at once, activations for one at a time."""
        n = len(self.impl_names)
        B, T, I, H = shape.batch, shape.length, shape.input, shape.hidden
        return Estimate(
            parameters=n * 2 * self.weights(shape) * DTYPE_BYTES,
            io=n * 2 * B * T * (I + H) * DTYPE_BYTES,
            activations=(self.saved_per_unit * B * T * H + (self.extra_activations(shape) if self.extra_activations else 0))
            * DTYPE_BYTES,
        )


# -- builders ---------------------------------------------------------------------------


def _import(path: str):
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise NotFoundError(f"the implementation {path} cannot be imported: {exc}") from None


def _first(output):
    """The sequence output of a model that returns (y, state, ...)."""
    return output[0] if isinstance(output, (tuple, list)) else output


def _params(*modules) -> list:
    return [p for m in modules for p in m.parameters() if p.requires_grad]


def has_fast_option(cls) -> bool:
    """Whether the class takes ``fast=`` (the fused path of rnnref.models)."""
    return "fast" in inspect.signature(cls).parameters


def _cell_builder(path: str) -> Callable[[Shape, str], Built]:
    """readable, fast and torch.nn for an RNN, LSTM or GRU of rnnref.models (time-first)."""

    def build(shape: Shape, device: str) -> Built:
        cls = _import(path)
        readable = cls(shape.input, shape.hidden, device=device)
        fast = cls(shape.input, shape.hidden, device=device)
        fast.load_state_dict(readable.state_dict())
        notes = []
        if has_fast_option(cls):
            fast.fast = True
        else:
            notes.append(f"{cls.__name__} has no fast path yet: 'fast' times the readable path")
        reference = readable.to_torch()
        return Built(
            [
                Impl("readable", lambda x: readable(x)[0], _params(readable)),
                Impl("fast", lambda x: fast(x)[0], _params(fast)),
                Impl("torch", lambda x: reference(x)[0], _params(reference)),
            ],
            notes,
        )

    return build


def _paths_builder(path: str, make: Callable, readable: str, fast: str = "forward") -> Callable[[Shape, str], Built]:
    """Two methods of one module: a readable step-by-step one and a faster one."""

    def build(shape: Shape, device: str) -> Built:
        model = make(_import(path), shape, device)
        slow_fn, fast_fn = getattr(model, readable), getattr(model, fast)
        return Built([Impl("readable", lambda x: _first(slow_fn(x)), _params(model)),
                      Impl("fast", lambda x: _first(fast_fn(x)), _params(model))])

    return build


def _twin_builder(make: Callable, make_torch: Callable) -> Callable[[Shape, str], Built]:
    """A wrapper of rnnref.models built from Elman cells against the torch.nn network of the same shape."""

    def build(shape: Shape, device: str) -> Built:
        model, reference = make(shape, device), make_torch(shape, device)
        return Built([Impl("readable", lambda x: _first(model(x)), _params(model)),
                      Impl("torch", lambda x: _first(reference(x)), _params(reference))],
                     ["torch has its own weights of the same shapes (same work, different numbers)"])

    return build


def _bidirectional(shape: Shape, device: str):
    from rnnref.models.bidirectional import Bidirectional
    from rnnref.models.elman import ElmanCell

    return Bidirectional(ElmanCell(shape.input, shape.hidden, device=device), ElmanCell(shape.input, shape.hidden, device=device))


def _stacked(shape: Shape, device: str):
    from rnnref.models.elman import ElmanCell
    from rnnref.models.stacked import Stacked

    return Stacked([ElmanCell(shape.input, shape.hidden, device=device), ElmanCell(shape.hidden, shape.hidden, device=device)])


def _torch_rnn(**options) -> Callable:
    def make(shape: Shape, device: str):
        from torch import nn

        return nn.RNN(shape.input, shape.hidden, batch_first=True, device=device, **options)

    return make


def _single_builder(path: str, make: Callable) -> Callable[[Shape, str], Built]:
    def build(shape: Shape, device: str) -> Built:
        model = make(_import(path), shape, device)
        return Built([Impl("readable", lambda x: _first(model(x)), _params(model))])

    return build


def _scan_builder(path: str, make: Callable, loop_mode: str = "loop", scan_mode: str = "scan") -> Callable[[Shape, str], Built]:
    """The sequential loop and the parallel form of one model (same weights), chosen by
    its ``mode=`` keyword."""

    def build(shape: Shape, device: str) -> Built:
        model = make(_import(path), shape, device)
        return Built([Impl("loop", lambda x: _first(model(x, mode=loop_mode)), _params(model)),
                      Impl("scan", lambda x: _first(model(x, mode=scan_mode)), _params(model))])

    return build


# -- the specs ---------------------------------------------------------------------------


def _gated(gates: int) -> Callable[[Shape], int]:
    return lambda s: gates * s.hidden * (s.input + s.hidden) + 2 * gates * s.hidden


def _gated_flops(gates: int) -> Callable[[Shape], int]:
    # per step: input projection 2 B (G H) I and recurrent projection 2 B (G H) H
    return lambda s: 2 * s.batch * s.length * gates * s.hidden * (s.input + s.hidden)


def _dense(s: Shape) -> int:
    """An Elman-sized model: H (I + H) weights plus biases."""
    return s.hidden * (s.input + s.hidden) + 2 * s.hidden


def _make(**extra) -> Callable:
    def make(cls, shape: Shape, device: str):
        return cls(shape.input, shape.hidden, device=device, **extra)

    return make


def _make_with_output(cls, shape: Shape, device: str):
    return cls(shape.input, shape.hidden, shape.input, device=device)


def _make_memory_net(cls, shape: Shape, device: str):
    # NTM, DNC, NNPDA: (input, output, hidden, ...), time-first.
    return cls(shape.input, shape.input, shape.hidden, device=device)


def _make_width(cls, shape: Shape, device: str):
    # Mamba, RWKV: width in = width out = H.
    return cls(shape.hidden, device=device)


def _make_esn(cls, shape: Shape, device: str):
    import torch

    return cls(shape.input, shape.hidden, shape.input, device=device, dtype=torch.float32)


def _make_mtrnn(cls, shape: Shape, device: str):
    return cls(shape.input, shape.hidden, max(1, shape.hidden // 2), shape.input, device=device)


SPECS: dict[str, Spec] = {}


def _add(spec: Spec) -> None:
    SPECS[spec.term] = spec


_add(Spec("lstm", "cell", _cell_builder("rnnref.models.lstm:LSTM"), _gated(4), _gated_flops(4), saved_per_unit=24))
_add(Spec("gru", "cell", _cell_builder("rnnref.models.gru:GRU"), _gated(3), _gated_flops(3), saved_per_unit=20))
_add(Spec("elman-network", "cell", _cell_builder("rnnref.models.elman:RNN"), _gated(1), _gated_flops(1), saved_per_unit=8))
_add(Spec("minimal-gated-unit", "paths", _paths_builder("rnnref.models.mgu:MGU", _make(), "reference_forward"),
          _gated(2), _gated_flops(2), saved_per_unit=16))
_add(Spec("bidirectional-rnn", "twin", _twin_builder(_bidirectional, _torch_rnn(bidirectional=True)),
          lambda s: 2 * _dense(s), lambda s: 2 * 2 * s.batch * s.length * s.hidden * (s.input + s.hidden),
          saved_per_unit=16, batch_first=True))
_add(Spec("stacked-rnn", "twin", _twin_builder(_stacked, _torch_rnn(num_layers=2)),
          lambda s: _dense(s) + s.hidden * 2 * s.hidden + 2 * s.hidden,
          lambda s: 2 * s.batch * s.length * s.hidden * (s.input + 3 * s.hidden),
          saved_per_unit=16, batch_first=True))
_add(Spec("jordan-network", "single", _single_builder("rnnref.models.jordan:JordanNetwork", _make_with_output),
          lambda s: 2 * s.hidden * s.input + s.input * s.hidden + s.hidden + s.input, batch_first=True))
_add(Spec("indrnn", "single", _single_builder("rnnref.models.indrnn:IndRNN", _make()),
          lambda s: s.hidden * s.input + 3 * s.hidden, batch_first=False, saved_per_unit=6))
_add(Spec("fully-recurrent-network", "paths",
          _paths_builder("rnnref.models.fully_recurrent:FullyRecurrentNetwork", _make(), "forward_stepwise"),
          _dense, batch_first=True))
_add(Spec("second-order-rnn", "paths",
          _paths_builder("rnnref.models.second_order:SecondOrderRNN", _make(), "forward_stepwise"),
          lambda s: s.hidden * s.hidden * s.input + s.hidden,
          saved_per_unit=8, batch_first=True, default=Shape(16, 64, 16, 64)))
_add(Spec("continuous-time-rnn", "paths", _paths_builder("rnnref.models.ctrnn:CTRNN", _make(), "forward_stepwise"),
          _dense, batch_first=True))
_add(Spec("multiple-timescales-rnn", "single", _single_builder("rnnref.models.mtrnn:MTRNN", _make_mtrnn),
          lambda s: 3 * s.hidden * (s.input + 2 * s.hidden), batch_first=True, saved_per_unit=24))
_add(Spec("echo-state-network", "paths",
          _paths_builder("rnnref.models.echo_state:EchoStateNetwork", _make_esn, "states_stepwise", "states"),
          _dense, batch_first=True, backward=False))
_add(Spec("liquid-state-machine", "single",
          _single_builder("rnnref.models.liquid_state:LiquidStateMachine", _make_esn), _dense,
          batch_first=True, backward=False, default=Shape(8, 128, 16, 256)))
_add(Spec("neural-turing-machine", "single", _single_builder("rnnref.models.ntm:NTM", _make_memory_net),
          lambda s: 4 * s.hidden * (2 * s.input + s.hidden + 16) + 64 * s.hidden,
          saved_per_unit=64, default=Shape(16, 32, 16, 64)))
_add(Spec("differentiable-neural-computer", "single", _single_builder("rnnref.models.dnc:DNC", _make_memory_net),
          lambda s: 4 * s.hidden * (2 * s.input + s.hidden + 16) + 64 * s.hidden,
          saved_per_unit=96, default=Shape(16, 32, 16, 64)))
_add(Spec("neural-network-pushdown-automaton", "single", _single_builder("rnnref.models.nnpda:NNPDA", _make_memory_net),
          lambda s: 4 * s.hidden * (2 * s.input + s.hidden + 16) + 32 * s.hidden,
          saved_per_unit=64, default=Shape(16, 32, 16, 64)))

# Parallel-scan models: the sequential loop against the parallel scan, batch-first.
# The FLOPs are those of the sequential recurrence (the scan does a little more).
_SCAN_DEFAULT = Shape(8, 1024, 64, 64)
_add(Spec("mingru", "scan", _scan_builder("rnnref.models.mingru:MinGRU", _make()),
          lambda s: 2 * s.hidden * s.input + 2 * s.hidden,
          saved_per_unit=24, batch_first=True, default=_SCAN_DEFAULT))
_add(Spec("minlstm", "scan", _scan_builder("rnnref.models.minlstm:MinLSTM", _make()),
          lambda s: 3 * s.hidden * s.input + 3 * s.hidden,
          saved_per_unit=32, batch_first=True, default=_SCAN_DEFAULT))
_add(Spec("linear-rnn", "scan", _scan_builder("rnnref.models.linear_rnn:LinearRNN", _make()),
          lambda s: 4 * s.hidden * s.input + 2 * s.hidden,  # complex B (H, I) and C (I, H): two reals each
          saved_per_unit=32, batch_first=True, default=_SCAN_DEFAULT))
_add(Spec("state-space-model", "scan",
          _scan_builder("rnnref.models.ssm:StateSpaceModel", _make_with_output, "recurrent", "convolution"),
          lambda s: s.hidden * s.hidden + 2 * s.hidden * s.input + s.input * s.input,
          saved_per_unit=16, batch_first=True, default=_SCAN_DEFAULT,
          note="state-space-model: loop is the recurrent mode, scan the convolution mode (FFT) of this time-invariant model"))
_add(Spec("mamba", "scan", _scan_builder("rnnref.models.mamba:Mamba", _make_width),
          lambda s: 6 * s.hidden * s.hidden + 2 * s.hidden * (s.hidden // 16 + 32),
          saved_per_unit=2 * 16 * 8, batch_first=True, input_is_hidden=True, default=Shape(4, 1024, 64, 64)))
_add(Spec("rwkv", "scan", _scan_builder("rnnref.models.rwkv:RWKVBlock", _make_width, "stable", "quadratic"),
          lambda s: 4 * s.hidden * s.hidden + 2 * 4 * s.hidden * s.hidden,
          saved_per_unit=48, batch_first=True, input_is_hidden=True, default=Shape(4, 256, 64, 64),
          extra_activations=lambda s: 8 * s.batch * s.length * s.length * s.hidden,
          note="rwkv: loop is the stable WKV recurrence (RWKV-4's kernel), scan the quadratic parallel form (T x T memory)"))


def spec_for(term_id: str) -> Spec:
    """The benchmark spec of a term (by its id), or NotFoundError (exit 1)."""
    try:
        return SPECS[term_id]
    except KeyError:
        raise NotFoundError(
            f"{term_id} has no benchmark workload; terms with one: {', '.join(sorted(SPECS))}"
        ) from None


# -- presets and sweeps -------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    shapes: Callable[[Spec], list[Shape]]
    budget_s: float | None = None  # default time budget per workload
    min_repeats: int | None = None
    warmup: int | None = None


def _grid(batches: Sequence[int], lengths: Sequence[int], inputs: Sequence[int], hiddens: Sequence[int]) -> list[Shape]:
    return [Shape(b, t, i, h) for b, t, i, h in itertools.product(batches, lengths, inputs, hiddens)]


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("default", "the term's default workload (fast-path bar: B=32 T=128 I=H=256 for cells)",
               lambda spec: [spec.default]),
        Preset("fastrnns", "PyTorch benchmarks/fastrnns default: T=100 B=64 I=H=512", lambda spec: [Shape(64, 100, 512, 512)]),
        Preset(
            "haste",
            "haste's grid against cuDNN: B 1..128 x H 128..4096 x I 64..512, T=50 (entries too large for memory are refused)",
            lambda spec: _grid([1, 2, 4, 8, 16, 32, 64, 128], [50], [64, 128, 256, 512], [128, 256, 512, 1024, 2048, 4096]),
            budget_s=0.5,
        ),
        Preset("scaling", "sequence lengths 128..4096 at the default batch and sizes (for the scaling plot)",
               lambda spec: [Shape(spec.default.batch, t, spec.default.input, spec.default.hidden)
                             for t in (128, 256, 512, 1024, 2048, 4096)], budget_s=1.0),
        Preset("quick", "tiny sizes for tests: B=2 T=8 I=H=8, a short budget", lambda spec: [Shape(2, 8, 8, 8)],
               budget_s=0.05, min_repeats=3, warmup=1),
    )
}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None


def parse_sizes(option: str, text: str | None) -> list[int] | None:
    """``"64"`` or ``"64,128,256"`` -> [64, 128, 256]; None stays None. Positive integers only."""
    if text is None:
        return None
    values = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            value = int(part)
        except ValueError:
            raise InputError(f"--{option} takes positive integers separated by commas, got {text!r}") from None
        if value < 1:
            raise InputError(f"--{option} must be a positive integer, got {value}")
        if value > MAX_SIZE:
            raise InputError(f"--{option} {value} is larger than {MAX_SIZE}, the largest size torch can index")
        values.append(value)
    if not values:
        raise InputError(f"--{option} needs at least one size")
    return values


def shapes_for(spec: Spec, preset_name: str, batch=None, length=None, input_=None, hidden=None) -> list[Shape]:
    """The preset's shapes with any size given on the command line replacing the preset's
    (a list of sizes sweeps over them)."""
    base = preset(preset_name).shapes(spec)
    overrides = {"batch": batch, "length": length, "input": input_, "hidden": hidden}
    out: list[Shape] = []
    for shape in base:
        values = {k: (v if v is not None else [getattr(shape, k)]) for k, v in overrides.items()}
        for b, t, i, h in itertools.product(values["batch"], values["length"], values["input"], values["hidden"]):
            s = check_shape(Shape(b, t, h if spec.input_is_hidden else i, h))
            if s not in out:
                out.append(s)
    return out


def guard(spec: Spec, shape: Shape, device: str, available: int | None = None) -> None:
    """Refuse (InputError, exit 2) before anything is allocated when the workload cannot fit."""
    check_fits(spec.estimate(shape), device, f"{spec.term} at {shape.describe()}", available)


# -- running one workload -------------------------------------------------------------------


def run_workload(spec: Spec, shape: Shape, device: str, budget, progress=None, *, seed: int = 0) -> dict:
    """Build, time and summarise one workload: the ``results`` and ``ratios`` of the JSON
    contract plus ``notes``. The memory guard runs first, before anything is allocated."""
    import torch

    from rnnref.bench.harness import Case, ratios, run_interleaved

    guard(spec, shape, device)
    torch.manual_seed(seed)
    built = spec.build(shape, device)
    B, T, I = shape.batch, shape.length, shape.input
    dims = (B, T, I) if spec.batch_first else (T, B, I)
    x = torch.randn(*dims, device=device)
    x_grad = x.clone().requires_grad_(spec.backward)
    fwd_flops = spec.forward_flops(shape)
    cases: list[Case] = []
    notes = list(built.notes) + ([spec.note] if spec.note else [])
    if spec.input_is_hidden:
        notes.append(f"{spec.term} maps width H to width H: the input size is H")
    for impl in built.impls:
        cases.append(Case(impl.name, "fwd", _forward_call(impl, x), fwd_flops))
    if spec.backward:
        for impl in built.impls:
            with torch.no_grad():
                y = impl.forward(x)
            dy = torch.randn_like(y)
            cases.append(Case(impl.name, "fwd+bwd", _backward_call(impl, x_grad, dy), 3 * fwd_flops))
    else:
        notes.append(f"{spec.term}: only the readout is trained, so only the forward pass is timed")
    measured = run_interleaved(cases, device, budget, progress)
    return {
        "results": [m.to_json() for m in measured],
        "ratios": ratios(measured, spec.ratio_pairs),
        "notes": notes,
        "measurements": measured,
    }


def _forward_call(impl: Impl, x) -> Callable[[], object]:
    import torch

    def call():
        with torch.no_grad():
            return impl.forward(x)

    return call


def _backward_call(impl: Impl, x, dy) -> Callable[[], object]:
    def call():
        for p in impl.parameters:
            p.grad = None
        x.grad = None
        impl.forward(x).backward(dy)

    return call
