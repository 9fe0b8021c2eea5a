"""The result model: JSON round trip, the schema, deterministic output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from grader.results import SCHEMA_VERSION, CheckResult, GradeResult, SubmissionInfo

SCHEMA = json.loads((Path(__file__).parents[1] / "grader" / "schemas" /
                     "result.schema.json").read_text(encoding="utf-8"))


def sample() -> GradeResult:
    return GradeResult(
        assignment="demo", score=3, max_score=7,
        checks=[
            CheckResult("a", "A works", "passed", 3, 3, duration=0.25),
            CheckResult("b", "B works", "failed", 0, 2, message="wrong", expected="1",
                        actual="2", counterexample="x=0.0", hint="think", function="m.b"),
            CheckResult("c", "C works", "not_run", 0, 2, message="not run: needs B works",
                        needs=["b"], hidden=True),
        ],
        submission=SubmissionInfo(path="sub", kind="folder", sha256="ab" * 32),
        pending_points=3, timings={"total": 1.5},
        locations={"m.b": {"path": "sub/m.py", "cell": None, "line": 4},
                   "m.c": {"path": "sub/hw.ipynb", "cell": 3, "line": 2}})


def test_json_validates_against_the_schema_and_round_trips():
    data = json.loads(sample().to_json())
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == SCHEMA_VERSION
    assert GradeResult.from_dict(data) == sample()


def test_results_written_before_locations_existed_still_load():
    data = json.loads(sample().to_json())
    del data["locations"]
    jsonschema.validate(data, SCHEMA)
    assert GradeResult.from_dict(data).locations == {}


def test_a_location_needs_path_cell_and_line():
    data = json.loads(sample().to_json())
    del data["locations"]["m.b"]["line"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_without_timings_leaves_out_only_durations():
    data = sample().to_dict(timings=False)
    assert "timings" not in data and all("duration" not in c for c in data["checks"])
    assert data["checks"][1]["message"] == "wrong"


def test_counts_and_all_passed():
    result = sample()
    assert result.counts() == {"passed": 1, "failed": 1, "not_run": 1, "error": 0}
    assert not result.all_passed


def test_other_schema_versions_are_refused():
    data = sample().to_dict()
    data["schema_version"] = 99
    with pytest.raises(ValueError, match="schema version"):
        GradeResult.from_dict(data)


def test_nan_never_reaches_json():
    result = sample()
    result.score = float("nan")
    with pytest.raises(ValueError):
        result.to_json()
