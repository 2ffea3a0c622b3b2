"""Small runnable demonstrations, one per runnable term: each trains or measures something tiny.

`run_demo(slug, seed)` returns a `Demo`: a title, the task in one sentence, a table
(``columns`` and ``rows``) and a one-line ``summary`` written from the numbers in
the table. Every demo runs in a few seconds on a CPU, on synthetic data, and is
deterministic for a given seed: it seeds torch inside `torch.random.fork_rng` (the
caller's random state is left alone) and runs on one thread (tiny tensors gain
nothing from more, and one thread removes any doubt about reduction order).

| slug                           | what it shows                                                     |
|--------------------------------|-------------------------------------------------------------------|
| elman-network, lstm, gru       | the network learns delayed recall: loss by training step          |
| jordan-network                 | output feedback learns running parity, exact on longer sequences  |
| bidirectional-rnn              | predicting the *next* input: only the bidirectional net can       |
| stacked-rnn                    | a two-layer stack with dropout learns a nonlinear delayed task    |
| encoder-decoder                | learns to reverse sequences: loss and greedy-decoding accuracy    |
| backpropagation-through-time   | hand-written BPTT equals autograd: max absolute differences       |
| vanishing-gradient-problem     | gradient norm by lag: Elman vs LSTM                               |

Importing this module does not import torch; running a demo does.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnref.demos._common import Demo, generator, seeded


def _bits(generator, batch: int, length: int):
    """Random ±1 bits, (B, T, 1)."""
    import torch

    return torch.randint(0, 2, (batch, length, 1), generator=generator).float() * 2 - 1


# -- the three cells: delayed recall -------------------------------------------------

_DELAY = 4
_RECALL_STEPS = 250
_REPORT_EVERY = 25


def _delayed_recall(network_path: str, title: str, seed: int) -> Demo:
    """Train network + linear readout to output the input from ``_DELAY`` steps ago."""
    import importlib

    import torch

    module_name, class_name = network_path.split(":")
    network_class = getattr(importlib.import_module(module_name), class_name)
    T, H, B = 20, 16, 32  # length, hidden units, batch
    with seeded(seed):
        g = generator(seed)
        net = network_class(1, H, batch_first=True)
        readout = torch.nn.Linear(H, 1)
        optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=1e-2)
        rows = []
        for step in range(_RECALL_STEPS + 1):
            x = _bits(g, B, T)
            y, _ = net(x)
            prediction = readout(y)[:, _DELAY:]  # y_t for t >= delay
            target = x[:, :-_DELAY]  # x_{t - delay}
            loss = ((prediction - target) ** 2).mean()
            if step % _REPORT_EVERY == 0:
                recalled = (prediction.sign() == target).float().mean().item()
                rows.append([step, loss.item(), recalled])
            if step < _RECALL_STEPS:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title=f"{title}: delayed recall",
        task=(
            f"Read a stream of random ±1 bits (length {T}) and output, at every step t, the bit seen at "
            f"step t - {_DELAY}. Squared error; predicting 0 scores 1.0. {class_name}(1, {H}) plus a linear "
            f"readout, Adam, batch {B}, a fresh batch every step."
        ),
        columns=["step", "loss", "bits recalled"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} at step 0 to {last[1]:.4f} at step {last[0]}; "
            f"the sign of the output matched the bit from {_DELAY} steps back "
            f"{100 * last[2]:.1f}% of the time (chance: 50%)."
        ),
    )


def _elman_network(seed: int) -> Demo:
    return _delayed_recall("rnnref.models.elman:RNN", "Elman network", seed)


def _lstm(seed: int) -> Demo:
    return _delayed_recall("rnnref.models.lstm:LSTM", "LSTM", seed)


def _gru(seed: int) -> Demo:
    return _delayed_recall("rnnref.models.gru:GRU", "GRU", seed)


# -- Jordan network: running parity through output feedback ------------------------


def _jordan_network(seed: int) -> Demo:
    import torch
    from torch.nn import functional as F

    from rnnref.models.jordan import JordanNetwork

    T, T_test, H, B, steps = 6, 50, 16, 32, 300
    with seeded(seed):
        g = generator(seed)
        net = JordanNetwork(1, H, 1, output_activation="sigmoid")
        optimizer = torch.optim.Adam(net.parameters(), lr=3e-2)
        test_bits = torch.randint(0, 2, (500, T_test, 1), generator=g).float()
        test_parity = torch.cumsum(test_bits, dim=1) % 2
        rows = []
        for step in range(steps + 1):
            bits = torch.randint(0, 2, (B, T, 1), generator=g).float()
            parity = torch.cumsum(bits, dim=1) % 2  # y_t = x_1 xor ... xor x_t
            y, _ = net(bits)
            loss = F.binary_cross_entropy(y, parity)
            if step % 50 == 0:
                with torch.no_grad():
                    y_test, _ = net(test_bits)
                accuracy = ((y_test > 0.5).float() == test_parity).float().mean().item()
                rows.append([step, loss.item(), accuracy])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="Jordan network: running parity",
        task=(
            f"Output the parity of all bits so far, y_t = x_1 xor ... xor x_t, for random 0/1 bits. "
            f"Trained on sequences of length {T}, tested on 500 sequences of length {T_test}. Because the "
            f"previous output is fed back, each step only needs y_t = x_t xor y_(t-1). "
            f"JordanNetwork(1, {H}, 1) with a sigmoid output, binary cross-entropy, Adam."
        ),
        columns=["step", "training loss", f"accuracy at length {T_test}"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f}; on sequences {T_test // T} times longer "
            f"than in training the parity was right {100 * last[2]:.1f}% of the time (chance: 50%)."
        ),
    )


# -- bidirectional: predict the next input --------------------------------------------


def _bidirectional_rnn(seed: int) -> Demo:
    import torch

    from rnnref.models.bidirectional import Bidirectional
    from rnnref.models.elman import ElmanCell
    from rnnref.models.stacked import Stacked

    T, H, B, steps = 12, 16, 32, 250
    with seeded(seed):
        g = generator(seed)
        forward_only = Stacked([ElmanCell(1, 2 * H)])  # one direction, as many hidden units in total
        readout_f = torch.nn.Linear(2 * H, 1)
        both = Bidirectional(ElmanCell(1, H), ElmanCell(1, H))
        readout_b = torch.nn.Linear(2 * H, 1)
        opt_f = torch.optim.Adam([*forward_only.parameters(), *readout_f.parameters()], lr=1e-2)
        opt_b = torch.optim.Adam([*both.parameters(), *readout_b.parameters()], lr=1e-2)
        rows = []
        for step in range(steps + 1):
            x = _bits(g, B, T)
            target = x[:, 1:]  # x_{t+1}, for t = 1 .. T-1
            loss_f = ((readout_f(forward_only(x)[0])[:, :-1] - target) ** 2).mean()
            loss_b = ((readout_b(both(x)[0])[:, :-1] - target) ** 2).mean()
            if step % 25 == 0:
                rows.append([step, loss_f.item(), loss_b.item()])
            if step < steps:
                for optimizer, loss in ((opt_f, loss_f), (opt_b, loss_b)):
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
    last = rows[-1]
    return Demo(
        title="Bidirectional RNN: predicting the next input",
        task=(
            f"At every step output the *next* input bit x_(t+1) of a random ±1 sequence (length {T}). "
            f"A forward-only Elman network (hidden {2 * H}) cannot know it; a bidirectional one (two Elman "
            f"cells of {H}) reads it from the backward direction. Squared error; predicting 0 scores 1.0."
        ),
        columns=["step", "loss, forward only", "loss, bidirectional"],
        rows=rows,
        summary=(
            f"After {last[0]} steps the forward-only network is still at {last[1]:.3f} (no better than "
            f"guessing 0), the bidirectional network at {last[2]:.4f}."
        ),
    )


# -- stacked: two layers of GRU cells with dropout ------------------------------------


def _stacked_rnn(seed: int) -> Demo:
    import torch

    from rnnref.models.gru import GRUCell
    from rnnref.models.stacked import Stacked

    T, H, B, steps, p = 12, 16, 32, 200, 0.1
    with seeded(seed):
        g = generator(seed)
        net = Stacked([GRUCell(1, H), GRUCell(H, H)], dropout=p)
        readout = torch.nn.Linear(H, 1)
        optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=1e-2)
        x_eval = _bits(g, 256, T)
        target_eval = x_eval[:, 1:-2] * x_eval[:, :-3]

        def loss_on(x, target):
            return ((readout(net(x)[0])[:, 3:] - target) ** 2).mean()

        rows = []
        for step in range(steps + 1):
            x = _bits(g, B, T)
            target = x[:, 1:-2] * x[:, :-3]  # y_t = x_(t-1) * x_(t-3), for t >= 4
            net.train()
            loss = loss_on(x, target)
            if step % 25 == 0:
                net.eval()
                with torch.no_grad():
                    rows.append([step, loss.item(), loss_on(x_eval, target_eval).item()])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="Stacked RNN: two GRU layers",
        task=(
            f"Output y_t = x_(t-1) * x_(t-3) for random ±1 bits (length {T}): a nonlinear function of two "
            f"past inputs. Stacked([GRUCell(1, {H}), GRUCell({H}, {H})], dropout={p}) plus a linear readout; "
            f"training loss with dropout on, held-out loss with dropout off (eval mode)."
        ),
        columns=["step", "training loss", "held-out loss (eval)"],
        rows=rows,
        summary=(
            f"The held-out loss fell from {first[2]:.3f} to {last[2]:.4f} in {last[0]} steps "
            f"(predicting 0 scores 1.0)."
        ),
    )


# -- encoder-decoder: reverse a sequence ----------------------------------------------


def _encoder_decoder(seed: int) -> Demo:
    import torch
    from torch.nn import functional as F

    from rnnref.models.encoder_decoder import EncoderDecoder

    V, L, BOS, H, B, steps = 6, 4, 0, 64, 64, 250  # vocabulary (with BOS), length, BOS id, ...

    def batch(generator, size):
        src = torch.randint(1, V, (size, L), generator=generator)
        tgt = src.flip(1)
        tgt_in = torch.cat([torch.full((size, 1), BOS), tgt[:, :-1]], dim=1)
        return src, tgt_in, tgt

    with seeded(seed):
        g = generator(seed)
        model = EncoderDecoder(V, V, H, cell="gru")
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        src_test, _, tgt_test = batch(g, 500)
        rows = []
        for step in range(steps + 1):
            src, tgt_in, tgt = batch(g, B)
            loss = F.cross_entropy(model(src, tgt_in).reshape(-1, V), tgt.reshape(-1))
            if step % 50 == 0:
                predicted = model.greedy_decode(src_test, max_len=L, bos=BOS)
                correct = predicted == tgt_test
                token_accuracy = correct.float().mean().item()
                sequence_accuracy = correct.all(dim=1).float().mean().item()
                rows.append([step, loss.item(), token_accuracy, sequence_accuracy])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="Encoder-decoder: reversing a sequence",
        task=(
            f"Read {L} tokens out of {V - 1} and write them in reverse order. A GRU encoder's final state "
            f"starts a GRU decoder (hidden {H}); trained with teacher forcing, tested by greedy decoding "
            f"on 500 random sequences."
        ),
        columns=["step", "training loss", "token accuracy", "sequence accuracy"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f}; greedy decoding reversed "
            f"{100 * last[3]:.1f}% of test sequences exactly ({100 * last[2]:.1f}% of tokens)."
        ),
    )


# -- BPTT: hand-written vs autograd -------------------------------------------------


def _backpropagation_through_time(seed: int) -> Demo:
    import torch

    from rnnref.training.bptt import bptt_gradients

    names = ["W_x", "W_h", "b", "W_y", "b_y", "h0"]
    cases = [(2, 5, 3, 4, 2), (4, 20, 2, 8, 3), (3, 50, 5, 16, 1), (1, 100, 1, 6, 1)]  # B, T, I, H, O
    rows = []
    with seeded(seed):
        g = generator(seed)
        for B, T, I, H, O in cases:
            p = {
                "W_x": torch.randn(H, I, generator=g, dtype=torch.float64) / I**0.5,
                "W_h": torch.randn(H, H, generator=g, dtype=torch.float64) / H**0.5,
                "b": 0.1 * torch.randn(H, generator=g, dtype=torch.float64),
                "W_y": torch.randn(O, H, generator=g, dtype=torch.float64) / H**0.5,
                "b_y": 0.1 * torch.randn(O, generator=g, dtype=torch.float64),
                "xs": torch.randn(B, T, I, generator=g, dtype=torch.float64),
                "targets": torch.randn(B, T, O, generator=g, dtype=torch.float64),
                "h0": torch.zeros(B, H, dtype=torch.float64),
            }
            loss, grads = bptt_gradients(**p)
            # The same loss, differentiated by autograd.
            leaves = {name: p[name].clone().requires_grad_() for name in names}
            h, total = leaves["h0"], 0.0
            for t in range(T):
                h = torch.tanh(p["xs"][:, t] @ leaves["W_x"].T + h @ leaves["W_h"].T + leaves["b"])
                y = h @ leaves["W_y"].T + leaves["b_y"]
                total = total + 0.5 * ((y - p["targets"][:, t]) ** 2).sum()
            reference = torch.autograd.grad(total, [leaves[name] for name in names])
            differences = [(grads[name] - ref).abs().max().item() for name, ref in zip(names, reference)]
            rows.append([B, T, H, loss.item(), abs(loss.item() - total.item()), *differences])
    worst = max(max(row[4:]) for row in rows)
    return Demo(
        title="Backpropagation through time, by hand",
        task=(
            "For random Elman networks (tanh hidden layer, linear output, squared error) compute the loss "
            "gradients twice: with the hand-written backward recursion "
            "delta_t = (W_y^T e_t + W_h^T delta_(t+1)) * (1 - h_t^2), and with torch.autograd, in float64."
        ),
        columns=["B", "T", "H", "loss", "|loss difference|", *[f"max |difference| {n}" for n in names]],
        rows=rows,
        summary=(
            f"Over {len(rows)} networks and sequences of up to {max(c[1] for c in cases)} steps, the largest "
            f"difference between the hand-written and autograd gradients was {worst:.1e}: rounding error."
        ),
    )


# -- vanishing gradient: norm by lag, Elman vs LSTM -----------------------------------


def _vanishing_gradient_problem(seed: int) -> Demo:
    from rnnref.training.gradient_flow import gradient_norm_by_lag

    H, T, every = 32, 60, 5
    with seeded(seed):
        elman = gradient_norm_by_lag("elman", H, T, seed)
        lstm_closed = gradient_norm_by_lag("lstm", H, T, seed, forget_bias=0.0)
        lstm_open = gradient_norm_by_lag("lstm", H, T, seed, forget_bias=2.0)
    rows = [
        [lag, elman[lag][1], lstm_closed[lag][1], lstm_open[lag][1]] for lag in range(0, T + 1, every)
    ]
    last = rows[-1]
    return Demo(
        title="The vanishing gradient problem: Elman vs LSTM",
        task=(
            f"Freshly initialised networks (hidden {H}) read {T} steps of random input; for the loss of the "
            f"last step alone, the norm of its gradient with respect to the recurrent state lag steps "
            f"earlier (1 at lag 0). LSTM forget gate bias 0 and 2."
        ),
        columns=["lag", "Elman (tanh)", "LSTM, forget bias 0", "LSTM, forget bias 2"],
        rows=rows,
        summary=(
            f"{last[0]} steps back the Elman gradient is down to {last[1]:.1e}; the LSTM keeps "
            f"{last[3]:.1e} with its forget gates open (bias 2) but only {last[2]:.1e} with bias 0."
        ),
    )


#: slug -> demo function (seed -> Demo)
DEMOS: dict[str, Callable[[int], Demo]] = {
    "elman-network": _elman_network,
    "jordan-network": _jordan_network,
    "lstm": _lstm,
    "gru": _gru,
    "bidirectional-rnn": _bidirectional_rnn,
    "stacked-rnn": _stacked_rnn,
    "encoder-decoder": _encoder_decoder,
    "backpropagation-through-time": _backpropagation_through_time,
    "vanishing-gradient-problem": _vanishing_gradient_problem,
}
