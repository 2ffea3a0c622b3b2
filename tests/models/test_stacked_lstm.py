"""Stacked LSTM: parity with torch.nn.LSTM(num_layers=k) incl. gradients, the layer-by-layer
definition (layer l reads layer l-1's outputs), gradcheck, and a learning task where depth is used."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.lstm import LSTM
from rnnref.models.stacked_lstm import TERM_IRI, StackedLSTM

torch.set_num_threads(1)
F64 = torch.float64
T, B, I, H = 5, 3, 3, 4


@pytest.mark.parametrize(
    "num_layers, bidirectional, proj_size, fast",
    [(2, False, 0, False), (3, False, 2, False), (2, True, 0, False), (2, False, 0, True), (3, True, 2, True)],
)
def test_matches_torch(assert_matches_torch, num_layers, bidirectional, proj_size, fast):
    torch.manual_seed(0)
    ref = nn.LSTM(I, H, num_layers=num_layers, bidirectional=bidirectional, proj_size=proj_size, dtype=F64)
    ours = StackedLSTM.from_torch(ref, fast=fast)
    D, O = 2 if bidirectional else 1, proj_size or H
    hx = (torch.randn(D * num_layers, B, O, dtype=F64), torch.randn(D * num_layers, B, H, dtype=F64))
    assert isinstance(ours, StackedLSTM) and ours.num_layers == num_layers
    assert_matches_torch(ours, ref, torch.randn(T, B, I, dtype=F64), hx)


def test_packed_sequences_match_torch(assert_matches_torch):
    torch.manual_seed(1)
    ref = nn.LSTM(I, H, num_layers=2, batch_first=True, dtype=F64)
    assert_matches_torch(StackedLSTM.from_torch(ref), ref, torch.randn(B, T, I, dtype=F64), lengths=torch.tensor([3, 5, 1]))


def test_each_layer_reads_the_layer_below():
    """The stack equals single-layer LSTMs chained by hand, with the same weights."""
    torch.manual_seed(2)
    model = StackedLSTM(I, H, num_layers=3, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    layer_input, by_hand = x, []
    for layer in range(3):
        single = LSTM(I if layer == 0 else H, H, dtype=F64)
        single.load_state_dict({name.replace(f"_l{layer}", "_l0"): p for name, p in model.named_parameters() if name.endswith(f"_l{layer}")})
        layer_input = single(layer_input)[0]
        by_hand.append(layer_input)
    outputs = model.layer_outputs(x)
    for got, expected in zip(outputs, by_hand, strict=True):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(model(x)[0], by_hand[-1], rtol=0, atol=1e-12)


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(3)
    model = StackedLSTM(I, H, num_layers=2, dropout=0.5, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    model.eval()
    torch.testing.assert_close(model(x)[0], model.to_torch()(x)[0], rtol=0, atol=1e-12)
    model.train()
    assert not torch.allclose(model(x)[0], model.eval()(x)[0])


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(4)
    model = StackedLSTM(2, 2, num_layers=2, dtype=F64)
    names = [n for n, _ in model.named_parameters()]

    def f(x, *params):
        out, (h, c) = torch.func.functional_call(model, dict(zip(names, params)), (x,))
        return out, h, c

    inputs = (torch.randn(3, 1, 2, dtype=F64, requires_grad=True), *model.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)


def test_learns_delayed_xor():
    """Output x_{t-1} XOR x_{t-2} at every step (bits): a two-layer stack gets it right within the budget."""
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(5)
    model = StackedLSTM(1, 12, num_layers=2, batch_first=True)
    readout = nn.Linear(12, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *readout.parameters()], lr=2e-2)

    def batch(n):
        bits = torch.randint(0, 2, (n, 12, 1), generator=g).float()
        target = (bits[:, 1:-1, 0] != bits[:, :-2, 0]).float()  # target at step t = 2..11
        return bits, target

    for _ in range(200):
        x, y = batch(32)
        loss = nn.functional.binary_cross_entropy_with_logits(readout(model(x)[0])[:, 2:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = batch(500)
    with torch.no_grad():
        accuracy = ((readout(model(x)[0])[:, 2:, 0] > 0).float() == y).float().mean().item()
    assert accuracy >= 0.97


def test_term_iri_and_invalid_arguments():
    assert StackedLSTM.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/stacked-lstm"
    for bad in (1, 0, True, 2.0):
        with pytest.raises(ValueError, match="at least 2 layers"):
            StackedLSTM(2, 3, num_layers=bad)
    with pytest.raises(ValueError, match="at least 2 layers"):
        StackedLSTM.from_torch(nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="layer_outputs expects"):
        StackedLSTM(2, 3).layer_outputs(torch.zeros(4, 2))
