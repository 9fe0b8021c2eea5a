"""Which checks a run grades: --only by name, function, module or pattern; --quick."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from grader.assignment import find_assignment
from grader.checks.selection import CheckKeys, selected, suggestions
from grader.cli import main
from grader.grading import UnknownCheck, grade_submission
from grader.i18n import Translator

HERE = Path(__file__).parent
ROOT = HERE.parent
DEMO = HERE / "demo_assignment"
SOLUTION = HERE / "demo_solution"
DAY65_SOLUTION = ROOT / "solutions" / "day65"
SCHEMA = json.loads((ROOT / "grader" / "schemas" / "result.schema.json").read_text())

CHECKS = [
    CheckKeys("relu_values", "relu_values", "activations.relu"),
    CheckKeys("relu_derivative_values", "relu_derivative_values",
              "activations.relu_derivative"),
    CheckKeys("sigmoid_values", "sigmoid_values", "activations.sigmoid"),
    CheckKeys("regularized_update_l1[L1]", "regularized_update_l1",
              "regularization.regularized_update"),
    CheckKeys("exercise7_activation_500_epochs", "exercise7_activation_500_epochs", None),
]


def names(only):
    keep, unknown = selected(CHECKS, only)
    return [c.name for c, k in zip(CHECKS, keep, strict=True) if k], unknown


@pytest.mark.parametrize(("only", "expected"), [
    (["relu_values"], ["relu_values"]),  # a check's name
    (["relu_derivative"], ["relu_derivative_values"]),  # a function's name
    (["activations.relu"], ["relu_values"]),  # module.function: that function only
    (["activations"], ["relu_values", "relu_derivative_values", "sigmoid_values"]),
    (["relu*"], ["relu_values", "relu_derivative_values"]),  # a pattern
    (["regularized_update_l1"], ["regularized_update_l1[L1]"]),  # without parameters
    (["exercise7_*", "sigmoid"], ["sigmoid_values", "exercise7_activation_500_epochs"]),
    ([], [c.name for c in CHECKS]),
])
def test_an_entry_selects_the_checks_it_names_in_any_way(only, expected):
    assert names(only) == (expected, [])


def test_an_entry_that_selects_nothing_is_reported_and_close_names_suggested():
    assert names(["relu", "relu_derivativ", "Relu*"]) == (
        ["relu_values"], ["relu_derivativ", "Relu*"])  # patterns are case-sensitive
    assert suggestions("relu_derivativ", CHECKS)[0] == "relu_derivative"
    assert "activations" in suggestions("activation", CHECKS)
    assert suggestions("zzz", CHECKS) == []


@given(st.lists(st.sampled_from(CHECKS), min_size=1, max_size=3))
def test_selecting_by_exact_names_keeps_those_checks_and_refuses_none(chosen):
    kept, unknown = names([c.name for c in chosen])
    assert unknown == [] and set(kept) == {c.name for c in chosen}


def test_only_a_module_grades_its_checks_on_the_demo():
    result = grade_submission(find_assignment(str(DEMO)), SOLUTION, only=["mathy"])
    assert {c.function for c in result.checks} == {"mathy.square", "mathy.safe_div"}
    assert result.score == result.max_score == 10
    result = grade_submission(find_assignment(str(DEMO)), SOLUTION, only=["square*"])
    assert [c.name for c in result.checks] == ["square_values", "square_leaves_input_alone"]


def test_an_unknown_entry_is_a_usage_error_that_suggests_and_speaks_the_language():
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(DEMO), str(SOLUTION), "--only", "squares",
                                  "--lang", "en"])
    assert result.exit_code == 2
    assert "--only squares" in result.output and "Did you mean square" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["check", str(DEMO), str(SOLUTION), "--only", "zzz",
                                  "--lang", "zh-TW"])
    assert result.exit_code == 2 and "模組有：mathy" in result.output
    with pytest.raises(UnknownCheck) as error:
        grade_submission(find_assignment(str(DEMO)), SOLUTION, only=["zzz"])
    assert "mathy" in Translator("en").text(error.value.args[0])


@pytest.mark.slow
def test_quick_leaves_out_the_500_epoch_checks_and_says_how_many_points():
    runner = CliRunner()
    result = runner.invoke(main, ["check", "day65", str(DAY65_SOLUTION), "--quick",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    jsonschema.validate(data, SCHEMA)
    left_out = {c["name"]: c["max_points"] for c in data["left_out"]}
    assert left_out == {f"exercise{n}_{what}_500_epochs": points for n, what, points in [
        (5, "batch_size", 4), (6, "learning_rate", 4), (7, "activation", 4),
        (8, "regularization", 3)]}
    assert {c["reason"] for c in data["left_out"]} == {"quick"}
    names = {c["name"] for c in data["checks"]}
    assert not names & set(left_out) and "exercise7_activation_first_epochs" in names
    assert data["score"] == data["max_score"] == 85 and data["experiments"] == []
    text = runner.invoke(main, ["check", "day65", str(DAY65_SOLUTION), "--quick",
                                "--only", "exercise5*", "--lang", "en"]).output
    assert "Score: 5/5" in text and "1 long check(s) worth 4 points were left out" in text
    assert "Exercise 5 (batch size): after 500 epochs" in text and "Exercise 6" not in text


@pytest.mark.slow
def test_only_a_function_grades_the_checks_about_it_on_day65():
    result = grade_submission(find_assignment("day65"), DAY65_SOLUTION,
                              only=["relu_derivative"])
    assert result.checks and {c.function for c in result.checks} == {
        "activations.relu_derivative"}
    assert result.score == result.max_score and not result.left_out


def test_quick_with_only_long_checks_selected_is_a_usage_error_not_a_grader_one():
    result = CliRunner().invoke(main, ["check", "day65", str(DAY65_SOLUTION), "--quick",
                                       "--only", "exercise5*500*", "--lang", "en"])
    assert result.exit_code == 2, result.output
    assert ("nothing to grade: --quick leaves out every check --only selects "
            "(exercise5_batch_size_500_epochs, long checks)") in result.output
    assert "could not grade" not in result.output
