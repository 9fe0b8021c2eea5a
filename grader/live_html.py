"""A GradeResult as an HTML fragment for a notebook's output (hwgrade.check's _repr_html_).

Not the feedback page (report/html.py): a page's <html>, <head> and stylesheet would
restyle the whole notebook, and Jupyter drops <style> and scripts from outputs it does
not trust (a reopened notebook, GitHub's viewer). So: one <div> with inline styles only,
the score, the checks as a table (the page's labels, html_labels, in the result's
language) and the experiments as the terminal report's lines. Every text goes through
report.html.esc: check messages carry what a student's code raised or printed.
"""

from __future__ import annotations

from grader.i18n import label
from grader.report.common import explanation, points
from grader.report.experiments_text import terminal_lines
from grader.report.html import esc
from grader.report.html_labels import labels, language
from grader.results import CheckResult, GradeResult

_COLOURS = {"passed": "#1a7f37", "failed": "#c62828", "not_run": "#9a6700", "error": "#8250df"}
_MARKS = {"passed": "✔", "failed": "✘", "not_run": "–", "error": "!"}
_MUTED = "color:#666"
# Jupyter right-aligns table cells and centres some; each cell says what it wants
_CELL = "text-align:left;vertical-align:top;padding:4px 8px"
_TEXT = "white-space:pre-wrap;overflow-wrap:anywhere"


def render(result: GradeResult) -> str:
    lang = language(result.lang)
    t = labels(lang)
    parts = [f'<div class="hwgrade-report" lang="{esc(lang)}">',
             f'<p style="margin:0 0 4px"><strong>'
             f'{esc(t["heading"].format(assignment=result.assignment))}</strong> '
             f'<span style="{_MUTED}">{esc(result.submission.path)}</span></p>']
    if result.error:
        parts.append(f'<p style="color:{_COLOURS["failed"]};{_TEXT}"><strong>'
                     f'{esc(t["not_graded"])}</strong> {esc(result.error)}</p>')
    else:
        parts += _summary(result, t) + _table(result, t, lang)
        experiments = terminal_lines(result, lang)
        if experiments:
            parts.append(f'<pre style="{_TEXT}">{esc(chr(10).join(experiments).strip())}</pre>')
    return "\n".join([*parts, "</div>"])


def _summary(result: GradeResult, t: dict[str, str]) -> list[str]:
    counts = ", ".join(f"{n} {t[s]}" for s, n in result.counts().items() if n) or t["none"]
    lines = [f'<p style="font-size:1.4em;font-weight:700;margin:4px 0">{esc(t["score"])} '
             f'{points(result.score)}/{points(result.max_score)} '
             f'<small style="font-weight:400;{_MUTED}">'
             f'{esc(t["checks_count"].format(n=len(result.checks), counts=counts))}'
             '</small></p>']
    if result.pending_points:
        lines.append(f'<p>{esc(t["pending"].format(points=points(result.pending_points)))}</p>')
    lines += [f'<p style="{_MUTED}">{esc(t["note"])} {esc(note)}</p>'
              for note in result.submission.notes]
    skipped = result.submission.skipped
    if skipped:
        items = "".join(f"<li><code>{esc(s)}</code></li>" for s in skipped[:10])
        lines.append(f'<details style="{_MUTED}"><summary>'
                     f'{esc(t["skipped"].format(n=len(skipped)))}</summary>'
                     f'<ul>{items}</ul></details>')
    return lines


def _table(result: GradeResult, t: dict[str, str], lang: str) -> list[str]:
    if not result.checks:
        return []
    head = "".join(f'<th style="{_CELL};white-space:nowrap">{esc(t[key])}</th>'
                   for key in ("col_status", "col_points", "col_check", "col_details"))
    rows = [_row(check, t, lang) for check in result.checks]
    return ['<table style="border-collapse:collapse">', f"<thead><tr>{head}</tr></thead>",
            "<tbody>", *rows, "</tbody>", "</table>"]


def _row(check: CheckResult, t: dict[str, str], lang: str) -> str:
    status = check.status if check.status in _MARKS else "error"
    colour = _COLOURS[status]
    hidden = f' <small style="{_MUTED}">({esc(t["hidden"])})</small>' if check.hidden else ""
    return (f'<tr><td style="{_CELL};color:{colour};white-space:nowrap">'
            f'{_MARKS[status]} {esc(t[status])}</td>'
            f'<td style="{_CELL};white-space:nowrap">'
            f'{points(check.points)}/{points(check.max_points)}</td>'
            f'<td style="{_CELL}">{esc(check.title)}{hidden}</td>'
            f'<td style="{_CELL}">{_details(check, t, lang)}</td></tr>')


def _details(check: CheckResult, t: dict[str, str], lang: str) -> str:
    if check.status == "passed":
        return ""
    lines = []
    for name, text in explanation(check):
        if name == "message":
            where = f"{check.function}: " if check.function and check.status == "failed" else ""
            lines.append(f'<div style="{_TEXT}">{esc(where + text)}</div>')
        else:  # the terminal's labels: "expected: ", "預期："
            value = esc(text) if name == "hint" else f"<code>{esc(text)}</code>"
            lines.append(f'<div style="{_TEXT}"><span style="{_MUTED}">'
                         f'{esc(label(f"report.label.{name}", lang))}</span>{value}</div>')
    if not check.message and check.status == "not_run" and check.needs:
        lines.append(f'<div>{esc(t["needs"].format(names=", ".join(check.needs)))}</div>')
    if check.status == "error":
        lines.append(f'<div style="{_MUTED}">{esc(t["grader_fault"])}</div>')
    return "".join(lines)
