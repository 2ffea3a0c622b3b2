"""Recursive neural network: tree parsing, composition by hand, the chain tree is torch.nn.RNN,
level-batched fast path = recursion, gradcheck and gradgradcheck, learns leaf parity on random trees."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from rnnref.models.recursive import TERM_IRI, RecursiveNeuralNetwork, TreeStructure, chain_tree, parse_tree

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_tree(rng: random.Random, low: int, high: int):
    """A random binary bracketing of leaves 0..n-1 in order, n uniform in [low, high]."""
    n = rng.randint(low, high)
    nodes: list = list(range(n))
    while len(nodes) > 1:
        i = rng.randrange(len(nodes) - 1)
        nodes[i : i + 2] = [(nodes[i], nodes[i + 1])]
    return n, nodes[0]


def test_parse_tree():
    structure = parse_tree(((0, 1), (2, (3, 4))))
    assert structure == TreeStructure(5, ((0, 1), (3, 4), (2, 6), (5, 7)), (0, 0, 0, 0, 0, 1, 1, 2, 3))
    assert structure.root == 8 and structure.num_nodes == 9
    assert parse_tree(3 - 3) == TreeStructure(1, (), (0,))
    assert chain_tree(4) == (((0, 1), 2), 3)
    for bad, match in [((0, 0), "each exactly once"), ((0, 2), "each exactly once"), ((0, 1, 2), "pair"),
                       ((0, "a"), "leaf index"), ((0, -1), "non-negative")]:
        with pytest.raises(ValueError, match=match):
            parse_tree(bad)


def test_composition_by_hand():
    torch.manual_seed(0)
    net = RecursiveNeuralNetwork(3, dtype=F64)
    leaves = torch.randn(3, 3, dtype=F64)
    W, b = net.weight.detach(), net.bias.detach()

    def node(a, c):
        return torch.tanh(W[:, :3] @ a + W[:, 3:] @ c + b)

    expected = node(leaves[0], node(leaves[1], leaves[2]))
    torch.testing.assert_close(net(leaves, (0, (1, 2))), expected, atol=1e-14, rtol=0)
    nodes = net.encode(leaves, (0, (1, 2)))
    assert nodes.shape == (5, 3)
    torch.testing.assert_close(nodes[3], node(leaves[1], leaves[2]), atol=1e-14, rtol=0)


def test_the_chain_tree_is_a_recurrent_network():
    """(((x0, x1), x2), ...) is torch.nn.RNN with h_0 = x0, W_hh = W[:, :d], W_ih = W[:, d:]."""
    torch.manual_seed(1)
    d, n = 4, 6
    net = RecursiveNeuralNetwork(d, dtype=F64)
    rnn = nn.RNN(d, d, dtype=F64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(net.weight[:, :d])
        rnn.weight_ih_l0.copy_(net.weight[:, d:])
        rnn.bias_ih_l0.copy_(net.bias)
        rnn.bias_hh_l0.zero_()
    leaves = torch.randn(n, d, dtype=F64)
    nodes = net.encode(leaves, chain_tree(n))
    outputs, h_n = rnn(leaves[1:], leaves[:1])
    torch.testing.assert_close(nodes[n:], outputs, atol=1e-12, rtol=0)
    torch.testing.assert_close(net(leaves, chain_tree(n)), h_n[0], atol=1e-12, rtol=0)


def test_level_batched_fast_path_equals_recursion():
    torch.manual_seed(2)
    rng = random.Random(2)
    net = RecursiveNeuralNetwork(3, dtype=F64)
    trees, leaves = [], []
    for _ in range(10):
        n, tree = random_tree(rng, 1, 9)
        trees.append(tree)
        leaves.append(torch.randn(n, 3, dtype=F64))
    roots = net.forward_batch(leaves, trees)
    for root, leaf_matrix, tree in zip(roots, leaves, trees, strict=True):
        torch.testing.assert_close(root, net(leaf_matrix, tree), atol=1e-14, rtol=0)
        torch.testing.assert_close(root, net(leaf_matrix, parse_tree(tree)), atol=1e-14, rtol=0)
    table, _ = net.encode_batch(leaves, trees)
    assert table.size(0) == sum(2 * len(m) - 1 for m in leaves)
    # gradients flow through the batched path to the leaves and the weights
    leaves[0].requires_grad_(True)
    net.forward_batch(leaves, trees).sum().backward()
    assert leaves[0].grad is not None and net.weight.grad.abs().sum() > 0


class _Batched(nn.Module):
    """forward = forward_batch, so functional_call can substitute the weights on the fast path too."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, leaves, trees):
        return self.net.forward_batch(leaves, trees)


def test_gradcheck_and_gradgradcheck():
    torch.manual_seed(3)
    net = RecursiveNeuralNetwork(2, dtype=F64)
    batched = _Batched(net)
    leaves = torch.randn(4, 2, dtype=F64, requires_grad=True)
    W = net.weight.detach().clone().requires_grad_()
    b = net.bias.detach().clone().requires_grad_()
    tree = ((0, 1), (2, 3))

    def recursion(leaves, W, b):
        return torch.func.functional_call(net, {"weight": W, "bias": b}, (leaves, tree))

    def level_batched(leaves, W, b):
        return torch.func.functional_call(
            batched, {"net.weight": W, "net.bias": b}, ([leaves, leaves[:2]], [tree, (1, 0)])
        )

    for fn in (recursion, level_batched):
        assert torch.autograd.gradcheck(fn, (leaves, W, b))
        assert torch.autograd.gradgradcheck(fn, (leaves, W, b))


def _parity_batch(rng, size, low, high, embedding):
    trees, leaves, labels = [], [], []
    for _ in range(size):
        n, tree = random_tree(rng, low, high)
        bits = torch.tensor([rng.randint(0, 1) for _ in range(n)])
        trees.append(tree)
        leaves.append(embedding(bits))
        labels.append(float(bits.sum() % 2))
    return leaves, trees, torch.tensor(labels)


def test_learns_leaf_parity_on_random_trees_and_generalises_to_bigger_ones():
    torch.manual_seed(0)
    rng = random.Random(0)
    net = RecursiveNeuralNetwork(8)
    embedding = nn.Embedding(2, 8)
    readout = nn.Linear(8, 1)
    optimizer = torch.optim.Adam([*net.parameters(), *embedding.parameters(), *readout.parameters()], lr=0.02)
    for _ in range(150):
        leaves, trees, labels = _parity_batch(rng, 32, 2, 6, embedding)
        loss = F.binary_cross_entropy_with_logits(readout(net.forward_batch(leaves, trees))[:, 0], labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for low, high in ((2, 6), (7, 10)):  # trees with more leaves than any seen in training
            leaves, trees, labels = _parity_batch(rng, 300, low, high, embedding)
            accuracy = ((readout(net.forward_batch(leaves, trees))[:, 0] > 0).float() == labels).float().mean()
            assert accuracy.item() > 0.97, (low, high)


def test_invalid_inputs():
    net = RecursiveNeuralNetwork(3)
    with pytest.raises(ValueError, match="2 leaves but 3"):
        net(torch.zeros(3, 3), (0, 1))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        net(torch.zeros(2, 4), (0, 1))
    with pytest.raises(ValueError, match="one leaf matrix per tree"):
        net.forward_batch([torch.zeros(2, 3)], [(0, 1), (1, 0)])
    with pytest.raises(ValueError, match="size"):
        RecursiveNeuralNetwork(0)


def test_term_iri():
    assert RecursiveNeuralNetwork.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/recursive-neural-network"
