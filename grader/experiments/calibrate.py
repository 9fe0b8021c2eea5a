"""`hwgrade calibrate`: the reference distribution of an assignment's experiments.

Runs the manifest's experiment grid with the course's reference solution
(solutions/<assignment>/, the instructor's own code, imported in-process: this
is not grading) over many seeds and writes reference.json next to the
manifest: per configuration, the final train and test loss as quantiles over
seeds and every run's final test loss, the divergence count, and the median,
10th and 90th percentile loss curves. The same solution,
seeds and hwgrade version always write the same bytes.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader import __version__
from grader.assignment import Assignment
from grader.experiments.run import experiment_binding, experiment_grid
from grader.playground.binding import Binding
from grader.playground.calls import engine_steps
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import train

REFERENCE_FILE = "reference.json"
QUANTILES = {"p10": 10, "p25": 25, "median": 50, "p75": 75, "p90": 90}
CURVE_EVERY = 10  # epochs between the stored points of the median curve


class SolutionComponents:
    """The engine's components served by the reference solution's functions, as the
    assignment binds them; the components it leaves out are the engine's own."""

    scalar_hyperparameters = True  # the contract's functions take plain numbers

    def __init__(self, solution_dir: Path, binding: Binding) -> None:
        self.solution_dir = solution_dir
        self.binding = binding
        self._modules: dict[str, ModuleType] = {}

    def _function(self, component: str, activation: str = "") -> Callable:
        module, function = self.binding.function(component, activation)
        if module not in self._modules:
            self._modules[module] = _load(self.solution_dir, module)
        return getattr(self._modules[module], function)

    def activation(self, name, z, derivative):
        bound = self.binding.bound
        own_out, own_der = PLAYGROUND.activation(name, z, derivative)
        out = self._function("activation", name)(z) if "activation" in bound else own_out
        if derivative and "activation_derivative" in bound:
            return out, self._function("activation_derivative", name)(z)
        return out, own_der

    def regularized_update(self, weights, gradients, learning_rate, rate, kind):
        if "regularized_update" not in self.binding.bound or engine_steps(kind):
            return PLAYGROUND.regularized_update(weights, gradients, learning_rate, rate, kind)
        update = self._function("regularized_update")
        return [update(w, g, learning_rate, rate, kind)
                for w, g in zip(weights, gradients, strict=True)]

    def minibatches(self, n_samples, batch_size):
        if "minibatches" not in self.binding.bound:
            return PLAYGROUND.minibatches(n_samples, batch_size)
        return self._function("minibatches")(n_samples, batch_size)


def _load(folder: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_hwgrade_solution_{name}",
                                                  folder / f"{name}.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # The solution's modules import each other by their plain names.
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def solution_dir(assignment: Assignment) -> Path:
    """solutions/<name>/ in the course repository that holds the assignment."""
    for parent in assignment.root.resolve().parents:
        candidate = parent / "solutions" / assignment.name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no solutions/{assignment.name}/ above {assignment.root}")


def _train_config(args: tuple[Path, Binding, TrainConfig, Sequence[int]]) -> list[Any]:
    folder, binding, config, seeds = args
    return train([(config, s) for s in seeds], components=SolutionComponents(folder, binding))


def curve_bands(results, every: int) -> dict[str, list[list[float]]]:
    """Median, 10th and 90th percentile over the runs that did not diverge of the
    (train, test) loss after every `every`-th epoch."""
    curves = np.array([r.curve[every - 1::every] for r in results if r.diverged_at is None])
    if not len(curves):
        return {"median": [], "p10": [], "p90": []}
    return {name: [[round(float(a), 6), round(float(b), 6)]
                   for a, b in np.percentile(curves, q, axis=0)]
            for name, q in (("median", 50), ("p10", 10), ("p90", 90))}


def _summary(values: np.ndarray) -> dict[str, float]:
    return {k: round(float(np.percentile(values, q)), 6) for k, q in QUANTILES.items()} | {
        "mean": round(float(values.mean()), 6), "std": round(float(values.std()), 6)}


def calibrate(assignment: Assignment, *, seeds: int = 64, epochs: int | None = None,
              jobs: int = 1, progress: Callable[[int], None] | None = None,
              only: Sequence[int] | None = None) -> dict[str, Any]:
    """The reference distribution as plain data (see the module docstring);
    `only` limits it to these positions of the grid (to re-check a shipped file)."""
    import dataclasses

    settings = assignment.settings["experiments"]
    epochs = int(settings["epochs"] if epochs is None else epochs)
    folder = solution_dir(assignment)
    grid = experiment_grid(settings)
    binding = experiment_binding(assignment)
    if only is not None:
        grid = [grid[i] for i in only]
    seed_list = list(range(seeds))
    work = [(folder, binding, dataclasses.replace(e.config, epochs=epochs), seed_list)
            for e in grid]
    context = multiprocessing.get_context("spawn" if sys.platform == "win32" else "forkserver")
    entries = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for experiment, results in zip(grid, pool.map(_train_config, work), strict=True):
            finals = np.array([r.final for r in results if r.diverged_at is None]).reshape(-1, 2)
            entries.append({
                "exercise": experiment.exercise,
                "config": experiment.config.to_dict() | {"epochs": epochs},
                "runs": len(results),
                "diverged": sum(r.diverged_at is not None for r in results),
                "final_train": _summary(finals[:, 0]) if len(finals) else None,
                "final_test": _summary(finals[:, 1]) if len(finals) else None,
                # Every run's final test loss (None: diverged), for the grader's band.
                "final_test_runs": [None if r.diverged_at is not None else round(r.final[1], 6)
                                    for r in results],
                "curve_every": CURVE_EVERY,
                "curve": curve_bands(results, CURVE_EVERY),
            })
            if progress is not None:
                progress(1)
    return {"format": 2, "assignment": assignment.name, "hwgrade": __version__,
            "seeds": seed_list, "epochs": epochs, "experiments": entries}


def write_reference(data: dict[str, Any], path: Path) -> None:
    from grader.report.common import write_atomic

    write_atomic(path, json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")


def describe_judging(data: dict[str, Any], settings: dict[str, Any]) -> str:
    """What grading with this data implies: the false-fail bound of the full-training
    check, and whether the reference's own runs of the graded seeds pass it."""
    from grader.experiments import distribution

    graded = list(settings["seeds"])
    seeds = data["seeds"]
    own_failures = []
    for entry in data["experiments"]:
        runs = entry["final_test_runs"]
        mine = [runs[seeds.index(s)] for s in graded if s in seeds]
        if len(mine) == len(graded) and not distribution.judge(mine, runs).passed:
            own_failures.append(entry["config"])
    per_config = distribution.false_fail_rate(len(graded), len(seeds))
    per_submission = 1 - (1 - per_config) ** len(data["experiments"])
    allowed = distribution.max_outside(len(graded))
    lines = [f"{data['epochs']}-epoch check: {len(graded)} runs per configuration, at most "
             f"{allowed} outside the range of {len(seeds)} reference runs "
             f"(widened by {distribution.MARGIN:.0%}): a correct submission fails a "
             f"configuration with probability <= {per_config:.1e}, any of the "
             f"{len(data['experiments'])} with probability <= {per_submission:.1e}"]
    if own_failures:
        lines.append(f"WARNING: the reference's own runs of seeds {graded} fail "
                     f"{len(own_failures)} configurations: {own_failures}")
    elif all(s in seeds for s in graded):
        lines.append(f"the reference's own runs of seeds {graded} pass every configuration")
    return "\n".join(lines)
