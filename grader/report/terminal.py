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


def _check_lines(check: CheckResult, width: int, color: bool) -> list[str]:
    mark, colour = _MARKS[check.status]
    title = check.title + (" (hidden)" if check.hidden else "")
    score = f"{_points(check.points)}/{_points(check.max_points)}"
    pad = max(width - len(title) - len(score) - 4, 1)
    head = f"{click.style(mark, fg=colour) if color else mark} {title}{' ' * pad}{score}"
    lines = [head]
    if check.status == "passed":
        return lines
    where = f"{check.function}: " if check.function and check.status == "failed" else ""
    lines.append(f"    {where}{check.message}")
    for label, value in (("expected", check.expected), ("got", check.actual),
                         ("input", check.counterexample), ("hint", check.hint)):
        if value:
            text = f"    {label + ':':<9} {value}"
            lines.append(click.style(text, dim=True) if color and label != "hint" else text)
    return lines


def render(result: GradeResult, *, color: bool = False, width: int = 78) -> str:
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
    for check in result.checks:
        lines += _check_lines(check, width, color)
    counts = result.counts()
    summary = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items() if n)
    total = f"Score: {_points(result.score)}/{_points(result.max_score)}"
    lines += ["", f"{click.style(total, bold=True) if color else total}"
                  f"  ({len(result.checks)} checks: {summary})"]
    if result.pending_points:
        lines.append(f"{_points(result.pending_points)} more points will be decided by hidden "
                     "checks when your instructor grades the submission.")
    return "\n".join(lines)
