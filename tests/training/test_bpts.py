"""Backpropagation through structure: the explicit reverse pass over the tree equals autograd on
rnnref.models.recursive's network in float64 for random trees and losses on any nodes (hypothesis);
on a chain it is backpropagation through time (equals autograd through torch.nn.RNN); a training loop
driven only by bpts learns a tree task."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnref.models.recursive import RecursiveNeuralNetwork, chain_tree, parse_tree
from rnnref.training.bpts import TERM_IRI, BackpropagationThroughStructure, bpts

torch.set_num_threads(1)
F64 = torch.float64


def random_tree(g: torch.Generator, leaves: list[int]):
    """A uniformly random split at every level: any binary tree shape over the given leaves."""
    if len(leaves) == 1:
        return leaves[0]
    cut = int(torch.randint(1, len(leaves), (1,), generator=g))
    return (random_tree(g, leaves[:cut]), random_tree(g, leaves[cut:]))


def _autograd(net, leaves, structure, node_grads):
    leaves = leaves.clone().requires_grad_(True)
    nodes = net.encode(leaves, structure)
    loss = (nodes * node_grads).sum()  # a loss whose direct gradient at every node is node_grads
    params = [net.weight] + ([net.bias] if net.bias is not None else [])
    return torch.autograd.grad(loss, [leaves, *params], allow_unused=True, materialize_grads=True)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 9), d=st.integers(1, 4), bias=st.booleans(), every_node=st.booleans())
def test_equals_autograd_on_random_trees(seed, n, d, bias, every_node):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = RecursiveNeuralNetwork(d, bias=bias, dtype=F64)
    leaves = torch.randn(n, d, generator=g, dtype=F64)
    order = torch.randperm(n, generator=g).tolist()
    structure = parse_tree(random_tree(g, order))
    if every_node:
        node_grads = torch.randn(structure.num_nodes, d, generator=g, dtype=F64)
        got = bpts(net, leaves, structure, node_grads)
    else:
        root_grad = torch.randn(d, generator=g, dtype=F64)
        node_grads = torch.zeros(structure.num_nodes, d, dtype=F64)
        node_grads[structure.root] = root_grad
        got = bpts(net, leaves, structure, root_grad=root_grad)
    expected = _autograd(net, leaves, structure, node_grads)
    torch.testing.assert_close(got.leaves, expected[0], rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(got.weight, expected[1], rtol=1e-12, atol=1e-13)
    if bias:
        torch.testing.assert_close(got.bias, expected[2], rtol=1e-12, atol=1e-13)
    else:
        assert got.bias is None


def test_on_a_chain_it_is_backpropagation_through_time():
    """The left-branching chain is torch.nn.RNN (h_0 = leaf 0); BPTS gradients equal autograd through it."""
    torch.manual_seed(1)
    d, T = 3, 6
    net = RecursiveNeuralNetwork(d, dtype=F64)
    rnn = nn.RNN(d, d, dtype=F64)
    rnn.load_state_dict(
        {"weight_hh_l0": net.weight[:, :d], "weight_ih_l0": net.weight[:, d:], "bias_ih_l0": net.bias, "bias_hh_l0": torch.zeros(d, dtype=F64)}
    )
    leaves = torch.randn(T, d, dtype=F64, requires_grad=True)
    root_grad = torch.randn(d, dtype=F64)
    out, _ = rnn(leaves[1:], leaves[:1])
    (out[-1] * root_grad).sum().backward()
    got = bpts(net, leaves.detach(), chain_tree(T), root_grad=root_grad)
    torch.testing.assert_close(got.weight[:, :d], rnn.weight_hh_l0.grad)
    torch.testing.assert_close(got.weight[:, d:], rnn.weight_ih_l0.grad)
    torch.testing.assert_close(got.bias, rnn.bias_ih_l0.grad)
    torch.testing.assert_close(got.leaves, leaves.grad)


def test_training_with_bpts_learns_tree_parity():
    """XOR of two ±1 leaves composed by the tree, then a fixed readout of the root: BPTS alone reaches loss < 0.05."""
    torch.manual_seed(0)
    net = RecursiveNeuralNetwork(4, dtype=F64)
    readout = torch.tensor([1.0, -1.0, 0.5, -0.5], dtype=F64)
    trainer = BackpropagationThroughStructure(net, lr=0.1)
    codes = {-1.0: torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=F64), 1.0: torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=F64)}
    cases = [((a, b), a * b) for a in (-1.0, 1.0) for b in (-1.0, 1.0)]

    def loss_and_grad(pair, target):
        leaves = torch.stack([codes[pair[0]], codes[pair[1]]])
        root = net(leaves, (0, 1))
        error = readout @ root - 0.8 * target
        return error**2, 2 * error * readout, leaves

    for _ in range(400):
        for pair, target in cases:
            _, root_grad, leaves = loss_and_grad(pair, target)
            trainer.step(leaves, (0, 1), root_grad=root_grad)
    total = sum(loss_and_grad(pair, target)[0].item() for pair, target in cases) / 4
    assert total < 0.05


def test_term_iri_and_invalid_arguments():
    assert BackpropagationThroughStructure.term_iri == bpts.term_iri == TERM_IRI
    assert TERM_IRI == "https://w3id.org/rnnref/term/backpropagation-through-structure"
    net = RecursiveNeuralNetwork(2, dtype=F64)
    leaves = torch.zeros(3, 2, dtype=F64)
    with pytest.raises(ValueError, match="exactly one"):
        bpts(net, leaves, ((0, 1), 2))
    with pytest.raises(ValueError, match="node_grads must have shape"):
        bpts(net, leaves, ((0, 1), 2), torch.zeros(3, 2, dtype=F64))
    with pytest.raises(ValueError, match="root_grad"):
        bpts(net, leaves, ((0, 1), 2), root_grad=torch.zeros(3, dtype=F64))
    with pytest.raises(TypeError):
        BackpropagationThroughStructure(nn.Linear(2, 2), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        BackpropagationThroughStructure(net, lr=0)
