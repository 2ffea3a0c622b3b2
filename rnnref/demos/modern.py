"""Demos of the gated-minimal, linear-recurrent and state-space models (helper M3).

| slug                | what it shows                                                            |
|---------------------|--------------------------------------------------------------------------|
| minimal-gated-unit  | the one-gate cell learns delayed recall                                  |
| mingru, minlstm     | trained with the parallel scan, they learn to recall the last flagged value |
| mamba, rwkv         | the same flagged-recall task, with input-dependent (selective) memory     |
| linear-rnn          | fitting a damped oscillating filter: complex eigenvalues vs real ones     |
| state-space-model   | system identification of a damped spring; recurrent == convolutional mode |

*Flagged recall*: the input at each step is a value $v_t \\in \\{-1, +1\\}$ and a
flag $m_t \\in \\{0, 1\\}$ (set with probability 1/4, always at the first step);
the target is the value at the most recent flagged step. A model must decide from
the input whether to overwrite its memory, which a time-invariant linear filter
cannot do.

Importing this module does not import torch; running a demo does.
"""

from __future__ import annotations

from rnnref.demos._common import Demo, generator, seeded

FLAG_PROBABILITY = 0.25


def flagged_recall_batch(g, batch: int, length: int):
    """Inputs (B, T, 2) = (value, flag) and targets (B, T, 1): the value at the last flagged step."""
    import torch

    values = torch.randint(0, 2, (batch, length), generator=g).float() * 2 - 1
    flags = (torch.rand(batch, length, generator=g) < FLAG_PROBABILITY).float()
    flags[:, 0] = 1.0
    # index of the most recent flagged step <= t: a running maximum of t * flag_t
    steps = torch.arange(length).expand(batch, length)
    last = torch.cummax(steps * flags.long(), dim=1).values
    targets = torch.gather(values, 1, last)
    return torch.stack([values, flags], dim=-1), targets.unsqueeze(-1)


def train_flagged_recall(model, readout, g, *, steps: int, batch: int, length: int, lr: float, report_every: int):
    """Adam on squared error; rows [step, loss, fraction of steps whose sign is right] on a fixed test batch."""
    import torch

    parameters = [*model.parameters(), *readout.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=lr)
    test_x, test_y = flagged_recall_batch(g, 256, length)
    rows = []
    for step in range(steps + 1):
        if step % report_every == 0:
            with torch.no_grad():
                prediction = readout(_sequence_output(model, test_x))
                loss = ((prediction - test_y) ** 2).mean().item()
                accuracy = (prediction.sign() == test_y).float().mean().item()
            rows.append([step, loss, accuracy])
        if step < steps:
            x, y = flagged_recall_batch(g, batch, length)
            loss = ((readout(_sequence_output(model, x)) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return rows


def _sequence_output(model, x):
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


def _flagged_recall_demo(seed: int, name: str, make, *, steps: int, lr: float, note: str) -> Demo:
    import torch

    T, B = 32, 32
    with seeded(seed):
        g = generator(seed)
        model, width = make()
        readout = torch.nn.Linear(width, 1)
        rows = train_flagged_recall(model, readout, g, steps=steps, batch=B, length=T, lr=lr, report_every=steps // 4)
    first, last = rows[0], rows[-1]
    return Demo(
        title=f"{name}: recall the last flagged value",
        task=(
            f"Each step brings a value (±1) and a flag (probability {FLAG_PROBABILITY}, always set at the first "
            f"step); output the value seen at the most recent flagged step. Sequences of length {T}, Adam, "
            f"batch {B}, squared error (predicting 0 scores 1.0), scored on 256 fixed test sequences. {note}"
        ),
        columns=["step", "test loss", "sign accuracy"],
        rows=rows,
        summary=(
            f"The test loss fell from {first[1]:.3f} to {last[1]:.4f} in {last[0]} steps and the sign of the "
            f"output matched the flagged value {100 * last[2]:.1f}% of the time (at step 0: {100 * first[2]:.1f}%)."
        ),
    )


def _mingru(seed: int) -> Demo:
    from rnnref.models.mingru import MinGRU

    return _flagged_recall_demo(
        seed, "minGRU", lambda: (MinGRU(2, 16), 16), steps=120, lr=3e-2,
        note="MinGRU(2, 16) trained through the parallel scan, plus a linear readout.",
    )


def _minlstm(seed: int) -> Demo:
    from rnnref.models.minlstm import MinLSTM

    return _flagged_recall_demo(
        seed, "minLSTM", lambda: (MinLSTM(2, 16), 16), steps=120, lr=3e-2,
        note="MinLSTM(2, 16) trained through the parallel scan, plus a linear readout.",
    )


def _mamba(seed: int) -> Demo:
    import torch

    from rnnref.models.mamba import Mamba

    def make():
        return torch.nn.Sequential(torch.nn.Linear(2, 8), Mamba(8, d_state=4, d_conv=2, expand=2)), 8

    return _flagged_recall_demo(
        seed, "Mamba", make, steps=120, lr=2e-2,
        note="A linear embedding to width 8, one Mamba block (N = 4, inner width 16, selective scan), a linear readout.",
    )


def _rwkv(seed: int) -> Demo:
    import torch

    from rnnref.models.rwkv import RWKVBlock

    def make():
        return torch.nn.Sequential(torch.nn.Linear(2, 16), RWKVBlock(16, 32)), 16

    return _flagged_recall_demo(
        seed, "RWKV", make, steps=80, lr=1e-2,
        note="A linear embedding to width 16, one RWKV-4 block (time mixing with the stable WKV, channel mixing), a linear readout.",
    )


# -- minimal gated unit: delayed recall ------------------------------------------------


def _minimal_gated_unit(seed: int) -> Demo:
    import torch

    from rnnref.models.mgu import MGU

    T, H, B, delay, steps = 16, 16, 32, 2, 120
    with seeded(seed):
        g = generator(seed)
        net = MGU(1, H, batch_first=True)
        readout = torch.nn.Linear(H, 1)
        optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=1e-2)
        rows = []
        for step in range(steps + 1):
            x = torch.randint(0, 2, (B, T, 1), generator=g).float() * 2 - 1
            prediction = readout(net(x)[0])[:, delay:]
            target = x[:, :-delay]
            loss = ((prediction - target) ** 2).mean()
            if step % 20 == 0:
                rows.append([step, loss.item(), (prediction.sign() == target).float().mean().item()])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="Minimal gated unit: delayed recall",
        task=(
            f"Read random ±1 bits (length {T}) and output at every step the bit from {delay} steps before. "
            f"MGU(1, {H}) (one forget gate) plus a linear readout, Adam, batch {B}, a fresh batch every step; "
            f"squared error, predicting 0 scores 1.0."
        ),
        columns=["step", "loss", "bits recalled"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f} in {last[0]} steps; the sign of the output "
            f"matched the bit from {delay} steps back {100 * last[2]:.1f}% of the time (chance: 50%)."
        ),
    )


# -- linear RNN: fit an oscillating filter ----------------------------------------------


def _linear_rnn(seed: int) -> Demo:
    import torch

    from rnnref.models.linear_rnn import LinearRNN

    T, B, N, steps, r, omega = 48, 16, 8, 160, 0.9, 0.6
    with seeded(seed):
        g = generator(seed)
        lag = torch.arange(T, dtype=torch.float32)
        kernel = r**lag * torch.cos(omega * lag)  # target impulse response

        def target(u):  # y_t = sum_j kernel_j u_{t-j}, u (B, T, 1)
            n = 2 * T
            return torch.fft.irfft(torch.fft.rfft(u[..., 0], n=n) * torch.fft.rfft(kernel, n=n), n=n)[:, :T, None]

        models = {"complex": LinearRNN(1, N, 1, complex=True, r_min=0.5, r_max=0.99, max_phase=3.14),
                  "real": LinearRNN(1, N, 1, complex=False, r_min=0.5, r_max=0.99)}
        optimizers = {k: torch.optim.Adam(m.parameters(), lr=2e-2) for k, m in models.items()}
        test_u = torch.randn(64, T, 1, generator=g)
        test_y = target(test_u)
        scale = (test_y**2).mean().item()
        rows = []
        for step in range(steps + 1):
            u = torch.randn(B, T, 1, generator=g)
            y = target(u)
            if step % 40 == 0:
                with torch.no_grad():
                    rows.append([step, *(((m(test_u)[0] - test_y) ** 2).mean().item() / scale for m in models.values())])
            if step < steps:
                for key, model in models.items():
                    loss = ((model(u)[0] - y) ** 2).mean()
                    optimizers[key].zero_grad()
                    loss.backward()
                    optimizers[key].step()
    last = rows[-1]
    return Demo(
        title="Linear RNN (LRU): fitting an oscillating filter",
        task=(
            f"Learn the linear filter with impulse response {r}^j cos({omega} j) from white-noise input and its "
            f"filtered output (length {T}). Two LinearRNN(1, {N}, 1) layers trained with the parallel scan: complex "
            f"eigenvalues (the LRU) and real ones. Loss is the test mean squared error divided by the target's "
            f"mean square (1.0 = predicting 0)."
        ),
        columns=["step", "relative loss, complex", "relative loss, real"],
        rows=rows,
        summary=(
            f"After {last[0]} steps the complex-eigenvalue model is at {last[1]:.4f} of the signal power and the "
            f"real-eigenvalue model at {last[2]:.4f}: a real diagonal recurrence can only sum decaying "
            f"exponentials, not oscillate."
        ),
    )


# -- state-space model: system identification -------------------------------------------


def _state_space_model(seed: int) -> Demo:
    import torch

    from rnnref.models.ssm import StateSpaceModel

    T, B, steps, dt = 64, 16, 160, 0.1
    with seeded(seed):
        g = generator(seed)
        spring = StateSpaceModel(1, 2, 1, dt=dt)  # x'' = -4 x - 0.4 x' + u, observe x
        with torch.no_grad():
            spring.A.copy_(torch.tensor([[0.0, 1.0], [-4.0, -0.4]]))
            spring.B.copy_(torch.tensor([[0.0], [1.0]]))
            spring.C.copy_(torch.tensor([[1.0, 0.0]]))
        spring.requires_grad_(False)
        model = StateSpaceModel(1, 4, 1, dt=dt)
        model.log_dt.requires_grad_(False)  # the sampling step is known
        optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
        test_u = torch.randn(32, T, 1, generator=g)
        test_y = spring(test_u, mode="convolution")
        scale = (test_y**2).mean().item()
        rows = []
        for step in range(steps + 1):
            u = torch.randn(B, T, 1, generator=g)
            if step % 40 == 0:
                with torch.no_grad():
                    recurrent, convolution = model(test_u), model(test_u, mode="convolution")
                    loss = ((convolution - test_y) ** 2).mean().item() / scale
                    rows.append([step, loss, (recurrent - convolution).abs().max().item()])
            if step < steps:
                loss = ((model(u, mode="convolution") - spring(u, mode="convolution")) ** 2).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    first, last = rows[0], rows[-1]
    return Demo(
        title="State-space model: identifying a damped spring",
        task=(
            f"A damped spring x'' = -4x - 0.4x' + u, observed every {dt} s, is driven by white noise (length {T}). "
            f"A StateSpaceModel(1, 4, 1) with random A, B, C (a larger state than the spring's 2) learns to reproduce its output, trained in "
            f"convolutional mode (FFT). Loss: test mean squared error over the signal's mean square; last "
            f"column: largest difference between the recurrent and the convolutional mode."
        ),
        columns=["step", "relative loss", "max |recurrent - convolution|"],
        rows=rows,
        summary=(
            f"The relative loss fell from {first[1]:.3f} to {last[1]:.1e} in {last[0]} steps; the two modes "
            f"agreed to within {max(row[2] for row in rows):.1e} throughout."
        ),
    )


DEMOS = {
    "minimal-gated-unit": _minimal_gated_unit,
    "mingru": _mingru,
    "minlstm": _minlstm,
    "linear-rnn": _linear_rnn,
    "state-space-model": _state_space_model,
    "mamba": _mamba,
    "rwkv": _rwkv,
}
