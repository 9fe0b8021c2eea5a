"""Messages a student acts on: warnings a call raised, a module that is not there while
grading, a dtype hint about the output, "did you mean", and one word for "function"."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import find_assignment
from grader.checks import CheckFailure, expect_array
from grader.grading import grade_submission
from grader.i18n import Translator
from grader.submission import Requirement, stage_submission
from grader.worker.client import Call, Worker
from grader.worker.errors import ImportFailed, ProtocolViolation
from grader.worker.outcomes import for_result

ROOT = Path(__file__).parents[1]

WARNS = """
import warnings
import numpy as np

def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))

def stable_sigmoid(z):
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def own_warning(z):
    warnings.warn("careful", UserWarning)
    return z

np.seterr(all="ignore")  # a global setting does not hide a function's overflow
"""


def write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def warns(tmp_path_factory):
    folder = write(tmp_path_factory.mktemp("warns") / "sub", "mod", WARNS)
    with Worker(folder, ["mod"]) as worker:
        yield worker


def test_a_call_reports_the_warnings_it_raised_under_numpys_default_settings(warns):
    z = np.array([-1000.0, 0.0, 1000.0])
    calls = [Call("mod", name, (z,), warnings=True)
             for name in ("naive_sigmoid", "stable_sigmoid", "own_warning")]
    naive, stable, own = warns.call_many(calls)
    np.testing.assert_array_equal(naive[0], [0.0, 0.5, 1.0])
    assert naive[1] == ["RuntimeWarning: overflow encountered in exp"]
    assert stable[1] == [] and own[1] == ["UserWarning: careful"]
    (plain,) = warns.call_many([Call("mod", "naive_sigmoid", (z,))])  # not asked: a value
    np.testing.assert_array_equal(plain, [0.0, 0.5, 1.0])


def test_a_malformed_warnings_result_is_a_protocol_violation_and_long_ones_are_cut():
    call = Call("mod", "f", (), warnings=True)
    assert isinstance(for_result({"ok": [1.0, [3]]}, call, None), ProtocolViolation)
    assert isinstance(for_result({"ok": 1.0}, call, None), ProtocolViolation)
    value, texts = for_result({"ok": [1.0, ["x" * 999] * 50]}, call, None)
    assert value == 1.0 and len(texts) == 10 and {len(t) for t in texts} == {300}
    with pytest.raises(ValueError):
        Call("mod", "f", (), return_args=True, warnings=True)


def test_importing_a_module_grading_does_not_have_says_what_is_available(tmp_path):
    folder = write(tmp_path / "sub", "mod", "import numpy as np\nimport matplotlib.pyplot\n\n"
                   "def f(x):\n    return x\n")
    with Worker(folder, ["mod"]) as worker:
        (error,) = worker.call_many([Call("mod", "f", (1.0,))])
    assert isinstance(error, ImportFailed)
    assert error.message == (
        "importing mod.py failed: it imports matplotlib (mod.py, line 2), which is not "
        "available while grading: only numpy and Python's standard library are. Import it "
        'in another file, or under if __name__ == "__main__":')
    chinese = Translator("zh-TW").text(error.message)
    assert "評分時沒有這個模組" in chinese and "matplotlib" in chinese


def test_a_boolean_result_gets_a_hint_about_the_output_not_the_input():
    with pytest.raises(CheckFailure) as failure:
        expect_array(np.array([True, False]), shape=(2,))
    assert "(z > 0).astype(np.float64)" in failure.value.hint
    with pytest.raises(CheckFailure) as failure:
        expect_array(np.zeros(2, dtype=np.float32), shape=(2,))
    assert "convert what you return" in failure.value.hint


def test_did_you_mean_never_offers_another_required_function(tmp_path):
    modules = {"mathy": ["square", "square_root", "cube"]}
    folder = write(tmp_path / "sub", "mathy", "def squre(x):\n    return x * x\n\n"
                   "def square_root(x):\n    return x ** 0.5\n\ndef cubes(x):\n"
                   "    return x ** 3\n")
    staged = stage_submission(folder, Requirement(modules), tmp_path / "staged")
    assert "Did you mean squre?" in staged.missing["mathy.square"]
    assert "square_root" not in staged.missing["mathy.square"]
    assert "Did you mean cubes?" in staged.missing["mathy.cube"]


def test_a_missing_module_leaves_the_others_graded(tmp_path):
    demo = find_assignment(str(ROOT / "tests" / "demo_assignment"))
    folder = write(tmp_path / "sub", "other", "X = 1\n")
    result = grade_submission(demo, folder)
    assert result.error and "Missing mathy.py in the folder" in result.error


def test_zh_tw_says_function_one_way_everywhere():
    """The course's word is 函數 (啟動函數, the handout's): never 函式 beside it."""
    texts = [p for p in (ROOT / "grader").rglob("*zh-TW*")] + [
        p for p in (ROOT / "assignments").rglob("*") if p.is_file() and p.suffix in (
            ".toml", ".md", ".py", ".ipynb")]
    offenders = [str(p.relative_to(ROOT)) for p in texts if "函式" in p.read_text("utf-8")]
    assert texts and offenders == []
    assert re.search("函數", (ROOT / "grader" / "locale" / "zh-TW.toml").read_text("utf-8"))
