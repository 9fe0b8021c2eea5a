"""The HTML report's plots: learning curves over the reference band, and Playground's
heat map of a network's output. PNG bytes, drawn with matplotlib's Agg canvas on a
Figure of its own (never pyplot's global figures), so rendering is thread-safe and
leaves no state behind.

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
# One colour per configuration (matplotlib's tab10, written out so the HTML legend's
# swatches are the same colours).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
DPI = 100
# matplotlib's defaults, not the user's matplotlibrc: the same result gives the same
# bytes on every machine with the same matplotlib.
_STYLE = ["default", {"font.size": 9, "axes.linewidth": 0.8}]


def palette(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


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


def _upper_limit(series: Sequence[Curves | None], student: Sequence[Curves | None]) -> float:
    """The y range's top: every reference band, and the students' medians unless they
    blow up (a diverging run would flatten everything else to the axis)."""
    reference = [np.nanmax(a) for c in series if c is not None
                 for a in (c.p90, c.median) if a is not None and np.isfinite(a).any()]
    ceiling = min(max([1.0, *reference]) * 1.5, 1e6)
    mine = [np.nanmax(c.median) for c in student
            if c is not None and c.median is not None and np.isfinite(c.median).any()]
    top = max([*reference, *mine, 0.1])
    return float(min(top * 1.05, ceiling))


def learning_curves(reference: Sequence[Curves | None], student: Sequence[Curves | None],
                    colours: Sequence[str]) -> bytes | None:
    """Test loss over epochs: per configuration (one colour each), the reference's
    10th-90th percentile band and dashed median, the student's solid median."""
    if not any(c is not None for c in (*reference, *student)):
        return None
    import matplotlib.style

    with matplotlib.style.context(_STYLE):
        figure = _figure(6.4, 3.4)
        ax = figure.add_axes((0.08, 0.09, 0.89, 0.87))
        right = 0.0
        for ref, mine, colour in zip(reference, student, colours, strict=True):
            if ref is not None:
                if ref.p10 is not None and ref.p90 is not None and len(ref.p10) == len(ref.p90):
                    x = ref.epochs(len(ref.p10))
                    ax.fill_between(x, ref.p10, ref.p90, color=colour, alpha=0.16, linewidth=0)
                    right = max(right, x[-1])
                if ref.median is not None:
                    x = ref.epochs(len(ref.median))
                    ax.plot(x, ref.median, color=colour, linewidth=1.1, linestyle=(0, (4, 2)),
                            alpha=0.9)
                    right = max(right, x[-1])
            if mine is not None and mine.median is not None:
                x = mine.epochs(len(mine.median))
                ax.plot(x, mine.median, color=colour, linewidth=2.0)
                right = max(right, x[-1])
        ax.set_xlim(0, right or 1)
        ax.set_ylim(0, _upper_limit(reference, student))
        ax.grid(True, color="#dddddd", linewidth=0.6)
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
