r"""Real-time recurrent learning (RTRL) for an Elman network.

BPTT computes the gradient backwards, after the sequence has been seen. RTRL
computes the same gradient *forwards*, while the sequence arrives: alongside the
hidden state $h_t$ it carries the sensitivities $P_t = \partial h_t / \partial
\theta$ of the state to every recurrent parameter, updates them at every step by
the chain rule, and combines them with the current error to get the gradient of
the current loss at once. Nothing is stored about the past, so the network can
learn online on an endless stream, at the price of $O(H \cdot |\theta|)$ memory
and $O(H^2 \cdot |\theta|)$ time per step (BPTT: $O(|\theta|)$ per step, but it
stores the whole history).

The network is the one of `rnnref.training.bptt` (tanh hidden layer, linear
output, squared error):

$$
a_t = W_x x_t + W_h h_{t-1} + b, \quad h_t = \tanh(a_t), \quad
y_t = W_y h_t + b_y, \quad e_t = y_t - \hat y_t, \quad
\mathcal{L}_t = \tfrac12 \lVert e_t \rVert^2
$$

For each recurrent parameter $\theta \in \{W_x, W_h, b, h_0\}$, with
$D_t = \operatorname{diag}(1 - h_t^2)$ and $\partial^{+} a_t / \partial \theta$
the direct (immediate) dependence of $a_t$ on $\theta$ with $h_{t-1}$ held fixed:

$$
\begin{aligned}
P_0 &= \partial h_0 / \partial \theta \quad (= I \text{ for } h_0, \ 0 \text{ otherwise}) \\
P_t &= D_t \Big( \frac{\partial^{+} a_t}{\partial \theta} + W_h P_{t-1} \Big) \\
\frac{\partial \mathcal{L}_t}{\partial \theta} &= (W_y^\top e_t)^\top P_t, \qquad
\frac{\partial \mathcal{L}_t}{\partial W_y} = e_t h_t^\top, \qquad
\frac{\partial \mathcal{L}_t}{\partial b_y} = e_t
\end{aligned}
$$

where, element by element, $\partial^{+} a_t[k] / \partial W_x[i, j] = \delta_{ki}
x_t[j]$, $\partial^{+} a_t[k] / \partial W_h[i, j] = \delta_{ki} h_{t-1}[j]$,
$\partial^{+} a_t[k] / \partial b[i] = \delta_{ki}$. Summed over $t$ these are
exactly the BPTT gradients of $\mathcal{L} = \sum_t \mathcal{L}_t$ (the test checks
it against `rnnref.training.bptt` and ``torch.autograd``). Used *online*
(Williams & Zipser), the weights are updated after every step with
$\partial \mathcal{L}_t / \partial \theta$ and the sensitivities carried on, an
approximation that is good when the learning rate is small.

| symbol       | sensitivity tensor | shape        |
|--------------|--------------------|--------------|
| $P^{W_x}_t$  | `P["W_x"]`         | (B, H, H, I) |
| $P^{W_h}_t$  | `P["W_h"]`         | (B, H, H, H) |
| $P^{b}_t$    | `P["b"]`           | (B, H, H)    |
| $P^{h_0}_t$  | `P["h0"]`          | (B, H, H)    |

(first index after B: the unit $k$ of $h_t$; the rest: the parameter's own index;
for $h_0$, per example.) Shape letters: B batch, T length, I input, H hidden,
O output. No autograd is used.

Reference: Ronald J. Williams, David Zipser (1989), "A Learning Algorithm for
Continually Running Fully Recurrent Neural Networks", Neural Computation 1(2):
270–280, doi:10.1162/neco.1989.1.2.270; also Anthony J. Robinson, Frank Fallside
(1987), *The Utility Driven Dynamic Error Propagation Network*, Technical Report
CUED/F-INFENG/TR.1, Department of Engineering, University of Cambridge.

Term: https://w3id.org/rnnref/term/real-time-recurrent-learning
"""

from __future__ import annotations

import torch
from torch import Tensor

TERM_IRI = "https://w3id.org/rnnref/term/real-time-recurrent-learning"

#: The parameters carried by sensitivities, and the readout's, in the order of `RTRL.grad_names`.
RECURRENT = ("W_x", "W_h", "b", "h0")
READOUT = ("W_y", "b_y")


class RTRL:
    r"""An Elman network that learns by real-time recurrent learning.

    Holds the parameters, the current state $h_{t}$ and the sensitivities
    $P_t$; `step` advances all three by one time step and returns the loss of
    that step and its gradient; `update` applies a gradient-descent step (online
    learning). `rtrl_gradients` runs it over a whole sequence with the weights
    fixed.

    Args:
        W_x: (H, I). W_h: (H, H). b: (H,). W_y: (O, H). b_y: (O,).
        h0: (B, H) initial state.

    The tensors are used (and, by `update`, changed) in place.
    """

    term_iri = TERM_IRI

    def __init__(self, W_x: Tensor, W_h: Tensor, b: Tensor, W_y: Tensor, b_y: Tensor, h0: Tensor) -> None:
        H, I = W_x.shape
        O = W_y.size(0)
        B = h0.size(0)
        expected = {"W_h": (H, H), "b": (H,), "W_y": (O, H), "b_y": (O,), "h0": (B, H)}
        given = {"W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y, "h0": h0}
        for name, shape in expected.items():
            if tuple(given[name].shape) != shape:
                raise ValueError(f"{name} must have shape {shape} for W_x {(H, I)}, got {tuple(given[name].shape)}")
        self.params = {"W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y}
        self.reset(h0)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(I, H, O)."""
        H, I = self.params["W_x"].shape
        return I, H, self.params["W_y"].size(0)

    @torch.no_grad()
    def reset(self, h0: Tensor) -> None:
        r"""Start a new sequence from $h_0$: $P_0 = 0$ for the weights, $I$ for $h_0$."""
        _, H, _ = self.sizes
        if h0.dim() != 2 or h0.size(1) != H:
            raise ValueError(f"h0 must have shape (B, {H}), got {tuple(h0.shape)}")
        B = h0.size(0)
        self.h = h0.detach().clone()
        W_x = self.params["W_x"]
        factory = {"dtype": W_x.dtype, "device": W_x.device}
        I = W_x.size(1)
        # $$P_0 = \partial h_0 / \partial \theta$$
        self.P = {
            "W_x": torch.zeros(B, H, H, I, **factory),
            "W_h": torch.zeros(B, H, H, H, **factory),
            "b": torch.zeros(B, H, H, **factory),
            "h0": torch.eye(H, **factory).expand(B, H, H).clone(),
        }

    @torch.no_grad()
    def step(self, x_t: Tensor, target_t: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        r"""Advance $h$ and $P$ by one step; return $\mathcal{L}_t$ and $\partial \mathcal{L}_t / \partial \theta$.

        Args:
            x_t: (B, I). target_t: (B, O).

        Returns:
            ``(loss_t, grads)`` with ``grads`` keyed ``W_x, W_h, b, h0, W_y, b_y``.
        """
        I, H, O = self.sizes
        B = self.h.size(0)
        if tuple(x_t.shape) != (B, I) or tuple(target_t.shape) != (B, O):
            raise ValueError(
                f"expected x_t {(B, I)} and target_t {(B, O)}, got {tuple(x_t.shape)} and {tuple(target_t.shape)}"
            )
        W_x, W_h, b, W_y, b_y = (self.params[n] for n in ("W_x", "W_h", "b", "W_y", "b_y"))
        h_prev, P = self.h, self.P
        eye = torch.eye(H, dtype=h_prev.dtype, device=h_prev.device)

        # $$a_t = W_x x_t + W_h h_{t-1} + b, \quad h_t = \tanh(a_t)$$
        h_t = torch.tanh(x_t @ W_x.T + h_prev @ W_h.T + b)
        # $$D_t = \operatorname{diag}(1 - h_t^2)$$, kept as the vector of its diagonal, (B, H)
        d_t = 1 - h_t * h_t

        # $$\partial^{+} a_t[k] / \partial W_x[i, j] = \delta_{ki} x_t[j]$$, (B, H, H, I)
        direct_W_x = eye[None, :, :, None] * x_t[:, None, None, :]
        # $$\partial^{+} a_t[k] / \partial W_h[i, j] = \delta_{ki} h_{t-1}[j]$$, (B, H, H, H)
        direct_W_h = eye[None, :, :, None] * h_prev[:, None, None, :]
        # $$\partial^{+} a_t[k] / \partial b[i] = \delta_{ki}$$, (B, H, H)
        direct_b = eye.expand(B, H, H)
        direct = {"W_x": direct_W_x, "W_h": direct_W_h, "b": direct_b, "h0": torch.zeros_like(P["h0"])}

        new_P = {}
        for name in RECURRENT:
            # $$W_h P_{t-1}$$: sum over the units m of h_{t-1}
            carried = torch.einsum("km,bm...->bk...", W_h, P[name])
            # $$P_t = D_t (\partial^{+} a_t / \partial \theta + W_h P_{t-1})$$
            d = d_t.reshape(B, H, *([1] * (P[name].dim() - 2)))
            new_P[name] = d * (direct[name] + carried)

        # $$y_t = W_y h_t + b_y, \quad e_t = y_t - \hat y_t$$
        e_t = h_t @ W_y.T + b_y - target_t
        loss_t = 0.5 * (e_t * e_t).sum()
        # $$\partial \mathcal{L}_t / \partial h_t = W_y^\top e_t$$, (B, H)
        c_t = e_t @ W_y
        grads = {}
        for name in ("W_x", "W_h", "b"):
            # $$\partial \mathcal{L}_t / \partial \theta = (W_y^\top e_t)^\top P_t$$, summed over the batch
            grads[name] = torch.einsum("bk,bk...->...", c_t, new_P[name])
        # h_0 is per example: no sum over the batch
        grads["h0"] = torch.einsum("bk,bkm->bm", c_t, new_P["h0"])
        # $$\partial \mathcal{L}_t / \partial W_y = e_t h_t^\top, \quad \partial \mathcal{L}_t / \partial b_y = e_t$$
        grads["W_y"] = e_t.T @ h_t
        grads["b_y"] = e_t.sum(dim=0)

        self.h, self.P = h_t, new_P
        return loss_t, grads

    @torch.no_grad()
    def update(self, grads: dict[str, Tensor], lr: float) -> None:
        r"""Online gradient descent: $\theta \leftarrow \theta - \eta \, \partial \mathcal{L}_t / \partial \theta$."""
        for name, p in self.params.items():
            p.sub_(lr * grads[name])


@torch.no_grad()
def rtrl_gradients(
    W_x: Tensor,
    W_h: Tensor,
    b: Tensor,
    W_y: Tensor,
    b_y: Tensor,
    xs: Tensor,
    targets: Tensor,
    h0: Tensor,
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""Loss and gradients of an Elman network over a sequence, by RTRL with fixed weights.

    Same arguments and results as `rnnref.training.bptt.bptt_gradients`: xs
    (B, T, I), targets (B, T, O), h0 (B, H); returns $\sum_t \mathcal{L}_t$ and
    $\sum_t \partial \mathcal{L}_t / \partial \theta$ for ``W_x, W_h, b, W_y, b_y, h0``.
    """
    if xs.dim() != 3 or xs.size(1) == 0:
        raise ValueError(f"xs must be (B, T, I) with T >= 1, got {tuple(xs.shape)}")
    if targets.dim() != 3 or targets.shape[:2] != xs.shape[:2]:
        raise ValueError(f"targets must be (B, T, O) with xs's B and T, got {tuple(targets.shape)}")
    learner = RTRL(W_x, W_h, b, W_y, b_y, h0)
    total_loss = xs.new_zeros(())
    total = {name: torch.zeros_like(t) for name, t in {**learner.params, "h0": h0}.items()}
    for t in range(xs.size(1)):
        loss_t, grads = learner.step(xs[:, t], targets[:, t])
        total_loss += loss_t
        for name in total:
            total[name] += grads[name]
    return total_loss, total


rtrl_gradients.term_iri = TERM_IRI  # type: ignore[attr-defined]
