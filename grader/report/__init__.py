"""Renderings of a GradeResult: terminal text, JSON, JUnit XML, GitHub Actions, Gradescope,
HTML."""

from __future__ import annotations

from grader.report.common import summary_line, write_atomic
from grader.results import GradeResult

FORMATS = ("text", "json", "junit", "github", "gradescope", "html")

__all__ = ["FORMATS", "render", "summary_line", "write_atomic"]


def render(result: GradeResult, fmt: str, *, color: bool = False) -> str:
    """The report in one of FORMATS (imports only the renderer asked for)."""
    if fmt == "text":
        from grader.report import terminal
        return terminal.render(result, color=color)
    if fmt == "json":
        return result.to_json()
    if fmt == "junit":
        from grader.report import junit
        return junit.render(result)
    if fmt == "github":
        from grader.report import github
        return github.render(result)
    if fmt == "gradescope":
        from grader.report import gradescope
        return gradescope.render(result)
    if fmt == "html":
        from grader.report import html
        return html.render(result)
    raise ValueError(f"unknown report format {fmt!r}; choose from {', '.join(FORMATS)}")
