"""`hwgrade calibrate`: deterministic, and the shipped reference data is its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignment import find_assignment
from grader.cli import main
from grader.experiments.calibrate import REFERENCE_FILE, calibrate

DAY65 = find_assignment(str(Path(__file__).parents[1] / "assignments" / "day65"))
SHIPPED = json.loads((DAY65.root / REFERENCE_FILE).read_text(encoding="utf-8"))


def test_calibration_is_deterministic_and_independent_of_jobs(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, jobs in zip(paths, ("1", "2"), strict=True):
        result = CliRunner().invoke(main, ["calibrate", str(DAY65.root), "--seeds", "2",
                                           "--epochs", "2", "--jobs", jobs, "-o", str(path)])
        assert result.exit_code == 0, result.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    data = json.loads(paths[0].read_text())
    assert len(data["experiments"]) == 21 and data["seeds"] == [0, 1]
    assert {e["exercise"] for e in data["experiments"]} == {5, 6, 7, 8}


def test_an_assignment_without_solutions_is_a_usage_error():
    demo = Path(__file__).parent / "demo_assignment"
    result = CliRunner().invoke(main, ["calibrate", str(demo)])
    assert result.exit_code == 2 and "experiments" in result.output


@pytest.mark.slow
def test_a_shipped_reference_entry_is_reproduced():
    position = 16  # L1 at 0.03: it converges, so its numbers do not depend on the CPU
    again = calibrate(DAY65, seeds=len(SHIPPED["seeds"]), epochs=SHIPPED["epochs"],
                      only=[position])
    assert again["experiments"][0] == SHIPPED["experiments"][position]


@pytest.mark.slow
def test_a_chaotic_reference_entry_is_reproduced_in_distribution():
    # tanh at learning rate 1 is chaotic: another CPU's rounding (the same NumPy on
    # another machine of the same kind) moves single runs, not the distribution.
    position = 7
    again = calibrate(DAY65, seeds=len(SHIPPED["seeds"]), epochs=SHIPPED["epochs"],
                      only=[position])["experiments"][0]
    shipped = SHIPPED["experiments"][position]
    assert again["config"] == shipped["config"]
    spread = shipped["final_test"]["p75"] - shipped["final_test"]["p25"]
    assert abs(again["final_test"]["median"] - shipped["final_test"]["median"]) < spread
    assert again["curve"]["median"][0] == pytest.approx(shipped["curve"]["median"][0],
                                                        abs=0.05)


def median(exercise: int, **config) -> float:
    (entry,) = [e for e in SHIPPED["experiments"] if e["exercise"] == exercise
                and all(e["config"][k] == v for k, v in config.items())]
    return entry["final_test"]["median"]


def test_shipped_reference_shows_the_handouts_observations():
    assert SHIPPED["epochs"] == 500 and len(SHIPPED["seeds"]) >= 16
    assert median(7, activation="sigmoid") < 0.15
    assert median(7, activation="tanh") > 0.3 and median(7, activation="relu") > 0.3
    assert median(6, learning_rate=3) > 0.4
    assert median(8, regularization="L1", regularization_rate=0.03) > 0.4
    assert median(8, regularization="L2", regularization_rate=0.003) < 0.1
