"""Grade one submission: stage it, start its worker, run the checks, build the result.

Student-facing texts are grader.i18n Messages until the result is complete; then they
are rendered, once, in the language asked for (lang), which the result records. So the
JSON and every rendering of it speak that language, and scores do not depend on it.
"""

from __future__ import annotations

import hashlib
import platform
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import pytest

from grader import __version__
from grader.assignment import Assignment
from grader.checks.plugin import GradingPlugin, run_checks
from grader.checks.proxy import SubmissionProxy
from grader.checks.selection import CheckKeys, suggestions
from grader.i18n import DEFAULT_LANG, GRADER, Translator, joined
from grader.results import CheckResult, GradeResult, SubmissionInfo
from grader.submission import Requirement, StagedSubmission, SubmissionError, stage_submission
from grader.worker.client import Worker, WorkerLimits

GRADING_INI = Path(__file__).parent / "checks" / "grading.ini"


class GraderError(Exception):
    """The grader could not run the checks (a broken assignment or a bug)."""


class SelectionError(GraderError):
    """--only and --quick select nothing to grade: the caller's mistake (a usage error)."""


class UnknownCheck(SelectionError):
    """--only named no check of the assignment, by any of the names checks answer to."""

    def __init__(self, unknown: list[str], checks: list[CheckKeys]) -> None:
        close = sorted({name for entry in unknown for name in suggestions(entry, checks)})
        modules = sorted({c.function.rpartition(".")[0] for c in checks if c.function})
        super().__init__(GRADER(
            "cli.unknown_check_close" if close else "cli.unknown_check",
            unknown=joined(unknown), close=joined(close), modules=joined(modules)))


def grade_submission(assignment: Assignment, path: Path, *, only: Iterable[str] = (),
                     quick: bool = False, include_hidden: bool = True,
                     lang: str = DEFAULT_LANG,
                     stop: threading.Event | None = None) -> GradeResult:
    """Grade the submission at path (folder, .ipynb or .zip); texts in lang (i18n.LANGS).
    only: names, functions, modules or patterns (grader/checks/selection.py); quick:
    leave out the long checks. Raises KeyboardInterrupt once `stop` is set (checked
    between checks)."""
    translator = Translator(lang)  # refuses an unknown language before any work
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwgrade-") as tmp:
        try:
            staged = stage_submission(path, Requirement(assignment.modules), Path(tmp) / "staged")
        except SubmissionError as error:
            return _localized(_result(assignment, [], SubmissionInfo(path=str(path)),
                                      error=error.message, start=start), translator)
        hidden = include_hidden and assignment.has_hidden_checks
        limits = assignment.limits
        worker_limits = WorkerLimits(
            call_timeout=limits.call_timeout, import_timeout=limits.import_timeout,
            submission_budget=limits.submission_budget, memory_mib=limits.memory_mib)
        with Worker(staged.dest, staged.modules, limits=worker_limits,
                    hidden_paths=assignment.private_paths()) as worker:
            proxy = SubmissionProxy(worker, staged)
            plugin = GradingPlugin(
                submission=proxy, assignment=assignment,
                hidden_dir=assignment.hidden_checks if hidden else None,
                check_time_limit=limits.check_time_limit, only=only, quick=quick,
                scope=proxy.check_scope, stop=stop)
            paths = [assignment.public_checks] + ([assignment.hidden_checks] if hidden else [])
            code, output = run_checks(paths, plugin, ini_file=GRADING_INI, rootdir=assignment.root,
                                      max_examples=assignment.max_examples)
            # Ctrl-C: pytest stopped (its exit code also means a collection error, so the
            # plugin tells), or a signal whose KeyboardInterrupt Python dropped set `stop`
            if plugin.interrupted or (stop is not None and stop.is_set()):
                raise KeyboardInterrupt
            protections = worker.protections.to_dict()
            stats = worker.stats
        if plugin.unknown_only:
            raise UnknownCheck(plugin.unknown_only, plugin.all_keys)
        if code == pytest.ExitCode.NO_TESTS_COLLECTED and plugin.left_out and not (
                plugin.collection_errors or plugin.results):
            raise SelectionError(GRADER("cli.all_left_out", checks=joined(
                [c.name for c in plugin.left_out])))
        if plugin.collection_errors or code not in (0, 1):
            raise GraderError("the assignment's checks could not run:\n"
                              + "\n".join(plugin.collection_errors or [output[-3000:]]))
        complete = hidden and not only and not quick
        points = sum(c.max_points for c in plugin.results.values())
        if complete and assignment.total_points and points != assignment.total_points:
            raise GraderError(f"the checks are worth {points:g} points, but "
                              f"assignment.toml says {assignment.total_points:g}")
        result = _result(assignment, list(plugin.results.values()), _info(path, staged),
                         start=start, pending=0 if hidden or only else assignment.hidden_points)
        result.left_out = plugin.left_out
        result.protections = protections
        result.experiments = list(plugin.experiments)
        result.locations = {name: asdict(where)
                            for name, where in sorted(staged.function_locations.items())}
        result.timings["worker_wait"] = round(stats.wait_seconds, 6)
        result.timings["worker_round_trips"] = stats.round_trips
        return _localized(result, translator)


def _localized(result: GradeResult, translator: Translator) -> GradeResult:
    """The result with every Message in it rendered in the translator's language."""
    result = translator.deep(result)
    result.lang = translator.lang
    return result


def _info(path: Path, staged: StagedSubmission) -> SubmissionInfo:
    digest = hashlib.sha256()
    for module in sorted(staged.modules):
        digest.update(module.encode() + b"\0" + (staged.dest / f"{module}.py").read_bytes())
    return SubmissionInfo(
        path=str(path), kind=staged.kind, sha256=digest.hexdigest(),
        skipped=[GRADER("report.skipped_statement", cell=s.cell, line=s.line, text=s.text,
                        reason=s.reason) for s in staged.skipped],
        notes=list(staged.notes))


def _result(assignment: Assignment, checks: list[CheckResult], info: SubmissionInfo, *,
            start: float, error: str | None = None, pending: float = 0) -> GradeResult:
    import hypothesis
    import numpy
    import pytest

    return GradeResult(
        assignment=assignment.name,
        score=round(sum(c.points for c in checks), 6),
        max_score=round(sum(c.max_points for c in checks), 6),
        checks=checks,
        submission=info,
        pending_points=pending,
        error=error,
        versions={"hwgrade": __version__, "assignment": assignment.version,
                  "python": platform.python_version(), "numpy": numpy.__version__,
                  "pytest": pytest.__version__, "hypothesis": hypothesis.__version__},
        seeds={"hypothesis": "derandomized"},
        timings={"total": round(time.perf_counter() - start, 6)},
    )
