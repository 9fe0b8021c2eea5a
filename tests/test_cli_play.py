"""`hwgrade play` end to end: CliRunner for options and errors, a real subprocess."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader import __version__
from grader.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--activation", "softmax"], ["tanh", "relu", "sigmoid", "linear"]),
        (["--activation", "tanh,"], ["empty item"]),
        (["--batch-size", "0"], ["--batch-size", "1<=x<=250"]),
        (["--batch-size", "ten"], ["--batch-size", "not a valid integer"]),
        (["--epochs", "-5"], ["--epochs", "0<=x"]),
        (["--learning-rate", "fast"], ["--learning-rate", "not a valid float"]),
        (["--learning-rate", "0"], ["--learning-rate", "x>0"]),
        (["--regularization-rate", "-1"], ["--regularization-rate"]),
        (["--regularization", "L3"], ["none", "L1", "L2"]),
        (["--hidden", "4,,2"], ["--hidden", "layer sizes"]),
        (["--hidden", "a"], ["--hidden", "layer sizes"]),
        (["--hidden", "-3"], ["--hidden", "layer sizes"]),
        (["--dataset", "moons"], ["circle", "xor", "gauss", "spiral"]),
        (["--features", "x3"], ["x1", "sin(x2)"]),
        (["--noise", "80"], ["--noise", "0<=x<=50"]),
        (["--exercise", "9"], ["--exercise 9", "5, 6, 7, 8"]),
        (["--seeds", "0"], ["--seeds"]),
        (["--seeds", "2", "--playground-seed", "0.1"], ["either --seeds or --playground-seed"]),
        (["--format", "xml"], ["table", "json"]),
        (["--bogus"], ["No such option"]),
    ],
)
def test_bad_values_are_usage_errors_naming_the_valid_values(args, names):
    result = CliRunner().invoke(main, ["play", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for name in names:
        assert name in result.output


def test_table_output_for_a_sweep():
    result = run("play", "--dataset", "spiral", "--features", "all", "--hidden", "8",
                 "--activation", "tanh,sigmoid", "--epochs", "5", "--seeds", "3")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "3 seed(s)" in lines[0] and "hidden layers 8" in lines[0]
    assert lines[1].split()[0] == "activation"
    assert lines[2].startswith("tanh") and lines[3].startswith("sigmoid")
    assert "0/3" in lines[2]


def test_the_table_in_chinese_keeps_its_columns_aligned():
    from grader.report.common import display_width

    result = run("play", "--exercise", "6", "--epochs", "4", "--seeds", "2", "--lang", "zh-TW")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "2 個 seed" in lines[0] and "批次大小 10" in lines[0]
    assert lines[1].startswith("學習速率") and "最終測試損失" in lines[1]
    assert lines[-1].startswith("損失：")
    # each column starts at the same terminal column on every row (CJK is 2 wide)
    starts = {tuple(display_width(line[:m.end()]) for m in re.finditer(r"\S\s{2,}", line))
              for line in lines[1:-1]}
    assert len(starts) == 1 and len(next(iter(starts))) == 4, lines


def test_play_errors_are_in_the_chosen_language(tmp_path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(main, ["play", "--epochs", "1", "--seeds", "1", "--lang",
                                       "zh-TW", "--use-submission", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1 and "無法載入你的作業" in result.output
    both = CliRunner().invoke(main, ["play", "--seeds", "2", "--playground-seed", "0.5",
                                     "--lang", "zh-TW"])
    assert both.exit_code == 2 and "只能擇一使用" in both.output


def test_json_output_has_one_entry_per_run_and_one_pair_per_epoch():
    result = run("play", "--learning-rate", "0.03,0.3", "--epochs", "4", "--seeds", "2",
                 "--format", "json")
    data = json.loads(result.output)
    assert len(data["runs"]) == 4
    run0 = data["runs"][0]
    assert run0["config"]["learning_rate"] == 0.03 and run0["config"]["dataset"] == "circle"
    assert run0["seed"] == 0 and run0["diverged_at"] is None
    assert len(run0["curve"]) == 4 and all(len(p) == 2 for p in run0["curve"])


def test_json_marks_divergence_with_nulls():
    result = run("play", "--learning-rate", "10", "--regularization", "L2",
                 "--regularization-rate", "3", "--epochs", "10", "--seeds", "1",
                 "--format", "json")
    (entry,) = json.loads(result.output)["runs"]
    assert entry["diverged_at"] is not None
    assert entry["curve"][-1] == [None, None]


def test_exercise_preset_and_override():
    result = run("play", "--exercise", "5", "--batch-size", "25,50", "--epochs", "2",
                 "--seeds", "1", "--format", "json")
    configs = [r["config"] for r in json.loads(result.output)["runs"]]
    assert [c["batch_size"] for c in configs] == [25, 50]
    assert all(c["dataset"] == "spiral" and c["hidden"] == [8] and len(c["features"]) == 7
               for c in configs)


def test_unregularized_sweep_does_not_repeat_runs_per_rate():
    result = run("play", "--exercise", "8", "--regularization", "none,L2", "--epochs", "1",
                 "--seeds", "1", "--format", "json")
    configs = [r["config"] for r in json.loads(result.output)["runs"]]
    assert sum(c["regularization"] is None for c in configs) == 1
    assert sum(c["regularization"] == "L2" for c in configs) == 4


def test_playground_seed_reproduces_the_browser_split(tmp_path):
    path = tmp_path / "curves.csv"
    result = run("play", "--dataset", "spiral", "--playground-seed", "0.12345,hwgrade",
                 "--epochs", "3", "--csv", str(path))
    assert result.exit_code == 0
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3
    assert {r["seed"] for r in rows} == {"0.12345", "hwgrade"}
    assert [r["epoch"] for r in rows[:3]] == ["1", "2", "3"]
    float(rows[0]["train_loss"])


def test_real_subprocess_python_m_grader():
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "play", "--exercise", "7", "--epochs", "3",
         "--seeds", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "sigmoid" in proc.stdout and "linear" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "grader", "play", "--batch-size", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_an_internal_error_is_reported_as_hwgrades_bug_without_traceback():
    code = ("import grader.cli as cli\n"
            "def boom():\n    raise KeyError('oops')\n"
            "cli.main = boom\ncli.run()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3
    assert "bug in hwgrade" in proc.stderr and "Traceback" not in proc.stderr


def test_use_submission_trains_with_the_students_functions_through_the_worker():
    solution = str(Path(__file__).parents[1] / "solutions" / "day65")
    args = ["play", "--exercise", "8", "--epochs", "3", "--seeds", "2", "--format", "json"]
    own = CliRunner().invoke(main, args)
    theirs = CliRunner().invoke(main, [*args, "--use-submission", solution])
    assert own.exit_code == theirs.exit_code == 0, theirs.output
    # (click < 8.2 mixes the stderr note into stdout; the JSON is the last line)
    a, b = (json.loads(r.stdout.strip().splitlines()[-1])["runs"] for r in (own, theirs))
    assert [r["config"] for r in a] == [r["config"] for r in b] and len(a) == 16
    # the solution rounds like the engine up to np.tanh against exp: the same losses
    np.testing.assert_allclose([r["curve"] for r in a], [r["curve"] for r in b],
                               rtol=0, atol=1e-9)


def test_use_submission_with_a_broken_submission_says_which_function():
    starter = str(Path(__file__).parents[1] / "assignments" / "day65" / "starter")
    result = CliRunner().invoke(main, ["play", "--exercise", "7", "--epochs", "1",
                                       "--seeds", "1", "--use-submission", starter])
    assert result.exit_code != 0 and "NotImplementedError" in result.output
    assert "Traceback" not in result.output


def test_the_exercises_come_from_the_assignments_manifest():
    """`--exercise N` is exercise N of the assignment's [experiments] grid: the handout's
    settings (Day 65: exercises 5-8), with no second copy of the grid in the grader."""
    from grader.assignment import find_assignment
    from grader.experiments.run import experiment_grid
    from grader.play import exercise_presets, expand_sweep

    settings = find_assignment("day65").settings["experiments"]
    presets = exercise_presets(settings)
    assert sorted(presets) == [5, 6, 7, 8]
    assert presets[6]["learning_rate"] == [0.03, 0.1, 0.3, 1, 3]
    assert presets[7]["activation"] == ["tanh", "relu", "sigmoid", "linear"]
    for experiment in experiment_grid(settings):  # the preset sweeps exactly the grid
        configs = expand_sweep({}, presets[experiment.exercise])
        assert dataclasses.replace(experiment.config, epochs=500) in configs
    assert {len(expand_sweep({}, presets[n])) for n in (5, 6, 7, 8)} == {4, 5, 8}


def test_an_exercise_the_assignment_lacks_is_a_usage_error_naming_its_exercises():
    result = CliRunner().invoke(main, ["play", "--exercise", "9", "--lang", "en"])
    assert result.exit_code == 2
    assert "--exercise 9: day65 has no exercise 9; its exercises: 5, 6, 7, 8" in result.output
    result = CliRunner().invoke(main, ["play", "--exercise", "7", "--assignment",
                                       "tests/demo_assignment", "--lang", "en"])
    assert result.exit_code == 2 and "its exercises: none" in result.output
