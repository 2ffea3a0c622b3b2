r"""Backpropagation through time (BPTT), written out by hand for an Elman network.

A recurrent network applied to a sequence of length $T$ is, once unrolled, a
feedforward network $T$ layers deep in which every layer shares the same weights.
Backpropagation through time is ordinary backpropagation on that unrolled network:
run forward and keep every hidden state, then send the error back from the last
step to the first; because the weights are shared, a weight's gradient is the sum
of its gradients at every step.

The network here is an Elman network with a tanh hidden layer and a linear output,
trained with squared error (column-vector convention; the code works on a batch of
row vectors):

$$
\begin{aligned}
a_t &= W_x x_t + W_h h_{t-1} + b, \qquad h_t = \tanh(a_t) \\
y_t &= W_y h_t + b_y, \qquad e_t = y_t - \hat y_t \\
\mathcal{L} &= \tfrac12 \sum_{t=1}^{T} \lVert e_t \rVert^2
\end{aligned}
$$

summed over the batch too. The backward pass defines $\delta_t = \partial
\mathcal{L} / \partial a_t$. The error at step $t$ reaches $a_t$ along two paths,
through this step's output and through the next step's hidden state:

$$
\begin{aligned}
\delta_{T+1} &= 0 \\
\delta_t &= \big(W_y^\top e_t + W_h^\top \delta_{t+1}\big) \odot (1 - h_t^2),
    \quad t = T \dots 1
\end{aligned}
$$

and the gradients sum each step's contribution:

$$
\begin{aligned}
\frac{\partial \mathcal{L}}{\partial W_y} &= \sum_t e_t h_t^\top, &
\frac{\partial \mathcal{L}}{\partial b_y} &= \sum_t e_t, \\
\frac{\partial \mathcal{L}}{\partial W_x} &= \sum_t \delta_t x_t^\top, &
\frac{\partial \mathcal{L}}{\partial W_h} &= \sum_t \delta_t h_{t-1}^\top, \\
\frac{\partial \mathcal{L}}{\partial b} &= \sum_t \delta_t, &
\frac{\partial \mathcal{L}}{\partial h_0} &= W_h^\top \delta_1 .
\end{aligned}
$$

This is full BPTT: the recursion runs over the whole sequence. Truncated BPTT
(stopping the recursion after $k$ steps) is a different training method and is not
part of this module. `bptt_gradients` uses no autograd; its test checks it against
``torch.autograd``.

Shape letters: B batch, T length, I input, H hidden, O output. Sequences are
batch-first, (B, T, I).

Reference: Rumelhart, Hinton, Williams (1986), Nature 323: 533–536,
doi:10.1038/323533a0.
"""

from __future__ import annotations

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/backpropagation-through-time"


@torch.no_grad()
def bptt_gradients(
    W_x: Tensor,
    W_h: Tensor,
    b: Tensor,
    W_y: Tensor,
    b_y: Tensor,
    xs: Tensor,
    targets: Tensor,
    h0: Tensor,
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""Loss and gradients of an Elman network by explicit backpropagation through time.

    Args:
        W_x: (H, I) input-to-hidden weights.
        W_h: (H, H) hidden-to-hidden weights.
        b: (H,) hidden bias.
        W_y: (O, H) hidden-to-output weights.
        b_y: (O,) output bias.
        xs: (B, T, I) inputs, batch-first.
        targets: (B, T, O) targets $\hat y_t$.
        h0: (B, H) initial hidden state.

    Returns:
        ``(loss, grads)``: the loss $\tfrac12 \sum_{b,t} \lVert y_t - \hat y_t \rVert^2$
        (a 0-d tensor) and a dict with the gradient of the loss for each argument
        that is a parameter or the initial state: ``"W_x"``, ``"W_h"``, ``"b"``,
        ``"W_y"``, ``"b_y"``, ``"h0"``, each shaped like that argument.
    """
    B, T, I = xs.shape  # batch, length, input features
    H, O = W_h.size(0), W_y.size(0)  # hidden, output
    expected = {
        "W_x": (H, I), "W_h": (H, H), "b": (H,), "W_y": (O, H), "b_y": (O,), "targets": (B, T, O), "h0": (B, H),
    }
    given = {"W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y, "targets": targets, "h0": h0}
    for name, shape in expected.items():
        if tuple(given[name].shape) != shape:
            raise ValueError(f"{name} must have shape {shape} for xs {tuple(xs.shape)}, got {tuple(given[name].shape)}")
    if T == 0:
        raise ValueError("expected a sequence of length T >= 1, got T = 0")

    # Forward pass: keep h_0 .. h_T and e_1 .. e_T for the backward pass.
    hs = [h0]  # hs[t] = h_t, (B, H)
    es = [None]  # es[t] = e_t, (B, O); index 0 unused so indices follow the equations
    loss = xs.new_zeros(())
    for t in range(1, T + 1):
        x_t = xs[:, t - 1]
        # $$a_t = W_x x_t + W_h h_{t-1} + b$$
        a_t = x_t @ W_x.T + hs[t - 1] @ W_h.T + b
        # $$h_t = \tanh(a_t)$$
        h_t = torch.tanh(a_t)
        # $$y_t = W_y h_t + b_y$$
        y_t = h_t @ W_y.T + b_y
        # $$e_t = y_t - \hat y_t$$
        e_t = y_t - targets[:, t - 1]
        # $$\mathcal{L} \mathrel{+}= \tfrac12 \lVert e_t \rVert^2$$
        loss = loss + 0.5 * (e_t * e_t).sum()
        hs.append(h_t)
        es.append(e_t)

    # Backward pass, from the last step to the first.
    parameters = {"W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y}
    grads = {name: torch.zeros_like(p) for name, p in parameters.items()}
    # $$\delta_{T+1} = 0$$
    delta_next = torch.zeros_like(h0)
    for t in range(T, 0, -1):
        h_t, h_prev, e_t, x_t = hs[t], hs[t - 1], es[t], xs[:, t - 1]
        # $$\partial\mathcal{L}/\partial W_y \mathrel{+}= e_t h_t^\top$$
        grads["W_y"] += e_t.T @ h_t
        # $$\partial\mathcal{L}/\partial b_y \mathrel{+}= e_t$$
        grads["b_y"] += e_t.sum(dim=0)
        # $$\delta_t = (W_y^\top e_t + W_h^\top \delta_{t+1}) \odot (1 - h_t^2)$$
        delta_t = (e_t @ W_y + delta_next @ W_h) * (1 - h_t * h_t)
        # $$\partial\mathcal{L}/\partial W_x \mathrel{+}= \delta_t x_t^\top$$
        grads["W_x"] += delta_t.T @ x_t
        # $$\partial\mathcal{L}/\partial W_h \mathrel{+}= \delta_t h_{t-1}^\top$$
        grads["W_h"] += delta_t.T @ h_prev
        # $$\partial\mathcal{L}/\partial b \mathrel{+}= \delta_t$$
        grads["b"] += delta_t.sum(dim=0)
        delta_next = delta_t
    # $$\partial\mathcal{L}/\partial h_0 = W_h^\top \delta_1$$
    grads["h0"] = delta_next @ W_h
    return loss, grads


bptt_gradients.term_iri = TERM_IRI  # type: ignore[attr-defined]
