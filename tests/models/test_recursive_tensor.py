"""RNTN: composition by hand, tensor term = torch.nn.functional.bilinear, V = 0 is the plain recursive
network, fast = recursion, gradcheck and gradgradcheck, and leaf parity with node vectors of size 2."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from rnnref.models.recursive import RecursiveNeuralNetwork
from rnnref.models.recursive_tensor import TERM_IRI, RecursiveNeuralTensorNetwork

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_tree(rng, low, high):
    n = rng.randint(low, high)
    nodes: list = list(range(n))
    while len(nodes) > 1:
        i = rng.randrange(len(nodes) - 1)
        nodes[i : i + 2] = [(nodes[i], nodes[i + 1])]
    return n, nodes[0]


def test_composition_by_hand():
    torch.manual_seed(0)
    d = 2
    net = RecursiveNeuralTensorNetwork(d, dtype=F64)
    a, b = torch.randn(d, dtype=F64), torch.randn(d, dtype=F64)
    c = torch.cat([a, b])
    V, W, bias = net.weight_tensor.detach(), net.weight.detach(), net.bias.detach()
    expected = torch.stack(
        [
            torch.tanh(
                sum(c[j] * V[i, j, k] * c[k] for j in range(2 * d) for k in range(2 * d))
                + sum(W[i, j] * c[j] for j in range(2 * d))
                + bias[i]
            )
            for i in range(d)
        ]
    )
    torch.testing.assert_close(net.compose(a, b), expected, atol=1e-14, rtol=0)


def test_tensor_term_is_torch_bilinear_and_zero_tensor_is_the_plain_network():
    torch.manual_seed(1)
    net = RecursiveNeuralTensorNetwork(3, dtype=F64)
    left, right = torch.randn(5, 3, dtype=F64), torch.randn(5, 3, dtype=F64)
    c = torch.cat([left, right], -1)
    expected = torch.tanh(F.bilinear(c, c, net.weight_tensor) + F.linear(c, net.weight, net.bias))
    torch.testing.assert_close(net.compose(left, right), expected, atol=1e-13, rtol=0)
    plain = RecursiveNeuralNetwork(3, dtype=F64)
    with torch.no_grad():
        plain.weight.copy_(net.weight)
        plain.bias.copy_(net.bias)
        net.weight_tensor.zero_()
    leaves = torch.randn(5, 3, dtype=F64)
    tree = ((0, (1, 2)), (3, 4))
    torch.testing.assert_close(net(leaves, tree), plain(leaves, tree), atol=1e-14, rtol=0)


def test_level_batched_fast_path_equals_recursion():
    torch.manual_seed(2)
    rng = random.Random(2)
    net = RecursiveNeuralTensorNetwork(3, dtype=F64)
    trees, leaves = [], []
    for _ in range(8):
        n, tree = _random_tree(rng, 1, 8)
        trees.append(tree)
        leaves.append(torch.randn(n, 3, dtype=F64))
    roots = net.forward_batch(leaves, trees)
    for root, leaf_matrix, tree in zip(roots, leaves, trees, strict=True):
        torch.testing.assert_close(root, net(leaf_matrix, tree), atol=1e-14, rtol=0)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    net = RecursiveNeuralTensorNetwork(2, dtype=F64)
    names = [n for n, _ in net.named_parameters()]
    leaves = torch.randn(3, 2, dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())

    def fn(leaves, *weights):
        return torch.func.functional_call(net, dict(zip(names, weights, strict=True)), (leaves, ((0, 1), 2)))

    assert torch.autograd.gradcheck(fn, (leaves, *params))
    assert torch.autograd.gradgradcheck(fn, (leaves, *params))


def test_learns_leaf_parity_with_two_dimensional_node_vectors():
    """The multiplicative term makes XOR of two children one composition: d = 2 is enough."""
    torch.manual_seed(0)
    rng = random.Random(0)
    net = RecursiveNeuralTensorNetwork(2)
    embedding = nn.Embedding(2, 2)
    readout = nn.Linear(2, 1)
    optimizer = torch.optim.Adam([*net.parameters(), *embedding.parameters(), *readout.parameters()], lr=0.02)

    def batch(size, low, high):
        trees, leaves, labels = [], [], []
        for _ in range(size):
            n, tree = _random_tree(rng, low, high)
            bits = torch.tensor([rng.randint(0, 1) for _ in range(n)])
            trees.append(tree)
            leaves.append(embedding(bits))
            labels.append(float(bits.sum() % 2))
        return leaves, trees, torch.tensor(labels)

    for _ in range(150):
        leaves, trees, labels = batch(32, 2, 6)
        loss = F.binary_cross_entropy_with_logits(readout(net.forward_batch(leaves, trees))[:, 0], labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for low, high in ((2, 6), (7, 10)):
            leaves, trees, labels = batch(300, low, high)
            accuracy = ((readout(net.forward_batch(leaves, trees))[:, 0] > 0).float() == labels).float().mean()
            assert accuracy.item() > 0.97, (low, high)


def test_term_iri():
    assert RecursiveNeuralTensorNetwork.term_iri == TERM_IRI
    assert TERM_IRI == "https://w3id.org/rnnref/term/recursive-neural-tensor-network"
