"""Demos of the training-method terms (helper M4): each runs the method on a tiny task in a few seconds.

| slug                                 | what it shows                                                       |
|--------------------------------------|---------------------------------------------------------------------|
| truncated-bptt                       | recall on a stream: a window longer than the delay vs shorter ones  |
| real-time-recurrent-learning         | RTRL = BPTT gradients; online RTRL learns XOR-in-time on a stream   |
| teacher-forcing                      | teacher-forced vs free-running training of a generator              |
| gradient-clipping                    | an exploding RNN: clipped steps learn, unclipped ones blow up       |
| connectionist-temporal-classification | an LSTM trained with CTC labels unsegmented frames                 |
| genetic-algorithm                    | evolving Elman weights for running parity: best fitness by generation |
| simulated-annealing                  | annealing Elman weights for running parity: loss and temperature    |
| particle-swarm-optimization          | a particle swarm on Elman weights for running parity                |
| gradient-descent                     | plain, momentum and Nesterov SGD on an ill-conditioned problem      |
| backpropagation                      | hand-written MLP gradients equal autograd                           |
| adam                                 | Adam vs SGD on badly scaled gradients; equality with torch.optim.Adam |
| layer-normalization                  | the LN-LSTM is invariant to rescaling its weights, an LSTM is not   |
| dropout                              | expectation kept; variational masks constant in time                |
| curriculum-learning                  | parity of 10 bits: with and without a length curriculum             |

Importing this module does not import torch; running a demo does.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnref.demos._common import Demo, generator, seeded

# -- truncated BPTT ---------------------------------------------------------------------


def _recall_with_window(window: int, seed: int, updates: int = 100, delay: int = 5) -> float:
    import torch

    from rnnref.models.elman import ElmanCell
    from rnnref.training.truncated_bptt import TruncatedBPTT

    torch.manual_seed(seed)
    g = generator(seed)
    cell, readout = ElmanCell(1, 16), torch.nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*cell.parameters(), *readout.parameters()], lr=1e-2)
    stream = torch.randint(0, 2, (16, updates * window + delay, 1), generator=g).float() * 2 - 1
    xs, targets = stream[:, delay:], stream[:, :-delay]
    TruncatedBPTT(window).run(cell, readout, xs, targets, lambda y, t: ((y - t) ** 2).mean(), optimizer=optimizer)
    test = torch.randint(0, 2, (256, 40, 1), generator=g).float() * 2 - 1
    with torch.no_grad():
        h, correct = cell.init_state(256), []
        for t in range(40):
            y, h = cell.step(test[:, t], h)
            if t >= delay:
                correct.append((readout(y).sign() == test[:, t - delay]).float().mean())
    return torch.stack(correct).mean().item()


def _truncated_bptt(seed: int) -> Demo:
    delay, updates = 5, 100
    rows = []
    with seeded(seed):
        for window in (2, 4, 12):
            rows.append([window, updates, updates * window, _recall_with_window(window, seed, updates, delay)])
    by_window = {row[0]: row[3] for row in rows}
    return Demo(
        title="Truncated BPTT: how far back the gradient goes",
        task=(
            f"An Elman network (16 hidden) reads one long stream of random ±1 bits and must output, at every step, "
            f"the bit from {delay} steps back. Trained online with BPTT(k, k): every k steps one Adam update with the "
            f"gradient of those k losses, sent back k steps; the state is carried on, detached. With k < {delay + 1} "
            f"no gradient connects an output to the input it must recall: the network can only use what the carried "
            f"state happens to keep. {updates} updates for every k; then accuracy on fresh streams."
        ),
        columns=["window k", "updates", "stream steps read", "recall accuracy"],
        rows=rows,
        summary=(
            f"With a 12-step window recall reaches {100 * by_window[12]:.1f}%; with windows of 2 and 4 steps, "
            f"shorter than the {delay}-step delay, it reaches {100 * by_window[2]:.1f}% and {100 * by_window[4]:.1f}% "
            f"(chance: 50%)."
        ),
    )


# -- RTRL -----------------------------------------------------------------------------------


def _real_time_recurrent_learning(seed: int) -> Demo:
    import torch

    from rnnref.training.bptt import bptt_gradients
    from rnnref.training.rtrl import RTRL, rtrl_gradients

    F64 = torch.float64
    I, H, O, B, steps, every = 1, 8, 1, 4, 600, 100
    with seeded(seed):
        g = generator(seed)
        # 1. RTRL = BPTT on a random network and sequence
        p = {
            "W_x": torch.randn(H, 2, generator=g, dtype=F64),
            "W_h": torch.randn(H, H, generator=g, dtype=F64) / H**0.5,
            "b": torch.randn(H, generator=g, dtype=F64) * 0.1,
            "W_y": torch.randn(2, H, generator=g, dtype=F64) / H**0.5,
            "b_y": torch.zeros(2, dtype=F64),
            "xs": torch.randn(3, 30, 2, generator=g, dtype=F64),
            "targets": torch.randn(3, 30, 2, generator=g, dtype=F64),
            "h0": torch.zeros(3, H, dtype=F64),
        }
        _, forward_mode = rtrl_gradients(**p)
        _, backward_mode = bptt_gradients(**p)
        difference = max((forward_mode[n] - backward_mode[n]).abs().max().item() for n in forward_mode)
        # 2. online learning on a stream
        learner = RTRL(
            torch.randn(H, I, generator=g, dtype=F64),
            torch.randn(H, H, generator=g, dtype=F64) / H**0.5,
            torch.zeros(H, dtype=F64),
            torch.randn(O, H, generator=g, dtype=F64) / H**0.5,
            torch.zeros(O, dtype=F64),
            torch.zeros(B, H, dtype=F64),
        )
        stream = torch.randint(0, 2, (B, steps + 2, 1), generator=g).to(F64) * 2 - 1
        rows, correct, losses = [], [], []
        for t in range(2, steps + 2):
            target = stream[:, t - 1] * stream[:, t - 2]  # x_(t-1) XOR x_(t-2), in ±1
            loss, grads = learner.step(stream[:, t], target)
            prediction = learner.h @ learner.params["W_y"].T + learner.params["b_y"]
            correct.append((prediction.sign() == target).to(F64).mean().item())
            losses.append(loss.item() / B)
            learner.update(grads, lr=0.02)
            if (t - 1) % every == 0:
                rows.append([t - 1, sum(losses[-every:]) / every, sum(correct[-every:]) / every])
    return Demo(
        title="Real-time recurrent learning: gradients forward in time, learning online",
        task=(
            f"First, for a random Elman network and a 30-step sequence, the RTRL gradients (carried forward as "
            f"sensitivities dh_t/dtheta) against the BPTT ones. Then online RTRL: one endless stream of ±1 bits, "
            f"target y_t = x_(t-1) XOR x_(t-2), a weight update after every step (learning rate 0.02, {H} hidden "
            f"units), nothing stored about the past."
        ),
        columns=["steps seen", "mean loss, last 100 steps", "signs right, last 100 steps"],
        rows=rows,
        summary=(
            f"RTRL and BPTT gradients differ by at most {difference:.1e} (rounding). Online, the share of right "
            f"signs rose from {100 * rows[0][2]:.1f}% in the first {every} steps to {100 * rows[-1][2]:.1f}% in the "
            f"last {every}."
        ),
    )


# -- teacher forcing ----------------------------------------------------------------------


def _teacher_forcing(seed: int) -> Demo:
    import torch

    from rnnref.training.teacher_forcing import AutoregressiveDecoder

    V, P, L, steps, every = 5, 3, 9, 80, 20

    def periodic(g, n):
        return torch.randint(0, V, (n, P), generator=g).repeat(1, L // P + 1)[:, :L]

    def curve(epsilon: float) -> list[float]:
        torch.manual_seed(seed)
        g = generator(seed)
        model = AutoregressiveDecoder(V, 32)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        test = periodic(g, 300)
        accuracies = []
        for step in range(steps + 1):
            if step % every == 0:
                generated = model.generate(test[:, :P], L - P)
                accuracies.append((generated == test[:, P:]).all(dim=1).float().mean().item())
            if step < steps:
                loss = model.loss(periodic(g, 32), epsilon, forced_prefix=P, generator=g, from_step=P)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return accuracies

    with seeded(seed):
        forced, scheduled, free = curve(0.0), curve(0.5), curve(1.0)
    rows = [[i * every, forced[i], scheduled[i], free[i]] for i in range(len(forced))]
    last = rows[-1]
    return Demo(
        title="Teacher forcing: training a generator on the true previous tokens",
        task=(
            f"A GRU decoder reads the previous token and predicts the next. Sequences repeat a random block of {P} "
            f"tokens (out of {V}); given the first block, the model must write the next {L - P} tokens. Trained "
            f"{steps} Adam steps with teacher forcing (true previous tokens), scheduled sampling (own token with "
            f"probability 0.5) or free running (own tokens); tested by free-running generation."
        ),
        columns=["step", "teacher forcing", "scheduled sampling 0.5", "free running"],
        rows=rows,
        summary=(
            f"After {last[0]} steps, the teacher-forced model continues {100 * last[1]:.1f}% of test sequences "
            f"exactly, scheduled sampling {100 * last[2]:.1f}%, and the model trained free running "
            f"{100 * last[3]:.1f}%."
        ),
    )


# -- gradient clipping ----------------------------------------------------------------------


def _gradient_clipping(seed: int) -> Demo:
    import math

    import torch

    from rnnref.training.gradient_clipping import clip_grad_norm

    F64 = torch.float64
    with seeded(seed):
        g = generator(seed)
        x = torch.randn(8, 40, 1, generator=g, dtype=F64)
        y = torch.roll(x, 1, dims=1)

        def train(clip: bool):
            torch.manual_seed(seed)
            rnn = torch.nn.RNN(1, 16, batch_first=True, dtype=F64, nonlinearity="relu")
            readout = torch.nn.Linear(16, 1, dtype=F64)
            with torch.no_grad():
                rnn.weight_hh_l0.copy_(1.1 * torch.eye(16, dtype=F64))  # every positive unit grows 1.1x per step
            params = [*rnn.parameters(), *readout.parameters()]
            history = []
            for _ in range(31):
                loss = ((readout(rnn(x)[0]) - y) ** 2).mean()
                for p in params:
                    p.grad = None
                loss.backward()
                norm = clip_grad_norm(params, 1.0) if clip else clip_grad_norm(params, math.inf)
                history.append((loss.item(), norm.item()))
                with torch.no_grad():
                    for p in params:
                        p -= 0.05 * p.grad
            return history

        clipped, unclipped = train(True), train(False)
    def number(value: float) -> float | str:
        return value if math.isfinite(value) else str(value)  # "nan"/"inf", so rows compare equal run to run

    rows = [[step, clipped[step][1], clipped[step][0], number(unclipped[step][0])] for step in (0, 1, 2, 5, 10, 20, 30)]
    return Demo(
        title="Gradient clipping: taming an exploding recurrent network",
        task=(
            "A ReLU Elman network (16 hidden) with recurrent matrix 1.1 I (activations and gradients grow by 1.1 per "
            "step, 1.1^40 = 45 over the sequence) learns to output the previous input over 40 steps. SGD, learning "
            "rate 0.05, with the global gradient norm clipped to 1 and without clipping."
        ),
        columns=["step", "gradient norm before clipping", "loss, clipped", "loss, not clipped"],
        rows=rows,
        summary=(
            f"The gradient norm starts at {rows[0][1]:.3g}. Clipped, the loss went from {rows[0][2]:.4g} to "
            f"{rows[-1][2]:.4g}; unclipped, it was {_g(rows[1][3])} after one step and {_g(rows[-1][3])} after "
            f"{rows[-1][0]}."
        ),
    )


def _g(value: float | str) -> str:
    """A loss for a summary: 3 significant digits, or "nan"/"inf" as they are."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


# -- CTC --------------------------------------------------------------------------------------


def _connectionist_temporal_classification(seed: int) -> Demo:
    import torch

    from rnnref.training.ctc import alignment_task, ctc_loss, greedy_decode

    steps, every = 100, 20
    with seeded(seed):
        g = generator(seed)
        lstm, readout = torch.nn.LSTM(4, 32), torch.nn.Linear(32, 5)
        optimizer = torch.optim.Adam([*lstm.parameters(), *readout.parameters()], lr=1e-2)
        x_test, _, lengths_test, _, labels_test = alignment_task(200, g)
        rows = []
        for step in range(steps + 1):
            x, targets, input_lengths, target_lengths, _ = alignment_task(32, g)
            loss = ctc_loss(readout(lstm(x)[0]).log_softmax(2), targets, input_lengths, target_lengths)
            if step % every == 0:
                with torch.no_grad():
                    decoded = greedy_decode(readout(lstm(x_test)[0]), lengths_test)
                rows.append([step, loss.item(), sum(d == t for d, t in zip(decoded, labels_test)) / len(labels_test)])
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        example = decoded[0], labels_test[0]
    first, last = rows[0], rows[-1]
    return Demo(
        title="Connectionist temporal classification: labelling unsegmented frames",
        task=(
            "Each input is a label of 3 symbols (out of 4) spread over frames: every symbol held for 1-3 noisy "
            "one-hot frames, sometimes followed by a silent frame. Only the label, not where each symbol is, is "
            "given. LSTM(4, 32) + linear + log-softmax over 4 symbols and the blank, trained with the CTC loss "
            "(Adam); test labels by best-path decoding."
        ),
        columns=["step", "CTC loss (per symbol)", "test labels exactly right"],
        rows=rows,
        summary=(
            f"The loss fell from {first[1]:.3f} to {last[1]:.4f}; greedy decoding labels {100 * last[2]:.1f}% of 200 "
            f"test sequences exactly (first one: decoded {example[0]}, true {example[1]})."
        ),
    )


# -- weight search: genetic algorithm, simulated annealing, particle swarm ------------------------


def _genetic_algorithm(seed: int) -> Demo:
    import torch

    from rnnref.training.genetic import GeneticAlgorithm, ParityObjective

    objective = ParityObjective(length=3, hidden_size=4)
    with seeded(seed):
        result = GeneticAlgorithm(population_size=100, elite=2).run(
            objective.fitness, objective.dim, 200, generator(seed), target_fitness=50.0
        )
        best_accuracy = objective.accuracy(result.best)
    n = len(result.history)
    shown = sorted({0, *range(0, n, 10), n - 1})
    rows = [[gen, result.history[gen], 1.0 / result.history[gen]] for gen in shown]
    return Demo(
        title="Genetic algorithm: evolving the weights of an Elman network",
        task=(
            f"Each chromosome is the {objective.dim} weights of an Elman network (4 hidden units, sigmoid output); "
            "fitness is 1 / mean squared error on running parity of all 8 three-bit sequences (24 outputs, the "
            "second step is XOR-in-time). Population 100, tournaments of 3, uniform crossover, Gaussian mutation, "
            "2 elites; stop at fitness 50 (MSE 0.02)."
        ),
        columns=["generation", "best fitness", "best MSE"],
        rows=rows,
        summary=(
            f"The best fitness rose from {result.history[0]:.2f} to {result.best_fitness:.1f} in {n - 1} generations, "
            f"never falling (elitism); the best network gets {100 * best_accuracy:.1f}% of the 24 parity outputs right."
        ),
    )


def _simulated_annealing(seed: int) -> Demo:
    import torch

    from rnnref.training.annealing import SimulatedAnnealing
    from rnnref.training.genetic import ParityObjective

    objective = ParityObjective(length=3, hidden_size=4)
    with seeded(seed):
        g = generator(seed)
        x0 = torch.randn(objective.dim, generator=g, dtype=torch.float64)
        sa = SimulatedAnnealing(0.01, 1e-5, steps=3000, step_std=0.2)
        result = sa.run(objective.mse, x0, g, target_loss=0.01)
        best_accuracy = objective.accuracy(result.best)
    n = len(result.losses)
    best_so_far, best = [], float("inf")
    for loss in result.losses:
        best = min(best, loss)
        best_so_far.append(best)
    shown = sorted({*range(0, n, 250), n - 1})
    rows = [[k + 1, result.temperatures[k], result.losses[k], best_so_far[k]] for k in shown]
    return Demo(
        title="Simulated annealing: the weights of an Elman network",
        task=(
            f"Search the {objective.dim} weights of an Elman network (4 hidden units) for running parity of all 8 "
            "three-bit sequences: propose Gaussian steps (std 0.2), accept a worse one with probability "
            "exp(-increase / T), T falling geometrically from 0.01 to 1e-5 over 3000 steps; stop at MSE 0.01."
        ),
        columns=["step", "temperature", "current MSE", "best MSE"],
        rows=rows,
        summary=(
            f"Starting from MSE {objective.mse(x0).item():.3f}, annealing reached {result.best_loss:.4f} after "
            f"{n} steps ({result.accepted} proposals accepted, {result.accepted_worse} of them worse); the best "
            f"network gets {100 * best_accuracy:.1f}% of the 24 parity outputs right."
        ),
    )


def _particle_swarm_optimization(seed: int) -> Demo:
    from rnnref.training.genetic import ParityObjective
    from rnnref.training.particle_swarm import ParticleSwarm

    objective = ParityObjective(length=3, hidden_size=4)
    with seeded(seed):
        result = ParticleSwarm(40).run(objective.mse, objective.dim, 500, generator(seed), target_loss=0.01)
        best_accuracy = objective.accuracy(result.best)
    n = len(result.history)
    rows = [[i, result.history[i]] for i in sorted({*range(0, n, 20), n - 1})]
    return Demo(
        title="Particle swarm optimisation: the weights of an Elman network",
        task=(
            f"40 particles fly through the {objective.dim}-dimensional weight space of an Elman network (4 hidden "
            "units), pulled towards their own best and the swarm's best position (inertia 0.7, c1 = c2 = 1.5); "
            "loss: mean squared error on running parity of all 8 three-bit sequences; stop at 0.01."
        ),
        columns=["iteration", "global best MSE"],
        rows=rows,
        summary=(
            f"The swarm's best MSE fell from {result.history[0]:.3f} to {result.best_loss:.4f} in {n - 1} "
            f"iterations, never rising; that network gets {100 * best_accuracy:.1f}% of the 24 parity outputs right."
        ),
    )


# -- gradient descent, backpropagation, Adam --------------------------------------------------


def _quadratic(seed: int):
    """An ill-conditioned least-squares problem (curvatures 1 to 100)."""
    import torch

    g = generator(seed)
    Q, _ = torch.linalg.qr(torch.randn(10, 10, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.logspace(0, 2, 10, dtype=torch.float64)) @ Q.T
    b = torch.randn(10, generator=g, dtype=torch.float64)
    solution = torch.linalg.solve(A, b)
    minimum = (0.5 * solution @ A @ solution - b @ solution).item()
    return (lambda w: 0.5 * w @ A @ w - b @ w - minimum), solution


def _gradient_descent(seed: int) -> Demo:
    import torch

    from rnnref.training.gradient_descent import SGD

    variants = {"plain": dict(), "momentum 0.9": dict(momentum=0.9), "Nesterov 0.9": dict(momentum=0.9, nesterov=True)}
    checkpoints = [0, 10, 25, 50, 100, 200]
    with seeded(seed):
        loss_fn, _ = _quadratic(seed)
        curves, parity = {}, 0.0
        for name, kwargs in variants.items():
            runs = []
            for cls in (SGD, torch.optim.SGD):
                w = torch.nn.Parameter(torch.zeros(10, dtype=torch.float64))
                opt = cls([w], lr=0.0099, **kwargs)  # just under 1 / largest curvature
                losses = []
                for step in range(201):
                    loss = loss_fn(w)
                    losses.append(loss.item())
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                runs.append((losses, w.detach().clone()))
            curves[name] = runs[0][0]
            parity = max(parity, (runs[0][1] - runs[1][1]).abs().max().item())
    rows = [[step, *(curves[name][step] for name in variants)] for step in checkpoints]
    return Demo(
        title="Gradient descent: plain, momentum and Nesterov",
        task=(
            "Minimise a 10-dimensional quadratic whose curvatures range from 1 to 100 (a long, narrow valley) "
            "from w = 0 with learning rate 0.0099, for 200 steps; the loss is the distance to the minimum value. "
            "Each variant is also run with torch.optim.SGD from the same start."
        ),
        columns=["step", *[f"loss, {name}" for name in variants]],
        rows=rows,
        summary=(
            f"After 200 steps plain gradient descent is still at {rows[-1][1]:.2e} above the minimum, momentum at "
            f"{rows[-1][2]:.2e}, Nesterov at {rows[-1][3]:.2e}; the weights differ from torch.optim.SGD's by at "
            f"most {parity:.1e}."
        ),
    )


def _backpropagation(seed: int) -> Demo:
    import torch

    from rnnref.training.backpropagation import backprop_gradients

    F64 = torch.float64
    cases = [([2, 3, 1], "tanh"), ([5, 16, 16, 3], "tanh"), ([8, 32, 4], "sigmoid"), ([4, 10, 10, 10, 10, 2], "relu")]
    rows = []
    with seeded(seed):
        g = generator(seed)
        for widths, activation in cases:
            weights = [torch.randn(o, i, generator=g, dtype=F64) / i**0.5 for i, o in zip(widths, widths[1:])]
            biases = [0.1 * torch.randn(o, generator=g, dtype=F64) for o in widths[1:]]
            x = torch.randn(16, widths[0], generator=g, dtype=F64)
            target = torch.randn(16, widths[-1], generator=g, dtype=F64)
            loss, grads = backprop_gradients(weights, biases, x, target, activation)
            leaves = [t.clone().requires_grad_() for t in (*weights, *biases)]
            a = x
            f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
            L = len(weights)
            for l in range(L):
                z = a @ leaves[l].T + leaves[L + l]
                a = f(z) if l < L - 1 else z
            reference = torch.autograd.grad(0.5 * ((a - target) ** 2).sum(), leaves)
            ours = [*grads["weights"], *grads["biases"]]
            difference = max((o - r).abs().max().item() for o, r in zip(ours, reference))
            rows.append(["-".join(map(str, widths)), activation, loss.item(), difference])
    worst = max(row[3] for row in rows)
    return Demo(
        title="Backpropagation, by hand",
        task=(
            "For random multilayer perceptrons (linear output, squared error, batch 16) compute the gradient of "
            "every weight and bias twice: with the hand-written backward pass "
            "delta_l = (W_(l+1)^T delta_(l+1)) * f'(z_l), and with torch.autograd, in float64."
        ),
        columns=["layer widths", "activation", "loss", "max |difference|"],
        rows=rows,
        summary=f"Over {len(rows)} networks the largest difference from autograd was {worst:.1e}: rounding error.",
    )


def _adam(seed: int) -> Demo:
    import torch

    from rnnref.training.adam import Adam
    from rnnref.training.gradient_descent import SGD

    F64 = torch.float64
    scales = torch.logspace(-2, 2, 6, dtype=F64)  # coordinates whose gradients differ 10^4-fold
    with seeded(seed):
        g = generator(seed)
        start = torch.randn(6, generator=g, dtype=F64)
        loss_fn = lambda w: (scales * (w - 1) ** 2).sum()  # noqa: E731 - minimum at w = 1
        paths = {}
        for name, make in (
            ("Adam (rnnref)", lambda p: Adam(p, lr=0.05)),
            ("torch.optim.Adam", lambda p: torch.optim.Adam(p, lr=0.05)),
            ("SGD", lambda p: SGD(p, lr=0.0049)),  # just under the stable limit 1 / 100
        ):
            w = torch.nn.Parameter(start.clone())
            opt = make([w])
            path = []
            for step in range(301):
                loss = loss_fn(w)
                path.append((loss.item(), (w.detach() - 1).abs().max().item(), w.detach().clone()))
                opt.zero_grad()
                loss.backward()
                opt.step()
            paths[name] = path
    ours, theirs, sgd = paths["Adam (rnnref)"], paths["torch.optim.Adam"], paths["SGD"]
    rows = [
        [step, ours[step][0], sgd[step][0], ours[step][1], sgd[step][1], (ours[step][2] - theirs[step][2]).abs().max().item()]
        for step in (0, 25, 50, 100, 200, 300)
    ]
    last = rows[-1]
    return Demo(
        title="Adam: a step size per coordinate",
        task=(
            "Minimise sum_i s_i (w_i - 1)^2 with curvatures s_i from 0.01 to 100, so gradients differ 10^4-fold "
            "between coordinates. Adam (lr 0.05) against SGD at the largest stable learning rate (0.0049); Adam is "
            "also run as torch.optim.Adam from the same start."
        ),
        columns=["step", "loss, Adam", "loss, SGD", "max |w - 1|, Adam", "max |w - 1|, SGD", "|Adam - torch.optim.Adam|"],
        rows=rows,
        summary=(
            f"After {last[0]} steps the worst coordinate is {last[3]:.1e} from the minimum with Adam and "
            f"{last[4]:.2f} with SGD (the flat coordinates barely move); rnnref's Adam and torch.optim.Adam differ "
            f"by at most {max(r[5] for r in rows):.1e}."
        ),
    )


# -- layer normalisation and dropout ------------------------------------------------------------


def _layer_normalization(seed: int) -> Demo:
    import torch

    from rnnref.models.stacked import Stacked
    from rnnref.training.layer_norm import LayerNorm, LayerNormLSTMCell

    F64 = torch.float64
    rows = []
    with seeded(seed):
        g = generator(seed)
        cell = LayerNormLSTMCell(3, 8, eps=1e-12, dtype=F64)
        ln_net = Stacked([cell])
        lstm = torch.nn.LSTM(3, 8, batch_first=True, dtype=F64)
        xs = torch.randn(4, 20, 3, generator=g, dtype=F64)
        with torch.no_grad():
            y_ln, y_lstm = ln_net(xs)[0], lstm(xs)[0]
            for factor in (0.1, 0.5, 2.0, 10.0):
                cell.weight_ih.mul_(factor)
                cell.weight_hh.mul_(factor)
                lstm.weight_ih_l0.mul_(factor)
                lstm.weight_hh_l0.mul_(factor)
                rows.append([factor, (ln_net(xs)[0] - y_ln).abs().max().item(), (lstm(xs)[0] - y_lstm).abs().max().item()])
                cell.weight_ih.div_(factor)
                cell.weight_hh.div_(factor)
                lstm.weight_ih_l0.div_(factor)
                lstm.weight_hh_l0.div_(factor)
            x = 5 * torch.randn(16, 8, generator=g, dtype=F64) + 3
            parity = (LayerNorm(8, dtype=F64)(x) - torch.nn.LayerNorm(8, dtype=F64)(x)).abs().max().item()
    return Demo(
        title="Layer normalisation: an LSTM that ignores the scale of its weights",
        task=(
            "A layer-normalised LSTM cell (Ba et al.: LN on W_ih x_t, on W_hh h_(t-1) and on c_t) and a plain "
            "torch.nn.LSTM, both hidden 8, read the same 20-step sequences. Multiply both recurrent and input "
            "weight matrices by a factor and measure how far the outputs move."
        ),
        columns=["weight factor", "max output change, LN-LSTM", "max output change, LSTM"],
        rows=rows,
        summary=(
            f"Rescaling the weights by 0.1 to 10 moves the LN-LSTM's outputs by at most "
            f"{max(r[1] for r in rows):.1e} and the plain LSTM's by up to {max(r[2] for r in rows):.2f}. "
            f"rnnref's LayerNorm and torch.nn.LayerNorm differ by {parity:.1e}."
        ),
    )


def _dropout(seed: int) -> Demo:
    import torch

    from rnnref.training.dropout import VariationalDropout, dropout

    rows = []
    with seeded(seed):
        g = generator(seed)
        x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
        for p in (0.1, 0.3, 0.5, 0.8):
            samples = dropout(x.expand(20000, 3), p, generator=g)
            mean_error = (samples.mean(dim=0) - x).abs().max().item()
            zero_fraction = (samples == 0).double().mean().item()
            sequence = torch.ones(1, 30, 64)
            standard = dropout(sequence, p, generator=g) == 0
            variational = VariationalDropout(p, generator=g)(sequence) == 0
            distinct_standard = len({tuple(row.tolist()) for row in standard[0]})
            distinct_variational = len({tuple(row.tolist()) for row in variational[0]})
            rows.append([p, zero_fraction, mean_error, distinct_standard, distinct_variational])
    return Demo(
        title="Dropout: expectation kept, and one mask per sequence in variational dropout",
        task=(
            "Inverted dropout on x = (1, -2, 0.5), 20000 draws: the share of zeros and how far the mean output is "
            "from x. Then a 30-step sequence of 64 features: how many different masks standard dropout uses over "
            "the 30 steps, and how many variational dropout (Gal & Ghahramani) uses."
        ),
        columns=["p", "share dropped", "max |mean - x|", "masks over 30 steps, standard", "masks over 30 steps, variational"],
        rows=rows,
        summary=(
            f"The share dropped matches p (e.g. {rows[1][1]:.3f} for p = 0.3) and the mean output stays within "
            f"{max(r[2] for r in rows):.3f} of x; standard dropout drew {rows[0][3]} different masks over 30 steps, "
            f"variational dropout {rows[0][4]}."
        ),
    )


# -- curriculum learning ----------------------------------------------------------------------------


def _curriculum_learning(seed: int) -> Demo:
    import torch
    import torch.nn.functional as F

    from rnnref.training.curriculum import Curriculum

    L, steps, every = 10, 300, 50
    curriculum = Curriculum(2, L, 180)

    def curve(use_curriculum: bool) -> list[float]:
        torch.manual_seed(seed)
        g = generator(seed)
        gru, readout = torch.nn.GRU(1, 16, batch_first=True), torch.nn.Linear(16, 1)
        optimizer = torch.optim.Adam([*gru.parameters(), *readout.parameters()], lr=1e-2)
        test = torch.randint(0, 2, (500, L, 1), generator=g).float()
        accuracies = []
        for step in range(steps + 1):
            if step % every == 0:
                with torch.no_grad():
                    predicted = readout(gru(test)[0][:, -1]) > 0
                accuracies.append((predicted == (test.sum(dim=1) % 2 > 0.5)).float().mean().item())
            if step < steps:
                n = curriculum.sample(step, g) if use_curriculum else L
                x = torch.randint(0, 2, (32, n, 1), generator=g).float()
                loss = F.binary_cross_entropy_with_logits(readout(gru(x)[0][:, -1]), x.sum(dim=1) % 2)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return accuracies

    with seeded(seed):
        with_curriculum, without = curve(True), curve(False)
    rows = [[i * every, curriculum(i * every), with_curriculum[i], without[i]] for i in range(len(without))]
    last = rows[-1]
    return Demo(
        title="Curriculum learning: parity of 10 bits, short strings first",
        task=(
            f"A GRU (16 hidden) must output the parity of a {L}-bit string. With a curriculum the longest length "
            f"allowed grows linearly from 2 to {L} over 180 steps (lengths drawn uniformly up to it); without, every "
            f"string has {L} bits. {steps} Adam steps of 32 strings; accuracy on 500 test strings of {L} bits."
        ),
        columns=["step", "curriculum: longest length", f"accuracy at {L} bits, curriculum", f"accuracy at {L} bits, none"],
        rows=rows,
        summary=(
            f"After {last[0]} steps the network trained with the curriculum gets {100 * last[2]:.1f}% of {L}-bit "
            f"strings right; trained on {L}-bit strings from the start it gets {100 * last[3]:.1f}% (chance: 50%)."
        ),
    )


#: slug -> demo function (seed -> Demo)
DEMOS: dict[str, Callable[[int], Demo]] = {
    "truncated-bptt": _truncated_bptt,
    "real-time-recurrent-learning": _real_time_recurrent_learning,
    "teacher-forcing": _teacher_forcing,
    "gradient-clipping": _gradient_clipping,
    "connectionist-temporal-classification": _connectionist_temporal_classification,
    "genetic-algorithm": _genetic_algorithm,
    "simulated-annealing": _simulated_annealing,
    "particle-swarm-optimization": _particle_swarm_optimization,
    "gradient-descent": _gradient_descent,
    "backpropagation": _backpropagation,
    "adam": _adam,
    "layer-normalization": _layer_normalization,
    "dropout": _dropout,
    "curriculum-learning": _curriculum_learning,
}
