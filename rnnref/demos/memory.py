"""Demos of the memory-augmented, hierarchical, two-dimensional and attentive networks (helper M2).

| slug                               | what it shows                                                   |
|------------------------------------|-----------------------------------------------------------------|
| neural-turing-machine              | a feedforward controller learns to copy through the memory      |
| differentiable-neural-computer     | the DNC learns the copy task                                    |
| neural-network-pushdown-automaton  | recognising balanced parentheses (Dyck-1)                       |
| neural-history-compressor          | after training only the unpredictable steps are passed up       |
| pixelrnn                           | bits per pixel fall towards the entropy of a tiny image family |
| row-lstm, diagonal-bilstm          | which earlier pixels each output depends on (autograd Jacobian) |
| attention-mechanism                | reversal with and without attention, same budget                |

The training demos take a keyword ``steps`` (the training budget; the default is
what `rnnref run` uses), so tests can check determinism on a shorter run.
Importing this module does not import torch; running a demo does.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnref.demos._common import Demo, generator, seeded

# -- memory networks: the copy task ------------------------------------------------------

_COPY_LENGTH, _COPY_WIDTH = 3, 3


def _copy_training(model, steps: int, lr: float, every: int, seed: int) -> list[list]:
    """Train ``model`` on the copy task; rows of (step, loss, bit accuracy on 200 test sequences)."""
    import torch
    from torch.nn import functional as F

    from rnnref.models.ntm import copy_task_batch

    L, width = _COPY_LENGTH, _COPY_WIDTH
    g = generator(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x_test, target_test = copy_task_batch(g, 200, L, width)
    rows = []
    for step in range(steps + 1):
        x, target = copy_task_batch(g, 32, L, width)
        loss = F.binary_cross_entropy_with_logits(model(x)[0][L + 1 :], target)
        if step % every == 0:
            with torch.no_grad():
                logits = model(x_test)[0][L + 1 :]
            rows.append([step, loss.item(), ((logits > 0).float() == target_test).float().mean().item()])
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return rows


def _copy_task_text(model: str) -> str:
    return (
        f"Copy task: read {_COPY_LENGTH} random vectors of {_COPY_WIDTH} bits and a delimiter, then write "
        f"the vectors back during {_COPY_LENGTH} blank steps. {model}; Adam, batch 32, bit accuracy on 200 "
        f"test sequences (chance: 50%)."
    )


def _neural_turing_machine(seed: int, *, steps: int = 100) -> Demo:
    from rnnref.models.ntm import NTM

    with seeded(seed):
        ntm = NTM(_COPY_WIDTH + 1, _COPY_WIDTH, hidden_size=32, memory_size=8, word_size=8, controller="feedforward")
        rows = _copy_training(ntm, steps=steps, lr=2e-2, every=20, seed=seed)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Neural Turing machine: copying through memory",
        task=_copy_task_text(
            "NTM with a feedforward controller (no recurrence of its own, so everything it copies goes "
            "through the 8 x 8 memory), one read and one write head"
        ),
        columns=["step", "loss", "bit accuracy"],
        rows=rows,
        summary=(
            f"Bit accuracy rose from {100 * first[2]:.1f}% to {100 * last[2]:.1f}% in {last[0]} steps "
            f"(loss {first[1]:.3f} -> {last[1]:.4f})."
        ),
    )


def _differentiable_neural_computer(seed: int, *, steps: int = 140) -> Demo:
    from rnnref.models.dnc import DNC

    with seeded(seed):
        dnc = DNC(_COPY_WIDTH + 1, _COPY_WIDTH, hidden_size=32, memory_size=8, word_size=8)
        rows = _copy_training(dnc, steps=steps, lr=3e-2, every=35, seed=seed)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Differentiable neural computer: the copy task",
        task=_copy_task_text("DNC with an LSTM controller (32 units), 8 x 8 memory, one read head"),
        columns=["step", "loss", "bit accuracy"],
        rows=rows,
        summary=(
            f"Bit accuracy rose from {100 * first[2]:.1f}% to {100 * last[2]:.1f}% in {last[0]} steps "
            f"(loss {first[1]:.3f} -> {last[1]:.4f})."
        ),
    )


# -- NNPDA: balanced parentheses ------------------------------------------------------------


def _neural_network_pushdown_automaton(seed: int, *, steps: int = 60) -> Demo:
    import torch
    from torch.nn import functional as F

    from rnnref.models.nnpda import NNPDA, dyck1_batch

    pairs = 5
    with seeded(seed):
        g = generator(seed)
        pda = NNPDA(2, 1, hidden_size=16, stack_size=2)
        optimizer = torch.optim.Adam(pda.parameters(), lr=2e-2)
        x_test, labels_test = dyck1_batch(g, 400, pairs)
        rows = []
        for step in range(steps + 1):
            x, labels = dyck1_batch(g, 32, pairs)
            loss = F.binary_cross_entropy_with_logits(pda(x)[0][-1, :, 0], labels)
            if step % 15 == 0:
                with torch.no_grad():
                    logits = pda(x_test)[0][-1, :, 0]
                rows.append([step, loss.item(), ((logits > 0).float() == labels_test).float().mean().item()])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="Neural network pushdown automaton: balanced parentheses",
        task=(
            f"Say whether a string of ( and ) of length 2..{2 * pairs} is balanced (Dyck-1). Half the strings "
            f"are balanced, half have as many ( as ) but dip below zero somewhere, so counting alone does not "
            f"decide. LSTM controller (16 units) with a continuous stack; accuracy on 400 held-out strings."
        ),
        columns=["step", "loss", "held-out accuracy"],
        rows=rows,
        summary=(
            f"Held-out accuracy went from {100 * first[2]:.1f}% (chance: 50%) to {100 * last[2]:.1f}% "
            f"in {last[0]} steps."
        ),
    )


# -- neural history compressor: only surprises go up -------------------------------------


def _neural_history_compressor(seed: int) -> Demo:
    import torch

    from rnnref.models.history_compressor import HistoryCompressor, jump_sequences

    V, T, p, steps = 5, 40, 0.05, 50
    with seeded(seed):
        g = generator(seed)
        model = HistoryCompressor(V, 16)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
        x_test, jumps_test = jump_sequences(g, 200, T, V, p)
        rows = []
        for step in range(steps + 1):
            x, _ = jump_sequences(g, 16, 12, V, p)
            loss = model.automatizer_loss(x)
            if step % 10 == 0:
                surprises = model.surprises(x_test)
                exact = (surprises == jumps_test).all(dim=1).float().mean().item()
                rows.append([step, loss.item(), surprises.float().mean().item(), exact])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    jump_rate = jumps_test.float().mean().item()
    return Demo(
        title="Neural history compressor: passing up only the surprises",
        task=(
            f"Sequences of {T} symbols out of {V} follow x_(t+1) = x_t + 1 mod {V} from 0, except that at each "
            f"step, with probability {p}, a random other symbol comes instead (a jump; {100 * jump_rate:.1f}% "
            f"of the test steps). The automatizer GRU predicts each next symbol; the steps it gets wrong are "
            f"passed up to the chunker. 200 test sequences."
        ),
        columns=["step", "automatizer loss", "fraction of steps passed up", "sequences where passed up = jumps"],
        rows=rows,
        summary=(
            f"Before training {100 * first[2]:.1f}% of the steps were passed up; after {last[0]} steps "
            f"{100 * last[2]:.1f}% were (the jumps are {100 * jump_rate:.1f}%), and in {100 * last[3]:.1f}% of "
            f"the sequences the compressed sequence was exactly the jump steps."
        ),
    )


# -- PixelRNN: a tiny image family --------------------------------------------------------


def _pixelrnn(seed: int, *, steps: int = 100) -> Demo:
    import torch

    from rnnref.models.pixelrnn import PixelRNN

    n = 5
    with seeded(seed):
        g = generator(seed)

        def stripes(B: int):
            return (torch.randint(0, 2, (B, 1, 1, n), generator=g) * 255).expand(B, 1, n, n).clone()

        model = PixelRNN(1, 8, layer="row")
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        test = stripes(200)
        rows = []
        for step in range(steps + 1):
            loss = model.loss(stripes(32))
            if step % 20 == 0:
                with torch.no_grad():
                    predicted = model(test).argmax(dim=1)
                below = (predicted[:, :, 1:] == test[:, :, 1:]).float().mean().item()
                rows.append([step, model.bits_per_dim(test), below])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="PixelRNN: modelling vertical stripes",
        task=(
            f"{n}x{n} greyscale images whose first row is random black (0) or white (255) pixels and whose other "
            f"rows repeat it: {n} bits per image, so at best {1 / n:.2f} bits per pixel (a uniform 256-way guess: "
            f"8). PixelRNN with one Row LSTM layer (8 units); negative log-likelihood on 200 test images."
        ),
        columns=["step", "bits per pixel", "pixels below row 0 predicted exactly"],
        rows=rows,
        summary=(
            f"The test likelihood went from {first[1]:.2f} to {last[1]:.3f} bits per pixel in {last[0]} steps "
            f"(best possible {1 / n:.2f}); the most likely value was right for {100 * last[2]:.1f}% of the "
            f"pixels below the first row."
        ),
    )


# -- Row LSTM and Diagonal BiLSTM: receptive fields ------------------------------------------

_FIELD_ROWS, _FIELD_COLUMNS = 6, 8
_FIELD_PIXELS = [(0, 4), (2, 0), (2, 7), (3, 3), (5, 0), (5, 7)]


def _receptive_fields(layer_path: str, title: str, seed: int) -> Demo:
    import importlib

    import torch

    module_name, class_name = layer_path.split(":")
    layer_class = getattr(importlib.import_module(module_name), class_name)
    R, W = _FIELD_ROWS, _FIELD_COLUMNS
    with seeded(seed):
        layer = layer_class(2, 4, dtype=torch.float64)
        x = torch.randn(1, 2, R, W, dtype=torch.float64, generator=generator(seed)).requires_grad_()
        y = layer(x)
        rows = []
        for i, j in _FIELD_PIXELS:
            (grad,) = torch.autograd.grad(y[0, :, i, j].sum(), x, retain_graph=True)
            depends = (grad.abs().sum(dim=(0, 1)) > 0).flatten()
            position = i * W + j
            rows.append([f"({i}, {j})", position, int(depends[:position].sum()), int(depends[position + 1 :].sum())])
    seen = sum(r[2] for r in rows)
    earlier = sum(r[1] for r in rows)
    later = sum(r[3] for r in rows)
    return Demo(
        title=f"{title}: what each output depends on",
        task=(
            f"One {class_name} layer (2 input channels, 4 units) on a random {R}x{W} map. For a few pixels, "
            f"the autograd Jacobian of the output there tells which input pixels it depends on: how many of "
            f"the earlier pixels (raster order) and how many of the later ones."
        ),
        columns=["pixel", "earlier pixels", "earlier pixels it depends on", "later pixels it depends on"],
        rows=rows,
        summary=(
            f"Over these {len(rows)} pixels the outputs depend on {seen} of {earlier} earlier pixels "
            f"({100 * seen / earlier:.0f}%) and on {later} later ones."
        ),
    )


def _row_lstm(seed: int) -> Demo:
    return _receptive_fields("rnnref.models.row_lstm:RowLSTM", "Row LSTM", seed)


def _diagonal_bilstm(seed: int) -> Demo:
    return _receptive_fields("rnnref.models.diagonal_bilstm:DiagonalBiLSTM", "Diagonal BiLSTM", seed)


# -- attention: reversal with and without it ---------------------------------------------------


def _attention_mechanism(seed: int, *, steps: int = 150) -> Demo:
    import torch
    from torch.nn import functional as F

    from rnnref.models.attention import AttentionEncoderDecoder
    from rnnref.models.encoder_decoder import EncoderDecoder

    V, L, H, every = 8, 8, 32, 50

    def batch(g, size: int):
        src = torch.randint(1, V, (size, L), generator=g)
        tgt = src.flip(1)
        return src, torch.cat([torch.zeros(size, 1, dtype=torch.long), tgt[:, :-1]], dim=1), tgt

    def train(model) -> list[tuple[float, float]]:
        g = generator(seed)
        src_test, _, tgt_test = batch(g, 300)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        out = []
        for step in range(steps + 1):
            src, tgt_in, tgt = batch(g, 32)
            loss = F.cross_entropy(model(src, tgt_in).reshape(-1, V), tgt.reshape(-1))
            if step % every == 0:
                accuracy = (model.greedy_decode(src_test, max_len=L, bos=0) == tgt_test).float().mean().item()
                out.append((loss.item(), accuracy))
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return out

    with seeded(seed):
        plain = train(EncoderDecoder(V, V, H, cell="gru"))
    with seeded(seed):
        attentive = train(AttentionEncoderDecoder(V, V, H))
    rows = [
        [k * every, p[0], a[0], p[1], a[1]] for k, (p, a) in enumerate(zip(plain, attentive, strict=True))
    ]
    last = rows[-1]
    return Demo(
        title="Attention mechanism: reversing sequences with and without attention",
        task=(
            f"Reverse {L} tokens out of {V - 1}. Both models have hidden size {H}: the plain GRU encoder-decoder "
            f"must pass the source through its final state; with additive attention the decoder reads every "
            f"encoder state. Same data, seed and budget (Adam, batch 32); greedy decoding on 300 test sequences."
        ),
        columns=["step", "loss, plain", "loss, attention", "token accuracy, plain", "token accuracy, attention"],
        rows=rows,
        summary=(
            f"After {last[0]} steps the attentive model got {100 * last[4]:.1f}% of the tokens right, the plain "
            f"encoder-decoder {100 * last[3]:.1f}% (chance: {100 / (V - 1):.1f}%)."
        ),
    )


DEMOS: dict[str, Callable[[int], Demo]] = {
    "neural-turing-machine": _neural_turing_machine,
    "differentiable-neural-computer": _differentiable_neural_computer,
    "neural-network-pushdown-automaton": _neural_network_pushdown_automaton,
    "neural-history-compressor": _neural_history_compressor,
    "pixelrnn": _pixelrnn,
    "row-lstm": _row_lstm,
    "diagonal-bilstm": _diagonal_bilstm,
    "attention-mechanism": _attention_mechanism,
}
