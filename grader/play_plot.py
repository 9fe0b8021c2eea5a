"""`hwgrade play --plot`: a sweep's test-loss curves as one figure, one panel per setting.

Each panel draws every seed's curve (thin, translucent: the jitter a median hides) with
their median on top (bold), a cross where a run diverged, the loss of a network that
outputs 0 everywhere (a run above that line learned nothing, even if it never
diverged), and a note: how many runs diverged, and for a regularized setting how many
weights the final networks have at exactly 0 (L1's dead links). With a student's
training beside the reference's, each panel holds both, in two colours.

Drawn with matplotlib's Agg canvas on a Figure of its own (no pyplot state), in the
student's language when a font has its glyphs (grader/report/fonts.py). The same
sweep gives the same bytes: matplotlib's default style, no dates or versions in the
file, a fixed SVG hash salt.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.i18n import label
from grader.play import SWEEP_FIELDS, Sweep, format_value
from grader.report.fonts import font_families

FORMATS = (".png", ".svg", ".html")
REFERENCE_BLUE = "#0877bd"  # Playground's blue and orange
STUDENT_ORANGE = "#e8710a"
GUESS_LOSS = 0.5  # mean 0.5 * (0 - label)^2 for labels +-1: a network that outputs 0
PANEL = (2.7, 2.2)  # inches per panel
DPI = 110
_STYLE = {"font.size": 8.5, "axes.linewidth": 0.7, "axes.titlesize": 9,
          "svg.hashsalt": "hwgrade", "svg.fonttype": "path"}


@dataclass(frozen=True)
class Series:
    """One training of the sweep to draw: whose (a `plot.*` label id) and its colour."""

    sweep: Sweep
    who: str | None  # "plot.yours", "plot.reference", or None when alone
    colour: str


def trainings(sweep: Sweep, reference: Sweep | None = None) -> list[Series]:
    """What to draw: the sweep alone, or the reference's beside a student's (on top)."""
    if reference is None:
        return [Series(sweep, None, REFERENCE_BLUE)]
    return [Series(reference, "plot.reference", REFERENCE_BLUE),
            Series(sweep, "plot.yours", STUDENT_ORANGE)]


def words_language(lang: str) -> str:
    """The language the figure's words can be drawn in: `lang`, or English when no
    font on this machine has its glyphs."""
    return lang if font_families(lang) is not None else "en"


def render(series: Sequence[Series], fmt: str, *, lang: str, exercise: int | None) -> bytes:
    """The figure as `fmt` (one of FORMATS) bytes; .html is a page around the SVG."""
    import matplotlib.style

    words = words_language(lang)
    # The style holds while saving too: the SVG writer reads its hash salt then.
    with matplotlib.style.context(["default", {**_STYLE, "font.family": font_families(words)}]):
        image = _save(draw(series, lang=words, exercise=exercise),
                      "svg" if fmt == ".html" else fmt.lstrip("."))
    if fmt == ".html":  # the page's words are the browser's to draw: in `lang` itself
        title = _title(series[0].sweep, lang, exercise)
        return _page(series, image, lang, title).encode("utf-8")
    return image


def draw(series: Sequence[Series], *, lang: str, exercise: int | None):
    """The Figure: the configs of series[0] (every series trains the same ones)."""
    from matplotlib.figure import Figure

    sweep = series[0].sweep
    rows, cols, row_field, col_field = _layout(sweep)
    settings = _settings_line(sweep, lang, cols)
    handles = _legend_handles(series, lang)
    # The legend's entries are long: 4 to a row on a wide figure, else 2.
    legend_rows = math.ceil(len(handles) / (4 if cols >= 4 else 2))
    # The header above the panels, in inches from the top: the title, the shared
    # settings (0.16 a line), the legend (0.22 a row).
    legend_bottom = 0.33 + 0.16 * (settings.count("\n") + 1) + 0.05 + 0.22 * legend_rows
    header = legend_bottom + 0.05
    # At least two legend entries wide, which a figure of one or two panels is not.
    width, height = max(PANEL[0] * cols + 0.9, 8.0), PANEL[1] * rows + header
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white",
                    layout="constrained")
    figure.get_layout_engine().set(rect=(0, 0, 1, 1 - header / height))
    axes = figure.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    by_config = [[runs for _, runs in s.sweep.by_config()] for s in series]
    for index, config in enumerate(sweep.configs):
        ax = axes.flat[index]
        _panel(ax, [(s, runs[index]) for s, runs in zip(series, by_config, strict=True)], lang)
        r, c = divmod(index, cols)
        if row_field is None:
            ax.set_title(_setting(config, sweep.varied_fields(), lang), loc="left")
        else:
            if r == 0:
                ax.set_title(_setting(config, [col_field], lang), loc="left")
            if c == 0:
                ax.annotate(_setting(config, [row_field], lang), (0, 0.5),
                            xytext=(-44, 0), xycoords="axes fraction",
                            textcoords="offset points", rotation=90, ha="right",
                            va="center", fontweight="bold")
    for ax in axes.flat[len(sweep.configs):]:
        ax.set_visible(False)
    _axes_style(axes, sweep, lang)
    left, top = 0.08 / width, 1 - 0.08 / height
    figure.text(left, top, _title(sweep, lang, exercise), fontweight="bold", fontsize=11,
                va="top")
    figure.text(left, 1 - 0.33 / height, settings, va="top", color="#444444")
    figure.legend(handles=handles, loc="lower left", frameon=False, fontsize=8,
                  ncols=math.ceil(len(handles) / legend_rows), borderaxespad=0,
                  borderpad=0, bbox_to_anchor=(left, 1 - legend_bottom / height))
    return figure


def _layout(sweep: Sweep) -> tuple[int, int, str | None, str | None]:
    """(rows, columns, the field of the rows, of the columns): a sweep of two fields
    (exercise 8: L1/L2 by rate) as a table of them, anything else wrapped in rows."""
    varied = sweep.varied_fields()
    n = len(sweep.configs)
    if len(varied) == 2:
        first, second = ([getattr(c, f) for c in sweep.configs] for f in varied)
        rows, cols = len(dict.fromkeys(first)), len(dict.fromkeys(second))
        # expand_sweep's product order: the first field's value changes slowest.
        if rows * cols == n and all(first[i] == first[i - i % cols] for i in range(n)):
            return rows, cols, varied[0], varied[1]
    cols = n if n <= 5 else 4
    return math.ceil(n / cols), cols, None, None


def _panel(ax, trainings, lang: str) -> None:
    notes = []
    for series, results in trainings:
        epochs = np.arange(1, len(results[0].curve) + 1)
        for r in results:
            ax.plot(epochs, r.curve[:, 1], color=series.colour, linewidth=0.7, alpha=0.35)
        kept = [r.curve[:, 1] for r in results if r.diverged_at is None]
        if kept:
            ax.plot(epochs, np.median(kept, axis=0), color=series.colour, linewidth=2.2)
        for r in results:
            if r.diverged_at is not None:
                ax.plot(r.diverged_at, _last_finite(r.curve[:, 1]), marker="X", markersize=8,
                        color=series.colour, markeredgecolor="black", linestyle="none",
                        zorder=5)
        notes.append(_note(series, results, lang))
    ax.axhline(GUESS_LOSS, color="#555555", linewidth=0.8, linestyle=(0, (4, 3)), zorder=1)
    for line, (text, colour) in enumerate(reversed(notes)):
        note = ax.annotate(text, (0, 0), xytext=(4, 4 + 11 * line), xycoords="axes fraction",
                           textcoords="offset points", fontsize=7.5, color=colour,
                           bbox={"boxstyle": "square,pad=0.1", "facecolor": "white",
                                 "alpha": 0.8, "linewidth": 0})
        note.set_in_layout(False)  # inside the panel: no room to make for it


def _last_finite(curve: np.ndarray) -> float:
    """Where a diverged run's cross goes: its last finite test loss (the guessing loss
    when it diverged in its first epoch)."""
    finite = curve[np.isfinite(curve)]
    return float(finite[-1]) if len(finite) else GUESS_LOSS


def _note(series: Series, results, lang: str) -> tuple[str, str]:
    """The panel's words about one training, in its colour (the legend says whose)."""
    parts = [label("plot.diverged", lang, k=sum(r.diverged_at is not None for r in results),
                   n=len(results))]
    if results[0].config.regularization is not None:
        zeros = [z for z in (r.zero_weights for r in results) if z is not None]
        if zeros:
            # The median over seeds, half up to a whole weight (8 seeds: 45.5 is 46).
            median = math.floor(float(np.median([k for k, _ in zeros])) + 0.5)
            parts.append(label("plot.zero_weights", lang, k=median, n=zeros[0][1]))
    return label("plot.join", lang).join(parts), series.colour


def _axes_style(axes, sweep: Sweep, lang: str) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    finite = np.concatenate([r.curve[:, 1][np.isfinite(r.curve[:, 1])] for r in sweep.results])
    low = float(finite.min()) if len(finite) else GUESS_LOSS
    high = float(finite.max()) if len(finite) else GUESS_LOSS
    first = axes.flat[0]
    # Log scale: the losses that differ between settings (0.01-0.1) and the ones that
    # never fall (0.5-1) both get room; linear squeezes the first into one line.
    first.set_yscale("log")
    first.set_ylim(max(low, 1e-4) / 1.3, max(high, GUESS_LOSS) * 1.3)
    first.set_xlim(0, max(c.epochs for c in sweep.configs))
    first.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    first.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    first.yaxis.set_minor_formatter(NullFormatter())
    for ax in axes.flat:
        ax.grid(True, which="major", color="#e2e2e2", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(label("plot.epoch", lang))
    for ax in axes[:, 0]:
        ax.set_ylabel(label("plot.test_loss", lang))


def _legend_handles(series: Sequence[Series], lang: str) -> list:
    from matplotlib.lines import Line2D

    # Alone, the training's own colour; beside another, one entry per colour and the
    # line styles in grey.
    ink = series[0].colour if len(series) == 1 else "#777777"
    handles = [Line2D([], [], color=s.colour, linewidth=2.2, label=label(s.who, lang))
               for s in series if s.who is not None]
    return handles + [
        Line2D([], [], color=ink, linewidth=0.8, alpha=0.6, label=label("plot.each_seed", lang)),
        Line2D([], [], color=ink, linewidth=2.2, label=label("plot.median", lang)),
        Line2D([], [], marker="X", markersize=7, color=ink, markeredgecolor="black",
               linestyle="none", label=label("plot.diverged_marker", lang)),
        Line2D([], [], color="#555555", linewidth=0.8, linestyle=(0, (4, 3)),
               label=label("plot.guess", lang, loss=f"{GUESS_LOSS:g}"))]


def _setting(config, fields: Sequence[str], lang: str) -> str:
    return label("plot.join", lang).join(
        f"{label(f'play.field.{f}', lang)} {format_value(f, getattr(config, f))}"
        for f in fields)


def _title(sweep: Sweep, lang: str, exercise: int | None) -> str:
    varied = sweep.varied_fields()
    what = label("plot.join", lang).join(label(f"play.field.{f}", lang) for f in varied)
    if exercise is not None:
        return label("plot.title_exercise", lang, n=exercise, varied=what)
    return label("plot.title_sweep", lang, varied=what) if varied else label("plot.title", lang)


def _settings_line(sweep: Sweep, lang: str, cols: int) -> str:
    """What every panel shares (the table's first line), wrapped to the figure's width."""
    varied = sweep.varied_fields()
    first = sweep.configs[0]
    fixed = [f"{label(f'play.field.{f}', lang)} {format_value(f, getattr(first, f))}"
             for f in SWEEP_FIELDS if f not in varied]
    # No-break spaces inside a setting: lines break between settings only.
    text = " · ".join(item.replace(" ", "\u00a0")
                      for item in [*fixed, label("play.seeds", lang, n=len(sweep.seeds))])
    # A CJK character is about two Latin ones wide.
    width = int((max(PANEL[0] * cols, 7.5) + 0.5) * 15 / (2 if lang != "en" else 1))
    return "\n".join(textwrap.wrap(text, max(width, 40)))


def _save(figure, fmt: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    out = io.BytesIO()
    # No dates and no matplotlib version in the file: the same sweep, the same bytes.
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    figure.savefig(out, format=fmt, dpi=DPI, metadata=metadata)
    return out.getvalue()


def _page(series: Sequence[Series], svg: bytes, lang: str, title: str) -> str:
    """A self-contained page (the HTML report's: no script, nothing loaded): the figure,
    then each training's table."""
    from grader.play import render_table
    from grader.report.html import esc, page

    image = base64.b64encode(svg).decode("ascii")
    body = [f"<h1>{esc(title)}</h1>",
            f'<img src="data:image/svg+xml;base64,{image}" alt="{esc(title)}">']
    for s in series:
        if s.who is not None:
            body.append(f"<h2>{esc(label(s.who, lang))}</h2>")
        body.append(f'<pre>{esc(render_table(s.sweep, lang))}</pre>')
    return page(f"hwgrade play: {title}", body, lang)
