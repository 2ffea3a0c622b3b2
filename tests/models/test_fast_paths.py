"""The fast paths (rnnref.models._fused) compute what the readable paths compute.

For RNN (Elman), LSTM and GRU, a network with ``fast=True`` and its copy with
``fast=False`` must agree in float64, to rounding, on outputs, final states and the
gradients with respect to the input, the initial state and every parameter, over
the whole configuration space (layers, directions, batch_first, bias, packed
variable-length input, proj_size, relu, dropout in training). Also: gradcheck and
gradgradcheck of the fast path itself, the silent fallbacks (forward-mode AD,
torch.func transforms, LSTM options), and the ``fast`` attribute's interface.
Timing is not tested here: see rnnref/bench/fast_cells.py.
"""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence

from rnnref.models import _fused
from rnnref.models.elman import RNN
from rnnref.models.gru import GRU
from rnnref.models.lstm import LSTM

F64 = torch.float64
T, B, I, H, P = 5, 3, 3, 4, 2  # length, batch, input size, hidden size, projection size
ATOL = 1e-12
LENGTHS = torch.tensor([2, T, 1])  # unsorted, so sorted_indices is a real permutation

# (network class, extra constructor options, id)
KINDS = [
    (RNN, {}, "elman-tanh"),
    (RNN, {"nonlinearity": "relu"}, "elman-relu"),
    (LSTM, {}, "lstm"),
    (LSTM, {"proj_size": P}, "lstm-proj"),
    (GRU, {}, "gru"),
]


def _twins(cls, **config):
    """A readable network and a fast copy of it (same weights)."""
    readable = cls(I, H, dtype=F64, **config)
    fast = copy.deepcopy(readable)
    fast.fast = True
    return readable, fast


def _hx(network, *batch):
    """A random initial state shaped for ``network``."""
    LD = network.num_layers * network.num_directions
    h = torch.randn(LD, *batch, network.output_size, dtype=F64)
    return (h, torch.randn(LD, *batch, network.hidden_size, dtype=F64)) if isinstance(network, LSTM) else h


def _parts(state):
    return [state] if isinstance(state, torch.Tensor) else list(state)


def _run(network, x, hx=None, lengths=None, *, seed=None):
    """Forward and backward once: outputs, final states and every gradient, in a list."""
    x = x.detach().clone().requires_grad_(True)
    leaves = [] if hx is None else [t.detach().clone().requires_grad_(True) for t in _parts(hx)]
    hx_in = None if hx is None else (leaves[0] if len(leaves) == 1 else tuple(leaves))
    if lengths is not None:
        x_in = pack_padded_sequence(x, lengths, batch_first=network.batch_first, enforce_sorted=False)
    else:
        x_in = x
    if seed is not None:
        torch.manual_seed(seed)
    output, h_n = network(x_in, hx_in)
    output = output if isinstance(output, torch.Tensor) else output.data
    results = [output, *_parts(h_n)]
    generator = torch.Generator().manual_seed(99)  # a fixed random weighting of every result
    loss = sum((torch.randn(t.shape, generator=generator, dtype=t.dtype) * t).sum() for t in results)
    grads = torch.autograd.grad(loss, [x, *leaves, *network.parameters()])
    return results + list(grads)


def _assert_same(got, expected, atol=ATOL):
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected, strict=True)):
        torch.testing.assert_close(a, b, atol=atol, rtol=0, msg=lambda m, k=k: f"result {k}: {m}")


@pytest.mark.parametrize(("cls", "options"), [k[:2] for k in KINDS], ids=[k[2] for k in KINDS])
@pytest.mark.parametrize(
    ("num_layers", "bidirectional", "batch_first", "bias"),
    list(itertools.product([1, 2], [False, True], [False, True], [True, False])),
)
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("given_hx", [False, True])
def test_fast_equals_readable(cls, options, num_layers, bidirectional, batch_first, bias, packed, given_hx):
    torch.manual_seed(0)
    readable, fast = _twins(
        cls, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias, **options
    )
    x = torch.randn(B, T, I, dtype=F64) if batch_first else torch.randn(T, B, I, dtype=F64)
    hx = _hx(readable, B) if given_hx else None
    lengths = LENGTHS if packed else None
    _assert_same(_run(fast, x, hx, lengths), _run(readable, x, hx, lengths))


@pytest.mark.parametrize(("cls", "options"), [k[:2] for k in KINDS], ids=[k[2] for k in KINDS])
def test_fast_equals_readable_unbatched_single_step_and_data_input(cls, options):
    torch.manual_seed(1)
    readable, fast = _twins(cls, num_layers=2, bidirectional=True, **options)
    x, hx = torch.randn(T, I, dtype=F64), _hx(readable)  # unbatched
    _assert_same(_run(fast, x, hx), _run(readable, x, hx))
    x1 = torch.randn(1, B, I, dtype=F64)  # a single time step
    _assert_same(_run(fast, x1), _run(readable, x1))
    # Input as data (no gradient wanted): only the parameters' gradients.
    x = torch.randn(T, B, I, dtype=F64)
    grads = [torch.autograd.grad(net(x)[0].sum(), list(net.parameters())) for net in (fast, readable)]
    _assert_same(list(grads[0]), list(grads[1]))
    with torch.no_grad():
        _assert_same(_parts(fast(x)[1]), _parts(readable(x)[1]))


@pytest.mark.parametrize(("cls", "options"), [k[:2] for k in KINDS], ids=[k[2] for k in KINDS])
def test_dropout_in_training_draws_the_same_masks(cls, options):
    """Dropout between layers runs outside the fused kernels, in the readable path's order."""
    torch.manual_seed(2)
    readable, fast = _twins(cls, num_layers=3, dropout=0.5, bidirectional=True, **options)
    x = torch.randn(T, B, I, dtype=F64)
    got, expected = _run(fast, x, seed=7), _run(readable, x, seed=7)
    _assert_same(got, expected)
    assert not torch.allclose(_run(fast, x, seed=8)[0], got[0])  # the masks do change with the seed


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize(("cls", "options"), [k[:2] for k in KINDS], ids=[k[2] for k in KINDS])
def test_float32_matches_torch(cls, options):
    """At float32 and a realistic size, the fast path matches torch.nn to float32 rounding."""
    torch.manual_seed(3)
    ref = cls.torch_type(16, 32, num_layers=2, bidirectional=True, batch_first=True, **options)
    fast = cls.from_torch(ref, fast=True)
    assert fast.fast
    x = torch.randn(8, 20, 16)
    lengths = torch.tensor([20, 3, 17, 9, 20, 1, 12, 5])
    for input in (x, pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)):
        got, expected = fast(input), ref(input)
        out_got = got[0] if isinstance(got[0], torch.Tensor) else got[0].data
        out_expected = expected[0] if isinstance(expected[0], torch.Tensor) else expected[0].data
        torch.testing.assert_close(out_got, out_expected, atol=1e-5, rtol=1e-4)
        out_got.square().sum().backward()
        out_expected.square().sum().backward()
        for (name, p), q in zip(fast.named_parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p.grad, q.grad, atol=1e-4, rtol=1e-4, msg=lambda m, name=name: f"{name}: {m}")
            p.grad = q.grad = None


def _check_inputs(network):
    """(x, *h0 parts, *weights) as float64 leaves, and a function of them for gradcheck (packed input)."""
    names = [n for n, _ in network.named_parameters()]
    x = torch.randn(3, 2, network.input_size, dtype=F64, requires_grad=True)
    h0 = [t.requires_grad_() for t in _parts(_hx(network, 2))]
    weights = [p.detach().requires_grad_() for p in network.parameters()]

    def run(x, *rest):
        state = rest[0] if len(h0) == 1 else tuple(rest[: len(h0)])
        packed = pack_padded_sequence(x, torch.tensor([2, 3]), enforce_sorted=False)
        params = dict(zip(names, rest[len(h0) :], strict=True))
        output, h_n = functional_call(network, params, (packed, state))
        return (output.data, *_parts(h_n))

    return run, (x, *h0, *weights)


@pytest.mark.parametrize(("cls", "options"), [k[:2] for k in KINDS], ids=[k[2] for k in KINDS])
def test_gradcheck_of_the_fast_path(cls, options):
    torch.manual_seed(4)
    options = {**options, "proj_size": 1} if options.get("proj_size") else options
    run, inputs = _check_inputs(cls(2, 2, num_layers=2, bidirectional=True, dtype=F64, fast=True, **options))
    assert torch.autograd.gradcheck(run, inputs)


@pytest.mark.parametrize(("cls", "options"), [k[:2] for k in KINDS], ids=[k[2] for k in KINDS])
def test_gradgradcheck_of_the_fast_path(cls, options):
    """Double backward (create_graph=True) goes through the recomputing backward."""
    torch.manual_seed(5)
    options = {**options, "proj_size": 1} if options.get("proj_size") else options
    run, inputs = _check_inputs(cls(2, 2, bidirectional=True, dtype=F64, fast=True, **options))
    assert torch.autograd.gradgradcheck(run, inputs)


def test_fast_path_backward_is_its_own_code():
    """The fast path really runs: its graph holds the fused Functions, not per-step cell operations."""
    for cls, function in ((RNN, "ElmanRecurrence"), (LSTM, "LSTMRecurrence"), (GRU, "GRURecurrence")):
        network = cls(I, H, fast=True)
        output, _ = network(torch.randn(T, B, I))
        assert function in type(output.grad_fn).__name__, type(output.grad_fn).__name__
        network.fast = False
        output, _ = network(torch.randn(T, B, I))
        assert "Recurrence" not in type(output.grad_fn).__name__


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_falls_back_under_forward_mode_ad_and_torch_func():
    torch.manual_seed(5)
    readable, fast = _twins(LSTM, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, I, dtype=F64)
    tangent = torch.randn_like(x)

    def output_of(network):
        return lambda x: network(x)[0]

    primal_fast, jvp_fast = torch.func.jvp(output_of(fast), (x,), (tangent,))
    primal_readable, jvp_readable = torch.func.jvp(output_of(readable), (x,), (tangent,))
    _assert_same([primal_fast, jvp_fast], [primal_readable, jvp_readable])
    grad_fast = torch.func.grad(lambda x: fast(x)[0].square().sum())(x)
    grad_readable = torch.func.grad(lambda x: readable(x)[0].square().sum())(x)
    _assert_same([grad_fast], [grad_readable])
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x, tangent)
        _, jvp = torch.autograd.forward_ad.unpack_dual(fast(dual)[0])
    _assert_same([jvp], [jvp_readable])


def test_lstm_options_fall_back_to_the_readable_path():
    torch.manual_seed(6)
    for option in ("peephole", "layer_norm"):
        readable, fast = _twins(LSTM, num_layers=2, **{option: True})
        assert fast.fast and not fast.fast_supported
        x = torch.randn(T, B, I, dtype=F64)
        _assert_same(_run(fast, x, lengths=LENGTHS), _run(readable, x, lengths=LENGTHS))


def test_the_fast_attribute():
    rnn = RNN(I, H, fast=True)
    assert rnn.fast and "fast=True" in repr(rnn)
    rnn.fast = False
    assert "fast" not in repr(rnn)
    assert LSTM(I, H).fast is False and GRU(I, H, fast=True).fast is True
    assert list(GRU(I, H, fast=True).state_dict()) == list(nn.GRU(I, H).state_dict())  # no extra state
    ref = nn.LSTM(I, H, num_layers=2)
    assert LSTM.from_torch(ref, fast=True).fast and not LSTM.from_torch(ref).fast
    assert type(LSTM.from_torch(ref, fast=True).to_torch()) is nn.LSTM
    with pytest.raises(TypeError, match="fast must be a bool"):
        GRU(I, H, fast=1)


def test_retained_graph_and_interleaved_backwards_reuse_the_workspace_safely():
    """The backward's scratch buffer is shared; graphs kept alive side by side must not see each other's data."""
    torch.manual_seed(7)
    small_r, small_f = _twins(LSTM, proj_size=P)
    big_r, big_f = _twins(GRU, num_layers=2, bidirectional=True)
    x_small, x_big = torch.randn(T, B, I, dtype=F64), torch.randn(2 * T, 2 * B, I, dtype=F64)
    out_small, _ = small_f(x_small)
    out_big, _ = big_f(x_big)
    g_big_1 = torch.autograd.grad(out_big.sum(), list(big_f.parameters()), retain_graph=True)
    g_small = torch.autograd.grad(out_small.sum(), list(small_f.parameters()))
    _fused.clear_workspace()
    g_big_2 = torch.autograd.grad(out_big.sum(), list(big_f.parameters()))
    _assert_same(list(g_big_1), list(g_big_2))
    _assert_same(list(g_small), list(torch.autograd.grad(small_r(x_small)[0].sum(), list(small_r.parameters()))))
    _assert_same(list(g_big_1), list(torch.autograd.grad(big_r(x_big)[0].sum(), list(big_r.parameters()))))
