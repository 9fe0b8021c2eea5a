"""The hwgrade pytest plugin: runs an assignment's checks and collects results.

Checks run in the grader process (pytest.main with this plugin object); the
student's code is reached only through the `submission` fixture's proxy.

Markers a check may carry:
    points(n)            what the check is worth (required)
    function("m.f")      the student's function the check is about
    depends("name", ...) checks that must pass first; otherwise "not run: needs ..."
    time_limit(seconds)  cap on all student calls in this check (default from the manifest)
    hint("...")          the hint shown when a failure does not bring its own
    title(text)          the title, for a check whose docstring cannot be it (one made by
                         a factory): usually a Message, msg("title.x", name=...)
    long                 a long check (Day 65: a 500-epoch training), left out by --quick

A check module may define start_early(submission, assignment, checks): called before
the first check with the names of its checks that will run, for work that can begin in
the background; a callable it returns is called when the checks are done.

A check's title is, first, `title.<check name>` in the catalog of the nearest locale/
folder (grader/i18n.py), then the title marker, then its docstring. Every text the plugin
puts in a result may be a grader.i18n Message; grading renders them in the student's
language.
"""

from __future__ import annotations

import re
import time
import traceback
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from grader.checks import CheckFailure
from grader.checks.selection import CheckKeys, selected
from grader.i18n import GRADER, CatalogError, Domain, joined, messages_near
from grader.results import CheckResult, LeftOut
from grader.worker.errors import (
    PROCESS_FAILURES,
    BudgetExhausted,
    MissingFunction,
    StudentCodeError,
)

MARKERS = {
    "points(n): points the check is worth",
    "function(name): the student's function the check is about, e.g. activations.sigmoid",
    "depends(*names): checks that must pass before this one runs",
    "time_limit(seconds): limit on the student's calls during this check",
    "hint(text): hint shown with a failure",
    "title(text): the check's title when its docstring cannot be it (a catalog Message)",
    "long: a long check (minutes of training), left out by hwgrade check --quick",
}
GRADER_BUG = GRADER("plugin.grader_bug")


def check_name(item: pytest.Item) -> str:
    name = getattr(item, "originalname", None) or item.name
    name = name.removeprefix("test_")
    callspec = getattr(item, "callspec", None)
    return f"{name}[{callspec.id}]" if callspec is not None else name


def _base_name(item: pytest.Item) -> str:
    return (getattr(item, "originalname", None) or item.name).removeprefix("test_")


def check_title(item: pytest.Item) -> str:
    base = _base_name(item)
    return title_of(Path(str(item.path)), base, _marker_arg(item, "title"),
                    getattr(item, "function", None)) or check_name(item).replace("_", " ")


def title_of(path: Path, base: str, marked: Any, function: Any) -> str:
    """A check's title: the catalog's title.<base> (base: its name without test_ and
    parameters), else its title marker, else its docstring's first paragraph (the English
    title, kept equal to the catalog's by tests/test_i18n.py); "" if none."""
    domain = _domain(path)
    if domain is not None and domain.has(f"title.{base}"):
        return domain(f"title.{base}")
    return marked or docstring_title(function)


def docstring_title(function: Any) -> str:
    doc = getattr(function, "__doc__", None) or ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(paragraph.split())


def _domain(path: Path) -> Domain | None:
    """The catalogs of a check module, if its assignment has any."""
    try:
        return messages_near(path)
    except CatalogError:
        return None


def _depends(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("depends")
    return marker.args if marker else ()


def _ready_first(nodes: list, needs: dict) -> list | None:
    """nodes ordered so that each comes after what it needs (among nodes), taking the
    first ready one in the given order each time; None for a cycle."""
    done: set = set()
    ordered: list = []
    while len(ordered) < len(nodes):
        ready = next((n for n in nodes if n not in done and needs[n] <= done), None)
        if ready is None:
            return None
        done.add(ready)
        ordered.append(ready)
    return ordered


def _marker_arg(item: pytest.Item, name: str, default: Any = None) -> Any:
    marker = item.get_closest_marker(name)
    return marker.args[0] if marker is not None and marker.args else default


class GradingPlugin:
    """One grading run: the fixtures checks use, and the results they produce."""

    def __init__(self, *, submission: Any, assignment: Any, hidden_dir: Path | None,
                 check_time_limit: float, only: Iterable[str] = (), quick: bool = False,
                 scope: Any = None, stop: Any = None) -> None:
        self._submission = submission
        # Set by a signal handler whose KeyboardInterrupt Python may have dropped (one
        # raised inside a gc callback or a __del__ is only printed): checked between checks
        self._stop = stop
        self._assignment = assignment
        self._hidden_dir = hidden_dir.resolve() if hidden_dir else None
        self._time_limit = check_time_limit
        self._only = list(only)  # entries of grader/checks/selection.py
        self._quick = quick
        self._scope = scope  # callable(seconds) -> context manager around one check
        self.results: dict[str, CheckResult] = {}
        self.experiments: list[dict[str, Any]] = []  # result.experiments, in record order
        self.collection_errors: list[str] = []
        self._finishers: list[Any] = []  # what start_early hooks left to be called at the end
        self.unknown_only: list[str] = []
        self.all_names: list[str] = []
        self.all_keys: list[CheckKeys] = []
        self.left_out: list[LeftOut] = []  # long checks --quick did not run
        self.interrupted = False  # Ctrl-C (or SIGTERM made one) stopped the run

    # -- fixtures -------------------------------------------------------------
    def fixtures(self) -> types.ModuleType:
        """The fixtures checks use, as a plugin of plain functions: pytest 9 deprecates
        session fixtures that are methods of a plugin object, and pytest 10 refuses
        them."""
        module = types.ModuleType("hwgrade_fixtures")

        @pytest.fixture(scope="session")
        def submission() -> Any:
            """The student's modules, as proxies: submission.activations.sigmoid(z)."""
            return self._submission

        @pytest.fixture(scope="session")
        def record_experiment() -> Any:
            """record_experiment(entry): one exercise's report for result.experiments."""
            return self.experiments.append

        @pytest.fixture(scope="session")
        def assignment() -> Any:
            """The assignment (manifest settings, its folder for data files)."""
            return self._assignment

        module.submission = submission
        module.record_experiment = record_experiment
        module.assignment = assignment
        return module

    # -- hooks ----------------------------------------------------------------
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        # pytest stops for collection errors with its own KeyboardInterrupt subclass
        self.interrupted = not isinstance(excinfo.value, pytest.Session.Interrupted)

    def pytest_configure(self, config: pytest.Config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, session, config, items: list[pytest.Item]) -> None:
        names = [check_name(item) for item in items]
        self.all_names = names
        self.all_keys = [CheckKeys(name, _base_name(item), _marker_arg(item, "function"))
                         for name, item in zip(names, items, strict=True)]
        keep, self.unknown_only = selected(self.all_keys, self._only)
        if self._quick:
            for i, item in enumerate(items):
                if keep[i] and item.get_closest_marker("long") is not None:
                    keep[i] = False
                    self.left_out.append(LeftOut(
                        names[i], check_title(item), float(_marker_arg(item, "points", 0)),
                        "quick"))
        items[:] = [item for item, kept in zip(items, keep, strict=True) if kept]
        seen: set[str] = set()
        for item in items:
            name = check_name(item)
            if name in seen:
                self.collection_errors.append(f"two checks are named {name!r}")
            seen.add(name)
            if item.get_closest_marker("points") is None:
                self.collection_errors.append(f"check {name!r} has no points marker")
            depends = item.get_closest_marker("depends")
            for needed in depends.args if depends else ():
                if needed not in self.all_names:
                    self.collection_errors.append(
                        f"check {name!r} depends on {needed!r}, which is not a check")
        items[:] = self._after_their_needs(items)

    def _after_their_needs(self, items: list[pytest.Item]) -> list[pytest.Item]:
        """The items in their order, except that a check runs after the checks it
        depends on (a later file's, say): "not run: needs X" can only be decided
        once X has run. Whole files move, so that a file's fixtures are set up once:
        a file runs after the files it depends on, the first ready one in file order.
        Within a file, and between files that depend on each other, the first ready
        check goes."""
        files: dict[Any, list[pytest.Item]] = {}
        for item in items:
            files.setdefault(getattr(item, "module", None), []).append(item)
        where = {check_name(item): file for file, its in files.items() for item in its}
        needs = {file: {where[n] for item in its for n in _depends(item) if n in where} - {file}
                 for file, its in files.items()}
        order = _ready_first(list(files), needs)
        if order is None:  # files that depend on each other: order the checks alone
            return self._ready_checks(items)
        return [item for file in order for item in self._ready_checks(files[file])]

    def _ready_checks(self, items: list[pytest.Item]) -> list[pytest.Item]:
        index = {check_name(item): item for item in items}
        needs = {item: {index[n] for n in _depends(item) if n in index} for item in items}
        order = _ready_first(items, needs)
        if order is None:
            self.collection_errors.append(
                "checks depend on each other in a cycle: " +
                ", ".join(check_name(item) for item in items))
            return items
        return order

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Call each check module's start_early(submission, assignment, checks), if it
        has one, with the names of its checks that will run: work that can start in
        the background before the first check (Day 65: the student's 500-epoch
        training, in a second worker). A callable it returns is called at the end."""
        if self.collection_errors:
            return
        modules: dict[Any, list[str]] = {}
        for item in session.items:
            module = getattr(item, "module", None)
            if module is not None and callable(getattr(module, "start_early", None)):
                modules.setdefault(module, []).append(check_name(item))
        for module, names in modules.items():
            try:
                finish = module.start_early(self._submission, self._assignment, names)
            except Exception:  # the assignment's mistake, not the student's
                self.collection_errors.append(
                    f"{module.__name__}.start_early failed:\n{traceback.format_exc()[-2000:]}")
                return
            if callable(finish):
                self._finishers.append(finish)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        while self._finishers:
            self._finishers.pop()()

    def _stop_if_asked(self) -> None:
        if self._stop is not None and self._stop.is_set():
            raise KeyboardInterrupt

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._stop_if_asked()
        needs = [n for n in (item.get_closest_marker("depends").args
                             if item.get_closest_marker("depends") else ())
                 if n in self.results and self.results[n].status != "passed"]
        if needs:
            item.stash[_NEEDS] = needs
            pytest.skip("needs " + ", ".join(needs))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        limit = float(_marker_arg(item, "time_limit", self._time_limit))
        if self._scope is None:
            yield
        else:
            with self._scope(limit):
                yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        self._stop_if_asked()  # a check that ran while the grading was stopped is not graded
        name = check_name(item)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results[name] = self._result(item, name, report, call)
        elif report.when == "teardown" and report.failed and name in self.results:
            self.results[name].status = "error"
            self.results[name].message = GRADER_BUG

    # -- building results -----------------------------------------------------
    def _result(self, item, name, report, call) -> CheckResult:
        max_points = float(_marker_arg(item, "points", 0))
        result = CheckResult(
            name=name, title=check_title(item), status="passed", points=max_points,
            max_points=max_points, function=_marker_arg(item, "function"),
            hidden=self._is_hidden(item), duration=round(report.duration, 6))
        if report.passed:
            return result
        result.points = 0.0
        if report.skipped:
            result.status = "not_run"
            needs = item.stash.get(_NEEDS, [])
            result.needs = list(needs)
            titles = [self.results[n].title for n in needs if n in self.results]
            result.message = (
                GRADER("plugin.not_run_needs",
                       titles=joined(titles, GRADER("plugin.separator"))) if titles
                else GRADER("plugin.not_run", reason=_skip_reason(report)))
            return result
        error = call.excinfo.value if call.excinfo is not None else None
        _fill_failure(result, error, _marker_arg(item, "hint"))
        return result

    def _is_hidden(self, item: pytest.Item) -> bool:
        if self._hidden_dir is None:
            return False
        return self._hidden_dir in Path(str(item.path)).resolve().parents


_NEEDS = pytest.StashKey[list]()

try:
    _GROUP: type = BaseExceptionGroup  # noqa: F821 - a builtin from Python 3.11
except NameError:  # pragma: no cover - Python 3.10, where hypothesis brings the backport
    from exceptiongroup import BaseExceptionGroup as _GROUP


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failures(error: BaseException) -> list[BaseException]:
    """hypothesis can raise several distinct failures at once as a group."""
    if isinstance(error, _GROUP):
        out: list[BaseException] = []
        for inner in error.exceptions:
            out.extend(_failures(inner))
        return out
    return [error]


def _counterexample(error: BaseException) -> str | None:
    notes = getattr(error, "__notes__", None) or []
    for note in notes:
        # hypothesis < 6.1xx says "Falsifying example", newer "Failing test case"
        if note.startswith(("Falsifying example", "Failing test case")):
            body = note.split(":", 1)[1].strip()
            # hypothesis's "# or any other generated value" remarks: noise to a student
            body = "\n".join(line.split("  # ")[0].split("# The test")[0]
                              for line in body.splitlines())
            body = re.sub(r"^\w+\(\s*", "", body)  # test_fn(  z=..., ) -> z=...,
            body = re.sub(r",?\s*\)$", "", body)
            # The fixtures are the grader's, not the student's input.
            body = re.sub(r"\b(submission|assignment)=<[^>]*>,?\s*", "", body)
            return " ".join(body.split())
    return None


# Not about a value: a hint about the check's formula would mislead
_NOT_THE_FORMULA = (*PROCESS_FAILURES, BudgetExhausted, MissingFunction)


def _fill_failure(result: CheckResult, error: BaseException | None, default_hint) -> None:
    from hypothesis.errors import Flaky

    failures = _failures(error) if error is not None else []
    first = failures[0] if failures else None
    result.counterexample = next(
        (c for c in (_counterexample(e) for e in [*failures, error] if e is not None) if c),
        None)
    if isinstance(error, Flaky):
        result.status = "failed"
        result.message = GRADER("plugin.flaky")
    elif isinstance(first, CheckFailure):
        result.status = "failed"
        result.message = first.message
        result.expected, result.actual = first.expected, first.actual
        result.hint = first.hint
        result.function = first.function or result.function
    elif isinstance(first, StudentCodeError):
        result.status = "failed"
        result.message = first.message
        result.function = first.function or result.function
        if isinstance(first, MissingFunction):
            result.counterexample = None  # no input could have made it pass
        if isinstance(first, _NOT_THE_FORMULA):
            return  # the check's hint is about its formula: beside the point here
    elif isinstance(first, AssertionError):
        result.status = "failed"
        result.message = str(first).split("\n")[0] or GRADER("plugin.assertion_failed")
    else:  # anything else is the grader's fault, never the student's
        result.status = "error"
        result.message = GRADER_BUG
        result.details = "".join(traceback.format_exception(first)) if first else None
    if result.status == "failed" and not result.hint:
        result.hint = default_hint


def run_checks(paths: list[Path], plugin: GradingPlugin, *, ini_file: Path,
               rootdir: Path, max_examples: int) -> tuple[int, str]:
    """pytest.main on the check files with only this plugin; returns (exit code, output)."""
    import contextlib
    import io
    import os
    import sys

    from hypothesis import HealthCheck, Phase, settings

    # Built on hypothesis's own defaults, not the caller's: with CI set hypothesis
    # loads its "ci" profile, and a grade must not depend on where it is computed
    settings.register_profile(
        "hwgrade", settings.get_profile("default"), derandomize=True, database=None,
        deadline=None, print_blob=False, max_examples=max_examples,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink, Phase.explain])
    # The caller's defaults, as a profile of their own (public API: no private
    # attribute): loaded back afterwards, whatever profile they came from
    settings.register_profile("hwgrade-caller", settings.default)
    args = [str(p) for p in paths] + [
        "-c", str(ini_file), "--rootdir", str(rootdir), "-p", "no:cacheprovider",
        "--noconftest", "--import-mode=importlib", "-q", "-p", "no:randomly",
        "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    output = io.StringIO()
    old_autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party plugins in grading
    settings.load_profile("hwgrade")
    start = time.perf_counter()
    # The assignment's own modules (its helpers, e.g. day65_helpers.py) import as top-level
    # modules while its checks run, and are forgotten after, like the checks.
    sys.path.insert(0, str(rootdir))
    try:
        _forget_modules_under([*paths, rootdir])
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = pytest.main(args, plugins=[plugin, plugin.fixtures()])
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(rootdir))
        settings.load_profile("hwgrade-caller")
        if old_autoload is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old_autoload
        _forget_modules_under([*paths, rootdir])
    output.write(f"\n[pytest took {time.perf_counter() - start:.2f} s]\n")
    return int(code), output.getvalue()


def _forget_modules_under(paths: list[Path]) -> None:
    """pytest's importlib mode caches check modules in sys.modules under names
    derived from their path: drop them, so that the next grading run (another
    assignment, or the same one changed) imports its own files."""
    import sys

    roots = [p.resolve() for p in paths]
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and any(r == Path(file).resolve().parent or r in Path(file).resolve().parents
                        for r in roots):
            del sys.modules[name]
