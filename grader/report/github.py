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

from grader.i18n import label
from grader.report import experiments_text, terminal
from grader.report.common import (
    explanation_text,
    lang_of,
    left_out_text,
    points,
    status_counts,
    summary_line,
)
from grader.results import CheckResult, GradeResult

ADVISORY = label("report.github.advisory", "en")  # the English one; see advisory(lang)


def advisory(lang: str) -> str:
    return label("report.github.advisory", lang)


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


def _where(location: dict | None, workspace: str | None,
           lang: str = "en") -> tuple[dict, str]:
    """(file/line properties, a prefix for the message) for one of result.locations."""
    if not location:
        return {}, ""
    path, cell, line = location["path"], location.get("cell"), location.get("line") or None
    inner = re.match(r"(.+?\.zip)/(.+)$", path, re.IGNORECASE)
    if inner is None and cell is None:
        return {"file": _repo_path(path, workspace), "line": line}, ""
    # Annotations cannot point into a notebook cell or a zip: name the file, say the rest.
    parts = [label("report.github.in_archive", lang, member=inner[2],
                   archive=Path(inner[1]).name)] if inner else []
    parts += [label(f"report.github.{name}", lang, **{name: n})
              for name, n in (("cell", cell), ("line", line)) if n]
    where = label("report.github.separator", lang).join(parts)
    return ({"file": _repo_path(inner[1] if inner else path, workspace)},
            label("report.github.where", lang, where=where))


def annotation(check: CheckResult, result: GradeResult, workspace: str | None) -> str:
    lang = lang_of(result)
    properties, prefix = _where(result.locations.get(check.function or ""), workspace, lang)
    title = f"{check.title} ({points(check.points)}/{points(check.max_points)})"
    return command("error", prefix + explanation_text(check, lang), **properties, title=title)


def render(result: GradeResult, *, workspace: str | None = None) -> str:
    workspace = workspace if workspace is not None else os.environ.get("GITHUB_WORKSPACE")
    token = secrets.token_hex(16)
    lines = [f"::stop-commands::{token}", terminal.render(result, color=False), f"::{token}::"]
    lang = lang_of(result)
    title = f"hwgrade check {result.assignment}"
    if result.error:
        lines.append(command("error", result.error, title=label(
            "report.github.could_not_grade_title", lang, title=title)))
        return "\n".join(lines)
    lines += [annotation(c, result, workspace) for c in result.checks
              if c.status in ("failed", "error")]
    lines.append(command("notice", f"{summary_line(result)}\n{advisory(lang)}", title=title))
    return "\n".join(lines)


# --- the job summary ---------------------------------------------------------------------

_EMOJI = {"passed": "✅", "failed": "❌", "not_run": "⏭️", "error": "⚠️"}


def _cell(text: object, limit: int = 300) -> str:
    """A Markdown table cell: one line, no HTML, no column breaks."""
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|"))


def step_summary(result: GradeResult) -> str:
    lang = lang_of(result)
    head = f"## hwgrade check {_cell(result.assignment)}"
    if result.error:
        return (f"{head}\n\n❌ "
                f"{label('report.could_not_grade', lang, error=_cell(result.error, 2000))}\n")
    lines = [f"{head}: {points(result.score)}/{points(result.max_score)}", "",
             label("report.github.table_header", lang), "| --- | --- | --- | --- |"]
    for c in result.checks:
        title = c.title + (label("report.hidden", lang) if c.hidden else "")
        lines.append(f"| {_EMOJI[c.status]} | {_cell(title)} | {points(c.points)}/"
                     f"{points(c.max_points)} | {_cell(c.message) if c.message else ''} |")
    score = label("report.score", lang, score=points(result.score),
                  max_score=points(result.max_score))
    totals = label("report.totals", lang, total=len(result.checks),
                   counts=status_counts(result)).strip()
    lines += ["", f"**{score}** {totals}"]
    if result.pending_points:
        lines.append("\n" + label("report.pending", lang, points=points(result.pending_points)))
    left_out = left_out_text(result)
    if left_out:
        lines += ["", left_out[0], *(f"- {_cell(title)}" for title in left_out[1])]
    lines += experiments_text.markdown_lines(result, lang)
    lines += ["", f"> {advisory(lang)}", ""]
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
