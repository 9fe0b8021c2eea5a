"""Playground's training loop, vectorized over many independent runs.

Runs that share a shape (TrainConfig.shape_key) train together: every array
carries the run as its first axis, so R runs cost one set of array operations.
Within a batch Playground's weights do not change, so its per-example
accumulation equals one batched gradient; only the summation order differs
(agreement with the per-example oracle is ~1e-15 in the first epochs).
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from grader.playground.components import PLAYGROUND, Components, tanh
from grader.playground.config import TrainConfig
from grader.playground.problem import Problem, make_problem
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


Progress = Callable[[int], None]


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
    groups: dict[tuple, list[int]] = {}
    for index, (config, _) in enumerate(runs):
        key = config.shape_key()
        if components.scalar_hyperparameters:
            key += (config.learning_rate, config.regularization_rate)
        groups.setdefault(key, []).append(index)
    # Work units: each group, split into `jobs` interleaved shares.
    units = [indices[k::jobs] for indices in groups.values()
             for k in range(min(jobs, len(indices)))]
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


def _train_unit(runs, components=PLAYGROUND, progress=None) -> list[RunResult]:
    """Train runs that share a shape, together."""
    problems = [make_problem(config, seed) for config, seed in runs]
    return _train_group([c for c, _ in runs], problems, components, progress)


def _train_in_processes(runs, units, jobs, progress, results) -> None:
    # Vectorized numpy holds the GIL between small array operations, so threads
    # do not help; processes do (each unit is seconds of work, results are small).
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


def _train_group(
    configs: list[TrainConfig],
    problems: list[Problem],
    components: Components,
    progress: Progress | None,
) -> list[RunResult]:
    first = configs[0]
    n_runs, n_layers = len(configs), len(first.layer_sizes) - 1
    if components.scalar_hyperparameters:
        lr, rate = first.learning_rate, first.regularization_rate
        bias_lr = lr
    else:
        lr = np.array([c.learning_rate for c in configs], dtype=np.float64).reshape(-1, 1, 1)
        rate = np.array([c.regularization_rate for c in configs],
                        dtype=np.float64).reshape(-1, 1, 1)
        bias_lr = lr[:, :, 0]
    # Weights are kept transposed, (runs, n_in, n_out), so that every matmul reads
    # contiguous memory; the update is elementwise and does not care.
    weights = [_stack([p.weights[layer].T for p in problems]) for layer in range(n_layers)]
    biases = [_stack([p.biases[layer] for p in problems]) for layer in range(n_layers)]
    x_train = _stack([p.x_train for p in problems])
    y_train = _stack([p.y_train for p in problems])[:, :, None]
    x_eval = np.concatenate([x_train, _stack([p.x_test for p in problems])], axis=1)
    y_eval = np.concatenate([y_train, _stack([p.y_test for p in problems])[:, :, None]], axis=1)
    n_train = x_train.shape[1]

    batches = _checked_batches(components.minibatches(n_train, first.batch_size), n_train)
    batch_data = [(x_train[:, idx], y_train[:, idx], len(idx)) for idx in batches]
    dead = [np.zeros(w.shape, dtype=bool) for w in weights]
    curve = np.full((n_runs, first.epochs, 2), np.nan)
    diverged_at: list[int | None] = [None] * n_runs
    carry: tuple[list, list, int] | None = None  # Playground's leftover accumulators

    with np.errstate(all="ignore"):  # divergence is detected and reported, not warned about
        for epoch in range(first.epochs):
            for x, y, count in batch_data:
                grad_w, grad_b = _gradients(weights, biases, x, y, first.activation, components)
                if carry is not None:
                    grad_w = [g + c for g, c in zip(grad_w, carry[0], strict=True)]
                    grad_b = [g + c for g, c in zip(grad_b, carry[1], strict=True)]
                    count += carry[2]
                    carry = None
                if count < first.batch_size:
                    # Leftover quirk: (i + 1) % batch_size never hit, so these
                    # gradients wait for the first update of the next epoch.
                    carry = (grad_w, grad_b, count)
                    continue
                mean_w = [g / count for g in grad_w]
                new_w = components.regularized_update(
                    weights, mean_w, lr, rate, first.regularization)
                weights = _checked_weights(new_w, weights)
                if first.regularization == "L1":
                    # L1 zero crossing: the link is dead and stays 0 from now on.
                    for layer in range(n_layers):
                        dead[layer] |= weights[layer] == 0
                        weights[layer] = np.where(dead[layer], 0.0, weights[layer])
                # Biases are never regularized.
                biases = [b - bias_lr * (g / count) for b, g in zip(biases, grad_b, strict=True)]
            curve[:, epoch] = _losses(weights, biases, x_eval, y_eval, n_train,
                                      first.activation, components)
            _mark_diverged(epoch, curve, weights, biases, diverged_at)
            if progress is not None:
                progress(n_runs)

    return [
        RunResult(
            config=configs[r],
            seed=problems[r].seed,
            curve=curve[r],
            diverged_at=diverged_at[r],
            weights=tuple(w[r].T.copy() for w in weights),
            biases=tuple(b[r].copy() for b in biases),
        )
        for r in range(n_runs)
    ]


def _forward(weights, biases, x, activation, components, derivative):
    """Layer inputs and activation derivatives, and the output (tanh, always)."""
    inputs, derivatives = [x], []
    a = x
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = np.matmul(a, w)
        z += b[:, None, :]
        a, der = components.activation(activation, z, derivative)
        a = _checked_array(a, z.shape, f"{activation} output")
        if derivative:
            der = _checked_array(der, z.shape, f"{activation} derivative")
        inputs.append(a)
        derivatives.append(der)
    z = np.matmul(a, weights[-1])
    z += biases[-1][:, None, :]
    return inputs, derivatives, tanh(z)


def _gradients(weights, biases, x, y, activation, components):
    """Sums over the batch of dE/dw and dE/db, E = 0.5 * (output - label)^2."""
    inputs, derivatives, out = _forward(weights, biases, x, activation, components, True)
    delta = (out - y) * (1 - out * out)  # dE/dz at the tanh output node
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grad_w[layer] = np.matmul(inputs[layer].transpose(0, 2, 1), delta)
        grad_b[layer] = delta.sum(axis=1)
        if layer:
            delta = np.matmul(delta, weights[layer].transpose(0, 2, 1))
            delta *= derivatives[layer - 1]
    return grad_w, grad_b


def _losses(weights, biases, x_eval, y_eval, n_train, activation, components):
    """Mean of 0.5 * (output - label)^2 over the training and the test points."""
    _, _, out = _forward(weights, biases, x_eval, activation, components, False)
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
    if sum(len(b) for b in checked) != n_train:
        raise ComponentError(f"minibatches must cover each of the {n_train} points once")
    return checked


def _checked_array(value, shape, what: str) -> np.ndarray:
    if type(value) is np.ndarray and value.shape == shape and value.dtype == np.float64:
        return value  # the hot path
    if not isinstance(value, np.ndarray) or value.shape != shape:
        got = getattr(value, "shape", type(value).__name__)
        raise ComponentError(f"{what} has shape {got}, expected {shape}")
    return value.astype(np.float64, copy=False)


def _checked_weights(new, old) -> list[np.ndarray]:
    if len(new) != len(old):
        raise ComponentError(f"regularized_update returned {len(new)} arrays for {len(old)} layers")
    what = "regularized_update's result"
    return [_checked_array(n, o.shape, what) for n, o in zip(new, old, strict=True)]
