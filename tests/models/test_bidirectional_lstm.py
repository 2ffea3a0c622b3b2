"""Bidirectional LSTM: parity with torch.nn.LSTM(bidirectional=True) incl. gradients and packed input,
gradcheck, the defining property (the backward half at step t reads only steps >= t), a learning task."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.bidirectional_lstm import TERM_IRI, BidirectionalLSTM
from rnnref.models.lstm import LSTM

torch.set_num_threads(1)
F64 = torch.float64
T, B, I, H = 5, 3, 3, 4


def _pair(**config):
    ref = nn.LSTM(I, H, bidirectional=True, dtype=F64, **config)
    return BidirectionalLSTM.from_torch(ref), ref


@pytest.mark.parametrize(
    "num_layers, proj_size, batch_first, fast",
    [(1, 0, False, False), (2, 0, True, False), (2, 2, False, False), (2, 2, True, True), (1, 0, False, True)],
)
def test_matches_torch(assert_matches_torch, num_layers, proj_size, batch_first, fast):
    torch.manual_seed(0)
    ours, ref = _pair(num_layers=num_layers, proj_size=proj_size, batch_first=batch_first)
    ours.fast = fast
    x = torch.randn(B, T, I, dtype=F64) if batch_first else torch.randn(T, B, I, dtype=F64)
    O = proj_size or H
    hx = (torch.randn(2 * num_layers, B, O, dtype=F64), torch.randn(2 * num_layers, B, H, dtype=F64))
    assert isinstance(ours, BidirectionalLSTM) and ours.bidirectional
    assert_matches_torch(ours, ref, x, hx)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_packed_sequences_match_torch(assert_matches_torch, num_layers):
    torch.manual_seed(1)
    ours, ref = _pair(num_layers=num_layers, batch_first=True)
    lengths = torch.tensor([5, 2, 4])
    assert_matches_torch(ours, ref, torch.randn(B, T, I, dtype=F64), lengths=lengths)


def test_to_torch_round_trip_and_init_matches_torch():
    torch.manual_seed(2)
    ours = BidirectionalLSTM(I, H, num_layers=2, dtype=F64)
    torch.manual_seed(2)
    ref = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype=F64)
    for (name, a), (name_ref, b) in zip(ours.named_parameters(), ref.named_parameters(), strict=True):
        assert name == name_ref
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    back = ours.to_torch()
    assert back.bidirectional and back.num_layers == 2


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    model = BidirectionalLSTM(2, 2, dtype=F64)
    x = torch.randn(3, 1, 2, dtype=F64, requires_grad=True)
    weights = tuple(model.parameters())

    def f(x, *params):
        out, (h, c) = torch.func.functional_call(model, dict(zip(dict(model.named_parameters()), params)), (x,))
        return out, h, c

    assert torch.autograd.gradcheck(f, (x, *weights))
    assert torch.autograd.gradgradcheck(f, (x, *weights))


def test_backward_half_at_step_t_depends_only_on_steps_from_t_on():
    torch.manual_seed(4)
    model = BidirectionalLSTM(2, 3, dtype=F64)
    x = torch.randn(T, 2, dtype=F64)  # unbatched
    jac = torch.autograd.functional.jacobian(lambda x: model(x)[0], x)  # (T, 2H, T, I)
    forward_part = jac[:, :3].abs().sum(dim=(1, 3))  # (t, s)
    backward_part = jac[:, 3:].abs().sum(dim=(1, 3))
    later = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # s > t
    assert forward_part[later].max() == 0 and backward_part[later.T].max() == 0
    assert forward_part[~later].min() > 0 and backward_part[~later.T].min() > 0


def test_learns_a_task_that_needs_the_future():
    """Label each step with the *next* input's sign: impossible forwards only, easy with the backward half."""
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(5)
    model = BidirectionalLSTM(1, 8, batch_first=True)
    readout = nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *readout.parameters()], lr=3e-2)

    def batch(n):
        x = torch.randn(n, 10, 1, generator=g)
        return x, (x[:, 1:, 0] > 0).float()

    for _ in range(100):
        x, y = batch(32)
        logits = readout(model(x)[0])[:, :-1, 0]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = batch(500)
    with torch.no_grad():
        accuracy = ((readout(model(x)[0])[:, :-1, 0] > 0).float() == y).float().mean().item()
    assert accuracy >= 0.97


def test_term_iri_and_invalid_arguments():
    assert BidirectionalLSTM.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/bidirectional-lstm"
    assert LSTM.term_iri != TERM_IRI
    with pytest.raises(ValueError, match="always bidirectional"):
        BidirectionalLSTM(2, 3, bidirectional=False)
    with pytest.raises(TypeError):
        BidirectionalLSTM.from_torch(nn.GRU(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="features"):
        BidirectionalLSTM(2, 3).directions(torch.zeros(4, 5))
    fwd, bwd = BidirectionalLSTM(2, 3).directions(torch.arange(6.0).view(1, 6))
    assert fwd.tolist() == [[0, 1, 2]] and bwd.tolist() == [[3, 4, 5]]
