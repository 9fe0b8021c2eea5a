"""hwgrade.check() (grader/live_check.py, grader/live_grader.py, grader/live_html.py, the
hwgrade package): bad input as a message, the grader process's wiring, the renderings,
and the same feedback as `hwgrade check` on the notebook (demo assignment)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
import setuptools

import hwgrade
from grader import live_check, live_grader
from grader.assignment import find_assignment
from grader.grading import grade_submission
from grader.report import terminal
from grader.results import CheckResult, GradeResult, SubmissionInfo
from grader.submission.live import kernel_notebook

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "tests" / "demo_assignment"
SOLUTION = (ROOT / "tests" / "demo_solution" / "mathy.py").read_text(encoding="utf-8")


def kernel(*cells: str) -> dict:
    """A kernel-like namespace: the cells in its input history, and what they define."""
    namespace: dict = {"_ih": ["", *cells]}
    for cell in cells:
        exec(cell, namespace)
    return namespace


# --- input that cannot be graded --------------------------------------------------------


def test_an_unknown_assignment_is_a_message_not_a_traceback():
    result = live_check.check("day99", namespace=kernel(SOLUTION), lang="en")
    assert result.error == "no assignment 'day99'; available: day65"
    assert (result.score, result.max_score, result.checks) == (0, 0, [])
    assert "could not be graded: no assignment 'day99'" in str(result)
    assert "no assignment &#x27;day99&#x27;" in result._repr_html_()
    chinese = live_check.check("day99", namespace=kernel(SOLUTION), lang="zh-TW")
    assert chinese.error.startswith("沒有名為 'day99' 的作業")


def test_no_kernel_and_no_functions_are_messages():
    outside = live_check.check("day65", namespace={"x": 1}, lang="en")
    assert "grades the functions of a running Jupyter or Colab notebook" in outside.error
    assert "hwgrade check day65 PATH" in outside.error
    empty = live_check.check("day65", namespace=kernel("x = 1"), lang="zh-TW")
    assert empty.error.startswith("這個 notebook 還沒有定義 day65 的任何函數")
    assert "activations.sigmoid" in empty.error and "minibatch.minibatches" in empty.error


def test_an_unknown_language_is_a_message_in_english():
    result = live_check.check("day65", namespace=kernel(SOLUTION), lang="fr")
    assert result.error == "no language 'fr'; choose from en, zh-TW"
    assert result.result.lang == "en"


def test_the_language_defaults_to_the_locales(monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    result = live_check.check("day99", namespace={})
    assert result.result.lang == "zh-TW" and "hwgrade check day99：" in str(result)


# --- the grader process ------------------------------------------------------------------


class FakeGrader:
    """subprocess.Popen for live_check: records the command, 'grades' as told."""

    def __init__(self, returncode: int = 0, stderr: str = "", interrupt: bool = False):
        self.returncode_to_give, self.stderr, self.interrupt = returncode, stderr, interrupt
        self.commands: list[list[str]] = []
        self.signals: list[int] = []

    def __call__(self, command, cwd, **kwargs):
        self.commands.append(command)
        self.cwd = Path(cwd)
        self.returncode = None
        return self

    def communicate(self, timeout=None):
        if self.interrupt and not self.signals:
            raise KeyboardInterrupt
        notebook = nbformat.read(self.cwd / live_check.NOTEBOOK, as_version=4)
        self.sources = [cell.source for cell in notebook.cells]
        if self.returncode_to_give == 0:
            (self.cwd / live_check.RESULT).write_text(sample_result().to_json(), "utf-8")
        self.returncode = self.returncode_to_give
        return "", self.stderr

    def poll(self):
        return self.returncode

    def send_signal(self, number):
        self.signals.append(number)


def sample_result(lang: str = "en") -> GradeResult:
    return GradeResult(
        assignment="demo", score=2, max_score=10, lang=lang,
        submission=SubmissionInfo(path="kernel.ipynb", kind="notebook",
                                  skipped=["cell 3, line 1: print(1) (a call)"]),
        checks=[
            CheckResult("square_values", "square(x) is x * x", "passed", 2, 2),
            CheckResult("square_pure", "square does not change <its> input", "failed", 0, 3,
                        message="<script>alert(1)</script>", expected="1.0", actual="2.0",
                        counterexample="x=array(1.)", hint="Multiply.",
                        function="mathy.square"),
            CheckResult("safe_div", "safe_div(a, b)", "not_run", 0, 2,
                        needs=["square(x) is x * x"]),
            CheckResult("hidden_one", "edge cases", "error", 0, 3, hidden=True,
                        message="the grader failed"),
        ])


def test_the_kernels_history_is_graded_by_a_grader_process_of_its_own(monkeypatch):
    fake = FakeGrader()
    monkeypatch.setattr(live_check.subprocess, "Popen", fake)
    namespace = kernel("import numpy as np", SOLUTION)
    result = live_check.check(str(DEMO), namespace=namespace, lang="en")
    (command,) = fake.commands
    assert command[:3] == [sys.executable, "-m", "grader.live_grader"]
    assert command[3:] == [str(DEMO), "kernel.ipynb", "result.json", "--lang", "en"]
    assert fake.sources == namespace["_ih"][1:]  # cell N is In [N]
    assert result.score == 2 and result.max_score == 10
    assert result.result.submission.path == \
        "the functions this notebook's kernel ran (cell N is In [N])"
    assert not fake.cwd.exists()  # the temporary folder is gone
    live_check.check(str(DEMO), namespace=namespace, lang="zh-TW", quick=True)
    assert fake.commands[1][-3:] == ["--lang", "zh-TW", "--quick"]


def test_a_grader_that_cannot_grade_or_dies_is_a_message(monkeypatch):
    namespace = kernel(SOLUTION)
    monkeypatch.setattr(live_check.subprocess, "Popen",
                        FakeGrader(returncode=3, stderr="the checks could not run\n"))
    result = live_check.check(str(DEMO), namespace=namespace, lang="en")
    assert result.error.startswith("hwgrade could not grade (a problem in the grader")
    assert result.error.endswith("the checks could not run")
    monkeypatch.setattr(live_check.subprocess, "Popen",
                        FakeGrader(returncode=-9, stderr="x" * 5000 + "Killed"))
    result = live_check.check(str(DEMO), namespace=namespace, lang="en")
    assert result.error.startswith("the grading process ended unexpectedly (exit code -9)")
    assert result.error.endswith("Killed") and len(result.error) < 3200


def test_an_interrupted_check_stops_its_grader_as_ctrl_c_would(monkeypatch):
    fake = FakeGrader(interrupt=True)
    monkeypatch.setattr(live_check.subprocess, "Popen", fake)
    with pytest.raises(KeyboardInterrupt):
        live_check.check(str(DEMO), namespace=kernel(SOLUTION), lang="en")
    assert fake.signals == [signal.SIGINT]


def test_the_grader_process_passes_quick_and_the_language_on(monkeypatch, tmp_path):
    calls = []

    def fake_grade_submission(assignment, path, **kwargs):
        calls.append(kwargs)
        return sample_result(kwargs["lang"])

    monkeypatch.setattr(live_grader, "grade_submission", fake_grade_submission)
    output = tmp_path / "result.json"
    assert live_grader.main([str(DEMO), "kernel.ipynb", str(output), "--lang", "zh-TW"]) == 0
    assert live_grader.main([str(DEMO), "kernel.ipynb", str(output), "--lang", "en",
                             "--quick"]) == 0
    assert calls == [{"lang": "zh-TW", "quick": False}, {"lang": "en", "quick": True}]
    assert GradeResult.from_dict(json.loads(output.read_text("utf-8"))).score == 2


# --- renderings ---------------------------------------------------------------------------


def test_text_is_the_terminal_report_and_html_a_table_with_every_text_escaped():
    result = live_check.LiveResult(sample_result())
    assert str(result) == repr(result) == terminal.render(result.result)
    html = result._repr_html_()
    assert html.startswith('<div class="hwgrade-report" lang="en">') and html.endswith("</div>")
    assert "<style" not in html and "<html" not in html  # inline styles only
    assert html.count("<tr>") == 1 + 4  # the header and a row per check
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "square does not change &lt;its&gt; input" in html
    for text in ("Score 2/10", "mathy.square: ", "expected: ", "<code>2.0</code>",
                 "Multiply.", "not run: needs square(x) is x * x", "(hidden)",
                 "a problem in the grader", "print(1)"):
        assert text in html, text


def test_html_is_in_the_results_language():
    html = live_check.LiveResult(sample_result("zh-TW"))._repr_html_()
    assert 'lang="zh-TW"' in html and "分數 2/10" in html and "未通過" in html
    assert "預期：" in html


# --- the hwgrade package --------------------------------------------------------------------


def test_import_hwgrade_loads_nothing_of_the_grader():
    code = "import sys, hwgrade; print(sorted(m for m in ('grader', 'numpy', 'nbformat') " \
           "if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert proc.stdout.strip() == "[]"


def test_hwgrade_check_is_live_checks(monkeypatch):
    seen = []
    monkeypatch.setattr(live_check, "check", lambda *args, **kwargs: seen.append((args, kwargs)))
    hwgrade.check("day65", quick=True)
    assert seen == [(("day65",), {"quick": True, "lang": None})]


def test_the_hwgrade_package_is_in_the_distribution():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "hwgrade" in setuptools.find_packages(str(ROOT), include=include)


# --- the same feedback as from a file (a real grading) ----------------------------------


@pytest.mark.slow
def test_a_missing_or_unfinished_function_gets_the_feedback_the_saved_notebook_gets(
        tmp_path, monkeypatch):
    unfinished = "import numpy as np\n\ndef square(x):\n    raise NotImplementedError"
    namespace = kernel(unfinished, "square(np.ones(2)) if False else None")  # no safe_div
    live = live_check.check(str(DEMO), namespace=namespace, lang="en")
    monkeypatch.chdir(tmp_path)
    nbformat.write(kernel_notebook(namespace["_ih"]), "kernel.ipynb")
    from_file = grade_submission(find_assignment(str(DEMO)), Path("kernel.ipynb"))
    assert live.error is None and live.score == from_file.score == 0
    assert [(c.name, c.status, c.message, c.function) for c in live.checks] == \
        [(c.name, c.status, c.message, c.function) for c in from_file.checks]
    messages = " ".join(c.message for c in live.checks)
    assert "NotImplementedError" in messages
    assert "The notebook defines no top-level function safe_div" in messages


@pytest.mark.slow
def test_interrupting_a_real_check_stops_its_grader_process(monkeypatch):
    """The kernel's interrupt button mid-grading: KeyboardInterrupt in the kernel, and the
    grader process ends by itself (SIGINT: it closes its workers), not by SIGKILL."""
    started = []
    real_popen = subprocess.Popen

    def recording(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(live_check.subprocess, "Popen", recording)
    solution = ROOT / "solutions" / "day65"
    cells = [(solution / f"{m}.py").read_text(encoding="utf-8")
             for m in ("activations", "regularization", "minibatch")]
    timer = threading.Timer(6.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            live_check.check("day65", namespace=kernel(*cells), lang="en")
    finally:
        timer.cancel()
    (process,) = started
    assert process.returncode is not None and process.returncode != -signal.SIGKILL
