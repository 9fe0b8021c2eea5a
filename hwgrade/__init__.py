"""hwgrade in a notebook: `import hwgrade; hwgrade.check("day65")` grades the functions
defined in the running kernel (Jupyter or Colab) and shows the report.

The grader lives in the `grader` package; this one is only the public name, and it
imports nothing until check() is called, so `import hwgrade` costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.live_check import LiveResult

__all__ = ["check"]


def check(assignment: str, *, quick: bool = False, lang: str | None = None) -> LiveResult:
    """Grade this notebook's functions for ASSIGNMENT ("day65") as `hwgrade check` would.

    quick=True leaves out the 500-epoch experiment checks (seconds instead of about half
    a minute). lang is "en" or "zh-TW" (default: from the locale, as the command line).
    Returns the result: `.score`, `.max_score`, `.checks`; shown as a table in Jupyter
    and Colab, as the terminal report elsewhere.
    """
    from grader.live_check import check as live_check

    return live_check(assignment, quick=quick, lang=lang)
