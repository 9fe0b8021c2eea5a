"""`hwgrade play`: the handout's Playground exercises as command-line sweeps.

A sweep is the product of every option's values; each config runs once per
seed, and configs that differ only in rates train together in the engine.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.playground.config import TrainConfig
from grader.playground.engine import Progress, RunResult, train
from grader.playground.features import ALL_FEATURES
from grader.playground.rng import Seed

# Sweepable TrainConfig fields, in the order a table shows them.
SWEEP_FIELDS = ("dataset", "noise", "features", "hidden", "activation", "learning_rate",
                "batch_size", "regularization", "regularization_rate", "train_ratio", "epochs")
_SPARKS = "▁▂▃▄▅▆▇█"


def exercise_presets(settings: Mapping) -> dict[int, dict[str, list]]:
    """Per exercise of an assignment's [experiments] table (its manifest: the grid the
    grader trains), the values of each setting, as a sweep: what `--exercise N` starts
    from."""
    from grader.experiments.run import experiment_grid

    presets: dict[int, dict[str, list]] = {}
    for experiment in experiment_grid(settings):
        config = experiment.config
        if "epochs" in settings:
            config = dataclasses.replace(config, epochs=int(settings["epochs"]))
        preset = presets.setdefault(experiment.exercise, {})
        for field in SWEEP_FIELDS:
            values = preset.setdefault(field, [])
            if getattr(config, field) not in values:
                values.append(getattr(config, field))
    return presets


def expand_sweep(
    options: Mapping[str, Sequence | None], preset: Mapping[str, Sequence] | None = None
) -> list[TrainConfig]:
    """Every combination of the given values; unset options take the preset's (an
    exercise's, exercise_presets), then Playground's default."""
    values: dict[str, Sequence] = dict(preset or {})
    values.update({k: v for k, v in options.items() if v is not None})
    fields = [f for f in SWEEP_FIELDS if f in values]
    configs = []
    for combo in itertools.product(*(values[f] for f in fields)):
        settings = dict(zip(fields, combo, strict=True))
        if settings.get("regularization") is None:
            # Without regularization the rate means nothing: one run, not one per rate.
            settings["regularization_rate"] = 0
        configs.append(TrainConfig(**settings))
    return list(dict.fromkeys(configs))  # drop repeats, keep order


@dataclass(frozen=True)
class Sweep:
    configs: list[TrainConfig]
    seeds: list[Seed]
    results: list[RunResult]  # config-major: all seeds of configs[0], then configs[1]...

    def by_config(self) -> Iterable[tuple[TrainConfig, list[RunResult]]]:
        n = len(self.seeds)
        for i, config in enumerate(self.configs):
            yield config, self.results[i * n:(i + 1) * n]

    def varied_fields(self) -> list[str]:
        return [f for f in SWEEP_FIELDS
                if len({getattr(c, f) for c in self.configs}) > 1]


def run_sweep(configs: list[TrainConfig], seeds: list[Seed], *,
              progress: Progress | None = None, jobs: int = 1, **train_options) -> Sweep:
    runs = [(config, seed) for config in configs for seed in seeds]
    return Sweep(configs, seeds, train(runs, progress=progress, jobs=jobs, **train_options))


def run_sweep_with_submission(configs: list[TrainConfig], seeds: list[Seed], path,
                              assignment) -> Sweep:
    """The sweep trained with a student's functions (run in the grading worker).

    Raises SubmissionError (cannot stage) or StudentCodeError / ComponentError
    (the student's functions failed during training)."""
    import tempfile
    from pathlib import Path

    from grader.checks.proxy import SubmissionProxy
    from grader.experiments.run import experiment_binding
    from grader.experiments.verify import VerifiedTraining
    from grader.submission import Requirement, stage_submission
    from grader.worker.client import Worker

    with tempfile.TemporaryDirectory(prefix="hwgrade-play-") as tmp:
        staged = stage_submission(Path(path), Requirement(assignment.modules),
                                  Path(tmp) / "staged")
        with Worker(staged.dest, staged.modules,
                    hidden_paths=assignment.private_paths()) as worker:
            proxy = SubmissionProxy(worker, staged)
            groups = {i: [(config, seed) for seed in seeds] for i, config in enumerate(configs)}
            # A second worker trains on its own; this one serves the verification.
            training = VerifiedTraining([proxy.sibling()], groups,
                                        binding=experiment_binding(assignment))
            try:
                with proxy.fast_lane():
                    trained = training.results(proxy)
            finally:
                training.close()
    results = []
    for i in range(len(configs)):
        if isinstance(trained[i], BaseException):
            raise trained[i]
        results.extend(trained[i])
    return Sweep(configs, seeds, results)


def format_value(field: str, value) -> str:
    if field == "hidden":
        return ",".join(map(str, value)) or "none"
    if field == "features":
        return "all" if tuple(value) == ALL_FEATURES else ",".join(value)
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _spread(values: np.ndarray) -> str:
    if len(values) == 0:
        return "—"
    median = float(np.median(values))
    if len(values) == 1:
        return f"{median:.3f}"
    p10, p90 = np.percentile(values, [10, 90])
    return f"{median:.3f} ({p10:.3f}–{p90:.3f})"


def sparkline(curve: np.ndarray, top: float, width: int = 24) -> str:
    """A loss curve as block characters; the same top for every row compares rows."""
    if len(curve) == 0 or not np.isfinite(curve).any():
        return ""
    picks = np.linspace(0, len(curve) - 1, min(width, len(curve))).round().astype(int)
    out = []
    for v in curve[picks]:
        if not np.isfinite(v):
            out.append(" ")
            continue
        level = 0 if top <= 0 else min(int(v / top * len(_SPARKS)), len(_SPARKS) - 1)
        out.append(_SPARKS[level])
    return "".join(out)


def render_table(sweep: Sweep, lang: str = "en") -> str:
    """One row per config: final losses (median, p10–p90 over seeds), divergence, curve;
    the words in `lang` (grader.i18n.LANGS), the values as they are typed."""
    from grader.i18n import label
    from grader.report.common import display_width

    varied = sweep.varied_fields()
    first = sweep.configs[0]
    fixed = [f"{label(f'play.field.{f}', lang)} {format_value(f, getattr(first, f))}"
             for f in SWEEP_FIELDS if f not in varied]
    lines = [" · ".join([*fixed, label("play.seeds", lang, n=len(sweep.seeds))])]
    rows, medians = [], []
    for config, results in sweep.by_config():
        finals = np.array([r.final for r in results if r.diverged_at is None]).reshape(-1, 2)
        curves = np.array([r.curve[:, 1] for r in results if r.diverged_at is None])
        median_curve = np.median(curves, axis=0) if len(curves) else np.array([])
        medians.append(median_curve)
        diverged = sum(r.diverged_at is not None for r in results)
        rows.append([format_value(f, getattr(config, f)) for f in varied]
                    + [_spread(finals[:, 0]), _spread(finals[:, 1]), f"{diverged}/{len(results)}"])
    finite = [m[np.isfinite(m)] for m in medians if len(m)]
    top = max((float(m.max()) for m in finite if len(m)), default=1.0)
    header = [label(f"play.field.{f}", lang) for f in varied] + [
        label(f"play.{name}", lang) for name in ("final_train", "final_test", "diverged",
                                                 "curve")]
    table = [r + [sparkline(m, top)] for r, m in zip(rows, medians, strict=True)]
    # Display columns, not characters: a Chinese header is two columns per character.
    widths = [max(display_width(str(row[i])) for row in [header, *table])
              for i in range(len(header))]
    for row in [header, *table]:
        lines.append("  ".join(str(cell) + " " * (w - display_width(str(cell)))
                               for cell, w in zip(row, widths, strict=True)).rstrip())
    lines.append(label("play.footnote", lang))
    return "\n".join(lines)


def _finite_or_none(x: float):
    return x if math.isfinite(x) else None


def to_json(sweep: Sweep) -> str:
    runs = [
        {
            "config": config.to_dict(),
            "seed": r.seed,
            "curve": [[_finite_or_none(float(a)), _finite_or_none(float(b))] for a, b in r.curve],
            "diverged_at": r.diverged_at,
        }
        for config, results in sweep.by_config()
        for r in results
    ]
    return json.dumps({"runs": runs}, allow_nan=False)


def write_csv(sweep: Sweep, path) -> None:
    """Long format: one row per run and epoch."""
    config_fields = list(SWEEP_FIELDS)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["run", "seed", *config_fields, "epoch", "train_loss", "test_loss"])
        run = 0
        for config, results in sweep.by_config():
            settings = [format_value(k, getattr(config, k)) for k in config_fields]
            for r in results:
                for epoch, (a, b) in enumerate(r.curve, start=1):
                    writer.writerow([run, r.seed, *settings, epoch,
                                     "" if math.isnan(a) else repr(float(a)),
                                     "" if math.isnan(b) else repr(float(b))])
                run += 1
