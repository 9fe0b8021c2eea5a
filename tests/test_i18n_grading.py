"""Grading in a language: `--lang zh-TW|en` (default from the locale) on `hwgrade check`,
`grade` and `gradescope`; Chinese titles, messages and hints end to end; the same scores
in both languages; every rendering's labels in the result's language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader.assignment import find_assignment
from grader.cli import main
from grader.grading import grade_submission
from grader.report import render, summary_line
from grader.results import CheckResult, GradeResult, SubmissionInfo

HERE = Path(__file__).parent
ROOT = HERE.parent
DEMO = HERE / "demo_assignment"
SCHEMA = json.loads((ROOT / "grader" / "schemas" / "result.schema.json").read_text())
sys.path.insert(0, str(HERE / "day65_submissions"))

from mutants import build  # noqa: E402

NO_LOCALE = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


@pytest.fixture(scope="module")
def relu_mutant(tmp_path_factory) -> Path:
    """Day 65's reference solution with relu'(0) = 1."""
    return build("relu_derivative_one_at_zero", tmp_path_factory.mktemp("mutants"))


@pytest.fixture(scope="module")
def minibatch_mutant(tmp_path_factory) -> Path:
    """Day 65's reference solution that drops the last, smaller batch."""
    return build("minibatch_drop_remainder", tmp_path_factory.mktemp("mutants"))


RELU_CHECKS = ["relu_derivative_at_zero", "relu_values", "relu_derivative_slope"]


def check(*args: str, env: dict | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def only(names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--only", name)]


def test_check_in_chinese_shows_chinese_titles_messages_and_hints(relu_mutant):
    code, out = check("day65", str(relu_mutant), "--lang", "zh-TW", *only(RELU_CHECKS))
    assert code == 1, out
    assert "✘ 0/2  relu_derivative(0) 為 0，與 Playground 相同" in out
    assert "activations.relu_derivative: relu_derivative(0) 不是 0" in out
    assert "預期：z = 0 處為 0.0" in out
    assert "實際：z = 0 處為 1.0" in out
    assert "提示：relu'(0) 必須是 0（Playground 在 z <= 0 時用 0）" in out
    assert "relu(z) = max(0, z)，逐元素計算" in out
    assert "在 0 以外，relu_derivative 與 relu 的斜率相符（有限差分）（隱藏）" in out  # hidden
    assert "得分：2/4（共 3 項檢查：2 項通過、1 項未通過）" in out
    assert "(folder)" not in out and "（資料夾）" in out.splitlines()[0]
    for english in ("relu_derivative(0) is 0, as in Playground", "expected:", "hint:",
                    "Score:", "(hidden)"):
        assert english not in out


def test_check_in_english_is_unchanged(relu_mutant):
    code, out = check("day65", str(relu_mutant), "--lang", "en", *only(RELU_CHECKS))
    assert code == 1, out
    assert "✘ 0/2  relu_derivative(0) is 0, as in Playground" in out
    assert "activations.relu_derivative: relu_derivative(0) is not 0" in out
    assert "expected: 0.0 at z = 0\n" in out and "got:      1.0 at z = 0\n" in out
    assert ("hint:     relu'(0) must be 0 (Playground uses 0 for z <= 0): use z > 0, "
            "not z >= 0.") in out
    assert "Score: 2/4  (3 checks: 2 passed, 1 failed)" in out


def test_not_run_and_list_messages_are_translated_and_scores_do_not_depend_on_the_language(
        minibatch_mutant):
    assignment = find_assignment("day65")
    names = ["minibatches_in_order", "minibatches_with_rng", "minibatches_edge_sizes",
             "relu_values", "minibatches_rng_with_remainder", "minibatches_rng_mixes_batches"]
    results = {lang: grade_submission(assignment, minibatch_mutant, only=names, lang=lang)
               for lang in ("en", "zh-TW")}
    zh = {c.name: c for c in results["zh-TW"].checks}
    assert zh["minibatches_rng_mixes_batches"].status == "not_run"
    assert zh["minibatches_rng_mixes_batches"].message == (
        "未執行：需要先通過「有 rng（依位置傳入）時：有剩餘的一批、只有一批，以及沒有任何一批」")
    assert zh["minibatches_edge_sizes"].hint.startswith("batch_size > n_samples 時只有「一批」")
    assert zh["minibatches_edge_sizes"].expected == "大小 [5]"
    assert_same_grades(results["en"], results["zh-TW"])
    assert results["en"].lang == "en" and results["zh-TW"].lang == "zh-TW"


TEXTS = {"title", "message", "expected", "actual", "hint", "details", "duration"}


def assert_same_grades(en: GradeResult, zh: GradeResult) -> None:
    """Everything but the texts (and timings) is identical; the failures' texts differ."""
    a, b = en.to_dict(timings=False), zh.to_dict(timings=False)
    assert (a.pop("lang"), b.pop("lang")) == ("en", "zh-TW")
    checks_a, checks_b = a.pop("checks"), b.pop("checks")
    assert a == b
    assert [{k: v for k, v in c.items() if k not in TEXTS} for c in checks_a] == \
        [{k: v for k, v in c.items() if k not in TEXTS} for c in checks_b]
    assert all(x["title"] != y["title"] for x, y in zip(checks_a, checks_b, strict=True))
    assert all(x["message"] != y["message"]
               for x, y in zip(checks_a, checks_b, strict=True) if x["message"])


def test_the_demo_assignment_grades_the_same_in_both_languages(tmp_path):
    """An assignment without catalogs: its titles stay as written, the grader's own texts
    (a crash in the student's code, the report) are translated, the scores are equal."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mathy.py").write_text(
        "import numpy as np\n\ndef square(x):\n    raise ValueError('nope')\n\n"
        "def safe_div(a, b):\n    return np.asarray(a, dtype=np.float64) / b\n",
        encoding="utf-8")
    assignment = find_assignment(str(DEMO))
    en, zh = (grade_submission(assignment, folder, lang=lang) for lang in ("en", "zh-TW"))
    assert [c.title for c in en.checks] == [c.title for c in zh.checks]
    assert en.score == zh.score and [c.points for c in en.checks] == [c.points for c in zh.checks]
    square = {c.name: c for c in zh.checks}["square_values"]
    assert square.message.startswith("square 引發了 ValueError：nope"), square.message
    code, out = check(str(DEMO), str(folder), "--lang", "zh-TW")
    assert code == 1 and "得分：" in out and "引發了 ValueError" in out


def test_json_records_the_language_and_follows_the_schema(relu_mutant):
    code, out = check("day65", str(relu_mutant), "--lang", "zh-TW", "--format", "json",
                      "--only", "relu_derivative_at_zero")
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["lang"] == "zh-TW"
    assert data["checks"][0]["title"] == "relu_derivative(0) 為 0，與 Playground 相同"
    assert GradeResult.from_dict(data).lang == "zh-TW"
    del data["lang"]  # a result written before the field existed is English
    assert GradeResult.from_dict(data).lang == "en"


def test_a_submission_that_cannot_be_graded_is_explained_in_chinese(tmp_path):
    (tmp_path / "notes.txt").write_text("hi", encoding="utf-8")
    code, out = check("day65", str(tmp_path), "--lang", "zh-TW")
    assert code == 2
    assert "你的作業無法評分：在 " in out and "找不到 Python 檔（.py）或 notebook" in out


def test_the_default_language_comes_from_the_locale(relu_mutant):
    args = ["day65", str(relu_mutant), "--only", "relu_derivative_at_zero"]
    _, out = check(*args, env={**NO_LOCALE, "LANG": "zh_TW.UTF-8"})
    assert "relu_derivative(0) 為 0，與 Playground 相同" in out
    _, out = check(*args, env={**NO_LOCALE, "LANG": "C"})
    assert "relu_derivative(0) is 0, as in Playground" in out
    _, out = check(*args, env={**NO_LOCALE, "LANG": "zh_TW.UTF-8", "LC_ALL": "C"})
    assert "relu_derivative(0) is 0, as in Playground" in out
    _, out = check(*args, "--lang", "en", env={**NO_LOCALE, "LANG": "zh_TW.UTF-8"})
    assert "relu_derivative(0) is 0, as in Playground" in out  # --lang wins


def test_a_real_process_in_a_chinese_locale_reports_in_chinese(relu_mutant):
    env = {k: v for k, v in os.environ.items() if k not in NO_LOCALE}
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "check", "day65", str(relu_mutant),
         "--only", "relu_derivative_at_zero"],
        env={**env, "LANG": "zh_TW.UTF-8", "PYTHONIOENCODING": "utf-8"},
        capture_output=True, timeout=300)
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")[-2000:]
    assert "✘ 0/2  relu_derivative(0) 為 0，與 Playground 相同" in out
    assert "提示：relu'(0) 必須是 0" in out and "得分：0/2" in out


@pytest.mark.parametrize("command", [
    ["check", "day65", "."], ["grade", "day65", ".", "-o", "out"],
    ["gradescope", "day65", "-o", "a.zip"]])
def test_an_unknown_language_is_a_usage_error_naming_the_valid_ones(command, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*command, "--lang", "fr"])
    assert result.exit_code == 2
    assert "'fr' is not one of 'en', 'zh-TW'" in result.output


def test_help_documents_the_option():
    for command in ("check", "grade", "gradescope"):
        out = " ".join(CliRunner().invoke(main, [command, "--help"]).output.split())
        assert "--lang [en|zh-TW]" in out and "LC_ALL, LC_MESSAGES, LANG" in out


def test_the_gradescope_bundle_grades_in_the_language_it_was_built_with(tmp_path):
    for lang in ("zh-TW", "en"):
        dest = tmp_path / f"{lang}.zip"
        result = CliRunner().invoke(main, ["gradescope", str(DEMO), "-o", str(dest),
                                           "--lang", lang])
        assert result.exit_code == 0, result.output
        script = zipfile.ZipFile(dest).read("run_autograder").decode()
        assert f'--lang "${{HWGRADE_LANG:-{lang}}}"' in script


# --- renderings ------------------------------------------------------------------------

def _result(lang: str) -> GradeResult:
    checks = [
        CheckResult(name="a", title="標題甲", status="failed", points=0, max_points=2,
                    message="不對", expected="1.0", actual="2.0", hint="再試一次",
                    function="m.f"),
        CheckResult(name="b", title="標題乙", status="not_run", points=0, max_points=1,
                    message="未執行：需要先通過「標題甲」", needs=["a"], hidden=True),
        CheckResult(name="c", title="標題丙", status="error", points=0, max_points=1,
                    message="評分程式本身在這項檢查出錯了"),
    ]
    return GradeResult(assignment="demo", score=0, max_score=4, checks=checks,
                       submission=SubmissionInfo(path="sub", kind="notebook",
                                                 notes=["一個注意事項"]),
                       pending_points=3, lang=lang,
                       locations={"m.f": {"path": "hw.ipynb", "cell": 2, "line": 5}})


def test_every_rendering_labels_a_chinese_result_in_chinese():
    result = _result("zh-TW")
    text = render(result, "text")
    assert "hwgrade check demo：sub（notebook）" in text
    assert "  注意：一個注意事項" in text
    assert "預期：1.0\n" in text and "實際：2.0\n" in text and "提示：再試一次" in text
    assert "標題乙（隱藏）" in text
    assert "得分：0/4（共 3 項檢查：1 項未通過、1 項未執行、1 項出錯）" in text
    assert "老師評分時，另外 3 分會由隱藏檢查決定。" in text
    assert summary_line(result) == ("hwgrade check demo：0/4（共 3 項檢查：1 項未通過、"
                                    "1 項未執行、1 項出錯）；另有 3 分由隱藏檢查決定")
    junit = render(result, "junit")
    assert "預期：1.0" in junit and "提示：再試一次" in junit
    gradescope = json.loads(render(result, "gradescope"))
    assert gradescope["output"].startswith("hwgrade demo：2 項檢查中通過 0 項（隱藏檢查會在")
    assert "注意：一個注意事項" in gradescope["output"]
    assert "這是評分程式的問題" in gradescope["tests"][2]["output"]
    assert "這次評分沒有包含隱藏檢查的 3 分。" in gradescope["output"]
    github = render(result, "github")
    assert "第 2 個儲存格，第 5 行：不對" in github  # the annotation's prefix
    assert "正式成績以老師執行的評分為準" in github
    from grader.report.github import step_summary

    summary = step_summary(result)
    assert "| | 檢查 | 分數 | 哪裡不對 |" in summary and "**得分：0/4**" in summary


def test_a_result_without_a_language_renders_in_english():
    result = _result("en")
    del result.lang  # as if made by code that predates the field: the class default
    text = render(result, "text")
    assert "expected: 1.0" in text and "Score: 0/4  (3 checks" in text


@pytest.mark.slow
def test_batch_grading_writes_feedback_in_the_language_and_regrades_when_it_changes(tmp_path):
    from grader.batch.run import grade_batch

    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "mathy.py").write_text(
        "import numpy as np\n\ndef square(x):\n    return np.asarray(x, dtype=np.float64) * 2\n"
        "\ndef safe_div(a, b):\n    return np.asarray(a, dtype=np.float64) / b\n",
        encoding="utf-8")
    out = tmp_path / "out"
    assignment = find_assignment(str(DEMO))
    report = grade_batch(assignment, subs, out, jobs=1, lang="zh-TW")
    assert report.graded_now == 1
    feedback = (out / "feedback" / "alice.txt").read_text(encoding="utf-8")
    assert "得分：" in feedback and "提示：" in feedback
    row = json.loads((out / "results.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert row["result"]["lang"] == "zh-TW"
    assert grade_batch(assignment, subs, out, jobs=1, lang="zh-TW").graded_now == 0
    assert grade_batch(assignment, subs, out, jobs=1, lang="en").graded_now == 1
    assert "Score:" in (out / "feedback" / "alice.txt").read_text(encoding="utf-8")
