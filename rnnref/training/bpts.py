r"""Backpropagation through structure (BPTS): gradients of a recursive network by a reverse pass over its tree.

A recursive neural network (`rnnref.models.recursive`) computes a vector for every
internal node $p$ of a tree from its children $a, b$ with one shared composition,

$$
p = \tanh(u_p), \qquad u_p = W \begin{bmatrix} a \\ b \end{bmatrix} + b_W .
$$

Backpropagation through structure (Goller & Küchler 1996) differentiates a loss
$\mathcal{L}$ of the node vectors by running the same tree **top-down**: every node
collects an error $\delta_p = \partial \mathcal{L} / \partial p$ from the loss (if
the loss reads that node, e.g. the root, or every phrase in sentiment
classification) and from its parent; internal nodes are visited parents before
children (reverse post-order), and the shared weights sum the contributions of
all nodes:

$$
\begin{aligned}
\delta_p &= \frac{\partial \mathcal{L}}{\partial p}\Big|_{\text{direct}} + \sum_{q:\ p \text{ child of } q} \big[W^\top \varepsilon_q\big]_{p} \\
\varepsilon_p &= \delta_p \odot (1 - p^2) \qquad (\partial \mathcal{L} / \partial u_p) \\
\frac{\partial \mathcal{L}}{\partial W} &= \sum_{p \text{ internal}} \varepsilon_p \begin{bmatrix} a_p \\ b_p \end{bmatrix}^\top, \qquad
\frac{\partial \mathcal{L}}{\partial b_W} = \sum_{p \text{ internal}} \varepsilon_p
\end{aligned}
$$

where $[W^\top \varepsilon_q]_p$ is the half (left or right) of $W^\top \varepsilon_q$
that belongs to child $p$. Leaves end the pass with $\delta_{\text{leaf}}$, the
gradient for the leaf vectors (word embeddings). Backpropagation through time is
the special case of a chain.

Here the reverse pass is written out explicitly (no autograd), so the method can
be read and checked: `bpts` is tested equal to PyTorch's autograd on
`RecursiveNeuralNetwork` in float64 for random trees.

| input / output  | shape                       |
|-----------------|-----------------------------|
| leaves          | (n, d)                      |
| node_grads      | (n + m, d): $\partial \mathcal{L}/\partial(\text{node})$ from the loss, node-id order |
| result.weight   | (d, 2d), as `weight`        |
| result.bias     | (d,) or None                |
| result.leaves   | (n, d)                      |
| result.deltas   | (n + m, d): every node's total $\delta$ |

Node ids as `rnnref.models.recursive.TreeStructure`: leaves 0..n-1, then the
internal nodes in post-order.

Reference: Christoph Goller and Andreas Küchler (1996), "Learning task-dependent
distributed representations by backpropagation through structure", Proceedings of
ICNN'96, vol. 1, p. 347, doi:10.1109/ICNN.1996.548916.

Term: https://w3id.org/rnnref/term/backpropagation-through-structure
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnref.models.recursive import RecursiveNeuralNetwork, Tree, TreeStructure, parse_tree

TERM_IRI = "https://w3id.org/rnnref/term/backpropagation-through-structure"


@dataclass
class StructureGradients:
    """What `bpts` returns: parameter gradients, leaf gradients and every node's error."""

    weight: Tensor  #: dL/dW, (d, 2d)
    bias: Tensor | None  #: dL/db_W, (d,), None if the network has no bias
    leaves: Tensor  #: dL/d(leaf vectors), (n, d)
    deltas: Tensor  #: delta of every node (leaves and internal), (n + m, d)


@torch.no_grad()
def bpts(
    net: RecursiveNeuralNetwork,
    leaves: Tensor,
    tree: Tree | TreeStructure,
    node_grads: Tensor | None = None,
    *,
    root_grad: Tensor | None = None,
) -> StructureGradients:
    r"""Gradients of a loss of the node vectors of ``net`` over ``tree``, by an explicit reverse pass.

    Give the loss's direct gradients either for every node (``node_grads`` (n + m, d),
    node-id order, zeros for nodes the loss does not read) or only for the root
    (``root_grad`` (d,)).
    """
    structure = tree if isinstance(tree, TreeStructure) else parse_tree(tree)
    # forward pass: every node's vector, leaves first, internal nodes in post-order
    nodes = net.encode(leaves, structure)  # (n + m, d)
    n, d = structure.num_leaves, net.size
    if (node_grads is None) == (root_grad is None):
        raise ValueError("give exactly one of node_grads (n + m, d) and root_grad (d,)")
    if root_grad is not None:
        if not isinstance(root_grad, Tensor) or tuple(root_grad.shape) != (d,):
            raise ValueError(f"root_grad must have shape ({d},)")
        node_grads = nodes.new_zeros(nodes.shape)
        node_grads[structure.root] = root_grad
    elif not isinstance(node_grads, Tensor) or tuple(node_grads.shape) != tuple(nodes.shape):
        raise ValueError(f"node_grads must have shape {tuple(nodes.shape)} (one row per node)")

    # $$\delta_p = \partial\mathcal{L}/\partial p|_{\text{direct}}$$ ; parents add theirs below
    deltas = node_grads.clone().to(nodes.dtype)
    grad_weight = torch.zeros_like(net.weight)
    grad_bias = None if net.bias is None else torch.zeros_like(net.bias)
    # reverse pass: internal nodes parents-first (reverse post-order)
    for m in reversed(range(len(structure.merges))):
        p = n + m
        a, b = structure.merges[m]
        # $$\varepsilon_p = \delta_p \odot (1 - p^2)$$
        epsilon = deltas[p] * (1 - nodes[p] ** 2)
        children = torch.cat([nodes[a], nodes[b]])  # [a; b], (2d,)
        # $$\partial\mathcal{L}/\partial W \mathrel{+}= \varepsilon_p [a; b]^\top, \quad \partial\mathcal{L}/\partial b_W \mathrel{+}= \varepsilon_p$$
        grad_weight += torch.outer(epsilon, children)
        if grad_bias is not None:
            grad_bias += epsilon
        # $$\delta_a \mathrel{+}= [W^\top \varepsilon_p]_{1:d}, \quad \delta_b \mathrel{+}= [W^\top \varepsilon_p]_{d+1:2d}$$
        back = net.weight.T @ epsilon  # (2d,)
        deltas[a] += back[:d]
        deltas[b] += back[d:]
    return StructureGradients(weight=grad_weight, bias=grad_bias, leaves=deltas[:n].clone(), deltas=deltas)


bpts.term_iri = TERM_IRI  # type: ignore[attr-defined]


class BackpropagationThroughStructure:
    r"""BPTS as a training method: ``step(leaves, tree, node_grads)`` runs `bpts` and a gradient-descent update.

    $$W \leftarrow W - \eta\, \partial\mathcal{L}/\partial W, \quad b_W \leftarrow b_W - \eta\, \partial\mathcal{L}/\partial b_W$$

    Args:
        net: the `RecursiveNeuralNetwork` to train.
        lr: $\eta > 0$.

    ``gradients(...)`` is `bpts` on ``net``; ``step`` also returns them.
    """

    term_iri = TERM_IRI

    def __init__(self, net: RecursiveNeuralNetwork, lr: float) -> None:
        if not isinstance(net, RecursiveNeuralNetwork):
            raise TypeError(f"BackpropagationThroughStructure trains a RecursiveNeuralNetwork, got {type(net).__name__}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        self.net, self.lr = net, float(lr)

    def gradients(self, leaves: Tensor, tree: Tree | TreeStructure, node_grads: Tensor | None = None, *, root_grad: Tensor | None = None) -> StructureGradients:
        return bpts(self.net, leaves, tree, node_grads, root_grad=root_grad)

    @torch.no_grad()
    def step(self, leaves: Tensor, tree: Tree | TreeStructure, node_grads: Tensor | None = None, *, root_grad: Tensor | None = None) -> StructureGradients:
        grads = self.gradients(leaves, tree, node_grads, root_grad=root_grad)
        self.net.weight -= self.lr * grads.weight
        if self.net.bias is not None:
            self.net.bias -= self.lr * grads.bias
        return grads
