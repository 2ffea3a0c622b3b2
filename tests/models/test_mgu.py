"""Minimal gated unit: one step against hand-written equations, fast path == readable path,
wrappers, gradcheck, and a learning task."""

from __future__ import annotations

import pytest
import torch

from rnnref.models._recurrent import Cell
from rnnref.models.bidirectional import Bidirectional
from rnnref.models.mgu import MGU, TERM_IRI, MGUCell
from rnnref.models.stacked import Stacked

F64 = torch.float64
T, B, I, H = 5, 3, 3, 4


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_one_step_matches_the_equations_written_out():
    torch.manual_seed(0)
    cell = MGUCell(I, H, dtype=F64)
    x, h = torch.randn(B, I, dtype=F64), torch.randn(B, H, dtype=F64)
    W_if, W_ih = cell.weight_ih[:H], cell.weight_ih[H:]
    W_hf, W_hh = cell.weight_hh[:H], cell.weight_hh[H:]
    b_f = cell.bias_ih[:H] + cell.bias_hh[:H]
    b_h = cell.bias_ih[H:] + cell.bias_hh[H:]
    sigmoid = lambda z: 1 / (1 + torch.exp(-z))  # noqa: E731
    f = sigmoid(x @ W_if.T + h @ W_hf.T + b_f)
    candidate = torch.tanh(x @ W_ih.T + (f * h) @ W_hh.T + b_h)
    expected = (1 - f) * h + f * candidate
    y, h_new = cell.step(x, h)
    torch.testing.assert_close(h_new, expected, atol=1e-14, rtol=0)
    assert torch.equal(y, h_new)
    assert isinstance(cell, Cell) and cell.term_iri == TERM_IRI == MGU.term_iri


def test_gate_closed_keeps_the_state_and_open_gate_replaces_it():
    cell = MGUCell(I, H, dtype=F64)
    x, h = torch.randn(B, I, dtype=F64), torch.randn(B, H, dtype=F64)
    with torch.no_grad():
        cell.bias_ih[:H] = -1e3  # f = 0
    torch.testing.assert_close(cell.step(x, h)[1], h, atol=0, rtol=0)
    with torch.no_grad():
        cell.bias_ih[:H] = 1e3  # f = 1: h_t = tanh(W_ih x + W_hh h + b)
        expected = torch.tanh(x @ cell.weight_ih[H:].T + h @ cell.weight_hh[H:].T + cell.bias_ih[H:] + cell.bias_hh[H:])
    torch.testing.assert_close(cell.step(x, h)[1], expected, atol=1e-14, rtol=0)


@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first"), [(1, False, False), (2, True, True)])
@pytest.mark.parametrize("given_hx", [False, True])
def test_hoisted_forward_equals_the_step_by_step_reference(num_layers, bidirectional, batch_first, given_hx):
    torch.manual_seed(1)
    net = MGU(I, H, num_layers, bidirectional=bidirectional, batch_first=batch_first, dtype=F64)
    x = torch.randn(B, T, I, dtype=F64) if batch_first else torch.randn(T, B, I, dtype=F64)
    D = 2 if bidirectional else 1
    hx = torch.randn(num_layers * D, B, H, dtype=F64) if given_hx else None
    (y, h_n), (y_ref, h_ref) = net(x, hx), net.reference_forward(x, hx)
    torch.testing.assert_close(y, y_ref, atol=1e-14, rtol=0)
    torch.testing.assert_close(h_n, h_ref, atol=1e-14, rtol=0)
    assert y.shape == ((B, T, D * H) if batch_first else (T, B, D * H))


def test_packed_sequences_stop_at_their_lengths():
    torch.manual_seed(2)
    net = MGU(I, H, batch_first=True, dtype=F64)
    x = torch.randn(B, T, I, dtype=F64)
    lengths = torch.tensor([T, 2, 4])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    _, h_n = net(packed)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(h_n[0, b], net(x[b : b + 1, :n])[1][0, 0], atol=1e-14, rtol=0)


def test_bidirectional_and_stacked_wrappers_run_the_cells():
    torch.manual_seed(3)
    net = MGU(I, H, num_layers=2, bidirectional=True, batch_first=True, dtype=F64)
    x = torch.randn(B, T, I, dtype=F64)
    y_net, _ = net(x)
    layers = [Bidirectional(net.cell(layer, 0), net.cell(layer, 1)) for layer in range(2)]
    y = x
    for layer in layers:
        y, _ = layer(y)
    torch.testing.assert_close(y, y_net, atol=1e-14, rtol=0)
    stacked = Stacked([MGUCell(I, H, dtype=F64), MGUCell(H, H, dtype=F64)])
    assert stacked(x)[0].shape == (B, T, H)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(4)
    net = MGU(2, 2, num_layers=1, bidirectional=True, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(2, 2, 2, dtype=F64, requires_grad=True)
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]

    def run(x, *params):
        return torch.func.functional_call(net, dict(zip(names, params, strict=True)), (x,))[0]

    assert torch.autograd.gradcheck(run, (x, *params))
    assert torch.autograd.gradgradcheck(run, (x, *params))


def test_learns_delayed_recall():
    """MGU(1, 12) + readout: recall the bit from 2 steps back, > 97% within 100 Adam steps."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net, readout = MGU(1, 12, batch_first=True), torch.nn.Linear(12, 1)
    optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=2e-2)
    for _ in range(100):
        x = torch.randint(0, 2, (32, 12, 1), generator=g).float() * 2 - 1
        loss = ((readout(net(x)[0])[:, 2:] - x[:, :-2]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x = torch.randint(0, 2, (256, 12, 1), generator=g).float() * 2 - 1
    with torch.no_grad():
        accuracy = (readout(net(x)[0])[:, 2:].sign() == x[:, :-2]).float().mean().item()
    assert accuracy > 0.97


def test_errors():
    with pytest.raises(TypeError, match="no torch.nn counterpart"):
        MGU.from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(TypeError, match="no torch.nn counterpart"):
        MGU(2, 3).to_torch()
    with pytest.raises(ValueError, match="input_size"):
        MGU(2, 3)(torch.randn(4, 1, 5))
    with pytest.raises(ValueError):
        MGUCell(2, 0)
    with pytest.raises(ValueError, match="x_t of shape"):
        MGUCell(2, 3)(torch.randn(4, 5))
