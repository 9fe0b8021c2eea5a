"""The HTML report's plots: per setting, the student's learning curves beside the
reference's (one small panel each), and Playground's heat map of a network's output.
PNG bytes, drawn with matplotlib's Agg canvas on a Figure of its own (never pyplot's
global figures), so rendering is thread-safe and leaves no state behind.

matplotlib is imported inside the functions: the other report formats (and
`hwgrade check` without --format html) do not pay its import time.

The images hold no text but tick numbers: titles, legends and axis names are in
the HTML around them, where the browser's fonts show any language (matplotlib's
bundled font has no CJK glyphs, and a label with `$` would be read as math).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from grader.report.experiments_view import Boundary, Curves

# Playground's heat map (heatmap.ts): a linear scale from orange (-1) through grey (0)
# to blue (+1), quantized into NUM_SHADES + 1 colours.
PLAYGROUND_ORANGE = "#f59322"
PLAYGROUND_GREY = "#e8eaeb"
PLAYGROUND_BLUE = "#0877bd"
NUM_SHADES = 30
# Your runs and the reference's, in every panel (not Playground's exact blue and orange:
# those are the heat map's).
STUDENT_COLOUR = "#e8710a"
REFERENCE_COLOUR = "#1f77b4"
PANEL_SIZE = (2.1, 1.6)  # inches: three panels beside the heat map on a laptop's page
DPI = 100
# matplotlib's defaults, not the user's matplotlibrc: the same result gives the same
# bytes on every machine with the same matplotlib.
_STYLE = ["default", {"font.size": 8, "axes.linewidth": 0.7}]


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64) / 255


def heat_colours(values: np.ndarray) -> np.ndarray:
    """RGB (h, w, 3) in [0, 1] for outputs in [-1, 1], as Playground shades its plane:
    quantized to 31 shades; NaN (a run that broke) is white."""
    t = (np.clip(np.nan_to_num(values, nan=0.0), -1, 1) + 1) / 2
    shade = np.minimum(np.floor(t * (NUM_SHADES + 1)), NUM_SHADES) / NUM_SHADES
    low, mid, high = _rgb(PLAYGROUND_ORANGE), _rgb(PLAYGROUND_GREY), _rgb(PLAYGROUND_BLUE)
    s = shade[..., None]
    rgb = np.where(s < 0.5, low + (mid - low) * (s / 0.5), mid + (high - mid) * ((s - 0.5) / 0.5))
    rgb[~np.isfinite(values)] = 1.0
    return rgb


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    out = io.BytesIO()
    # No "Software" (matplotlib's version) chunk: the bytes depend on the data only.
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, facecolor="white")


def _finite(arrays) -> np.ndarray:
    values = [a[np.isfinite(a) & (a > 0)] for a in arrays if a is not None]
    return np.concatenate(values) if values else np.zeros(0)


def loss_range(curves: Sequence[Curves | None]) -> tuple[float, float]:
    """One y range (log scale) for the panels of an exercise, so that they compare: every
    band and median, and the loss of a network that outputs 0 (0.5) for orientation;
    a student's curve that blows up is cut at 10."""
    values = _finite([a for c in curves if c is not None for a in (c.median, c.p10, c.p90)])
    low = float(values.min()) if len(values) else 0.5
    high = float(values.max()) if len(values) else 0.5
    return max(low, 1e-4) / 1.3, min(max(high, 0.5) * 1.3, 10.0)


def setting_curves(reference: Curves | None, student: Curves | None,
                   diverged_at: Sequence[int], limits: tuple[float, float]) -> bytes | None:
    """One setting's test loss over epochs: the reference's and the student's median
    (dashed and solid) over their 10th-90th percentile bands, a cross at the top where
    one of the student's runs diverged, and the loss of a network that outputs 0."""
    if reference is None and student is None:
        return None
    import matplotlib.style
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    with matplotlib.style.context(_STYLE):
        figure = _figure(*PANEL_SIZE)
        ax = figure.add_axes((0.2, 0.14, 0.75, 0.82))
        right = 0.0
        for curves, colour, dashes in ((reference, REFERENCE_COLOUR, (0, (4, 2))),
                                       (student, STUDENT_COLOUR, "solid")):
            if curves is None:
                continue
            if curves.p10 is not None and curves.p90 is not None \
                    and len(curves.p10) == len(curves.p90):
                x = curves.epochs(len(curves.p10))
                ax.fill_between(x, curves.p10, curves.p90, color=colour, alpha=0.2,
                                linewidth=0)
                right = max(right, x[-1])
            if curves.median is not None:
                x = curves.epochs(len(curves.median))
                ax.plot(x, curves.median, color=colour, linewidth=1.8, linestyle=dashes)
                right = max(right, x[-1])
        ax.axhline(0.5, color="#555555", linewidth=0.7, linestyle=(0, (1, 2)))
        low, high = limits
        if diverged_at:
            ax.plot(diverged_at, [high / 1.25] * len(diverged_at), marker="X", markersize=7,
                    color=STUDENT_COLOUR, markeredgecolor="black", linestyle="none")
            right = max(right, *diverged_at)
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        ax.set_xlim(0, right or 1)
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 3.0)))
        ax.xaxis.set_major_locator(MaxNLocator(3, integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        # No minor ticks: a log axis makes dozens, and drawing ticks is most of a panel's
        # cost (23 panels a page).
        ax.yaxis.set_minor_locator(NullLocator())
        ax.grid(True, color="#e2e2e2", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        return _png(figure)


def decision_boundary(boundary: Boundary) -> bytes:
    """The network's output over the plane, shaded like Playground's heat map, with the
    training points (white edge) and test points (black edge) in their class colour."""
    import matplotlib.style

    with matplotlib.style.context(_STYLE):
        figure = _figure(4.2, 4.2)
        ax = figure.add_axes((0.08, 0.07, 0.89, 0.89))
        x0, x1, y0, y1 = boundary.extent
        # Row 0 is the top of the plane (y1), as in an image.
        ax.imshow(heat_colours(boundary.values), extent=(x0, x1, y0, y1), origin="upper",
                  interpolation="nearest", aspect="auto")
        for points, edge in ((boundary.points, "white"), (boundary.test_points, "black")):
            if len(points):
                colours = np.where(points[:, 2:3] > 0, _rgb(PLAYGROUND_BLUE),
                                   _rgb(PLAYGROUND_ORANGE))
                ax.scatter(points[:, 0], points[:, 1], s=22, c=colours, edgecolors=edge,
                           linewidths=0.9)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        for spine in ax.spines.values():
            spine.set_color("#999999")
        return _png(figure)
