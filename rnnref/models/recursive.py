r"""Recursive neural network: one composition function applied over a binary tree.

A recursive neural network computes a vector for every node of a tree, bottom-up:
a leaf's vector is given (a word embedding, say), and an internal node's vector is
the same learned function of its two children's vectors, whatever the node's depth.
The root's vector represents the whole structure and can be classified, and every
internal node's vector can be classified too (Socher et al. classify the sentiment
of every phrase of a parse tree). Trained end to end by backpropagation through the
structure. A recurrent network is the special case whose tree is a chain: each
node combines the previous node with the next input (tested: the left-branching
chain equals ``torch.nn.RNN``).

$$
p = \tanh\Big(W \begin{bmatrix} a \\ b \end{bmatrix} + b_W\Big)
$$

for a node $p$ with left child $a$ and right child $b$.

| symbol | parameter | shape   |
|--------|-----------|---------|
| $W$    | `weight`  | (d, 2d) |
| $b_W$  | `bias`    | (d,)    |

**Trees.** A tree is a nested pair of pairs whose leaves are ints indexing the rows
of a leaf matrix (n, d): ``((0, 1), 2)`` combines leaves 0 and 1, then the result
with leaf 2. `parse_tree` turns it into an explicit structure, `TreeStructure`: the
merges in post-order, node ids ``0..n-1`` for the leaves and ``n, n+1, ...`` for
the internal nodes in the order they are made.

`RecursiveNeuralNetwork.forward` is the readable path: plain recursion, one
`compose` per internal node. `forward_batch` is the fast path for a batch of trees:
all nodes of the same height, across all trees, are composed in one matrix
product. The two are tested equal. Shape letters: d vector size, n leaves.

References: Christoph Goller and Andreas Küchler (1996), "Learning task-dependent
distributed representations by backpropagation through structure", Proceedings of
ICNN'96, vol. 1, p. 347, doi:10.1109/ICNN.1996.548916; Richard Socher, Cliff Lin,
Andrew Y. Ng and Christopher D. Manning (2011), "Parsing Natural Scenes and Natural
Language with Recursive Neural Networks", ICML 2011.

Term: https://w3id.org/rnnref/term/recursive-neural-network
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models._recurrent import check_flag, check_size

TERM_IRI = "https://w3id.org/rnnref/term/recursive-neural-network"

#: A binary tree: a leaf index, or a pair of trees.
Tree = int | tuple["Tree", "Tree"]


@dataclass(frozen=True)
class TreeStructure:
    """A binary tree made explicit: ``merges[m] = (left, right)`` creates node ``num_leaves + m``.

    Merges are in post-order (children before parents); the root is the last node.
    ``heights[node]`` is 0 for a leaf and 1 + the larger child height otherwise.
    """

    num_leaves: int
    merges: tuple[tuple[int, int], ...]
    heights: tuple[int, ...]

    @property
    def num_nodes(self) -> int:
        return self.num_leaves + len(self.merges)

    @property
    def root(self) -> int:
        return self.num_nodes - 1


def parse_tree(tree: Tree) -> TreeStructure:
    """Nested pairs of leaf indices -> `TreeStructure`; every leaf 0..n-1 exactly once."""
    leaves: list[int] = []
    merges: list[tuple[tuple[str, int], tuple[str, int]]] = []

    def visit(node) -> tuple[str, int]:
        if isinstance(node, bool) or not isinstance(node, (int, tuple)):
            raise ValueError(f"a tree node must be a leaf index (int) or a pair, got {node!r}")
        if isinstance(node, int):
            if node < 0:
                raise ValueError(f"leaf indices must be non-negative, got {node}")
            leaves.append(node)
            return ("leaf", node)
        if len(node) != 2:
            raise ValueError(f"an internal node must be a pair (left, right), got {len(node)} children")
        left, right = visit(node[0]), visit(node[1])
        merges.append((left, right))
        return ("merge", len(merges) - 1)

    visit(tree)
    n = len(leaves)
    if sorted(leaves) != list(range(n)):
        raise ValueError(f"the leaves must be 0..{n - 1}, each exactly once, got {sorted(leaves)}")

    def node_id(ref: tuple[str, int]) -> int:
        return ref[1] if ref[0] == "leaf" else n + ref[1]

    explicit = tuple((node_id(a), node_id(b)) for a, b in merges)
    height = [0] * n
    for a, b in explicit:
        height.append(1 + max(height[a], height[b]))
    return TreeStructure(n, explicit, tuple(height))


def chain_tree(length: int) -> Tree:
    """The left-branching chain ``(((0, 1), 2), ...)``: a recurrent network's unrolled structure."""
    check_size("length", length)
    tree: Tree = 0
    for i in range(1, length):
        tree = (tree, i)
    return tree


class RecursiveNeuralNetwork(nn.Module):
    r"""The composition $p = \tanh(W [a; b] + b_W)$ applied bottom-up over binary trees.

    Args:
        size: d, the size of every node vector (leaves included).
        bias: if False, $b_W$ is left out.
        device, dtype: of the parameters.

    ``forward(leaves, tree)``: leaves (n, d), tree a nested pair (or a `TreeStructure`);
    returns the root vector (d,). ``encode`` returns every node's vector (n + m, d).
    ``forward_batch(leaves_list, trees)`` returns the roots of many trees, (N, d).

    Example::

        >>> net = RecursiveNeuralNetwork(4)
        >>> leaves = torch.randn(3, 4)
        >>> net(leaves, ((0, 1), 2)).shape
        torch.Size([4])
    """

    term_iri = TERM_IRI

    def __init__(
        self,
        size: int,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.size = check_size("size", size)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(size, 2 * size, **factory))  # W
        if check_flag("bias", bias):
            self.bias = nn.Parameter(torch.empty(size, **factory))  # b_W
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(2 * self.size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def compose(self, left: Tensor, right: Tensor) -> Tensor:
        """One internal node from its children: (..., d), (..., d) -> (..., d)."""
        # $$p = \tanh(W [a; b] + b_W)$$
        return torch.tanh(F.linear(torch.cat([left, right], dim=-1), self.weight, self.bias))

    # -- readable path: recursion ---------------------------------------------------

    def _check_leaves(self, leaves: Tensor, structure: TreeStructure) -> None:
        if not isinstance(leaves, Tensor) or leaves.dim() != 2 or leaves.size(1) != self.size:
            shape = tuple(leaves.shape) if isinstance(leaves, Tensor) else type(leaves).__name__
            raise ValueError(f"expected leaves of shape (n, {self.size}), got {shape}")
        if leaves.size(0) != structure.num_leaves:
            raise ValueError(f"the tree has {structure.num_leaves} leaves but {leaves.size(0)} leaf vectors were given")

    def forward(self, leaves: Tensor, tree: Tree | TreeStructure) -> Tensor:
        """The root vector (d,), by recursion over the nested pairs."""
        structure = tree if isinstance(tree, TreeStructure) else parse_tree(tree)
        self._check_leaves(leaves, structure)
        if isinstance(tree, TreeStructure):
            return self.encode(leaves, tree)[-1]

        def node(subtree: Tree) -> Tensor:
            if isinstance(subtree, int):
                return leaves[subtree]
            return self.compose(node(subtree[0]), node(subtree[1]))

        return node(tree)

    def encode(self, leaves: Tensor, tree: Tree | TreeStructure) -> Tensor:
        """Every node's vector in node-id order (leaves first, then merges in post-order), (n + m, d)."""
        structure = tree if isinstance(tree, TreeStructure) else parse_tree(tree)
        self._check_leaves(leaves, structure)
        nodes = list(leaves.unbind(0))
        for a, b in structure.merges:
            nodes.append(self.compose(nodes[a], nodes[b]))
        return torch.stack(nodes)

    # -- fast path: level by level over a batch of trees ------------------------------

    def forward_batch(self, leaves: Sequence[Tensor], trees: Sequence[Tree | TreeStructure]) -> Tensor:
        """Roots of many trees, (N, d): the nodes of each height, across trees, in one product."""
        return self.encode_batch(leaves, trees)[1]

    def encode_batch(self, leaves: Sequence[Tensor], trees: Sequence[Tree | TreeStructure]) -> tuple[Tensor, Tensor]:
        """All node vectors of all trees, concatenated (sum of n + m, d), and the roots (N, d)."""
        if len(leaves) != len(trees) or not trees:
            raise ValueError(f"expected one leaf matrix per tree, got {len(leaves)} and {len(trees)}")
        structures = [t if isinstance(t, TreeStructure) else parse_tree(t) for t in trees]
        offsets, total = [], 0
        for leaf_matrix, structure in zip(leaves, structures, strict=True):
            self._check_leaves(leaf_matrix, structure)
            offsets.append(total)
            total += structure.num_nodes
        # a flat table of all nodes; internal nodes filled in height by height
        by_height: dict[int, list[tuple[int, int, int]]] = {}
        leaf_rows, leaf_ids = [], []
        for offset, structure, leaf_matrix in zip(offsets, structures, leaves, strict=True):
            leaf_rows.append(leaf_matrix)
            leaf_ids.extend(range(offset, offset + structure.num_leaves))
            for m, (a, b) in enumerate(structure.merges):
                node = structure.num_leaves + m
                by_height.setdefault(structure.heights[node], []).append((offset + node, offset + a, offset + b))
        first = leaves[0]
        table = first.new_zeros(total, self.size)
        table = table.index_copy(0, torch.tensor(leaf_ids, device=first.device), torch.cat(leaf_rows))
        for height in sorted(by_height):
            targets, lefts, rights = (torch.tensor(column, device=first.device) for column in zip(*by_height[height]))
            composed = self.compose(table.index_select(0, lefts), table.index_select(0, rights))
            table = table.index_copy(0, targets, composed)
        roots = torch.tensor([o + s.root for o, s in zip(offsets, structures, strict=True)], device=first.device)
        return table, table.index_select(0, roots)

    def extra_repr(self) -> str:
        return f"{self.size}, bias={self.bias is not None}"
