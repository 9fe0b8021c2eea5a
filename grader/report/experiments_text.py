"""The per-exercise experiment report as text: terminal lines and Markdown tables.

Per exercise: its title, the handout's observation and whether the student's
runs reproduce it (and the reference's), then per configuration the student's
final test loss (median, 10th-90th percentile over seeds) beside the
reference's and whether it is within the reference's range. Read through
experiments_view, so a half-filled entry shows what is there.
"""

from __future__ import annotations

from typing import Any

from grader.i18n import label
from grader.report.common import display_width
from grader.report.experiments_view import ExerciseView, Spread, exercise_view


def _spread(spread: Spread | None, lang: str) -> str:
    if spread is None or spread.median is None:
        return "-"
    text = f"{spread.median:.3f}"
    if spread.p10 is not None and spread.p90 is not None:
        text += f" ({spread.p10:.3f}-{spread.p90:.3f})"
    if spread.diverged:
        text += " " + label("report.experiments.diverged", lang, n=spread.diverged)
    return text


def _heading(result: Any, views: list[ExerciseView], lang: str) -> str:
    """"Experiments (exercises 5-8, 500 epochs, ...)": from the result, not Day 65."""
    numbers = sorted({v.number for v in views if v.number is not None})
    consecutive = len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1))
    exercises = f"{numbers[0]}-{numbers[-1]}" if consecutive else ", ".join(map(str, numbers))
    epochs = {c.get("config", {}).get("epochs") for e in result.experiments
              if isinstance(e, dict) for c in e.get("configs", []) if isinstance(c, dict)
              and isinstance(c.get("config"), dict)}
    if len(epochs) == 1 and isinstance(next(iter(epochs)), int):
        return label("report.experiments.heading", lang, exercises=exercises,
                     epochs=next(iter(epochs)))
    return label("report.experiments.heading_epochs_vary", lang, exercises=exercises)


def _yes_no(value: bool | None, lang: str) -> str:
    key = {True: "yes", False: "no", None: "unknown"}[value]
    return label(f"report.experiments.{key}", lang)


def _views(result: Any) -> list[ExerciseView]:
    views = (exercise_view(entry) for entry in getattr(result, "experiments", None) or [])
    return [view for view in views if view is not None]


def _rows(view: ExerciseView, lang: str) -> list[list[str]]:
    return [[c.label, _spread(c.student, lang), _spread(c.reference, lang),
             _yes_no(c.within, lang)]
            for c in view.configs]


def _header(lang: str) -> list[str]:
    return [label(f"report.experiments.{k}", lang)
            for k in ("setting", "yours", "reference", "within")]


def terminal_lines(result: Any, lang: str) -> list[str]:
    """The experiments section under the checks (nothing without experiments)."""
    views = _views(result)
    if not views:
        return []
    lines = ["", _heading(result, views, lang)]
    for view in views:
        lines += ["", f"  {view.title}"]
        if view.observation:
            lines.append("    " + label("report.experiments.observation", lang,
                                         text=view.observation))
            lines.append("    " + label("report.experiments.reproduced", lang,
                                         yours=_yes_no(view.reproduced, lang),
                                         reference=_yes_no(view.reproduced_by_reference, lang)))
        table = [_header(lang), *_rows(view, lang)]
        widths = [max(display_width(row[i]) for row in table) for i in range(4)]
        for row in table:
            cells = [cell + " " * (width - display_width(cell))
                     for cell, width in zip(row, widths, strict=True)]
            lines.append("    " + "  ".join(cells).rstrip())
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_lines(result: Any, lang: str) -> list[str]:
    """The experiments section of the GitHub step summary."""
    views = _views(result)
    if not views:
        return []
    lines = ["", f"### {_heading(result, views, lang)}"]
    for view in views:
        lines += ["", f"**{_cell(view.title)}**", ""]
        if view.observation:
            lines += [_cell(label("report.experiments.observation", lang,
                                 text=view.observation)) + "  ",
                      _cell(label("report.experiments.reproduced", lang,
                                  yours=_yes_no(view.reproduced, lang),
                                  reference=_yes_no(view.reproduced_by_reference, lang))), ""]
        lines += ["| " + " | ".join(_header(lang)) + " |", "| --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in _rows(view, lang)]
    return lines
