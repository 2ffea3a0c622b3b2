"""ELMo: forward-LM states never depend on later tokens and backward-LM states never on earlier ones
(Jacobian); each direction is torch.nn.LSTM(num_layers=L, proj_size=d) on the sentence or its reversal;
the scalar mix has weights summing to 1 and equals the formula; the softmax is tied to the embedding;
gradcheck and gradgradcheck; a tiny bidirectional LM learns a stepping language."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnref.models.elmo import TERM_IRI, ELMo, stepping_sentences

torch.set_num_threads(1)
F64 = torch.float64


@pytest.mark.parametrize("residual", [False, True])
def test_forward_lm_looks_only_left_and_backward_lm_only_right(residual):
    torch.manual_seed(0)
    model = ELMo(7, 2, 3, num_layers=2, residual=residual, dtype=F64)
    N, d = 5, 2
    x = torch.randn(1, N, d, dtype=F64)
    later = torch.triu(torch.ones(N, N, dtype=torch.bool), diagonal=1)  # (k, k') with k' > k
    for j in range(1, 3):
        jac = torch.autograd.functional.jacobian(lambda x, j=j: model.bilm_states(x)[j][0], x)[:, :, 0]  # (N, 2d, N, d)
        forward = jac[:, :d].abs().sum(dim=(1, 3))
        backward = jac[:, d:].abs().sum(dim=(1, 3))
        assert forward[later].max() == 0 and forward[~later].min() > 0
        assert backward[later.T].max() == 0 and backward[~later.T].min() > 0


def test_each_direction_is_a_stacked_projected_torch_lstm():
    torch.manual_seed(1)
    L, d, H = 2, 3, 5
    model = ELMo(9, d, H, num_layers=L, dtype=F64)
    tokens = torch.randint(0, 9, (2, 6))
    x = model.embedding(tokens)
    states = model.layers(tokens)
    for layers, flip, half in ((model.forward_layers, False, slice(0, d)), (model.backward_layers, True, slice(d, 2 * d))):
        ref = nn.LSTM(d, H, num_layers=L, proj_size=d, batch_first=True, dtype=F64)
        ref.load_state_dict({name.replace("_l0", f"_l{j}"): p for j, layer in enumerate(layers) for name, p in layer.state_dict().items()})
        out = ref(x.flip(1) if flip else x)[0]
        torch.testing.assert_close(states[-1][..., half], out.flip(1) if flip else out, rtol=0, atol=1e-13)
    torch.testing.assert_close(states[0], torch.cat([x, x], -1), rtol=0, atol=0)


def test_scalar_mix():
    torch.manual_seed(2)
    model = ELMo(9, 2, 4, num_layers=3, dtype=F64)
    with torch.no_grad():
        model.mix_weights.copy_(torch.tensor([0.3, -1.0, 2.0, 0.1], dtype=F64))
        model.gamma.fill_(1.7)
    s = model.mix_coefficients()
    torch.testing.assert_close(s.sum(), torch.tensor(1.0, dtype=F64))
    assert bool((s > 0).all())
    tokens = torch.randint(0, 9, (2, 5))
    states = model.layers(tokens)
    expected = 1.7 * sum(torch.exp(w) / torch.exp(model.mix_weights).sum() * h for w, h in zip(model.mix_weights, states))
    torch.testing.assert_close(model(tokens), expected)
    with torch.no_grad():
        model.mix_weights.fill_(5.0)
        model.gamma.fill_(1.0)
    torch.testing.assert_close(model(tokens), torch.stack(states).mean(0))  # equal weights: the average layer


def test_softmax_is_tied_to_the_embedding():
    torch.manual_seed(3)
    model = ELMo(6, 2, 4, dtype=F64)
    tokens = torch.tensor([[0, 1, 2, 1]])
    forward, backward = model.lm_logits(tokens)
    top = model.layers(tokens)[-1]
    torch.testing.assert_close(forward, top[..., :2] @ model.embedding.weight.T + model.softmax_bias)
    torch.testing.assert_close(backward, top[..., 2:] @ model.embedding.weight.T + model.softmax_bias)
    model.lm_loss(tokens).backward()
    # tokens 3..5 never occur in the input, yet their embedding rows get gradient through the softmax
    assert model.embedding.weight.grad[3:].abs().sum() > 0
    assert not any(name.startswith("softmax_weight") for name, _ in model.named_parameters())


class _FromVectors(nn.Module):
    """ELMo vectors and forward-LM logits from token vectors x (B, N, d), so gradcheck can perturb the input."""

    def __init__(self, model: ELMo):
        super().__init__()
        self.model = model

    def forward(self, x):
        states = self.model.bilm_states(x)
        d = self.model.embedding_size
        logits = states[-1][..., :d] @ self.model.embedding.weight.T + self.model.softmax_bias
        return self.model.mix(states), logits


@pytest.mark.parametrize("num_layers, second_order", [(2, False), (1, True)])
def test_gradcheck_and_gradgradcheck(num_layers, second_order):
    """First derivatives with two layers; second derivatives (slow) with one."""
    torch.manual_seed(4)
    wrapper = _FromVectors(ELMo(4, 1, 2, num_layers=num_layers, dtype=F64))
    names = [n for n, _ in wrapper.named_parameters()]

    def f(x, *params):
        return torch.func.functional_call(wrapper, dict(zip(names, params)), (x,))

    inputs = (torch.randn(1, 2 + num_layers, 1, dtype=F64, requires_grad=True), *wrapper.parameters())
    assert torch.autograd.gradcheck(f, inputs)
    if second_order:
        assert torch.autograd.gradgradcheck(f, inputs)


def test_learns_a_stepping_language():
    """t_k = (a + k s) mod 10, s in {1, 2}: after 60 steps both directions predict >= 95% (after two tokens)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = ELMo(10, 8, 16, num_layers=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(60):
        loss = model.lm_loss(stepping_sentences(g, 32))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tokens = stepping_sentences(g, 200)
    with torch.no_grad():
        forward, backward = model.lm_logits(tokens)
    assert (forward[:, 1:-1].argmax(-1) == tokens[:, 2:]).float().mean() >= 0.95
    assert (backward[:, 1:-1].argmax(-1) == tokens[:, :-2]).float().mean() >= 0.95


def test_term_iri_and_invalid_arguments():
    assert ELMo.term_iri == TERM_IRI == "https://w3id.org/rnnref/term/elmo"
    with pytest.raises(ValueError, match="hidden_size"):
        ELMo(5, 4, 3)
    model = ELMo(5, 2, 3)
    with pytest.raises(ValueError, match="token ids"):
        model(torch.tensor([[0, 5]]))
    with pytest.raises(ValueError, match="integer tensor"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="at least two tokens"):
        model.lm_loss(torch.tensor([[1]]))
    with pytest.raises(ValueError, match="token vectors"):
        model.bilm_states(torch.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="layer representations"):
        model.mix([torch.zeros(1)])
