"""Jordan network: hand-unrolled reference, gradcheck, and the feedforward limit."""

from __future__ import annotations

import math

import pytest
import torch

from rnnref.models.jordan import TERM_IRI, JordanNetwork

F64 = torch.float64


def _reference_loop(net: JordanNetwork, x: torch.Tensor, y0: torch.Tensor | None = None) -> torch.Tensor:
    """The defining equations, written out per sample and per unit with Python floats."""
    W_h = net.weight_xh.detach().tolist()
    U_h = net.weight_yh.detach().tolist()
    b_h = net.bias_h.detach().tolist()
    W_y = net.weight_hy.detach().tolist()
    b_y = net.bias_y.detach().tolist()
    act = {"tanh": math.tanh, "identity": lambda z: z, "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z))}[
        net.output_activation
    ]
    B, T, I = x.shape
    H, O = net.hidden_size, net.output_size
    out = []
    for b in range(B):
        y_prev = [0.0] * O if y0 is None else y0[b].tolist()
        seq = []
        for t in range(T):
            x_t = x[b, t].tolist()
            h = [
                math.tanh(
                    sum(W_h[j][i] * x_t[i] for i in range(I)) + sum(U_h[j][k] * y_prev[k] for k in range(O)) + b_h[j]
                )
                for j in range(H)
            ]
            y = [act(sum(W_y[k][j] * h[j] for j in range(H)) + b_y[k]) for k in range(O)]
            seq.append(y)
            y_prev = y
        out.append(seq)
    return torch.tensor(out, dtype=F64)


@pytest.mark.parametrize("activation", ["tanh", "identity", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_hand_unrolled_loop(activation: str, seed: int) -> None:
    torch.manual_seed(seed)
    net = JordanNetwork(3, 5, 2, output_activation=activation, dtype=F64)
    x = torch.randn(4, 7, 3, dtype=F64)
    y0 = torch.randn(4, 2, dtype=F64)
    for initial in (None, y0):
        y, y_T = net(x, initial)
        expected = _reference_loop(net, x, initial)
        torch.testing.assert_close(y, expected, atol=1e-12, rtol=0)
        torch.testing.assert_close(y_T, expected[:, -1], atol=1e-12, rtol=0)


def test_gradcheck_float64() -> None:
    torch.manual_seed(0)
    net = JordanNetwork(3, 4, 2, dtype=F64)
    x = torch.randn(2, 5, 3, dtype=F64, requires_grad=True)
    y0 = torch.randn(2, 2, dtype=F64, requires_grad=True)
    names = [name for name, _ in net.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(x, y0, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights)), (x, y0))

    assert torch.autograd.gradcheck(fn, (x, y0, *params))


@pytest.mark.parametrize("activation", ["tanh", "identity", "sigmoid"])
def test_zero_context_weights_is_per_step_mlp(activation: str) -> None:
    """With U_h = 0 the context is cut: each step is the same two-layer MLP of x_t."""
    torch.manual_seed(3)
    net = JordanNetwork(4, 6, 3, output_activation=activation, dtype=F64)
    with torch.no_grad():
        net.weight_yh.zero_()
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).to(F64)
    with torch.no_grad():
        mlp[0].weight.copy_(net.weight_xh)
        mlp[0].bias.copy_(net.bias_h)
        mlp[2].weight.copy_(net.weight_hy)
        mlp[2].bias.copy_(net.bias_y)
    act = {"tanh": torch.tanh, "identity": lambda z: z, "sigmoid": torch.sigmoid}[activation]
    x = torch.randn(5, 9, 4, dtype=F64)
    y, _ = net(x, torch.randn(5, 3, dtype=F64))  # any y0: it must not matter
    torch.testing.assert_close(y, act(mlp(x)), atol=1e-12, rtol=0)


def test_context_matters_when_u_h_nonzero() -> None:
    torch.manual_seed(4)
    net = JordanNetwork(2, 4, 2, dtype=F64)
    x = torch.randn(1, 3, 2, dtype=F64)
    y_a, _ = net(x, torch.zeros(1, 2, dtype=F64))
    y_b, _ = net(x, torch.ones(1, 2, dtype=F64))
    assert (y_a[:, 0] - y_b[:, 0]).abs().max() > 1e-3


def test_cell_protocol_matches_forward() -> None:
    torch.manual_seed(5)
    net = JordanNetwork(3, 4, 2, dtype=F64)
    assert (net.input_size, net.hidden_size, net.output_size) == (3, 4, 2)
    x = torch.randn(2, 6, 3, dtype=F64)
    state = net.init_state(2, dtype=F64, device="cpu")
    assert torch.equal(state, torch.zeros(2, 2, dtype=F64))
    steps = []
    for t in range(6):
        y_t, state = net.step(x[:, t], state)
        assert torch.equal(state, y_t)  # the recurrent state is the previous output
        steps.append(y_t)
    y, y_T = net(x)
    assert torch.equal(torch.stack(steps, 1), y)
    assert torch.equal(y_T, state)


def test_no_bias() -> None:
    net = JordanNetwork(2, 3, 1, bias=False, output_activation="identity")
    assert net.bias_h is None and net.bias_y is None
    y, _ = net(torch.zeros(1, 4, 2))
    assert torch.equal(y, torch.zeros(1, 4, 1))  # zero input, zero context, no bias: stays at 0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="output_activation"):
        JordanNetwork(2, 3, 1, output_activation="relu6")
    with pytest.raises(ValueError, match="hidden_size"):
        JordanNetwork(2, 0, 1)
    net = JordanNetwork(2, 3, 1)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="y0"):
        net(torch.zeros(4, 3, 2), torch.zeros(4, 2))


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/jordan-network"
    assert JordanNetwork.term_iri == TERM_IRI
