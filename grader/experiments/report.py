"""The per-exercise experiment report: plain data for result.experiments.

One entry per exercise (the format every renderer reads; see
grader/schemas/result.schema.json): per configuration the student's runs
summarized beside the reference's, and one trained network's decision
boundary over the spiral, as Playground's heat map shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.experiments.calibrate import curve_bands
from grader.i18n import GRADER, Joined, joined
from grader.playground.components import PLAYGROUND, tanh
from grader.playground.config import TrainConfig
from grader.playground.datasets import DOMAIN as EXTENT
from grader.playground.engine import RunResult
from grader.playground.features import feature_matrix
from grader.playground.problem import make_problem

CURVE_EVERY = 10
BOUNDARY_RESOLUTION = 50


def _round(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def student_summary(results: Sequence[RunResult]) -> dict[str, Any]:
    """Per run its final test loss and the epoch it diverged at (None: it did not); the
    bands over runs; for a regularized setting each final network's weights at exactly
    0 (None for a diverged run) out of `weights`."""
    finals = [None if r.diverged_at is not None else _round(r.final[1]) for r in results]
    finite = np.array([f for f in finals if f is not None], dtype=np.float64)
    quantile = (lambda q: _round(np.percentile(finite, q))) if len(finite) else (lambda q: None)
    summary = {"final_test": finals, "median": quantile(50), "p10": quantile(10),
               "p90": quantile(90), "diverged": sum(f is None for f in finals),
               "diverged_at": [r.diverged_at for r in results],
               "curve_every": CURVE_EVERY, "curve": curve_bands(results, CURVE_EVERY)}
    if results and results[0].config.regularization is not None:
        zeros = [r.zero_weights for r in results]
        summary["zero_weights"] = [None if z is None else z[0] for z in zeros]
        summary["weights"] = sum(w.size for w in results[0].weights)
    return summary


def reference_summary(entry: dict[str, Any]) -> dict[str, Any]:
    """The calibration entry (reference.json) in the report's shape."""
    final = entry.get("final_test") or {}
    return {"median": final.get("median"), "p10": final.get("p10"), "p90": final.get("p90"),
            "diverged": entry["diverged"], "runs": entry["runs"],
            "curve_every": entry["curve_every"], "curve": entry["curve"]}


def boundary(result: RunResult, label: str) -> dict[str, Any]:
    """The trained network's output over a grid of the plane, with the run's points.

    Computed here with the engine's own activation on the weights the student's
    training produced: a picture of the outcome, not another call into their code."""
    config: TrainConfig = result.config
    problem = make_problem(config, result.seed)
    ticks = np.linspace(-EXTENT, EXTENT, BOUNDARY_RESOLUTION)
    xs, ys = np.meshgrid(ticks, ticks[::-1])  # row 0 is the top of the picture
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    a = feature_matrix(grid, config.features)
    with np.errstate(all="ignore"):
        for w, b in zip(result.weights[:-1], result.biases[:-1], strict=True):
            a, _ = PLAYGROUND.activation(config.activation, a @ w.T + b, False)
        out = tanh(a @ result.weights[-1].T + result.biases[-1])[:, 0]
    values = np.nan_to_num(out, nan=0.0).reshape(xs.shape)

    def points(xy, labels):
        return [[round(float(x), 4), round(float(y), 4), int(v)]
                for (x, y), v in zip(xy, labels, strict=True)]

    return {"label": label, "seed": result.seed,
            "extent": [-EXTENT, EXTENT, -EXTENT, EXTENT],
            "values": np.round(values, 4).tolist(),
            "points": points(problem.train_points, problem.y_train),
            "test_points": points(problem.test_points, problem.y_test)}


def config_label(config: TrainConfig, varied: Sequence[str]) -> Joined:
    """What tells a configuration from the others of its exercise: "learning rate 0.3"."""
    parts: list[str] = []
    for name in varied:
        value = getattr(config, name)
        if name in ("batch_size", "learning_rate", "regularization_rate"):
            parts.append(GRADER(f"report.experiments.settings.{name}", value=f"{value:g}"))
        elif name == "regularization" and not value:
            parts.append(GRADER("report.experiments.settings.no_regularization"))
        else:
            parts.append(str(value))  # activation and L1/L2: names, the same in every language
    return joined(parts, GRADER("report.experiments.settings.join"))
