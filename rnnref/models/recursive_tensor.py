r"""Recursive neural tensor network (RNTN): tree composition with a bilinear tensor term.

The RNTN of Socher et al. (2013) is a recursive neural network whose composition
function adds, to the usual linear map of the concatenated children, a *bilinear*
term: every output unit $i$ has its own matrix $V^{[i]}$ and adds
$[a; b]^\top V^{[i]} [a; b]$. The children can therefore interact
multiplicatively (one child can scale or flip the other's meaning, as "not"
flips the sentiment of a phrase) without a separate matrix per word:

$$
p = \tanh\Big(\begin{bmatrix} a \\ b \end{bmatrix}^\top V^{[1:d]} \begin{bmatrix} a \\ b \end{bmatrix} + W \begin{bmatrix} a \\ b \end{bmatrix} + b_W\Big),
\qquad
\Big([a;b]^\top V^{[1:d]} [a;b]\Big)_i = \sum_{j,k} [a;b]_j\, V^{[i]}_{jk}\, [a;b]_k
$$

With $V = 0$ it is exactly `RecursiveNeuralNetwork` (tested); the tensor term is
``torch.nn.functional.bilinear(c, c, V)`` with $c = [a; b]$ (tested).

| symbol      | parameter       | shape        |
|-------------|-----------------|--------------|
| $V^{[1:d]}$ | `weight_tensor` | (d, 2d, 2d)  |
| $W$         | `weight`        | (d, 2d)      |
| $b_W$       | `bias`          | (d,)         |

Trees, the readable recursion (`forward`) and the level-batched fast path
(`forward_batch`) are those of `rnnref.models.recursive`.

Reference: Richard Socher, Alex Perelygin, Jean Y. Wu, Jason Chuang, Christopher D.
Manning, Andrew Y. Ng and Christopher Potts (2013), "Recursive Deep Models for
Semantic Compositionality Over a Sentiment Treebank", EMNLP 2013.

Term: https://w3id.org/rnnref/term/recursive-neural-tensor-network
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnref.models.recursive import RecursiveNeuralNetwork, Tree, TreeStructure, chain_tree, parse_tree

__all__ = ["TERM_IRI", "RecursiveNeuralTensorNetwork", "Tree", "TreeStructure", "chain_tree", "parse_tree"]

TERM_IRI = "https://w3id.org/rnnref/term/recursive-neural-tensor-network"


class RecursiveNeuralTensorNetwork(RecursiveNeuralNetwork):
    r"""$p = \tanh([a;b]^\top V^{[1:d]} [a;b] + W [a;b] + b_W)$ applied bottom-up over binary trees.

    Args:
        size: d, the size of every node vector.
        bias: if False, $b_W$ is left out.
        device, dtype: of the parameters.

    Same calls as `RecursiveNeuralNetwork`: ``forward(leaves, tree)`` -> root (d,),
    ``encode``, ``forward_batch``.

    Example::

        >>> net = RecursiveNeuralTensorNetwork(4)
        >>> net(torch.randn(3, 4), (0, (1, 2))).shape
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
        super().__init__(size, bias, device=device, dtype=dtype)
        self.weight_tensor = nn.Parameter(torch.empty(size, 2 * size, 2 * size, device=device, dtype=dtype))  # V
        bound = 1.0 / (2 * size)
        nn.init.uniform_(self.weight_tensor, -bound, bound)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if hasattr(self, "weight_tensor"):
            bound = 1.0 / (2 * self.size)
            nn.init.uniform_(self.weight_tensor, -bound, bound)

    def compose(self, left: Tensor, right: Tensor) -> Tensor:
        """One internal node from its children: (..., d), (..., d) -> (..., d)."""
        c = torch.cat([left, right], dim=-1)  # [a; b]
        # $$([a;b]^\top V^{[1:d]} [a;b])_i = \sum_{jk} c_j V^{[i]}_{jk} c_k$$
        tensor_term = torch.einsum("...j,ijk,...k->...i", c, self.weight_tensor, c)
        # $$p = \tanh([a;b]^\top V^{[1:d]} [a;b] + W [a;b] + b_W)$$
        return torch.tanh(tensor_term + F.linear(c, self.weight, self.bias))

    def extra_repr(self) -> str:
        return f"{self.size}, bias={self.bias is not None}, tensor=({self.size}, {2 * self.size}, {2 * self.size})"

