"""Gradescope: results.json as its autograder specification describes it
(gradescope-autograders.readthedocs.io, "Autograder Specifications").

    {"score": 7.0, "execution_time": 9, "output": "...", "output_format": "text",
     "visibility": "visible", "stdout_visibility": "hidden", "extra_data": {...},
     "tests": [{"name": "...", "name_format": "text", "score": 3.0, "max_score": 3.0,
                "status": "passed" | "failed", "output": "...", "output_format": "text",
                "visibility": "visible" | "after_published", "tags": [...],
                "extra_data": {...}}]}

Hidden checks are "after_published": students see them once the instructor
publishes the grades, and not before. The top-level output therefore speaks of
the visible checks only, so it does not give away how the hidden ones went.
Every text is "text" format: a submission's messages are never read as HTML
or Markdown. stdout (hwgrade's own summary line) is for the instructor only.
"""

from __future__ import annotations

import json
import math

from grader.report.common import explanation_text, points
from grader.results import CheckResult, GradeResult

VISIBLE, HIDDEN = "visible", "after_published"


def _test(check: CheckResult) -> dict:
    status = "passed" if check.status == "passed" else "failed"  # Gradescope knows only these
    output = explanation_text(check)
    if check.status == "error":
        output += ("\n" if output else "") + ("This is a problem in the grader, not in your "
                                              "code: your instructor will look into it.")
    test = {"name": check.title, "name_format": "text",
            "score": float(check.points), "max_score": float(check.max_points),
            "status": status, "visibility": HIDDEN if check.hidden else VISIBLE,
            "extra_data": {"check": check.name, "status": check.status}}
    if output:
        test.update(output=output, output_format="text")
    if check.function:
        test["tags"] = [check.function]
    return test


def _output(result: GradeResult) -> str:
    if result.error:
        return f"Your submission could not be graded: {result.error}"
    shown = [c for c in result.checks if not c.hidden]
    passed = sum(c.status == "passed" for c in shown)
    lines = [f"hwgrade {result.assignment}: {passed} of {len(shown)} checks passed"
             + (" (hidden checks are shown when grades are published)."
                if len(shown) < len(result.checks) else ".")]
    lines += [f"Note: {note}" for note in result.submission.notes]
    if result.submission.skipped:
        lines.append(f"{len(result.submission.skipped)} notebook statement(s) were not run "
                     "(only imports, functions, classes and constants are graded).")
    return "\n".join(lines)


def results(result: GradeResult) -> dict:
    data = {
        "score": float(result.score),
        "execution_time": math.ceil(result.timings.get("total", 0.0)),
        "output": _output(result),
        "output_format": "text",
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        # For the instructor: what the grade was computed with, and how safely.
        "extra_data": {"hwgrade": result.versions.get("hwgrade"),
                       "assignment_version": result.versions.get("assignment"),
                       "max_score": float(result.max_score),
                       "sha256": result.submission.sha256,
                       "protections": result.protections},
        "tests": [_test(c) for c in result.checks],
    }
    if result.pending_points:  # a run without hidden checks: say so, never silently
        data["output"] += (f"\n{points(result.pending_points)} points of hidden checks were "
                           "not included in this run.")
    return data


def render(result: GradeResult) -> str:
    return json.dumps(results(result), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
