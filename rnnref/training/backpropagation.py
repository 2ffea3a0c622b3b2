r"""Backpropagation, written out by hand for a multilayer perceptron.

Backpropagation computes the gradient of a loss with respect to every weight of a
layered network in one backward sweep, for about the cost of one forward pass. It
is the chain rule applied from the output back: each layer receives the error
signal $\delta$ of the layer above, multiplies by the derivative of its own
activation and passes $W^\top \delta$ on down; the gradient of a weight matrix is
the outer product of the error arriving at the layer and the activation that came
into it. Backpropagation through time (`rnnref.training.bptt`) is this same
recursion on a recurrent network unrolled in time.

The network: $L$ layers, activation $f$ on every hidden layer and none on the
output, squared error (column-vector convention; the code works on a batch of row
vectors and sums the loss over it):

$$
\begin{aligned}
a^{(0)} &= x \\
z^{(l)} &= W^{(l)} a^{(l-1)} + b^{(l)}, \quad a^{(l)} = f(z^{(l)}), \quad l = 1 \dots L-1 \\
y &= z^{(L)} = W^{(L)} a^{(L-1)} + b^{(L)} \\
\mathcal{L} &= \tfrac12 \lVert y - \hat y \rVert^2
\end{aligned}
$$

Backward pass, with $\delta^{(l)} = \partial \mathcal{L} / \partial z^{(l)}$:

$$
\begin{aligned}
\delta^{(L)} &= y - \hat y \\
\delta^{(l)} &= \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot f'(z^{(l)}), \quad l = L-1 \dots 1 \\
\frac{\partial \mathcal{L}}{\partial W^{(l)}} &= \delta^{(l)} a^{(l-1)\top}, \qquad
\frac{\partial \mathcal{L}}{\partial b^{(l)}} = \delta^{(l)}, \qquad
\frac{\partial \mathcal{L}}{\partial x} = W^{(1)\top} \delta^{(1)}
\end{aligned}
$$

with $f' = 1 - \tanh^2$, $\sigma(1 - \sigma)$ or $[z > 0]$ for tanh, sigmoid and
ReLU. `backprop_gradients` uses no autograd; the test checks it against
``torch.autograd`` in float64.

| symbol    | argument     | shape                       |
|-----------|--------------|-----------------------------|
| $W^{(l)}$ | `weights[l-1]` | (N_l, N_{l-1})            |
| $b^{(l)}$ | `biases[l-1]`  | (N_l,)                    |
| $x$       | `x`          | (B, N_0)                    |
| $\hat y$  | `target`     | (B, N_L)                    |

Reference: David E. Rumelhart, Geoffrey E. Hinton, Ronald J. Williams (1986),
"Learning representations by back-propagating errors", Nature 323: 533–536,
doi:10.1038/323533a0.

Term: https://w3id.org/rnnref/term/backpropagation
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/backpropagation"

#: activation name -> (f, f' written in terms of z and a = f(z))
ACTIVATIONS = {
    "tanh": (torch.tanh, lambda z, a: 1 - a * a),
    "sigmoid": (torch.sigmoid, lambda z, a: a * (1 - a)),
    "relu": (torch.relu, lambda z, a: (z > 0).to(z.dtype)),
}


@torch.no_grad()
def backprop_gradients(
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    x: Tensor,
    target: Tensor,
    activation: str = "tanh",
) -> tuple[Tensor, dict[str, list[Tensor] | Tensor]]:
    r"""Loss and gradients of an MLP by an explicit backward pass.

    Args:
        weights: $W^{(1)} \dots W^{(L)}$, ``weights[l]`` of shape (N_{l+1}, N_l).
        biases: $b^{(1)} \dots b^{(L)}$, ``biases[l]`` of shape (N_{l+1},).
        x: (B, N_0) inputs.
        target: (B, N_L) targets $\hat y$.
        activation: $f$ on the hidden layers: ``"tanh"``, ``"sigmoid"`` or ``"relu"``.

    Returns:
        ``(loss, grads)``: $\tfrac12 \sum \lVert y - \hat y \rVert^2$ over the batch
        (0-d) and ``{"weights": [...], "biases": [...], "x": ...}``, each gradient
        shaped like its argument.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(f"need as many biases as weights (at least one), got {len(weights)} and {len(biases)}")
    if x.dim() != 2:
        raise ValueError(f"x must be (B, N_0), got shape {tuple(x.shape)}")
    width = x.size(1)
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        if W.dim() != 2 or W.size(1) != width or tuple(b.shape) != (W.size(0),):
            raise ValueError(
                f"layer {l}: W must be (N_{l}, {width}) and b (N_{l},), got {tuple(W.shape)} and {tuple(b.shape)}"
            )
        width = W.size(0)
    if tuple(target.shape) != (x.size(0), width):
        raise ValueError(f"target must have shape {(x.size(0), width)}, got {tuple(target.shape)}")
    f, f_prime = ACTIVATIONS[activation]
    L = len(weights)

    # Forward pass: keep z^(l) and a^(l) for every layer (index 0 is the input).
    a = [x]  # a[l] = a^(l)
    z: list[Tensor | None] = [None]  # z[l] = z^(l)
    for l in range(1, L + 1):
        W, b = weights[l - 1], biases[l - 1]
        # $$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$$
        z_l = a[l - 1] @ W.T + b
        # $$a^{(l)} = f(z^{(l)})$$ on hidden layers; the output layer is linear
        a_l = f(z_l) if l < L else z_l
        z.append(z_l)
        a.append(a_l)
    y = a[L]
    # $$\mathcal{L} = \tfrac12 \lVert y - \hat y \rVert^2$$
    loss = 0.5 * ((y - target) ** 2).sum()

    # Backward pass.
    grad_W: list[Tensor | None] = [None] * L
    grad_b: list[Tensor | None] = [None] * L
    # $$\delta^{(L)} = y - \hat y$$
    delta = y - target
    for l in range(L, 0, -1):
        W = weights[l - 1]
        # $$\partial\mathcal{L}/\partial W^{(l)} = \delta^{(l)} a^{(l-1)\top}$$
        grad_W[l - 1] = delta.T @ a[l - 1]
        # $$\partial\mathcal{L}/\partial b^{(l)} = \delta^{(l)}$$
        grad_b[l - 1] = delta.sum(dim=0)
        # $$W^{(l)\top} \delta^{(l)}$$: the error arriving at a^(l-1)
        back = delta @ W
        if l > 1:
            # $$\delta^{(l-1)} = (W^{(l)\top} \delta^{(l)}) \odot f'(z^{(l-1)})$$
            delta = back * f_prime(z[l - 1], a[l - 1])
    # $$\partial\mathcal{L}/\partial x = W^{(1)\top} \delta^{(1)}$$
    return loss, {"weights": grad_W, "biases": grad_b, "x": back}


backprop_gradients.term_iri = TERM_IRI  # type: ignore[attr-defined]
