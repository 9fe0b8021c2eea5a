"""The Day 65 grader graded: the reference solution, alternative correct
solutions (one as a notebook with exploration cells and magics) and plausible
student bugs (mutants), each through the real `hwgrade check` command."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from grader.assignment import MANIFEST, find_assignment

sys.path.insert(0, str(Path(__file__).parent / "day65_submissions"))
import mutants  # noqa: E402  (tests/day65_submissions/mutants.py)

sys.path.pop(0)

ROOT = Path(__file__).parents[1]
DAY65 = ROOT / "assignments" / "day65"
SUBMISSIONS = Path(__file__).parent / "day65_submissions"
MUTANTS = mutants.MUTANTS
ALTERNATIVES = sorted(p.name for p in (SUBMISSIONS / "alternatives").iterdir() if p.is_dir())


def grade(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(DAY65), str(path),
                           "--format", "json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def mutant_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mutants")
    for name in MUTANTS:
        mutants.build(name, folder)
    return folder


@pytest.fixture(scope="module")
def graded(mutant_dir) -> dict[str, dict]:
    """Every submission graded once, two at a time (one worker each)."""
    paths = {"solution": ROOT / "solutions" / "day65",
             "starter": DAY65 / "starter",
             **{f"alternative/{n}": SUBMISSIONS / "alternatives" / n for n in ALTERNATIVES},
             **{f"mutant/{n}": mutant_dir / n for n in MUTANTS}}
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(paths, pool.map(grade, paths.values()), strict=True))


def statuses(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["checks"]}


@pytest.mark.slow
def test_reference_solution_scores_full_marks(graded):
    result = graded["solution"]
    assert result["score"] == result["max_score"] == find_assignment(str(DAY65)).total_points
    assert result["pending_points"] == 0 and result["error"] is None


@pytest.mark.slow
@pytest.mark.parametrize("name", ALTERNATIVES)
def test_alternative_correct_solutions_score_full_marks(graded, name):
    result = graded[f"alternative/{name}"]
    failed = [(c["name"], c["message"]) for c in result["checks"] if c["status"] != "passed"]
    assert not failed
    assert result["score"] == result["max_score"] == 100


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_on_checks_naming_its_function(graded, name):
    expected = MUTANTS[name]
    result = graded[f"mutant/{name}"]
    checks = statuses(result)
    assert result["score"] < result["max_score"]
    for check in expected["checks"]:
        assert checks[check]["status"] in ("failed", "not_run"), (check, checks[check])
    blamed = [c for c in expected["checks"] if checks[c]["status"] == "failed"]
    assert blamed, "at least one listed check fails outright (not only 'not run')"
    for check in blamed:
        assert checks[check]["function"] == expected["function"], checks[check]
        assert checks[check]["hint"] or checks[check]["expected"], checks[check]
    assert not [c for c in result["checks"] if c["status"] == "error"]


@pytest.mark.slow
def test_starter_gets_zero_with_a_reason_per_check(graded):
    result = graded["starter"]
    assert result["score"] == 0
    assert {c["status"] for c in result["checks"]} <= {"failed", "not_run"}
    assert any("NotImplementedError" in c["message"] for c in result["checks"])


@pytest.mark.slow
def test_grading_twice_gives_identical_results(graded, mutant_dir):
    again = grade(mutant_dir / "update_derivative_after_step")
    first = graded["mutant/update_derivative_after_step"]
    for result in (first, again):
        result.pop("timings")
        for c in result["checks"]:
            c.pop("duration")
    assert first == again


def test_every_mutant_applies_to_the_current_solution(tmp_path):
    for name in MUTANTS:
        folder = mutants.build(name, tmp_path)
        changed = [f.name for f in folder.glob("*.py")
                   if f.read_text() != (mutants.SOLUTION / f.name).read_text()]
        assert changed == [MUTANTS[name]["file"]], name


def test_manifest_is_the_assignments():
    assert (DAY65 / MANIFEST).is_file()
    assert find_assignment("day65").root.resolve() == DAY65.resolve()


def test_alternative_notebook_is_what_its_script_builds():
    sys.path.insert(0, str(SUBMISSIONS))
    try:
        import make_alt_notebook
    finally:
        sys.path.remove(str(SUBMISSIONS))
    committed = nbformat.read(SUBMISSIONS / "alternatives" / "notebook" / "day65.ipynb",
                              as_version=4)
    assert nbformat.writes(make_alt_notebook.build_notebook()) == nbformat.writes(committed)
