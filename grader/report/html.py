"""The HTML feedback page: one self-contained file a student opens in any browser.

render(result) gives an HTML5 document holding the score, the checks (status,
points, title, what went wrong, expected/got/input, hint; hidden checks
marked) and, per exercise of result.experiments, the observation, a table of
the configurations (the student's final test loss beside the reference's),
per setting a panel of the student's learning curves beside the reference's, and
the decision boundary of one run as Playground's heat map (plots.py).

Self-contained and inert: the images are PNG data URIs, the stylesheet is
inline, there is no script, and a Content-Security-Policy forbids loading
anything else, so the page works offline and cannot call out. Every text goes
through esc(): check messages carry what a student's code raised or printed.
The same result gives the same bytes (no timings, no dates, stable PNGs).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from html import escape

from grader import __version__
from grader.report import experiments_view as ev
from grader.report import plots
from grader.report.common import left_out_text, points
from grader.report.html_labels import labels, language
from grader.report.html_style import CSS
from grader.results import CheckResult, GradeResult

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
# What HTML cannot show (C0 controls other than tab, newline, CR; DEL; lone surrogates,
# which could not even be encoded): dropped, like the JUnit report does for XML.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_MARKS = {"passed": "✔", "failed": "✘", "not_run": "–", "error": "!"}


def esc(text: object) -> str:
    """Text as inert HTML (quotes too: it is also used inside attributes)."""
    return escape(_UNSHOWABLE.sub("", str(text)), quote=True)


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def page(title: str, body: Iterable[str], lang: str, source_key: str | None = None) -> str:
    """An inert HTML5 document around body (the CSP, the inline stylesheet)."""
    head = ['<!DOCTYPE html>', f'<html lang="{esc(lang)}">', '<head>', '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">']
    if source_key:  # what the page was rendered from (the batch skips unchanged pages)
        head.append(f'<meta name="hwgrade-source" content="{esc(source_key)}">')
    head += [f'<title>{esc(title)}</title>', f'<style>{CSS}</style>', '</head>', '<body>']
    return "\n".join([*head, *body, '</body>', '</html>']) + "\n"


def _image(png: bytes, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(png).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}"{size}>'


# --- the score and the checks --------------------------------------------------------------


def _header(result: GradeResult, t: dict[str, str]) -> list[str]:
    sub = result.submission
    lines = ['<header>', f'<h1>{esc(t["heading"].format(assignment=result.assignment))}</h1>',
             f'<p class="sub">{esc(sub.path)}{f" ({esc(sub.kind)})" if sub.kind else ""}</p>']
    if result.error:
        lines.append(f'<div class="box"><strong>{esc(t["not_graded"])}</strong> '
                     f'<span class="text">{esc(result.error)}</span></div>')
        return [*lines, '</header>']
    counts = ", ".join(f"{n} {t[s]}" for s, n in result.counts().items() if n) or t["none"]
    lines.append(f'<p class="score">{esc(t["score"])} {points(result.score)}/'
                 f'{points(result.max_score)}<small>'
                 f'{esc(t["checks_count"].format(n=len(result.checks), counts=counts))}'
                 '</small></p>')
    if result.pending_points:
        lines.append(f'<div class="box pending">'
                     f'{esc(t["pending"].format(points=points(result.pending_points)))}</div>')
    left_out = left_out_text(result)
    if left_out:
        lines.append(f'<div class="box pending">{esc(left_out[0])}<ul>'
                     + "".join(f"<li>{esc(title)}</li>" for title in left_out[1]) + "</ul></div>")
    lines += [f'<p class="note">{esc(t["note"])} {esc(note)}</p>' for note in sub.notes]
    if sub.skipped:
        lines.append(f'<p class="note">{esc(t["skipped"].format(n=len(sub.skipped)))}</p>'
                     '<ul class="note">' + "".join(f'<li><code>{esc(s)}</code></li>'
                                                   for s in sub.skipped[:10]) + '</ul>')
    return [*lines, '</header>']


def _details(check: CheckResult, t: dict[str, str]) -> str:
    if check.status == "passed":
        return ""
    parts = []
    if check.message:
        where = f"{check.function}: " if check.function and check.status == "failed" else ""
        parts.append(f'<div class="text">{esc(where + check.message)}</div>')
    elif check.status == "not_run" and check.needs:
        parts.append(f'<div class="text">{esc(t["needs"].format(names=", ".join(check.needs)))}'
                     '</div>')
    rows = [(label, value) for label, value in (
        ("expected", check.expected), ("got", check.actual), ("input", check.counterexample),
        ("hint", check.hint)) if value]
    if rows:
        parts.append('<dl>' + "".join(
            f'<dt>{esc(t[label])}</dt><dd class="{label}">{esc(value)}</dd>'
            for label, value in rows) + '</dl>')
    if check.status == "error":
        parts.append(f'<div class="note">{esc(t["grader_fault"])}</div>')
    return "".join(parts)


def _checks(result: GradeResult, t: dict[str, str]) -> list[str]:
    if result.error or not result.checks:
        return []
    lines = ['<section id="checks">', f'<h2>{esc(t["checks"])}</h2>', '<table>',
             f'<thead><tr><th>{esc(t["col_status"])}</th>'
             f'<th class="num">{esc(t["col_points"])}</th><th>{esc(t["col_check"])}</th>'
             f'<th>{esc(t["col_details"])}</th></tr></thead>', '<tbody>']
    for c in result.checks:
        hidden = f'<span class="tag">{esc(t["hidden"])}</span>' if c.hidden else ""
        status = c.status if c.status in _MARKS else "error"  # a result from elsewhere
        lines.append(
            f'<tr class="check {status}" id="check-{esc(c.name)}">'
            f'<td class="status {status}">{_MARKS[status]} {esc(t[status])}</td>'
            f'<td class="num">{points(c.points)}/{points(c.max_points)}</td>'
            f'<td>{esc(c.title)}{hidden}</td><td>{_details(c, t)}</td></tr>')
    return [*lines, '</tbody>', '</table>', '</section>']


# --- the exercises -------------------------------------------------------------------------


def _yes_no(value: bool | None, t: dict[str, str]) -> str:
    key = "unknown" if value is None else "yes" if value else "no"
    return f'<span class="badge {key}">{esc(t[key])}</span>'


def _spread(spread: ev.Spread | None, t: dict[str, str]) -> tuple[str, str]:
    """(median (p10–p90), diverged/runs) table cells."""
    if spread is None:
        return f'<span class="unknown">{esc(t["no_run"])}</span>', "–"
    loss = _number(spread.median)
    if spread.p10 is not None and spread.p90 is not None:
        loss += f" ({_number(spread.p10)}–{_number(spread.p90)})"
    diverged = "–" if spread.diverged is None else str(spread.diverged)
    if spread.runs is not None:
        diverged += f"/{spread.runs}"
    return esc(loss), esc(diverged)


def _config_table(view: ev.ExerciseView, t: dict[str, str]) -> list[str]:
    lines = ['<table class="configs">',
             f'<thead><tr><th>{esc(t["col_config"])}</th>'
             f'<th class="num">{esc(t["col_student"])}</th>'
             f'<th class="num">{esc(t["col_diverged"])}</th>'
             f'<th class="num">{esc(t["col_reference"])}</th>'
             f'<th class="num">{esc(t["col_diverged"])}</th>'
             f'<th>{esc(t["col_within"])}</th></tr></thead>', '<tbody>']
    for config in view.configs:
        mine, mine_div = _spread(config.student, t)
        ref, ref_div = _spread(config.reference, t)
        lines.append(f'<tr><td>{esc(config.label)}</td><td class="num">{mine}</td>'
                     f'<td class="num">{mine_div}</td><td class="num">{ref}</td>'
                     f'<td class="num">{ref_div}</td><td>{_yes_no(config.within, t)}</td></tr>')
    return [*lines, '</tbody>', '</table>', f'<p class="note">{esc(t["spread_note"])}</p>']


def _panel_note(config: ev.ConfigView, t: dict[str, str]) -> str:
    """Under a setting's panel: the divergences, and L1's dead links (HTML)."""
    _, mine = _spread(config.student, t)
    _, ref = _spread(config.reference, t)
    lines = [t["panel_diverged"].format(mine=mine, reference=ref)]
    if config.zero_weights is not None:
        k, n = config.zero_weights
        lines.append(t["panel_zero_weights"].format(k=k, n=n))
    return "<br>".join(map(esc, lines))


def _setting_panels(view: ev.ExerciseView, t: dict[str, str]) -> list[str]:
    """One small plot per setting, on one y range, each captioned with its setting."""
    limits = plots.loss_range([c for config in view.configs
                               for c in (config.reference_curves, config.student_curves)])
    panels = []
    for config in view.configs:
        png = plots.setting_curves(config.reference_curves, config.student_curves,
                                   config.diverged_at, limits)
        if png is not None:
            panels.append(f'<figure class="panel"><figcaption>{esc(config.label)}</figcaption>'
                          f'{_image(png, config.label, 210)}'
                          f'<p class="note">{_panel_note(config, t)}</p></figure>')
    if not panels:
        return [f'<p class="note">{esc(t["no_curves"])}</p>']
    key = (f'<ul class="legend"><li><span class="swatch" style="background:'
           f'{plots.STUDENT_COLOUR}"></span>{esc(t["curves_yours"])}</li>'
           f'<li><span class="swatch dashed" style="color:{plots.REFERENCE_COLOUR}"></span>'
           f'{esc(t["curves_reference"])}</li></ul>')
    return ['<figure class="curves">', f'<figcaption>{esc(t["curves"])}</figcaption>', key,
            '<div class="panels">', *panels, '</div>',
            f'<p class="note">{esc(t["curves_key"])}</p>', '</figure>']


def _boundary_figure(boundary: ev.Boundary | None, t: dict[str, str]) -> list[str]:
    if boundary is None:
        return [f'<p class="note">{esc(t["no_boundary"])}</p>']
    title = t["boundary"].format(label=boundary.label or "?",
                                 seed="?" if boundary.seed is None else boundary.seed)
    return ['<figure class="boundary">', f'<figcaption>{esc(title)}</figcaption>',
            _image(plots.decision_boundary(boundary), title, 420),
            f'<p class="note">{esc(t["boundary_key"])}</p>', '</figure>']


_REPRODUCED = {True: ("yes", "reproduced"), False: ("no", "not_reproduced"),
               None: ("unknown", "undecided")}
_COMPARED = {True: ("yes", "passed"), False: ("no", "failed"), None: ("unknown", "not_run")}


def _verdicts(view: ev.ExerciseView, t: dict[str, str]) -> list[str]:
    """The observation (reproduced or not) and the full training's comparison's outcome."""
    lines = []
    if view.observation:
        css, key = _REPRODUCED[view.reproduced]
        lines.append(f'<p class="observation">{esc(t["observation"])} {esc(view.observation)}'
                     f' — <span class="badge {css}">{esc(t[key])}</span></p>')
    css, key = _COMPARED[view.passed]
    varied = t["varied"].format(setting=view.varied.replace("_", " ")) if view.varied else ""
    comparison = (t["comparison_epochs"].format(epochs=view.epochs) if view.epochs
                  else t["comparison"])
    lines.append(f'<p>{esc(comparison)} <span class="badge {css}">{esc(t[key])}</span>'
                 + (f' <span class="muted">· {esc(varied)}</span>' if varied else "") + '</p>')
    return lines


def _exercise(view: ev.ExerciseView, index: int, t: dict[str, str]) -> list[str]:
    anchor = f"exercise-{view.number if view.number is not None else index + 1}"
    title = view.title or (t["exercise"].format(n=view.number) if view.number is not None
                           else "?")
    lines = [f'<section class="exercise" id="{anchor}">', f'<h2>{esc(title)}</h2>',
             *_verdicts(view, t)]
    if not view.configs:
        lines.append(f'<p class="note">{esc(t["no_configs"])}</p>')
    else:
        lines += _config_table(view, t)
        lines.append('<div class="plots">')
        lines += _setting_panels(view, t)
        lines += _boundary_figure(view.boundary, t)
        lines.append('</div>')
    return [*lines, '</section>']


# --- pages ---------------------------------------------------------------------------------


def render(result: GradeResult, *, source_key: str | None = None) -> str:
    """The whole page. source_key, if given, is recorded in a <meta> (see batch)."""
    lang = language(getattr(result, "lang", None))
    t = labels(lang)
    body = _header(result, t) + _checks(result, t)
    if not result.error:
        for i, view in enumerate(ev.exercise_views(result.experiments)):
            body += _exercise(view, i, t)
    body.append(f'<footer>{esc(t["footer"].format(version=__version__))}</footer>')
    title = f"{result.assignment}: " + (
        "–" if result.error else f"{points(result.score)}/{points(result.max_score)}")
    return page(f"hwgrade {title}", body, lang, source_key)


def render_text(title: str, text: str, *, lang: str = "en",
                source_key: str | None = None) -> str:
    """A page for plain-text feedback (a batch row without a result: why it has none)."""
    lang = language(lang)
    body = [f'<h1>{esc(title)}</h1>', f'<div class="box text">{esc(text)}</div>',
            f'<footer>{esc(labels(lang)["footer"].format(version=__version__))}</footer>']
    return page(title, body, lang, source_key)
