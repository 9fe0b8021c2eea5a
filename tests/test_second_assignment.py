"""The framework proven by a second assignment: tests/course/assignments/xorlab (its
own module names, functions, grid, dataset and epochs) is listed, checked, calibrated,
played, released and batch-graded by a grader/ that names none of it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignment import ENV_PATH, find_assignment
from grader.cli import main
from grader.experiments.calibrate import REFERENCE_FILE

ROOT = Path(__file__).parents[1]
COURSE = ROOT / "tests" / "course"
XORLAB = COURSE / "assignments" / "xorlab"
SOLUTION = COURSE / "solutions" / "xorlab"
STARTER = XORLAB / "starter"
SHIPPED = json.loads((XORLAB / REFERENCE_FILE).read_text(encoding="utf-8"))
EXPERIMENT_CHECKS = {"exercise1_first_epochs": 4, "exercise2_first_epochs": 4,
                     "exercise1_all_epochs": 3, "exercise2_all_epochs": 3}


@pytest.fixture(autouse=True)
def course(monkeypatch):
    monkeypatch.setenv(ENV_PATH, str(COURSE / "assignments"))


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check(submission: Path, *args: str) -> tuple[int, dict]:
    result = run("check", "xorlab", str(submission), "--format", "json", *args)
    return result.exit_code, json.loads(result.output)


def points(report: dict) -> dict[str, float]:
    return {c["name"]: c["points"] for c in report["checks"]}


def mutant(tmp_path: Path, module: str, old: str, new: str) -> Path:
    folder = tmp_path / "mutant"
    shutil.copytree(SOLUTION, folder)
    source = (folder / module).read_text(encoding="utf-8")
    assert old in source
    (folder / module).write_text(source.replace(old, new), encoding="utf-8")
    return folder


def test_grader_names_nothing_of_it():
    names = ("xorlab", "act_relu", "d_relu", "act_sigmoid", "d_sigmoid", "optim.step",
             "tests/course")
    found = [(path.relative_to(ROOT).as_posix(), name)
             for path in (ROOT / "grader").rglob("*") if path.is_file()
             and path.suffix in {".py", ".toml", ".md", ".txt", ".css", ".html", ".js"}
             for name in names if name in path.read_text(encoding="utf-8")]
    assert found == []


def test_it_is_listed_beside_the_bundled_one():
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "xorlab" in result.output and "day65" in result.output
    assert find_assignment("xorlab").root == XORLAB


def test_its_solution_gets_every_point_in_a_real_process():
    # A real `hwgrade` process, finding the assignment only through the environment.
    env = {**os.environ, ENV_PATH: str(COURSE / "assignments")}
    done = subprocess.run([sys.executable, "-m", "grader", "check", "xorlab", str(SOLUTION),
                           "--format", "json"], capture_output=True, text=True, env=env,
                          cwd=COURSE, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["score"], report["max_score"]) == (44, 44)
    assert report["assignment"] == "xorlab" and report["error"] is None
    assert {k: v for k, v in points(report).items() if k in EXPERIMENT_CHECKS} == \
        EXPERIMENT_CHECKS
    assert [c["hidden"] for c in report["checks"]].count(True) == 1
    for exercise in report["experiments"]:
        assert exercise["passed"] is True
        assert exercise["observation"]["reproduced"] is True
        assert {c["config"]["dataset"] for c in exercise["configs"]} == {"xor"}
        assert {c["config"]["epochs"] for c in exercise["configs"]} == {60}


def test_its_reports_name_its_exercises_and_epochs(tmp_path):
    result = run("check", "xorlab", str(SOLUTION), "--lang", "zh-TW")
    assert result.exit_code == 0, result.output
    assert "實驗（練習 1-2，60 個 epoch" in result.output and "XOR" in result.output
    assert "500 個 epoch" not in result.output
    page = tmp_path / "report.html"
    result = run("check", "xorlab", str(SOLUTION), "--format", "html", "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.count("60-epoch comparison with the reference") == 2
    assert "500-epoch" not in html


def test_quick_leaves_out_its_long_trainings():
    code, report = check(SOLUTION, "--quick")
    assert code == 0
    assert report["score"] == 44 - 6
    assert sorted(c["name"] for c in report["left_out"]) == ["exercise1_all_epochs",
                                                             "exercise2_all_epochs"]


def test_its_starter_gets_nothing_and_says_what_to_write():
    code, report = check(STARTER)
    assert code == 1 and report["score"] == 0
    messages = " ".join(c["message"] for c in report["checks"])
    assert "act_relu raised NotImplementedError" in messages


def test_a_wrong_derivative_loses_its_checks_and_the_experiments_blame_it(tmp_path):
    wrong = mutant(tmp_path, "layers.py",
                   "return (np.asarray(z, dtype=np.float64) > 0).astype(np.float64)",
                   "return act_relu(z)")
    code, report = check(wrong)
    got = points(report)
    assert code == 1 and report["score"] == 44 - 5 - 4 - 4 - 3 - 3
    assert got["d_relu_values"] == 0 and got["exercise1_first_epochs"] == 0
    (second,) = [c for c in report["checks"] if c["name"] == "exercise2_first_epochs"]
    # exercise 2 needs only the update's check; its ReLU training names the derivative
    assert second["status"] == "failed" and second["function"] == "layers.d_relu"
    assert "layers.d_relu" in second["hint"]


def test_an_update_without_the_learning_rate_fails_its_check(tmp_path):
    wrong = mutant(tmp_path, "optim.py", "return stepped - learning_rate * rate * weights",
                   "return stepped - rate * weights")
    code, report = check(wrong)
    got = points(report)
    assert code == 1 and report["score"] == 44 - 4 - 4 - 3
    assert got["step_l2"] == 0 and got["exercise1_all_epochs"] == 3


def test_calibrate_reproduces_its_shipped_reference(tmp_path):
    out = tmp_path / REFERENCE_FILE
    result = run("calibrate", "xorlab", "--seeds", str(len(SHIPPED["seeds"])), "--jobs", "1",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "60-epoch check: 8 runs per configuration" in result.output
    again = json.loads(out.read_text(encoding="utf-8"))
    assert [e["config"] for e in again["experiments"]] == \
        [e["config"] for e in SHIPPED["experiments"]]
    for mine, shipped in zip(again["experiments"], SHIPPED["experiments"], strict=True):
        # XOR at learning rate 0.1 converges: no CPU's rounding moves it this far
        assert mine["final_test_runs"] == pytest.approx(shipped["final_test_runs"], abs=1e-4)


def test_play_takes_its_exercises_and_trains_with_a_submission():
    result = run("play", "--assignment", "xorlab", "--exercise", "1", "--seeds", "8",
                 "--use-submission", str(SOLUTION), "--format", "json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]  # the progress lines go to stderr
    (relu,) = [e for e in SHIPPED["experiments"] if e["config"]["activation"] == "relu"
               and e["config"]["regularization"] is None]
    finals = [r["curve"][-1][1] for r in runs if r["config"]["activation"] == "relu"]
    assert [r["seed"] for r in runs if r["config"]["activation"] == "relu"] == list(range(8))
    assert finals == pytest.approx(relu["final_test_runs"][:8], abs=1e-4)


def test_play_names_its_exercises_when_given_another():
    result = CliRunner().invoke(main, ["play", "--assignment", "xorlab", "--exercise", "5"])
    assert result.exit_code == 2
    assert "xorlab has no exercise 5; its exercises: 1, 2" in result.output


def test_release_writes_its_starter_and_nothing_private(tmp_path):
    dest = tmp_path / "xorlab-student"
    result = run("release", "xorlab", str(dest))
    assert result.exit_code == 0, result.output
    files = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert files == {"layers.py", "optim.py", "README.md", ".gitignore",
                     ".github/workflows/hwgrade.yml"}
    for module in ("layers.py", "optim.py"):
        assert (dest / module).read_bytes() == (STARTER / module).read_bytes()
    readme = (dest / "README.md").read_text(encoding="utf-8")
    assert "hwgrade check xorlab" in readme and "weight decay" in readme


def test_grade_writes_its_gradebook(tmp_path):
    submissions = tmp_path / "submissions"
    shutil.copytree(SOLUTION, submissions / "alice")
    shutil.copytree(STARTER, submissions / "bob")
    out = tmp_path / "out"
    result = run("grade", "xorlab", str(submissions), "-o", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as f:  # Excel's BOM
        rows = {row["id"]: row for row in csv.DictReader(f)}
    assert float(rows["alice"]["total"]) == 44 and float(rows["bob"]["total"]) == 0
    assert rows["bob"]["act_relu_values reason"] == \
        "act_relu raised NotImplementedError (layers.py, line 14)"
