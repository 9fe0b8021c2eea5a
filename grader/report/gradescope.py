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

from grader.i18n import label
from grader.report.common import explanation_text, lang_of, points
from grader.results import CheckResult, GradeResult

VISIBLE, HIDDEN = "visible", "after_published"


def _test(check: CheckResult, lang: str) -> dict:
    status = "passed" if check.status == "passed" else "failed"  # Gradescope knows only these
    output = explanation_text(check, lang)
    if check.status == "error":
        output += ("\n" if output else "") + label("report.gradescope.grader_problem", lang)
    test = {"name": check.title, "name_format": "text",
            "score": float(check.points), "max_score": float(check.max_points),
            "status": status, "visibility": HIDDEN if check.hidden else VISIBLE,
            "extra_data": {"check": check.name, "status": check.status}}
    if output:
        test.update(output=output, output_format="text")
    if check.function:
        test["tags"] = [check.function]
    return test


def _output(result: GradeResult, lang: str) -> str:
    if result.error:
        return label("report.could_not_grade", lang, error=result.error)
    shown = [c for c in result.checks if not c.hidden]
    passed = sum(c.status == "passed" for c in shown)
    some_hidden = len(shown) < len(result.checks)
    lines = [label("report.gradescope.visible_passed_hidden" if some_hidden
                   else "report.gradescope.visible_passed", lang,
                   assignment=result.assignment, passed=passed, shown=len(shown))]
    lines += [label("report.gradescope.note", lang, note=note)
              for note in result.submission.notes]
    if result.submission.skipped:
        lines.append(label("report.gradescope.skipped", lang,
                           count=len(result.submission.skipped)))
    return "\n".join(lines)


def results(result: GradeResult) -> dict:
    lang = lang_of(result)
    data = {
        "score": float(result.score),
        "execution_time": math.ceil(result.timings.get("total", 0.0)),
        "output": _output(result, lang),
        "output_format": "text",
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        # For the instructor: what the grade was computed with, and how safely.
        "extra_data": {"hwgrade": result.versions.get("hwgrade"),
                       "assignment_version": result.versions.get("assignment"),
                       "max_score": float(result.max_score),
                       "sha256": result.submission.sha256,
                       "protections": result.protections},
        "tests": [_test(c, lang) for c in result.checks],
    }
    if result.pending_points:  # a run without hidden checks: say so, never silently
        data["output"] += "\n" + label("report.gradescope.pending", lang,
                                        points=points(result.pending_points))
    return data


def render(result: GradeResult) -> str:
    return json.dumps(results(result), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
