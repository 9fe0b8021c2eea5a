"""`hwgrade.check("day65")` in a notebook cell: grade the kernel's functions, show the report.

The kernel's functions are taken from its input history (grader.submission.live),
written as a notebook into a temporary folder and graded there by a fresh grader
process (grader.live_grader: grade_submission, staging and the isolated worker, the
same as `hwgrade check` on a .ipynb), never in the kernel, where student code has run.
check() returns a LiveResult: the result, shown as the terminal report in text and as
an HTML table in Jupyter and Colab (live_html), in the student's language.

Input that cannot be graded (an unknown assignment or language, no kernel, none of the
functions defined yet) gives a result whose error says so, not a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from grader.assignment import Assignment, AssignmentError, find_assignment
from grader.i18n import DEFAULT_LANG, GRADER, LANGS, joined, label, lang_from_env, localize
from grader.results import CheckResult, GradeResult, SubmissionInfo
from grader.submission import Requirement
from grader.submission.live import (
    defined_functions,
    input_history,
    kernel_namespace,
    kernel_notebook,
)

NOTEBOOK = "kernel.ipynb"  # the kernel's notebook, in the temporary folder
RESULT = "result.json"
_STOP_GRACE = 10.0  # seconds an interrupted grader gets to close its workers
_DETAILS = 3000  # characters of a failed grader's stderr shown


class LiveResult:
    """What hwgrade.check() returns: the GradeResult (`.result`), its `.score` and
    `.max_score`; shown as the terminal report (str, repr) or an HTML table (Jupyter)."""

    def __init__(self, result: GradeResult) -> None:
        self.result = result

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def checks(self) -> list[CheckResult]:
        return self.result.checks

    @property
    def error(self) -> str | None:
        return self.result.error

    def __str__(self) -> str:
        from grader.report import terminal

        return terminal.render(self.result)

    __repr__ = __str__  # a notebook without HTML (a terminal IPython) prints the report

    def _repr_html_(self) -> str:
        from grader import live_html

        return live_html.render(self.result)


def check(assignment: str, *, quick: bool = False, lang: str | None = None,
          namespace: Mapping[str, Any] | None = None) -> LiveResult:
    """Grade the functions defined in the running kernel (namespace: its user namespace,
    found when not given) as `hwgrade check ASSIGNMENT` grades a notebook; quick leaves
    out the 500-epoch experiments; lang defaults to the locale's, as in the CLI."""
    name = str(assignment)
    lang = lang_from_env() if lang is None else lang
    if lang not in LANGS:
        return _failed(name, GRADER("live.unknown_language", lang=lang, langs=joined(LANGS)),
                       DEFAULT_LANG)
    try:
        found = find_assignment(name)
    except AssignmentError as error:
        return _failed(name, error.args[0], lang)
    namespace = kernel_namespace() if namespace is None else namespace
    history = input_history(namespace)
    if history is None:
        return _failed(found.name, GRADER("live.not_a_kernel", assignment=found.name), lang)
    required = Requirement(found.modules).qualified_names
    if not defined_functions(namespace, required):
        return _failed(found.name, GRADER("live.nothing_defined", assignment=found.name,
                                          functions=joined(required)), lang)
    with tempfile.TemporaryDirectory(prefix="hwgrade-live-") as tmp:
        nbformat.write(kernel_notebook(history), str(Path(tmp) / NOTEBOOK))
        result = _grade(found, Path(tmp), quick=quick, lang=lang)
    result.submission.path = label("live.source", lang)
    return LiveResult(result)


def _grade(assignment: Assignment, folder: Path, *, quick: bool, lang: str) -> GradeResult:
    """The result of grading folder/NOTEBOOK in a grader process of its own."""
    command = [sys.executable, "-m", "grader.live_grader", str(assignment.root), NOTEBOOK,
               RESULT, "--lang", lang] + (["--quick"] if quick else [])
    # cwd: the relative path is what the report shows for the notebook
    process = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               encoding="utf-8", errors="replace")
    try:
        _, errors = process.communicate()
    except KeyboardInterrupt:  # the kernel's interrupt button: stop grading, then say so
        _stop(process)
        raise
    if process.returncode == 0:
        data = json.loads((folder / RESULT).read_text(encoding="utf-8"))
        return GradeResult.from_dict(data)
    if process.returncode == 3:
        text = f"{label('cli.grader_problem', lang)}\n{errors.strip()}"
    else:
        text = label("live.grader_failed", lang, code=process.returncode,
                     details=errors.strip()[-_DETAILS:])
    return _failed(assignment.name, text, lang).result


def _stop(process: subprocess.Popen) -> None:
    """Ask the grader to stop as Ctrl-C would (it closes its workers); kill it if it does
    not within the grace time, or if a second interrupt cuts the wait short."""
    try:
        if os.name == "posix":
            process.send_signal(signal.SIGINT)
        else:
            process.terminate()
        process.communicate(timeout=_STOP_GRACE)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _failed(assignment: str, error: str, lang: str) -> LiveResult:
    """A result with no checks whose error tells why nothing was graded."""
    return LiveResult(GradeResult(
        assignment=assignment, score=0, max_score=0, checks=[],
        submission=SubmissionInfo(path=label("live.source", lang)),
        error=localize(error, lang), lang=lang))
