"""GitHub Actions: workflow commands that annotate the student's code, and a job summary.

render() gives what `hwgrade check --format github` prints: the plain terminal
report (so the log reads as it always did), then one `::error` per failed or
errored check, pointing at the student's function (file and line; for a notebook
the .ipynb, with the cell in the message, since annotations cannot point into a
cell), then a `::notice` with the total. step_summary() is the Markdown appended
to $GITHUB_STEP_SUMMARY.

Escaping follows @actions/core (toolkit's command.ts): in data, % CR LF become
%25 %0D %0A; in properties also : and , become %3A %2C. The terminal report is
printed between ::stop-commands:: and its token, so text from a submission
(an exception message) can never be read as a workflow command.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from grader.report import terminal
from grader.report.common import explanation_text, points, summary_line
from grader.results import CheckResult, GradeResult

ADVISORY = ("A grade computed in your own CI is advisory: the grade of record comes from "
            "your instructor's run.")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items()
                     if v is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _repo_path(path: str, workspace: str | None) -> str:
    """The file as GitHub names it, relative to the repository ($GITHUB_WORKSPACE), when
    the submission was given by a path that does not start there."""
    if not workspace:
        return path
    full = Path(os.path.normpath(Path.cwd() / path))
    try:
        return full.relative_to(os.path.normpath(workspace)).as_posix()
    except ValueError:
        return path


def _where(location: dict | None, workspace: str | None) -> tuple[dict, str]:
    """(file/line properties, a prefix for the message) for one of result.locations."""
    if not location:
        return {}, ""
    path, cell, line = location["path"], location.get("cell"), location.get("line") or None
    inner = re.match(r"(.+?\.zip)/(.+)$", path, re.IGNORECASE)
    if inner is None and cell is None:
        return {"file": _repo_path(path, workspace), "line": line}, ""
    # Annotations cannot point into a notebook cell or a zip: name the file, say the rest.
    parts = [f"{inner[2]} in {Path(inner[1]).name}"] if inner else []
    parts += [f"{label} {n}" for label, n in (("cell", cell), ("line", line)) if n]
    return {"file": _repo_path(inner[1] if inner else path, workspace)}, ", ".join(parts) + ": "


def annotation(check: CheckResult, result: GradeResult, workspace: str | None) -> str:
    properties, prefix = _where(result.locations.get(check.function or ""), workspace)
    title = f"{check.title} ({points(check.points)}/{points(check.max_points)})"
    return command("error", prefix + explanation_text(check), **properties, title=title)


def render(result: GradeResult, *, workspace: str | None = None) -> str:
    workspace = workspace if workspace is not None else os.environ.get("GITHUB_WORKSPACE")
    token = secrets.token_hex(16)
    lines = [f"::stop-commands::{token}", terminal.render(result, color=False), f"::{token}::"]
    title = f"hwgrade check {result.assignment}"
    if result.error:
        lines.append(command("error", result.error,
                             title=f"{title}: your submission could not be graded"))
        return "\n".join(lines)
    lines += [annotation(c, result, workspace) for c in result.checks
              if c.status in ("failed", "error")]
    lines.append(command("notice", f"{summary_line(result)}\n{ADVISORY}", title=title))
    return "\n".join(lines)


# --- the job summary ---------------------------------------------------------------------

_EMOJI = {"passed": "✅", "failed": "❌", "not_run": "⏭️", "error": "⚠️"}


def _cell(text: object, limit: int = 300) -> str:
    """A Markdown table cell: one line, no HTML, no column breaks."""
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|"))


def _experiments(rows: list[dict]) -> list[str]:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return ["", "### Experiments", "", "| " + " | ".join(_cell(c) for c in columns) + " |",
            "|" + " --- |" * len(columns)] + [
        "| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]


def step_summary(result: GradeResult) -> str:
    head = f"## hwgrade check {_cell(result.assignment)}"
    if result.error:
        return f"{head}\n\n❌ Your submission could not be graded: {_cell(result.error, 2000)}\n"
    lines = [f"{head}: {points(result.score)}/{points(result.max_score)}", "",
             "| | check | points | what went wrong |", "| --- | --- | --- | --- |"]
    for c in result.checks:
        title = c.title + (" (hidden)" if c.hidden else "")
        lines.append(f"| {_EMOJI[c.status]} | {_cell(title)} | {points(c.points)}/"
                     f"{points(c.max_points)} | {_cell(c.message) if c.message else ''} |")
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in result.counts().items() if n)
    lines += ["", f"**Score: {points(result.score)}/{points(result.max_score)}** "
                  f"({len(result.checks)} checks: {counts or 'none'})"]
    if result.pending_points:
        lines.append(f"\n{points(result.pending_points)} more points will be decided by hidden "
                     "checks when your instructor grades the submission.")
    if result.experiments:
        lines += _experiments(result.experiments)
    lines += ["", f"> {ADVISORY}", ""]
    return "\n".join(lines)


def append_step_summary(result: GradeResult, path: str | None = None) -> bool:
    """Append the summary to $GITHUB_STEP_SUMMARY (or path); False when there is none."""
    path = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    # Append: earlier steps' summaries stay. A lone surrogate becomes "?", not a crash.
    with open(path, "a", encoding="utf-8", errors="replace") as out:
        out.write(step_summary(result))
    return True
