"""The terminal report: a line per check, what went wrong under each failure, a total.

Its words (labels, the total) are in the result's language (common.lang_of); the texts
of the checks already are.
"""

from __future__ import annotations

import click

from grader.i18n import GRADER, label
from grader.report import experiments_text
from grader.report.common import detail_label, lang_of, left_out_text, status_counts
from grader.results import CheckResult, GradeResult

_MARKS = {
    "passed": ("✔", "green"),
    "failed": ("✘", "red"),
    "not_run": ("–", "yellow"),
    "error": ("!", "magenta"),
}


def _points(value: float) -> str:
    return f"{value:g}"


def _score(check: CheckResult) -> str:
    return f"{_points(check.points)}/{_points(check.max_points)}"


def _check_lines(check: CheckResult, score_width: int, color: bool, lang: str) -> list[str]:
    mark, colour = _MARKS[check.status]
    title = check.title + (label("report.hidden", lang) if check.hidden else "")
    # Points first, right-aligned: titles of any length leave the column intact.
    shown = click.style(mark, fg=colour) if color else mark
    lines = [f"{shown} {_score(check):>{score_width}}  {title}"]
    if check.status == "passed":
        return lines
    where = f"{check.function}: " if check.function and check.status == "failed" else ""
    indent = " " * (score_width + 4)
    lines.append(f"{indent}{where}{check.message}")
    for name, value in (("expected", check.expected), ("got", check.actual),
                        ("input", check.counterexample), ("hint", check.hint)):
        if value:
            text = f"{indent}{detail_label(name, lang)}{value}"
            lines.append(click.style(text, dim=True) if color and name != "hint" else text)
    return lines


def render(result: GradeResult, *, color: bool = False) -> str:
    lang = lang_of(result)
    lines = [label("report.header", lang, assignment=result.assignment,
                   path=result.submission.path)]
    if result.error:
        lines += ["", label("report.could_not_grade", lang, error=result.error)]
        return "\n".join(lines)
    if result.submission.kind:
        kind = result.submission.kind
        lines[0] += label("report.kind", lang, kind=_kind_name(kind, lang))
    for note in result.submission.notes:
        lines.append("  " + label("report.note", lang, note=note))
    if result.submission.skipped:
        lines.append("  " + label("report.skipped_statements", lang,
                                  count=len(result.submission.skipped)))
        lines += [f"    {s}" for s in result.submission.skipped[:10]]
    lines.append("")
    score_width = max((len(_score(c)) for c in result.checks), default=0)
    for check in result.checks:
        lines += _check_lines(check, score_width, color, lang)
    total = label("report.score", lang, score=_points(result.score),
                  max_score=_points(result.max_score))
    lines += ["", f"{click.style(total, bold=True) if color else total}"
                  + label("report.totals", lang, total=len(result.checks),
                          counts=status_counts(result))]
    if result.pending_points:
        lines.append(label("report.pending", lang, points=_points(result.pending_points)))
    left_out = left_out_text(result)
    if left_out:
        lines += [left_out[0], *(f"  · {title}" for title in left_out[1])]
    lines += experiments_text.terminal_lines(result, lang)
    return "\n".join(lines)


def _kind_name(kind: str, lang: str) -> str:
    """The submission's kind in words; a kind the catalog does not know, as it is."""
    key = f"report.kind_name.{kind}"
    return label(key, lang) if GRADER.has(key) else kind
