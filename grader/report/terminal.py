"""The terminal report: a line per check, what went wrong under each failure, a total."""

from __future__ import annotations

import click

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


def _check_lines(check: CheckResult, score_width: int, color: bool) -> list[str]:
    mark, colour = _MARKS[check.status]
    title = check.title + (" (hidden)" if check.hidden else "")
    # Points first, right-aligned: titles of any length leave the column intact.
    shown = click.style(mark, fg=colour) if color else mark
    lines = [f"{shown} {_score(check):>{score_width}}  {title}"]
    if check.status == "passed":
        return lines
    where = f"{check.function}: " if check.function and check.status == "failed" else ""
    indent = " " * (score_width + 4)
    lines.append(f"{indent}{where}{check.message}")
    for label, value in (("expected", check.expected), ("got", check.actual),
                         ("input", check.counterexample), ("hint", check.hint)):
        if value:
            text = f"{indent}{label + ':':<9} {value}"
            lines.append(click.style(text, dim=True) if color and label != "hint" else text)
    return lines


def render(result: GradeResult, *, color: bool = False) -> str:
    lines = [f"hwgrade check {result.assignment}: {result.submission.path}"]
    if result.error:
        lines += ["", f"Your submission could not be graded: {result.error}"]
        return "\n".join(lines)
    if result.submission.kind:
        lines[0] += f" ({result.submission.kind})"
    for note in result.submission.notes:
        lines.append(f"  note: {note}")
    if result.submission.skipped:
        lines.append(f"  {len(result.submission.skipped)} notebook statement(s) were not run "
                     "(only imports, functions, classes and constants are graded):")
        lines += [f"    {s}" for s in result.submission.skipped[:10]]
    lines.append("")
    score_width = max((len(_score(c)) for c in result.checks), default=0)
    for check in result.checks:
        lines += _check_lines(check, score_width, color)
    counts = result.counts()
    summary = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items() if n)
    total = f"Score: {_points(result.score)}/{_points(result.max_score)}"
    lines += ["", f"{click.style(total, bold=True) if color else total}"
                  f"  ({len(result.checks)} checks: {summary})"]
    if result.pending_points:
        lines.append(f"{_points(result.pending_points)} more points will be decided by hidden "
                     "checks when your instructor grades the submission.")
    return "\n".join(lines)
