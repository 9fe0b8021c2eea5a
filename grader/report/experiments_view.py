"""result.experiments read defensively into plain, typed views for the HTML report.

The experiments come from JSON written by training code that may have failed
halfway: any field may be missing, null or of the wrong type. Everything here
turns such gaps into None (or NaN inside curves and grids) so that the
renderer draws what is there and says what is not, and never raises.

One entry per exercise (written by grader/experiments/report.py):
    {"exercise", "title", "varied",
     "observation": {"text", "reproduced", "reproduced_by_reference"}, "passed",
     "configs": [{"label", "config", "seeds", "student", "reference", "within"}],
     (student: {"final_test", "median", "p10", "p90", "diverged", "diverged_at",
                "curve_every", "curve", and for a regularized setting "zero_weights",
                "weights"})
     "boundary": {"label", "seed", "extent", "values", "points", "test_points"}}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_GRID = 400  # a boundary grid side beyond this is not a Playground heat map: not drawn
MAX_POINTS = 10_000
MAX_EVERY = 100_000  # epochs between curve points (Playground runs are far shorter)
MAX_EPOCHS = 100_000  # `hwgrade play --epochs`' own limit
MAX_COORDINATE = 1e6  # beyond this a plane's extent or a point is garbage, not data


@dataclass(frozen=True)
class Spread:
    """Final test loss over seeds: median and 10th-90th percentile, divergences."""

    median: float | None
    p10: float | None
    p90: float | None
    diverged: int | None
    runs: int | None


@dataclass(frozen=True)
class Curves:
    """Test loss every `every` epochs (NaN where a value is missing)."""

    every: int
    median: np.ndarray | None
    p10: np.ndarray | None
    p90: np.ndarray | None

    def epochs(self, n: int) -> np.ndarray:
        # One point per `every` epochs, the last one at the final epoch (50 for 500).
        return np.arange(1, n + 1, dtype=np.float64) * self.every


@dataclass(frozen=True)
class ConfigView:
    label: str
    student: Spread | None
    reference: Spread | None
    student_curves: Curves | None
    reference_curves: Curves | None
    within: bool | None
    diverged_at: tuple[int, ...] = ()  # the epochs the student's diverged runs stopped at
    zero_weights: tuple[int, int] | None = None  # (median over runs, of how many)


@dataclass(frozen=True)
class Boundary:
    label: str
    seed: int | None
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1
    values: np.ndarray  # rows top (y1) to bottom (y0), NaN where missing
    points: np.ndarray  # (n, 3): x, y, label (+1 / -1)
    test_points: np.ndarray


@dataclass(frozen=True)
class ExerciseView:
    number: int | None
    title: str
    varied: str
    observation: str
    reproduced: bool | None
    reproduced_by_reference: bool | None
    passed: bool | None
    configs: list[ConfigView]
    boundary: Boundary | None
    epochs: int | None = None  # every configuration's epochs, when they agree


def number(value: Any) -> float | None:
    """A finite number, else None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def count(value: Any) -> int | None:
    n = number(value)
    return int(n) if n is not None and n >= 0 and n == int(n) else None


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _spread(data: Any, runs: int | None = None) -> Spread | None:
    if not isinstance(data, dict):
        return None
    return Spread(median=number(data.get("median")), p10=number(data.get("p10")),
                  p90=number(data.get("p90")), diverged=count(data.get("diverged")),
                  runs=count(data.get("runs")) if runs is None else runs)


def _test_losses(points: Any) -> np.ndarray | None:
    """The test column of [[train, test], ...]; None if there is no finite value."""
    column = []
    for pair in _list(points):
        value = number(pair[1]) if isinstance(pair, list) and len(pair) == 2 else None
        column.append(math.nan if value is None else value)
    array = np.array(column, dtype=np.float64)
    return array if np.isfinite(array).any() else None


def _curves(data: Any) -> Curves | None:
    if not isinstance(data, dict):
        return None
    curve = _dict(data.get("curve"))
    every = count(data.get("curve_every"))
    median, p10, p90 = (_test_losses(curve.get(k)) for k in ("median", "p10", "p90"))
    if not every or every > MAX_EVERY or (median is None and p10 is None and p90 is None):
        return None
    return Curves(every=every, median=median, p10=p10, p90=p90)


def _zero_weights(student: dict) -> tuple[int, int] | None:
    """The median over runs of the weights at exactly 0 (rounded half up), of how many."""
    of = count(student.get("weights"))
    counts = [c for c in map(count, _list(student.get("zero_weights"))[:MAX_POINTS])
              if c is not None]
    if not of or not counts:
        return None
    return min(math.floor(float(np.median(counts)) + 0.5), of), of


def _config(data: Any) -> ConfigView | None:
    if not isinstance(data, dict):
        return None
    student, reference = data.get("student"), data.get("reference")
    seeds = _list(data.get("seeds"))
    finals = _list(_dict(student).get("final_test"))
    runs = len(seeds) or len(finals) or None
    diverged_at = [count(e) for e in _list(_dict(student).get("diverged_at"))[:MAX_POINTS]]
    return ConfigView(label=text(data.get("label")) or "?",
                      student=_spread(student, runs), reference=_spread(reference),
                      student_curves=_curves(student), reference_curves=_curves(reference),
                      within=flag(data.get("within")),
                      diverged_at=tuple(e for e in diverged_at if e and e <= MAX_EPOCHS),
                      zero_weights=_zero_weights(_dict(student)))


def _points(data: Any) -> np.ndarray:
    rows = [(number(p[0]), number(p[1]), number(p[2])) for p in _list(data)[:MAX_POINTS]
            if isinstance(p, list) and len(p) == 3]
    rows = [r for r in rows if None not in r and max(abs(r[0]), abs(r[1])) <= MAX_COORDINATE]
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _grid(data: Any) -> np.ndarray | None:
    rows = _list(data)
    if not 2 <= len(rows) <= MAX_GRID or not all(isinstance(r, list) for r in rows):
        return None
    width = len(rows[0])
    if not 2 <= width <= MAX_GRID or any(len(r) != width for r in rows):
        return None
    grid = np.array([[math.nan if (v := number(x)) is None else v for x in r] for r in rows],
                    dtype=np.float64)
    return grid if np.isfinite(grid).any() else None


def _boundary(data: Any) -> Boundary | None:
    if not isinstance(data, dict):
        return None
    values = _grid(data.get("values"))
    extent = [number(v) for v in _list(data.get("extent"))]
    if values is None:
        return None
    if (len(extent) != 4 or None in extent or extent[0] >= extent[1] or extent[2] >= extent[3]
            or max(map(abs, extent)) > MAX_COORDINATE):
        extent = [-6.0, 6.0, -6.0, 6.0]  # Playground's plane
    return Boundary(label=text(data.get("label")), seed=count(data.get("seed")),
                    extent=tuple(extent), values=values, points=_points(data.get("points")),
                    test_points=_points(data.get("test_points")))


def exercise_view(data: Any) -> ExerciseView | None:
    if not isinstance(data, dict):
        return None
    observation = _dict(data.get("observation"))
    exercise = count(data.get("exercise"))
    epochs = {count(_dict(_dict(c).get("config")).get("epochs"))
              for c in _list(data.get("configs"))}
    return ExerciseView(
        number=exercise, title=text(data.get("title")), varied=text(data.get("varied")),
        observation=text(observation.get("text")), reproduced=flag(observation.get("reproduced")),
        reproduced_by_reference=flag(observation.get("reproduced_by_reference")),
        passed=flag(data.get("passed")),
        configs=[c for c in map(_config, _list(data.get("configs"))) if c is not None],
        boundary=_boundary(data.get("boundary")),
        epochs=next(iter(epochs)) if len(epochs) == 1 else None)


def exercise_views(experiments: Any) -> list[ExerciseView]:
    return [v for v in map(exercise_view, _list(experiments)) if v is not None]
