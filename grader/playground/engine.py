"""Playground's training loop, vectorized over many independent runs.

Runs that share a shape (TrainConfig.stack_key: data, layers, batch size,
epochs) train together: every array carries the run as its first axis, so R
runs cost one set of array operations. Activation, learning rate and
regularization may differ from run to run; the component calls are split by
them. Within a batch Playground's weights do not change, so its per-example
accumulation equals one batched gradient; only the summation order differs
(agreement with the per-example oracle is ~1e-15 in the first epochs).

The loop of one group is a generator (`group_training`) that yields its
component calls and receives their results, so that a driver can serve them
in-process (`serve`) or gather the calls of many groups into one round trip to
a student's worker (grader/experiments/lockstep.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator, Sequence
from dataclasses import dataclass

import numpy as np

from grader.playground.components import PLAYGROUND, Components, tanh
from grader.playground.config import TrainConfig
from grader.playground.problem import make_problem
from grader.playground.rng import Seed


class ComponentError(ValueError):
    """A component returned something the engine cannot train with."""


@dataclass(frozen=True)
class RunResult:
    config: TrainConfig
    seed: Seed
    curve: np.ndarray  # (epochs, 2): train and test loss after each epoch; NaN once diverged
    diverged_at: int | None  # the 1-based epoch whose loss or weights were no longer finite
    weights: tuple[np.ndarray, ...]  # final parameters (zeros for a diverged run)
    biases: tuple[np.ndarray, ...]

    @property
    def final(self) -> tuple[float, float]:
        return float(self.curve[-1, 0]), float(self.curve[-1, 1])

    @property
    def zero_weights(self) -> tuple[int, int] | None:
        """(weights exactly 0, all weights) of the final network: L1's dead links. None for
        a diverged run, whose parameters are parked at 0."""
        if self.diverged_at is not None:
            return None
        return (sum(int(np.count_nonzero(w == 0)) for w in self.weights),
                sum(w.size for w in self.weights))


Progress = Callable[[int], None]
# A component call as the engine asks for it: (method name of Components, its
# arguments, the runs of the group it is for: a slice or an index array).
Request = tuple[str, tuple, "slice | np.ndarray"]
Training = Generator[list[Request], list[object], list[RunResult]]


def train(
    runs: Sequence[tuple[TrainConfig, Seed]],
    *,
    components: Components = PLAYGROUND,
    progress: Progress | None = None,
    jobs: int = 1,
) -> list[RunResult]:
    """Train every (config, seed) run; results come back in the order given.

    progress, when given, is called with the number of run-epochs just done.
    jobs > 1 spreads the work over that many processes (the engine's own
    components only); each run's result is the same as with jobs=1.
    """
    groups = stack_groups([config for config, _ in runs])
    # Work units: each group, split into `jobs` interleaved shares.
    units = [indices[k::jobs] for indices in groups for k in range(min(jobs, len(indices)))]
    results: list[RunResult | None] = [None] * len(runs)
    if jobs > 1 and len(units) > 1:
        if components is not PLAYGROUND:
            raise ValueError("jobs > 1 needs the engine's own components")
        _train_in_processes(runs, units, jobs, progress, results)
    else:
        for indices in units:
            trained = _train_unit([runs[i] for i in indices], components, progress)
            for i, result in zip(indices, trained, strict=True):
                results[i] = result
    return results  # type: ignore[return-value]


def stack_groups(configs: Sequence[TrainConfig]) -> list[list[int]]:
    """Positions of the configs, grouped by what must be equal to train together."""
    groups: dict[tuple, list[int]] = {}
    for index, config in enumerate(configs):
        groups.setdefault(config.stack_key(), []).append(index)
    return [sorted(indices, key=lambda i: stack_order(configs[i])) for indices in groups.values()]


def group_training(runs: Sequence[tuple[TrainConfig, Seed]], *, vectorized_rates: bool,
                   progress: Progress | None = None, speculate: bool = False,
                   eval_epochs: Collection[int] | None = None) -> Training:
    """The training of runs that share a stack key, as a generator of component calls.

    speculate: go on with the engine's own update and check the component's
    answer one call later (see _Network). eval_epochs: the 0-based epochs after
    which the losses are computed (and divergence looked for); None: every one.
    The last epoch always is; the curve holds NaN for the others."""
    problems = [make_problem(config, seed) for config, seed in runs]
    return _group_training([c for c, _ in runs], problems, vectorized_rates, progress,
                           speculate, None if eval_epochs is None else frozenset(eval_epochs))


def serve(training: Training, components: Components) -> list[RunResult]:
    """Run a group's training with its component calls answered in this process."""
    try:
        requests = next(training)
        while True:
            requests = training.send([getattr(components, name)(*args)
                                      for name, args, _ in requests])
    except StopIteration as done:
        return done.value


def _train_unit(runs, components=PLAYGROUND, progress=None) -> list[RunResult]:
    """Train runs that share a stack key, together."""
    vectorized = not components.scalar_hyperparameters
    return serve(group_training(runs, vectorized_rates=vectorized, progress=progress),
                 components)


def _train_in_processes(runs, units, jobs, progress, results) -> None:
    # Vectorized numpy holds the GIL between small array operations, so threads
    # do not help; processes do (each unit is seconds of work, results are small).
    # Imported here: this module also runs inside the student's worker, which needs
    # neither (grader/playground/calls.py).
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn" if sys.platform == "win32" else "forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(_train_unit, [runs[i] for i in indices]): indices
                   for indices in units}
        for future in as_completed(futures):
            indices = futures[future]
            for i, result in zip(indices, future.result(), strict=True):
                results[i] = result
            if progress is not None:
                progress(len(indices) * runs[indices[0]][0].epochs)


def _stack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.ascontiguousarray(np.stack(arrays))


def stack_order(config: TrainConfig) -> tuple:
    """How runs are ordered within a stack: by update setting, then activation. Each
    update setting's runs are then one range of rows, taken and put back as a slice
    (a view, a block copy) instead of gathered and scattered by index; runs train
    independently of their neighbours, so the order changes no number."""
    return (config.regularization or "", config.learning_rate, config.regularization_rate,
            config.activation)


def _row_groups(values: Sequence) -> list[tuple[object, slice | np.ndarray, int]]:
    """(value, rows, count) for each distinct value; rows as a slice when they are one
    range (all rows when there is one value), else as indices."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        return [(distinct[0], slice(None), len(values))]
    groups = []
    for v in distinct:
        rows = [i for i, x in enumerate(values) if x == v]
        if rows[-1] - rows[0] + 1 == len(rows):
            groups.append((v, slice(rows[0], rows[-1] + 1), len(rows)))
        else:
            groups.append((v, np.array(rows), len(rows)))
    return groups


class _Split:
    """How one group's component calls are split by the runs' settings."""

    def __init__(self, configs: list[TrainConfig], vectorized_rates: bool) -> None:
        self.activations = _row_groups([c.activation for c in configs])
        lr = np.array([c.learning_rate for c in configs], dtype=np.float64)
        rate = np.array([c.regularization_rate for c in configs], dtype=np.float64)
        self.bias_lr = lr.reshape(-1, 1)
        self.vectorized = vectorized_rates
        if vectorized_rates:  # the engine's own components take per-run rate arrays
            self.updates = [((lr[rows].reshape(-1, 1, 1), rate[rows].reshape(-1, 1, 1), kind),
                             rows, count) for kind, rows, count in
                            _row_groups([c.regularization for c in configs])]
        else:  # a student's functions take plain numbers: one call per distinct setting
            self.updates = _row_groups([c.update_setting for c in configs])
        l1 = np.array([c.regularization == "L1" for c in configs])
        self.l1_runs = l1.reshape(-1, 1, 1) if l1.any() else None

    def activation(self, z: np.ndarray, derivative: bool) -> list[Request]:
        if len(self.activations) == 1:  # every run: the array itself, no view to make
            return [("activation", (self.activations[0][0], z, derivative), slice(None))]
        return [("activation", (name, z[rows], derivative), rows)
                for name, rows, _ in self.activations]

    def join_activation(self, z: np.ndarray, answers: list, derivative: bool):
        if len(answers) == 1:
            out, der = answers[0]
            name = self.activations[0][0]
            return (_checked_array(out, z.shape, f"{name} output"),
                    _checked_array(der, z.shape, f"{name} derivative") if derivative else None)
        out = np.empty_like(z)
        der = np.empty_like(z) if derivative else None
        for (name, rows, count), (o, d) in zip(self.activations, answers, strict=True):
            shape = (count, *z.shape[1:])
            out[rows] = _checked_array(o, shape, f"{name} output")
            if derivative:
                der[rows] = _checked_array(d, shape, f"{name} derivative")
        return out, der

    def update(self, weights: list[np.ndarray], gradients: list[np.ndarray]) -> list[Request]:
        """The update's requests. A student's update is elementwise with plain-number
        rates: each setting gets all its runs' layers as one (runs, parameters) array
        (from one concatenation per step, not one per setting and layer)."""
        if not self.vectorized:
            runs = len(weights[0])
            weights = [np.concatenate([w.reshape(runs, -1) for w in weights], axis=1)]
            gradients = [np.concatenate([g.reshape(runs, -1) for g in gradients], axis=1)]
        if len(self.updates) == 1:
            return [("regularized_update", (weights, gradients, *self.updates[0][0]),
                     slice(None))]
        return [("regularized_update",
                 ([w[rows] for w in weights], [g[rows] for g in gradients], *setting), rows)
                for setting, rows, _ in self.updates]

    def join_update(self, weights: list[np.ndarray], answers: list) -> list[np.ndarray]:
        runs = len(weights[0])
        shapes = ([w.shape for w in weights] if self.vectorized
                  else [(runs, sum(w[0].size for w in weights))])
        if len(answers) == 1:
            joined = _checked_weights(answers[0], shapes)
        else:
            joined = [np.empty(shape) for shape in shapes]
            for (_, rows, count), new in zip(self.updates, answers, strict=True):
                part = _checked_weights(new, [(count, *shape[1:]) for shape in shapes])
                for target, layer in zip(joined, part, strict=True):
                    target[rows] = layer
        if self.vectorized:
            return joined
        (flat,) = joined
        layers, at = [], 0
        for w in weights:  # back into the layers, contiguous for the matmuls
            size = w[0].size
            layers.append(np.ascontiguousarray(flat[:, at:at + size]).reshape(w.shape))
            at += size
        return layers


class _Network:
    """A group's parameters, and (when speculating) an update not yet confirmed.

    Speculation: a step's update is first computed with the engine's own rule
    and training goes on with it; the student's update of that step travels with
    the next step's first call (one round trip instead of two) and replaces the
    assumption unless it is bit for bit the same, in which case the work done
    with it is repeated. So the training is exactly the student's either way."""

    def __init__(self, weights, biases, split: _Split, speculate: bool, dead=None) -> None:
        self.weights, self.biases, self.split = weights, biases, split
        self.dead = [np.zeros(w.shape, dtype=bool) for w in weights] if dead is None else dead
        self.speculate = speculate
        self.pending = None  # (update requests, weights and dead links before, assumed)

    def update(self, mean_w):
        """Apply a step's update: a generator, as it may have to ask for it."""
        requests = self.split.update(self.weights, mean_w)
        if self.speculate:
            assumed = self.split.join_update(self.weights, [
                getattr(PLAYGROUND, method)(*args) for method, args, _ in requests])
            self.pending = (requests, self.weights, [d.copy() for d in self.dead], assumed)
            self._set(list(assumed))
        else:
            self._set(self.split.join_update(self.weights, (yield requests)))

    def _set(self, weights) -> None:
        if self.split.l1_runs is not None:
            # L1 zero crossing: the link is dead and stays 0 from now on.
            for layer, w in enumerate(weights):
                self.dead[layer] |= (w == 0) & self.split.l1_runs
                weights[layer] = np.where(self.dead[layer], 0.0, w)
        self.weights = weights

    def take_pending(self) -> list[Request]:
        return self.pending[0] if self.pending is not None else []

    def settle(self, answers: list) -> bool:
        """The student's answers to the pending update: False when they differ
        from the assumption (the weights are then theirs; redo what used them)."""
        _, before, dead, assumed = self.pending
        self.pending = None
        theirs = self.split.join_update(before, answers)
        if all(a.tobytes() == t.tobytes() for a, t in zip(assumed, theirs, strict=True)):
            return True
        self.dead = dead
        self._set(theirs)
        return False

    def forward(self, x, derivative: bool):
        """_forward on the current weights, settling a pending update on the way."""
        while True:
            extra = self.take_pending()
            result, answers = yield from _forward(self.weights, self.biases, x, self.split,
                                                  derivative, extra)
            if not extra or self.settle(answers):
                return result

    def finish(self):
        if self.pending is not None:
            self.settle((yield self.take_pending()))


def _group_training(configs, problems, vectorized_rates, progress, speculate=False,
                    eval_epochs=None) -> Training:
    first = configs[0]
    n_runs = len(configs)
    split = _Split(configs, vectorized_rates)
    net = _Network(*initial_parameters(problems), split, speculate)
    x_train, y_train, x_eval, y_eval = _data(problems)
    n_train = x_train.shape[1]

    (batches,) = yield [("minibatches", (n_train, first.batch_size), slice(None))]
    batch_data = [(x_train[:, idx], y_train[:, idx], len(idx))
                  for idx in _checked_batches(batches, n_train)]
    curve = np.full((n_runs, first.epochs, 2), np.nan)
    diverged_at: list[int | None] = [None] * n_runs
    carry: tuple[list, list, int] | None = None  # Playground's leftover accumulators

    with np.errstate(all="ignore"):  # divergence is detected and reported, not warned about
        for epoch in range(first.epochs):
            carry = yield from _epoch(net, batch_data, first.batch_size, carry)
            if eval_epochs is None or epoch in eval_epochs or epoch == first.epochs - 1:
                _, _, out = yield from net.forward(x_eval, False)
                curve[:, epoch] = _losses(out, y_eval, n_train)
                _mark_diverged(epoch, curve, net.weights, net.biases, diverged_at)
            if progress is not None:
                progress(n_runs)
        yield from net.finish()

    return [
        RunResult(
            config=configs[r],
            seed=problems[r].seed,
            curve=curve[r],
            diverged_at=diverged_at[r],
            weights=tuple(w[r].T.copy() for w in net.weights),
            biases=tuple(b[r].copy() for b in net.biases),
        )
        for r in range(n_runs)
    ]


def initial_parameters(problems) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The runs' initial weights and biases, stacked. Weights are kept transposed,
    (runs, n_in, n_out), so that every matmul reads contiguous memory; the update is
    elementwise and does not care."""
    n_layers = len(problems[0].weights)
    return ([_stack([p.weights[layer].T for p in problems]) for layer in range(n_layers)],
            [_stack([p.biases[layer] for p in problems]) for layer in range(n_layers)])


def _data(problems):
    """(x_train, y_train, x_eval, y_eval) stacked over runs; eval = train, then test."""
    x_train = _stack([p.x_train for p in problems])
    y_train = _stack([p.y_train for p in problems])[:, :, None]
    x_eval = np.concatenate([x_train, _stack([p.x_test for p in problems])], axis=1)
    y_eval = np.concatenate([y_train, _stack([p.y_test for p in problems])[:, :, None]], axis=1)
    return x_train, y_train, x_eval, y_eval


def _epoch(net: _Network, steps, batch_size: int, carry):
    """One epoch's steps, (x, y, count) each; returns the carry it leaves (or None)."""
    for x, y, count in steps:
        inputs, derivatives, out = yield from net.forward(x, True)
        grad_w, grad_b = _gradients(net.weights, inputs, derivatives, out, y)
        if carry is not None:
            grad_w = [g + c for g, c in zip(grad_w, carry[0], strict=True)]
            grad_b = [g + c for g, c in zip(grad_b, carry[1], strict=True)]
            count += carry[2]
            carry = None
        if count < batch_size:
            # Leftover quirk: (i + 1) % batch_size never hit, so these
            # gradients wait for the first update of the next epoch.
            carry = (grad_w, grad_b, count)
            continue
        if count != 1:  # dividing by 1 changes nothing: skip the array operations
            grad_w = [g / count for g in grad_w]
            grad_b = [g / count for g in grad_b]
        yield from net.update(grad_w)
        # Biases are never regularized.
        net.biases = [b - net.split.bias_lr * g for b, g in zip(net.biases, grad_b,
                                                                strict=True)]
    return carry


def _forward(weights, biases, x, split: _Split, derivative: bool, extra=()):
    """Layer inputs and activation derivatives, and the output (tanh, always);
    `extra` requests travel with the first layer's, their answers come back."""
    inputs, derivatives = [x], []
    a = x
    extra_answers = []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = np.matmul(a, w)
        z += b[:, None, :]
        answers = yield [*extra, *split.activation(z, derivative)]
        if extra:
            extra_answers, answers = answers[:len(extra)], answers[len(extra):]
            extra = ()
        a, der = split.join_activation(z, answers, derivative)
        inputs.append(a)
        derivatives.append(der)
    z = np.matmul(a, weights[-1])
    z += biases[-1][:, None, :]
    return (inputs, derivatives, tanh(z)), extra_answers


def _gradients(weights, inputs, derivatives, out, y):
    """Sums over the batch of dE/dw and dE/db, E = 0.5 * (output - label)^2."""
    delta = (out - y) * (1 - out * out)  # dE/dz at the tanh output node
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grad_w[layer] = np.matmul(inputs[layer].transpose(0, 2, 1), delta)
        grad_b[layer] = delta.sum(axis=1)
        if layer:
            delta = np.matmul(delta, weights[layer].transpose(0, 2, 1))
            delta *= derivatives[layer - 1]
    return grad_w, grad_b


def _losses(out, y_eval, n_train):
    """Mean of 0.5 * (output - label)^2 over the training and the test points."""
    diff = out[:, :, 0] - y_eval[:, :, 0]
    error = 0.5 * (diff * diff)
    return np.stack([error[:, :n_train].mean(axis=1), error[:, n_train:].mean(axis=1)], axis=1)


def _mark_diverged(epoch, curve, weights, biases, diverged_at):
    """Record runs whose loss or parameters stopped being finite at this epoch."""
    bad = ~np.isfinite(curve[:, epoch]).all(axis=1)
    for p in (*weights, *biases):
        bad |= ~np.isfinite(p).reshape(len(p), -1).all(axis=1)
    bad |= np.array([d is not None for d in diverged_at])
    for r in np.flatnonzero(bad):
        if diverged_at[r] is None:
            diverged_at[r] = epoch + 1
        curve[r, epoch] = np.nan
        # Park the run at zero so it costs nothing and warns nothing from here on.
        for p in (*weights, *biases):
            p[r] = 0.0


def _checked_batches(batches, n_train: int) -> list[np.ndarray]:
    checked = []
    for batch in batches:
        idx = np.asarray(batch)
        if idx.ndim != 1 or idx.dtype.kind not in "iu" or len(idx) == 0:
            raise ComponentError("minibatches must return non-empty 1-d integer index arrays")
        if idx.min() < 0 or idx.max() >= n_train:
            raise ComponentError(f"minibatches returned an index outside 0..{n_train - 1}")
        checked.append(idx)
    every = np.concatenate(checked) if checked else np.zeros(0, dtype=np.int64)
    if len(every) != n_train or (np.bincount(every, minlength=n_train) != 1).any():
        raise ComponentError(f"minibatches must cover each of the {n_train} points once")
    return checked


def _checked_array(value, shape, what: str) -> np.ndarray:
    if type(value) is np.ndarray and value.shape == shape and value.dtype == np.float64:
        return value  # the hot path
    if not isinstance(value, np.ndarray) or value.shape != shape:
        got = getattr(value, "shape", type(value).__name__)
        raise ComponentError(f"{what} has shape {got}, expected {shape}")
    return value.astype(np.float64, copy=False)


def _checked_weights(new, shapes) -> list[np.ndarray]:
    if len(new) != len(shapes):
        raise ComponentError(
            f"regularized_update returned {len(new)} arrays for {len(shapes)} layers")
    what = "regularized_update's result"
    return [_checked_array(n, shape, what) for n, shape in zip(new, shapes, strict=True)]
