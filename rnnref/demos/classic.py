"""Demos of the classic and memory architectures (helper M1): one small task per term.

| slug                              | what it shows                                                        |
|-----------------------------------|----------------------------------------------------------------------|
| fully-recurrent-network           | one output unit of a fully connected pool learns delayed recall      |
| hopfield-network                  | recall of corrupted patterns, by number of stored patterns (capacity) |
| bidirectional-associative-memory  | recall of stored pairs from noisy X and from noisy Y, by load         |
| echo-state-network                | Mackey-Glass one-step prediction error by reservoir size            |
| liquid-state-machine              | spike-rate XOR: liquid readout vs a readout of the input alone      |
| continuous-time-rnn               | a flip-flop memory, tested on sequences three times longer          |
| multiple-timescales-rnn           | one-step prediction of a fast oscillation with a slow envelope      |
| second-order-rnn                  | Tomita grammar 4, tested on strings up to three times longer        |
| indrnn                            | the adding problem                                                  |
| recurrent-multilayer-perceptron   | identification of a nonlinear plant with an internal state          |
| hierarchical-rnn                  | reporting the previous segment's mean through the slow level        |
| recursive-neural-network          | parity of the leaves of random binary trees, bigger trees at test   |
| recursive-neural-tensor-network   | the same parity task with 2-d node vectors: RNTN vs plain recursive |

Importing this module does not import torch; running a demo does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from rnnref.demos._common import Demo, generator, seeded


def _train(parameters, loss_fn, steps: int, lr: float, report: Callable[[int, float], list] | None, every: int):
    """Adam for ``steps`` steps; ``report(step, loss)`` adds a row every ``every`` steps and at the end."""
    import torch

    optimizer = torch.optim.Adam(parameters, lr=lr)
    rows = []
    for step in range(steps + 1):
        loss = loss_fn()
        if report is not None and (step % every == 0 or step == steps):
            rows.append(report(step, loss.item()))
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return rows


# -- fully recurrent network ------------------------------------------------------------


def _fully_recurrent_network(seed: int) -> Demo:
    import torch

    from rnnref.models.fully_recurrent import FullyRecurrentNetwork

    N, T, delay, steps = 8, 12, 2, 60
    with seeded(seed):
        g = generator(seed)
        net = FullyRecurrentNetwork(1, N, output_units=1)
        test = torch.randint(0, 2, (256, T, 1), generator=g).float() * 2 - 1

        def loss_fn():
            x = torch.randint(0, 2, (32, T, 1), generator=g).float() * 2 - 1
            return ((net(x)[0][:, delay:] - x[:, :-delay]) ** 2).mean()

        def report(step, loss):
            with torch.no_grad():
                o, _ = net(test)
            return [step, loss, (o[:, delay:].sign() == test[:, :-delay]).float().mean().item()]

        rows = _train(net.parameters(), loss_fn, steps, 0.05, report, 10)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Fully recurrent network: delayed recall on one output unit",
        task=(
            f"A pool of {N} fully interconnected tanh units reads a stream of random ±1 bits; unit 0 is the "
            f"designated output and must report the bit from {delay} steps earlier. Squared error, Adam; "
            f"accuracy = sign of the output unit on 256 held-out sequences."
        ),
        columns=["step", "loss", "bits recalled"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f} in {last[0]} steps; the output unit "
            f"recalled {100 * last[2]:.1f}% of the bits (chance: 50%)."
        ),
    )


# -- Hopfield network ---------------------------------------------------------------------


def _hopfield_network(seed: int) -> Demo:
    import torch

    from rnnref.models.hopfield import HopfieldNetwork

    N, flips, probes_per_pattern, probed = 64, 6, 3, 8
    rows = []
    with seeded(seed):
        g = generator(seed)
        for P in (1, 3, 6, 9, 13, 19):
            patterns = torch.randint(0, 2, (P, N), generator=g).double() * 2 - 1
            net = HopfieldNetwork(N)
            net.store(patterns)
            exact, overlaps, energy_ok = 0, [], True
            for p in patterns[:probed]:
                for _ in range(probes_per_pattern):
                    probe = p.clone()
                    probe[torch.randperm(N, generator=g)[:flips]] *= -1
                    final = net.recall(probe, generator=g)
                    exact += int(torch.equal(final, p))
                    overlaps.append((final @ p).item() / N)
                    energy_ok &= bool(net.energy(final) <= net.energy(probe))
            trials = min(P, probed) * probes_per_pattern
            rows.append([P, P / N, exact / trials, sum(overlaps) / len(overlaps), int(energy_ok)])
    low = [r for r in rows if r[1] <= 0.1]
    high = rows[-1]
    energy = (
        "The energy never rose from probe to fixed point."
        if all(r[4] == 1 for r in rows)
        else "In some runs the energy rose: that would contradict the theory."
    )
    return Demo(
        title="Hopfield network: recall and capacity",
        task=(
            f"Store P random ±1 patterns of {N} units with the Hebbian rule, flip {flips} bits of a stored "
            f"pattern and run asynchronous updates to a fixed point ({probes_per_pattern} probes for each of up "
            f"to {probed} patterns). Recall is exact if the fixed point is the stored pattern; overlap = "
            f"(final · stored) / N. The classical capacity is about 0.14 N."
        ),
        columns=["patterns P", "load P/N", "exact recall", "mean overlap", "energy fell (1 = every probe)"],
        rows=rows,
        summary=(
            f"Up to a load of {low[-1][1]:.2f} recall was exact for {100 * min(r[2] for r in low):.0f}% or more "
            f"of the probes; at a load of {high[1]:.2f} for {100 * high[2]:.0f}% (mean overlap {high[3]:.2f}). "
            f"{energy}"
        ),
    )


# -- BAM ------------------------------------------------------------------------------------


def _bidirectional_associative_memory(seed: int) -> Demo:
    import torch

    from rnnref.models.bam import BidirectionalAssociativeMemory

    n, p, x_flips, y_flips = 64, 32, 6, 3
    rows = []
    with seeded(seed):
        g = generator(seed)
        for pairs in (1, 2, 4, 6, 8, 12):
            xs = torch.randint(0, 2, (pairs, n), generator=g).double() * 2 - 1
            ys = torch.randint(0, 2, (pairs, p), generator=g).double() * 2 - 1
            bam = BidirectionalAssociativeMemory(n, p)
            bam.store(xs, ys)
            from_x = from_y = 0
            for k in range(pairs):
                probe = xs[k].clone()
                probe[torch.randperm(n, generator=g)[:x_flips]] *= -1
                x, y = bam.recall(x=probe)
                from_x += int(torch.equal(y, ys[k]))
                probe = ys[k].clone()
                probe[torch.randperm(p, generator=g)[:y_flips]] *= -1
                x, y = bam.recall(y=probe)
                from_y += int(torch.equal(x, xs[k]))
            rows.append([pairs, from_x / pairs, from_y / pairs])
    return Demo(
        title="Bidirectional associative memory: recall both ways",
        task=(
            f"Store random bipolar pairs (x of {n} units, y of {p}) in one correlation matrix M = Σ x yᵀ. "
            f"Recall y from x with {x_flips} bits flipped, and x from y with {y_flips} bits flipped, by "
            f"passing signals through M and Mᵀ until the pair is stable."
        ),
        columns=["pairs stored", "y recalled from noisy x", "x recalled from noisy y"],
        rows=rows,
        summary=(
            f"With {rows[0][0]} to {rows[2][0]} pairs every partner was recalled in both directions "
            f"({100 * min(min(r[1], r[2]) for r in rows[:3]):.0f}%); with {rows[-1][0]} pairs only "
            f"{100 * rows[-1][1]:.0f}% (from x) and {100 * rows[-1][2]:.0f}% (from y): a BAM's capacity is small."
        ),
    )


# -- echo state network ---------------------------------------------------------------------


def _echo_state_network(seed: int) -> Demo:
    import torch

    from rnnref.models.echo_state import EchoStateNetwork, mackey_glass

    series = mackey_glass(2000)
    u = (series - 1.0)[None, :, None]
    train, washout = 1500, 100
    target = u[:, train + 1 :]
    persistence = (((u[:, train:-1] - target) ** 2).mean().sqrt() / target.std()).item()
    rows = []
    with seeded(seed):
        for size in (5, 10, 25, 50, 100):
            esn = EchoStateNetwork(
                1, size, 1, spectral_radius=0.9, density=0.2, input_scaling=0.5, bias_scaling=0.2,
                generator=torch.Generator().manual_seed(seed),
            )
            esn.fit(u[:, :train], u[:, 1 : train + 1], washout=washout, ridge=1e-8)
            y, _ = esn(u[:, :-1])
            fit = y[:, washout:train] - u[:, washout + 1 : train + 1]
            train_nrmse = (fit.pow(2).mean().sqrt() / u[:, washout + 1 : train + 1].std()).item()
            test_nrmse = (((y[:, train:] - target) ** 2).mean().sqrt() / target.std()).item()
            rows.append([size, train_nrmse, test_nrmse, persistence])
    best = min(rows, key=lambda r: r[2])
    return Demo(
        title="Echo state network: Mackey-Glass one-step prediction",
        task=(
            "Predict the next sample of the chaotic Mackey-Glass series (tau = 17, sampled every time unit) "
            f"from the current one. Random reservoirs of N leaky-free tanh units with spectral radius 0.9; only "
            f"the linear readout is fitted, by ridge regression on {train - washout} steps; tested on the next "
            f"{target.size(1)}. NRMSE = RMSE / std of the target; 'persistence' predicts x_(t+1) = x_t."
        ),
        columns=["reservoir size", "training NRMSE", "test NRMSE", "persistence NRMSE"],
        rows=rows,
        summary=(
            f"The test error fell from {rows[0][2]:.4f} with {rows[0][0]} units to {best[2]:.5f} with "
            f"{best[0]}, against {persistence:.3f} for persistence; nothing but the readout was trained."
        ),
    )


# -- liquid state machine -------------------------------------------------------------------


def _rate_xor(g, n, T=40, lines=4, low=0.02, high=0.15):
    import torch

    a = torch.randint(0, 2, (n,), generator=g)
    b = torch.randint(0, 2, (n,), generator=g)
    rate_a = torch.where(a > 0, high, low)[:, None, None].expand(n, T, lines)
    rate_b = torch.where(b > 0, high, low)[:, None, None].expand(n, T, lines)
    x = (torch.rand(n, T, 2 * lines, generator=g) < torch.cat([rate_a, rate_b], -1)).double()
    return x, a ^ b


def _liquid_state_machine(seed: int) -> Demo:
    import torch

    from rnnref.models.echo_state import ridge_regression
    from rnnref.models.liquid_state import LiquidStateMachine

    T, K, n = 40, 20, 400
    rows = []
    with seeded(seed):
        g = generator(seed)
        x_train, y_train = _rate_xor(g, n)
        x_test, y_test = _rate_xor(g, n)
        targets = (y_train.double() * 2 - 1)[:, None, None].expand(n, T, 1).contiguous()
        mask = torch.zeros(n, T, dtype=torch.bool)
        mask[:, -K:] = True

        def accuracy(outputs):
            return ((outputs[:, -K:, 0].mean(1) > 0).long() == y_test).double().mean().item()

        # the same readout on the input spike trains, filtered as the liquid's spikes are
        decay = math.exp(-1 / 10.0)

        def filtered(x):
            r, out = torch.zeros(x.size(0), x.size(2), dtype=torch.float64), []
            for t in range(T):
                r = decay * r + x[:, t]
                out.append(r)
            return LiquidStateMachine.features(torch.stack(out, 1))

        w = ridge_regression(filtered(x_train)[mask], targets[mask], 0.1)
        rows.append(["input only", 0, accuracy(filtered(x_test) @ w.T), 0.0])
        for neurons in (25, 50, 100):
            lsm = LiquidStateMachine(8, neurons, 1, generator=torch.Generator().manual_seed(seed + 1))
            lsm.fit(x_train, targets, mask=mask, ridge=0.1)
            y, run = lsm(x_test)
            rows.append(["liquid", neurons, accuracy(y), run.spikes.mean().item()])
    best = max(rows[1:], key=lambda r: r[2])
    return Demo(
        title="Liquid state machine: spike-rate XOR",
        task=(
            "Two groups of 4 input spike trains each fire at a low (0.02) or high (0.15) rate per step for "
            f"{T} steps; the answer is whether exactly one group is high (XOR), read out over the last {K} "
            "steps. A liquid of leaky integrate-and-fire neurons (fixed random sparse synapses, 20% "
            "inhibitory) with a ridge-regression readout, against the same readout on the filtered input."
        ),
        columns=["readout of", "neurons", "test accuracy", "spikes per neuron per step"],
        rows=rows,
        summary=(
            f"Reading the input alone scored {100 * rows[0][2]:.1f}% (XOR is not linearly separable); the "
            f"liquid of {best[1]} neurons scored {100 * best[2]:.1f}%, with only the readout trained."
        ),
    )


# -- continuous-time RNN --------------------------------------------------------------------


def _flip_flop(g, B, T, p=0.1):
    import torch

    pulse = torch.rand(B, T, generator=g) < p
    pulse[:, 0] = True
    sign = torch.randint(0, 2, (B, T), generator=g).float() * 2 - 1
    last, target = torch.zeros(B), torch.zeros(B, T, 1)
    for t in range(T):
        last = torch.where(pulse[:, t], sign[:, t], last)
        target[:, t, 0] = last
    return (pulse * sign * 3)[..., None], target


def _continuous_time_rnn(seed: int) -> Demo:
    import torch

    from rnnref.models.ctrnn import CTRNN

    H, T, T_test, steps = 16, 20, 60, 120
    with seeded(seed):
        g = generator(seed)
        net = CTRNN(1, H, tau=1.0, dt=0.5)
        readout = torch.nn.Linear(H, 1)
        x_test, y_test = _flip_flop(g, 256, T_test)

        def loss_fn():
            x, y = _flip_flop(g, 32, T)
            return ((torch.tanh(readout(net(x)[0])) - y) ** 2).mean()

        def report(step, loss):
            with torch.no_grad():
                out = torch.tanh(readout(net(x_test)[0]))
            return [step, loss, (out.sign() == y_test).float().mean().item()]

        rows = _train([*net.parameters(), *readout.parameters()], loss_fn, steps, 0.03, report, 20)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Continuous-time RNN: a flip-flop memory",
        task=(
            "Input pulses of +3 or -3 arrive at random times (10% of steps); the output must hold the sign of "
            f"the last pulse. CTRNN(1, {H}), tau = 1, Euler step dt = 0.5, with a tanh readout; trained on "
            f"length {T}, tested on 256 sequences of length {T_test}."
        ),
        columns=["step", "training loss", f"accuracy at length {T_test}"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f}; on sequences {T_test // T} times longer the "
            f"held sign was right {100 * last[2]:.1f}% of the time."
        ),
    )


# -- MTRNN ------------------------------------------------------------------------------------


def _two_timescale(g, B, T):
    import torch

    t = torch.arange(T + 1).float()
    fast = torch.rand(B, 1, generator=g) * 2 * math.pi
    slow = torch.rand(B, 1, generator=g) * 2 * math.pi
    s = torch.sin(2 * math.pi * t / 8 + fast) * (0.6 + 0.4 * torch.sin(2 * math.pi * t / 60 + slow))
    return s[:, :-1, None], s[:, 1:, None]


def _multiple_timescales_rnn(seed: int) -> Demo:
    import torch

    from rnnref.models.mtrnn import MTRNN

    steps = 80
    with seeded(seed):
        g = generator(seed)
        net = MTRNN(1, 16, 4, 1, tau_fast=2.0, tau_slow=20.0, tau_output=1.0)
        x_test, y_test = _two_timescale(g, 128, 40)
        variance = y_test[:, 5:].var().item()

        def loss_fn():
            x, y = _two_timescale(g, 16, 30)
            return ((net(x)[0][:, 5:] - y[:, 5:]) ** 2).mean()

        def report(step, loss):
            with torch.no_grad():
                y, (c_fast, c_slow), _ = net(x_test)
            relative = ((y[:, 5:] - y_test[:, 5:]) ** 2).mean().item() / variance
            fast_move = c_fast.diff(dim=1).abs().mean().item()
            slow_move = c_slow.diff(dim=1).abs().mean().item()
            return [step, loss, relative, fast_move, slow_move]

        rows = _train(net.parameters(), loss_fn, steps, 0.02, report, 20)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Multiple timescales RNN: a fast oscillation with a slow envelope",
        task=(
            "Predict the next sample of sin(2πt/8) · (0.6 + 0.4 sin(2πt/60)) with random phases. MTRNN with "
            "16 fast context units (tau 2) and 4 slow ones (tau 20); held-out error relative to the signal's "
            "variance, and the mean step-to-step change of each kind of context unit."
        ),
        columns=["step", "training loss", "held-out relative error", "mean |Δ fast context|", "mean |Δ slow context|"],
        rows=rows,
        summary=(
            f"The held-out error fell from {first[2]:.3f} to {last[2]:.4f} of the variance in {last[0]} steps; "
            f"the slow units changed by {last[4]:.4f} per step on average, the fast ones by {last[3]:.3f}."
        ),
    )


# -- second-order RNN ---------------------------------------------------------------------------


def _tomita_batch(g, grammar, size, length):
    import torch
    from torch.nn import functional as F

    from rnnref.models.second_order import tomita

    strings, labels, accepted = [], [], 0
    while len(strings) < size:
        s = torch.randint(0, 2, (length,), generator=g)
        ok = tomita(grammar, s.tolist())
        if ok and accepted < size // 2 or not ok and len(strings) - accepted < size - size // 2:
            strings.append(s)
            labels.append(float(ok))
            accepted += ok
    return F.one_hot(torch.stack(strings), 2).float(), torch.tensor(labels)


def _second_order_rnn(seed: int) -> Demo:
    import torch
    from torch.nn import functional as F

    from rnnref.models.second_order import SecondOrderRNN

    steps = 150
    with seeded(seed):
        g = generator(seed)
        net = SecondOrderRNN(2, 4)
        tests = {length: _tomita_batch(g, 4, 200, length) for length in (12, 30)}

        def loss_fn():
            length = int(torch.randint(3, 11, (1,), generator=g))
            x, y = _tomita_batch(g, 4, 32, length)
            return F.binary_cross_entropy(net.accept_probability(x), y)

        def report(step, loss):
            accuracies = []
            with torch.no_grad():
                for x, y in tests.values():
                    accuracies.append(((net.accept_probability(x) > 0.5).float() == y).float().mean().item())
            return [step, loss, *accuracies]

        rows = _train(net.parameters(), loss_fn, steps, 0.1, report, 25)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Second-order RNN: Tomita grammar 4",
        task=(
            "Accept the 0/1 strings without three 0s in a row (Tomita grammar 4). A second-order network of 4 "
            "sigmoid units (one transition matrix per symbol); the response unit's final value is the answer. "
            "Trained on balanced strings of length 3 to 10, tested on 200 balanced strings of length 12 and 30."
        ),
        columns=["step", "training loss", "accuracy, length 12", "accuracy, length 30"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f}; accuracy reached {100 * last[2]:.1f}% on "
            f"length 12 and {100 * last[3]:.1f}% on length 30, three times the longest training string."
        ),
    )


# -- IndRNN -----------------------------------------------------------------------------------------


def _adding(g, B, T):
    import torch

    values = torch.rand(B, T, generator=g)
    marks = torch.zeros(B, T)
    rows = torch.arange(B)
    marks[rows, torch.randint(0, T // 2, (B,), generator=g)] = 1
    marks[rows, torch.randint(T // 2, T, (B,), generator=g)] = 1
    return torch.stack([values, marks], -1), (values * marks).sum(1)


def _indrnn(seed: int) -> Demo:
    import torch

    from rnnref.models.indrnn import IndRNN

    T, H, steps = 20, 32, 300
    with seeded(seed):
        g = generator(seed)
        net = IndRNN(2, H, num_layers=2)
        readout = torch.nn.Linear(H, 1)
        x_test, y_test = _adding(g, 512, T)
        variance = y_test.var().item()
        optimizer = torch.optim.Adam([*net.parameters(), *readout.parameters()], lr=0.01)
        rows = []
        for step in range(steps + 1):
            x, y = _adding(g, 32, T)
            loss = ((readout(net(x)[0][:, -1])[:, 0] - y) ** 2).mean()
            if step % 50 == 0:
                with torch.no_grad():
                    test = ((readout(net(x_test)[0][:, -1])[:, 0] - y_test) ** 2).mean().item()
                rows.append([step, loss.item(), test / variance])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                net.clamp_recurrent_(2 ** (1 / T))
    first, last = rows[0], rows[-1]
    return Demo(
        title="IndRNN: the adding problem",
        task=(
            f"Each step brings a value in [0, 1] and a mark; output, after {T} steps, the sum of the two marked "
            f"values. Two IndRNN layers of {H} ReLU units (each unit recurs only onto itself, |u| clamped to "
            f"2^(1/T)) and a linear readout; held-out error relative to predicting the mean."
        ),
        columns=["step", "training loss", "held-out relative error"],
        rows=rows,
        summary=(
            f"The held-out error fell from {first[2]:.3f} to {last[2]:.4f} of the variance in {last[0]} steps "
            f"(1.0 = always answering the mean)."
        ),
    )


# -- RMLP ---------------------------------------------------------------------------------------------


def _plant(g, B, T):
    import torch

    u = torch.rand(B, T, 1, generator=g) * 2 - 1
    s, ys = torch.zeros(B, 1), []
    for t in range(T):
        s = 0.8 * s + 0.5 * u[:, t]
        ys.append(torch.tanh(2 * s) * (1 + 0.5 * u[:, t]))
    return u, torch.stack(ys, 1)


def _recurrent_multilayer_perceptron(seed: int) -> Demo:
    import torch

    from rnnref.models.rmlp import RecurrentMLP

    steps = 150
    with seeded(seed):
        g = generator(seed)
        net = RecurrentMLP(1, [8, 8], output_size=1, recurrent=[False, True])
        u_test, y_test = _plant(g, 256, 50)
        variance = y_test.var().item()

        def loss_fn():
            u, y = _plant(g, 32, 25)
            return ((net(u)[0] - y) ** 2).mean()

        def report(step, loss):
            with torch.no_grad():
                return [step, loss, ((net(u_test)[0] - y_test) ** 2).mean().item() / variance]

        rows = _train(net.parameters(), loss_fn, steps, 0.02, report, 25)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Recurrent multilayer perceptron: identifying a plant",
        task=(
            "Model a plant with a hidden state, s_t = 0.8 s_(t-1) + 0.5 u_t, y_t = tanh(2 s_t)(1 + 0.5 u_t), "
            "from its input u alone. RMLP: a feedforward layer of 8 tanh units, a recurrent layer of 8, a "
            "linear output. Trained on length 25, tested on 256 sequences of length 50."
        ),
        columns=["step", "training loss", "held-out relative error"],
        rows=rows,
        summary=(
            f"The held-out error fell from {first[2]:.3f} to {last[2]:.4f} of the output's variance in "
            f"{last[0]} steps, on sequences twice as long as in training."
        ),
    )


# -- hierarchical RNN --------------------------------------------------------------------------------


def _hierarchical_rnn(seed: int) -> Demo:
    import torch

    from rnnref.models.hierarchical import HierarchicalRNN

    k, steps = 5, 80

    def task(g, B, T):
        x = torch.rand(B, T, 1, generator=g) * 2 - 1
        means = x.view(B, T // k, k).mean(-1)
        previous = torch.cat([torch.zeros(B, 1), means[:, :-1]], 1)
        return x, previous.repeat_interleave(k, 1)[..., None]

    with seeded(seed):
        g = generator(seed)
        net = HierarchicalRNN(1, 16, 8, output_size=1, period=k)
        x_test, y_test = task(g, 256, 60)
        variance = y_test[:, k:].var().item()

        def loss_fn():
            x, y = task(g, 32, 30)
            return ((net(x)[0][:, k:] - y[:, k:]) ** 2).mean()

        def report(step, loss):
            with torch.no_grad():
                error = ((net(x_test)[0][:, k:] - y_test[:, k:]) ** 2).mean().item()
            return [step, loss, error / variance]

        rows = _train(net.parameters(), loss_fn, steps, 0.02, report, 20)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Hierarchical RNN: what happened in the previous segment",
        task=(
            f"Inputs uniform in [-1, 1] come in segments of {k} steps; at every step output the mean of the "
            f"previous segment. A lower RNN (16 units) reads every step; an upper RNN (8 units) updates once per "
            f"segment and feeds back. Trained on length 30, tested on length 60."
        ),
        columns=["step", "training loss", "held-out relative error"],
        rows=rows,
        summary=(
            f"The held-out error fell from {first[2]:.3f} to {last[2]:.4f} of the target's variance in "
            f"{last[0]} steps."
        ),
    )


# -- recursive networks -------------------------------------------------------------------------------


def _random_tree(rng: random.Random, low: int, high: int):
    n = rng.randint(low, high)
    nodes: list = list(range(n))
    while len(nodes) > 1:
        i = rng.randrange(len(nodes) - 1)
        nodes[i : i + 2] = [(nodes[i], nodes[i + 1])]
    return n, nodes[0]


def _parity_run(model_class, size: int, lr: float, steps: int, seed: int, every: int):
    """Train model_class(size) + embedding + readout on leaf parity; rows [step, loss, acc 2-6, acc 7-10]."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from rnnref.models.recursive import parse_tree

    rng = random.Random(10_000 + seed)
    net = model_class(size)
    embedding = nn.Embedding(2, size)
    readout = nn.Linear(size, 1)

    def batch(count, low, high):
        trees, bits = [], []
        for _ in range(count):
            n, tree = _random_tree(rng, low, high)
            trees.append(tree)
            bits.append(torch.tensor([rng.randint(0, 1) for _ in range(n)]))
        return trees, bits, torch.tensor([float(b.sum() % 2) for b in bits])

    tests = [batch(300, 2, 6), batch(300, 7, 10)]
    tests = [([parse_tree(t) for t in trees], bits, labels) for trees, bits, labels in tests]  # parsed once

    def logits(trees, bits):
        return readout(net.forward_batch([embedding(b) for b in bits], trees))[:, 0]

    def loss_fn():
        trees, bits, labels = batch(32, 2, 6)
        return F.binary_cross_entropy_with_logits(logits(trees, bits), labels)

    def report(step, loss):
        with torch.no_grad():
            accuracies = [((logits(t, b) > 0).float() == y).float().mean().item() for t, b, y in tests]
        return [step, loss, *accuracies]

    return _train([*net.parameters(), *embedding.parameters(), *readout.parameters()], loss_fn, steps, lr, report, every)


def _recursive_neural_network(seed: int) -> Demo:
    from rnnref.models.recursive import RecursiveNeuralNetwork

    with seeded(seed):
        rows = _parity_run(RecursiveNeuralNetwork, 8, 0.02, 150, seed, 25)
    first, last = rows[0], rows[-1]
    return Demo(
        title="Recursive neural network: parity over random trees",
        task=(
            "Each leaf of a random binary tree is a bit (a learned 8-d embedding); the root vector, through "
            "a linear readout, must give the parity of all leaves. One composition p = tanh(W[a; b] + b) is "
            "applied at every node. Trained on trees of 2-6 leaves, tested on 300 trees of 2-6 and of 7-10."
        ),
        columns=["step", "training loss", "accuracy, 2-6 leaves", "accuracy, 7-10 leaves"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f}; accuracy reached {100 * last[2]:.1f}% on "
            f"trees like the training ones and {100 * last[3]:.1f}% on bigger trees never seen in training."
        ),
    )


def _recursive_neural_tensor_network(seed: int) -> Demo:
    from rnnref.models.recursive import RecursiveNeuralNetwork
    from rnnref.models.recursive_tensor import RecursiveNeuralTensorNetwork

    with seeded(seed):
        tensor_rows = _parity_run(RecursiveNeuralTensorNetwork, 2, 0.02, 150, seed, 30)
    with seeded(seed):
        plain_rows = _parity_run(RecursiveNeuralNetwork, 2, 0.02, 150, seed, 30)
    rows = [[t[0], t[1], t[3], p[1], p[3]] for t, p in zip(tensor_rows, plain_rows, strict=True)]
    last = rows[-1]
    return Demo(
        title="Recursive neural tensor network: parity with 2-d node vectors",
        task=(
            "The parity task of the recursive-neural-network demo (random trees of 2-6 leaves, tested on 7-10 "
            "leaves) with node vectors of only 2 numbers: the RNTN, whose bilinear term [a; b]ᵀV[a; b] lets "
            "children multiply, against the plain recursive network with the same size and training."
        ),
        columns=["step", "RNTN loss", "RNTN accuracy, 7-10 leaves", "plain loss", "plain accuracy, 7-10 leaves"],
        rows=rows,
        summary=(
            f"After {last[0]} steps the RNTN was right on {100 * last[2]:.1f}% of the bigger trees, the plain "
            f"recursive network on {100 * last[4]:.1f}% (chance: 50%)."
        ),
    )


DEMOS: dict[str, Callable[[int], Demo]] = {
    "fully-recurrent-network": _fully_recurrent_network,
    "hopfield-network": _hopfield_network,
    "bidirectional-associative-memory": _bidirectional_associative_memory,
    "echo-state-network": _echo_state_network,
    "liquid-state-machine": _liquid_state_machine,
    "continuous-time-rnn": _continuous_time_rnn,
    "multiple-timescales-rnn": _multiple_timescales_rnn,
    "second-order-rnn": _second_order_rnn,
    "indrnn": _indrnn,
    "recurrent-multilayer-perceptron": _recurrent_multilayer_perceptron,
    "hierarchical-rnn": _hierarchical_rnn,
    "recursive-neural-network": _recursive_neural_network,
    "recursive-neural-tensor-network": _recursive_neural_tensor_network,
}
