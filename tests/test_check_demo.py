"""`hwgrade check` end to end on the demo assignment (tests/demo_assignment)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner

from grader.assignment import find_assignment
from grader.cli import main
from grader.grading import grade_submission

HERE = Path(__file__).parent
DEMO = HERE / "demo_assignment"
SOLUTION = HERE / "demo_solution"
SCHEMA = json.loads((HERE.parent / "grader" / "schemas" / "result.schema.json").read_text())

CORRECT = (SOLUTION / "mathy.py").read_text()


def submission(tmp_path: Path, source: str, name: str = "mathy.py") -> Path:
    folder = tmp_path / "sub"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    return folder


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(DEMO), *args], catch_exceptions=False)
    return result.exit_code, result.output


def by_name(result) -> dict:
    return {c.name: c for c in result.checks}


def test_correct_solution_scores_full_marks_with_hidden_checks():
    code, out = check(str(SOLUTION))
    assert code == 0, out
    assert "Score: 10/10" in out
    assert "(hidden)" in out


def test_json_report_follows_the_schema_and_is_deterministic():
    outputs = [json.loads(check(str(SOLUTION), "--format", "json")[1]) for _ in range(2)]
    for data in outputs:
        jsonschema.validate(data, SCHEMA)
        data.pop("timings")
        for c in data["checks"]:
            c.pop("duration")
    assert outputs[0] == outputs[1]
    data = outputs[0]
    assert (data["assignment"], data["score"], data["max_score"]) == ("demo", 10, 10)
    assert {c["status"] for c in data["checks"]} == {"passed"}
    assert data["protections"] and data["versions"]["hwgrade"]


def test_without_hidden_checks_the_pending_points_are_announced():
    code, out = check(str(SOLUTION), "--no-hidden")
    assert code == 0 and "Score: 7/7" in out
    assert "3 more points will be decided by hidden checks" in out


def test_only_runs_a_subset_and_unknown_names_are_usage_errors():
    code, out = check(str(SOLUTION), "--only", "square_values")
    assert code == 0 and "Score: 3/3" in out
    code, out = check(str(SOLUTION), "--only", "safe_div")  # the function: hidden check too
    assert code == 0 and "Score: 5/5" in out
    code, out = check(str(SOLUTION), "--only", "nope")
    assert code == 2 and "mathy" in out


def test_a_wrong_function_fails_with_counterexample_and_blocks_dependents(tmp_path):
    wrong = CORRECT.replace("return x * x", "return x + x")
    result = grade_submission(find_assignment(str(DEMO)), submission(tmp_path, wrong))
    checks = by_name(result)
    values = checks["square_values"]
    assert values.status == "failed" and values.function == "mathy.square"
    assert values.counterexample and values.expected and values.actual
    assert values.counterexample.startswith("x=") and "submission" not in values.counterexample
    assert "x * x" in values.hint
    assert checks["square_leaves_input_alone"].status == "not_run"
    assert checks["square_leaves_input_alone"].needs == ["square_values"]
    assert checks["safe_div"].status == "passed"
    assert result.score == 2 + 3


def test_in_place_modification_is_seen_through_the_worker(tmp_path):
    sneaky = CORRECT.replace("    x = np.asarray(x, dtype=np.float64)\n    return x * x",
                             "    x *= x\n    return x.copy()")
    result = grade_submission(find_assignment(str(DEMO)), submission(tmp_path, sneaky))
    checks = by_name(result)
    assert checks["square_values"].status == "passed"
    assert checks["square_leaves_input_alone"].status == "failed"
    assert "changed its input" in checks["square_leaves_input_alone"].message


def test_missing_function_fails_only_its_checks(tmp_path):
    only_square = CORRECT.split("def safe_div")[0]
    result = grade_submission(find_assignment(str(DEMO)), submission(tmp_path, only_square))
    checks = by_name(result)
    assert checks["safe_div"].status == "failed" and "safe_div" in checks["safe_div"].message
    assert checks["safe_div_empty_and_0d"].status == "not_run"
    assert result.score == 5


def test_syntax_error_is_a_submission_error_with_file_and_line(tmp_path):
    folder = submission(tmp_path, "def square(x):\n    return x *\n")
    code, out = check(str(folder))
    assert code == 2
    assert "mathy.py" in out and "line 2" in out and "Traceback" not in out


def test_notebook_submission_with_exploration_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 作業"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell(CORRECT),
        nbformat.v4.new_code_cell("print(square(np.arange(3.0)))\nwhile True: pass"),
    ]
    path = tmp_path / "hw.ipynb"
    nbformat.write(nb, path)
    code, out = check(str(path))
    assert code == 0, out
    assert "were not run" in out
    # the saved file is what is graded: the student is told so (stderr, before the report)
    assert out.startswith("Grading hw.ipynb as last saved: save the notebook first")
    assert 'hwgrade.check("demo")' in out.splitlines()[0]
    result = CliRunner().invoke(main, ["check", str(DEMO), str(path), "--format", "json"])
    assert "last saved" not in result.output  # a machine-read format stays clean


def test_unknown_assignment_and_missing_path_are_usage_errors(tmp_path):
    result = CliRunner().invoke(main, ["check", "nosuch", str(SOLUTION)])
    assert result.exit_code == 2 and "no assignment" in result.output
    result = CliRunner().invoke(main, ["check", str(DEMO), str(tmp_path / "absent")])
    assert result.exit_code == 2


def test_a_students_usage_errors_are_in_their_language(tmp_path):
    cases = [
        (["check", "nosuch", str(SOLUTION)], "沒有名為 'nosuch' 的作業", "no assignment 'nosuch'"),
        (["check", str(DEMO), str(SOLUTION), "--only", "nosuch"], "沒有這個名稱的檢查、函數或模組",
         "no check, function or module of this assignment has that name"),
        (["check", str(DEMO), str(SOLUTION), "-o", str(tmp_path / "absent" / "r.json")],
         "所在的資料夾不存在", "its folder does not exist"),
    ]
    for args, chinese, english in cases:
        result = CliRunner().invoke(main, [*args, "--lang", "zh-TW"])
        assert result.exit_code == 2 and chinese in result.output, (args, result.output)
        result = CliRunner().invoke(main, [*args, "--lang", "en"])
        assert result.exit_code == 2 and english in result.output, (args, result.output)


def test_the_grading_run_raises_no_pytest_warning(monkeypatch):
    """pytest 9 warns that session fixtures defined as methods of a plugin object are
    deprecated (pytest 10 refuses them): the grader's fixtures must not be."""
    from grader import grading

    outputs = []

    def run_checks(*args, **kwargs):
        code, output = real(*args, **kwargs)
        outputs.append(output)
        return code, output

    real = grading.run_checks
    monkeypatch.setattr(grading, "run_checks", run_checks)
    result = grade_submission(find_assignment(str(DEMO)), SOLUTION)
    assert result.score == 10 and len(outputs) == 1
    assert "warnings summary" not in outputs[0] and "Warning" not in outputs[0], outputs[0]


def test_real_subprocess_from_the_submission_folder(tmp_path):
    folder = tmp_path / "student"
    shutil.copytree(SOLUTION, folder)
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(DEMO)], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Score: 10/10" in proc.stdout


@pytest.mark.parametrize("status", ["failed"])
def test_exit_code_one_when_a_check_fails(tmp_path, status):
    folder = submission(tmp_path, CORRECT.replace("0.0, a / safe", "1.0, a / safe"))
    code, out = check(str(folder))
    assert code == 1 and "✘" in out


def test_a_check_in_an_earlier_file_waits_for_what_it_depends_on(tmp_path):
    """Checks run after the checks they depend on, wherever those are: otherwise a
    dependency in a later file has not run yet and its failure blocks nothing."""
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    source = (demo / "checks" / "test_mathy.py").read_text()
    start = source.index("@pytest.mark.points(2)\n@pytest.mark.function(\"mathy.square\")")
    end = source.index("@pytest.mark.points(2)\n@pytest.mark.function(\"mathy.safe_div\")")
    head = source[:source.index("@pytest.mark.points(3)")]
    (demo / "checks" / "test_a_mathy_early.py").write_text(head + source[start:end])
    (demo / "checks" / "test_mathy.py").write_text(source[:start] + source[end:])
    wrong = CORRECT.replace("return x * x", "return x + x")
    result = grade_submission(find_assignment(str(demo)), submission(tmp_path, wrong))
    checks = by_name(result)
    assert checks["square_values"].status == "failed"
    assert checks["square_leaves_input_alone"].status == "not_run"
    assert checks["square_leaves_input_alone"].needs == ["square_values"]
    assert result.score == 2 + 3


def test_a_check_module_may_start_work_before_the_first_check(tmp_path):
    """start_early(submission, assignment, checks) runs once, before the checks, with
    the names of the module's checks that will run; what it returns runs at the end."""
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    log = tmp_path / "log.txt"
    checks = demo / "checks" / "test_mathy.py"
    checks.write_text(checks.read_text() + textwrap.dedent(f"""

        def _note(text):
            with open({str(log)!r}, "a") as out:
                out.write(text + "\\n")


        def start_early(submission, assignment, checks):
            _note("start " + " ".join(checks))
            return lambda: _note("end")
        """))
    assignment = find_assignment(str(demo))
    grade_submission(assignment, SOLUTION)
    grade_submission(assignment, SOLUTION, only=["safe_div"])
    lines = log.read_text().splitlines()
    assert lines[0].startswith("start square_values ")
    assert lines[1:] == ["end", "start safe_div", "end"]
