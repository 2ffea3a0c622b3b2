"""Vanishing gradients: geometric decay under a contractive W_hh, checked against two other computations."""

from __future__ import annotations

import pytest
import torch

from rnnref.training.gradient_flow import TERM_IRI, build_probe, gradient_norm_by_lag, state_gradients

F64 = torch.float64


@pytest.mark.parametrize("sigma", [0.3, 0.6, 0.9])
@pytest.mark.parametrize("seed", [0, 1])
def test_elman_norms_decay_geometrically_below_spectral_norm(sigma: float, seed: int) -> None:
    """||dL_T/dh_{T-lag}|| <= sigma^lag ||dL_T/dh_T|| per sample when ||W_hh||_2 = sigma < 1, as tanh' <= 1."""
    probe = build_probe("elman", 12, 25, seed, spectral_norm=sigma)
    assert torch.linalg.matrix_norm(probe.cell.weight_hh, ord=2).item() == pytest.approx(sigma, rel=1e-12)
    grads = [parts[0] for parts in state_gradients(probe)]
    per_sample_0 = grads[0].norm(dim=1)
    for lag, grad in enumerate(grads):
        assert torch.all(grad.norm(dim=1) <= sigma**lag * per_sample_0 * (1 + 1e-12))

    norms = gradient_norm_by_lag("elman", 12, 25, seed, spectral_norm=sigma)
    assert [lag for lag, _ in norms] == list(range(26))
    assert norms[0][1] == pytest.approx(1.0, abs=1e-12)  # dL/dh_T = r, a unit vector
    for lag, norm in norms:
        assert norm <= sigma**lag * (1 + 1e-12)
    assert all(b < a for (_, a), (_, b) in zip(norms, norms[1:]))  # strictly decreasing


def test_values_equal_autograd_restarted_at_each_state() -> None:
    """Another way: for each lag, restart the forward pass from a detached leaf copy of s_{T-lag}."""
    for cell_type in ("elman", "lstm", "gru"):
        T = 10
        norms = gradient_norm_by_lag(cell_type, 6, T, seed=3, batch_size=3)
        probe = build_probe(cell_type, 6, T, seed=3, batch_size=3)
        state = probe.cell.init_state(3, dtype=F64)
        states = [state]
        with torch.no_grad():
            for t in range(T):
                _, state = probe.cell.step(probe.xs[:, t], state)
                states.append(state)  # states[j] = s_j
        for lag in range(T + 1):
            start = T - lag
            at_start = states[start] if cell_type == "lstm" else [states[start]]
            parts = [p.detach().clone().requires_grad_() for p in at_start]
            leaf = tuple(parts) if cell_type == "lstm" else parts[0]
            loss, _ = probe.run(leaf, start=start)
            grads = torch.autograd.grad(loss, parts, allow_unused=True, materialize_grads=True)
            expected = torch.sqrt(sum(g.pow(2).sum(dim=1) for g in grads)).mean().item()
            assert norms[lag][0] == lag
            assert norms[lag][1] == pytest.approx(expected, rel=1e-10, abs=1e-300), (cell_type, lag)


def test_elman_values_equal_explicit_jacobian_products() -> None:
    """A third way, for Elman: g_{j-1} = W_hh^T (g_j * (1 - h_j^2)), starting from g_T = r."""
    probe = build_probe("elman", 8, 15, seed=4, batch_size=5, spectral_norm=0.8)
    W_hh = probe.cell.weight_hh.detach()
    h = probe.cell.init_state(5, dtype=F64)
    hs = [h]
    with torch.no_grad():
        for t in range(15):
            h, _ = probe.cell.step(probe.xs[:, t], h)
            hs.append(h)
    g = probe.readout.expand(5, -1)
    expected = [g.norm(dim=1).mean().item()]
    for j in range(15, 0, -1):
        g = (g * (1 - hs[j] ** 2)) @ W_hh
        expected.append(g.norm(dim=1).mean().item())
    got = [norm for _, norm in gradient_norm_by_lag("elman", 8, 15, 4, batch_size=5, spectral_norm=0.8)]
    assert got == pytest.approx(expected, rel=1e-10)


def test_lstm_with_open_forget_gate_keeps_the_gradient_longer_than_elman() -> None:
    """At the default init the Elman gradient is gone after 40 steps; an LSTM with forget bias 2 keeps it."""
    elman = dict(gradient_norm_by_lag("elman", 32, 40, seed=0))
    lstm_open = dict(gradient_norm_by_lag("lstm", 32, 40, seed=0, forget_bias=2.0))
    lstm_shut = dict(gradient_norm_by_lag("lstm", 32, 40, seed=0, forget_bias=-2.0))
    assert elman[40] < 1e-6
    assert lstm_open[40] > 1e-3
    assert lstm_open[40] > 1e3 * elman[40]
    assert lstm_shut[40] < 1e-6 * lstm_open[40]  # the forget gate is what carries it


def test_deterministic_for_a_seed() -> None:
    a = gradient_norm_by_lag("gru", 5, 8, seed=11)
    b = gradient_norm_by_lag("gru", 5, 8, seed=11)
    c = gradient_norm_by_lag("gru", 5, 8, seed=12)
    assert a == b and a != c


def test_does_not_touch_the_global_rng() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    gradient_norm_by_lag("lstm", 4, 5, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"cell_type must be one of \['elman', 'gru', 'lstm'\]"):
        gradient_norm_by_lag("jordan", 4, 5, 0)
    with pytest.raises(ValueError, match="length"):
        gradient_norm_by_lag("elman", 4, 0, 0)
    with pytest.raises(ValueError, match="spectral_norm"):
        gradient_norm_by_lag("elman", 4, 3, 0, spectral_norm=0.0)


def test_term_iri() -> None:
    assert TERM_IRI == "https://w3id.org/rnnref/term/vanishing-gradient-problem"
    assert gradient_norm_by_lag.term_iri == TERM_IRI
