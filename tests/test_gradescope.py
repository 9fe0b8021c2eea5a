"""`hwgrade gradescope ASSIGNMENT -o autograder.zip`: the bundle, and its run_autograder
run on a tree shaped like Gradescope's /autograder (source, submission, results)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from gradescope_spec import GRADESCOPE_SCHEMA

from grader import gradescope_bundle, release
from grader.assignment import find_assignment
from grader.cli import main

HERE = Path(__file__).parent
ROOT = HERE.parent
DEMO = HERE / "demo_assignment"
DEMO_SOLUTION = HERE / "demo_solution"
DAY65 = ROOT / "assignments" / "day65"
DAY65_SOLUTION = ROOT / "solutions" / "day65"
BASH = shutil.which("bash")


def build(tmp_path: Path, assignment: Path = DEMO) -> Path:
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", str(assignment), "-o", str(bundle)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return bundle


def test_bundle_holds_setup_run_autograder_and_the_assignment_with_hidden_checks(tmp_path):
    bundle = build(tmp_path)
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        packed = {n: archive.read(n) for n in infos if n.startswith("assignment/")}
    assert set(infos) == {"setup.sh", "run_autograder", "assignment/assignment.toml",
                          "assignment/checks/test_mathy.py",
                          "assignment/hidden/test_mathy_hidden.py"}
    for name in ("setup.sh", "run_autograder"):  # at the root, executable
        mode = infos[name].external_attr >> 16
        assert stat.S_ISREG(mode) and mode & 0o111
    assert (infos["assignment/assignment.toml"].external_attr >> 16) & 0o777 == 0o644
    assert "python -m pip install --quiet hwgrade\n" in setup
    for name, data in packed.items():
        assert data == (DEMO / name.removeprefix("assignment/")).read_bytes()


def test_bundle_is_reproducible_and_leaves_caches_out(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy)
    (copy / "checks" / "__pycache__").mkdir(exist_ok=True)
    (copy / "checks" / "__pycache__" / "test_mathy.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = build(tmp_path / "a", copy), build(tmp_path / "b", copy)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert not [n for n in archive.namelist() if "__pycache__" in n]


def test_setup_installs_the_courses_install_spec(monkeypatch):
    spec = "hwgrade @ git+https://example.org/course/hwgrade@v1"
    monkeypatch.setattr(release, "INSTALL_SPEC", spec)
    assert f"pip install --quiet '{spec}'\n" in gradescope_bundle.setup_script()


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_the_scripts_are_valid_bash(tmp_path):
    for name, text in (("setup.sh", gradescope_bundle.setup_script()),
                       ("run_autograder", gradescope_bundle.RUN)):
        assert text.startswith("#!/usr/bin/env bash\n")
        proc = subprocess.run([BASH, "-n"], input=text, capture_output=True, text=True)
        assert proc.returncode == 0, (name, proc.stderr)


def test_an_assignment_copy_without_its_hidden_checks_is_refused(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("hidden"))
    result = CliRunner().invoke(main, ["gradescope", str(copy), "-o", str(tmp_path / "a.zip")])
    assert result.exit_code == 2 and "no hidden checks" in result.output
    assert not (tmp_path / "a.zip").exists()


def test_the_bundle_is_not_written_into_the_assignment(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy)
    result = CliRunner().invoke(main, ["gradescope", str(copy), "-o", str(copy / "a.zip")])
    assert result.exit_code == 2 and "inside the assignment" in result.output


# --- run_autograder on a tree shaped like Gradescope's -------------------------------------

def gradescope_tree(tmp_path: Path, bundle: Path) -> Path:
    """/autograder as Gradescope builds it: the bundle unpacked into source/, an empty
    results/, the student's files in submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path) -> tuple[subprocess.CompletedProcess, dict | None]:
    env = {**os.environ, "HWGRADE_AUTOGRADER": str(root),
           # the hwgrade under test, not an installed one (setup.sh is not run here)
           "HWGRADE_CMD": f"{sys.executable} -m grader"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    proc = subprocess.run([BASH, str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    results = root / "results" / "results.json"
    data = json.loads(results.read_text(encoding="utf-8")) if results.exists() else None
    if data is not None:
        jsonschema.validate(data, GRADESCOPE_SCHEMA)
    return proc, data


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("bundle"))


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_run_autograder_grades_the_submission_with_hidden_checks(tmp_path, demo_bundle):
    root = gradescope_tree(tmp_path, demo_bundle)
    wrong = (DEMO_SOLUTION / "mathy.py").read_text().replace("0.0, a / safe", "1.0, a / safe")
    (root / "submission" / "mathy.py").write_text(wrong, encoding="utf-8")
    proc, data = run_autograder(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert data is not None
    tests = {t["extra_data"]["check"]: t for t in data["tests"]}
    assert set(tests) == {"square_values", "square_leaves_input_alone", "safe_div",
                          "safe_div_empty_and_0d"}
    assert tests["safe_div"]["status"] == "failed" and tests["safe_div"]["score"] == 0
    hidden = tests["safe_div_empty_and_0d"]
    assert hidden["visibility"] == "after_published" and hidden["max_score"] == 3
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert sum(t["max_score"] for t in data["tests"]) == 10
    assert data["extra_data"]["protections"]  # the instructor can see how it was sandboxed
    assert "5 of 10" not in data["output"]  # hidden outcomes are not in the visible summary


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_run_autograder_grades_an_uploaded_zip_and_reports_unreadable_code(tmp_path,
                                                                           demo_bundle):
    root = gradescope_tree(tmp_path, demo_bundle)
    with zipfile.ZipFile(root / "submission" / "hw.zip", "w") as archive:
        archive.write(DEMO_SOLUTION / "mathy.py", "hw/mathy.py")
    proc, data = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert data["score"] == 10 and {t["status"] for t in data["tests"]} == {"passed"}

    (root / "submission" / "hw.zip").unlink()
    (root / "submission" / "mathy.py").write_text("def square(x):\n    return x *\n")
    proc, data = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("Your submission could not be graded: Syntax error at "
                                     "submission/mathy.py, line 2")


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_a_broken_grader_leaves_no_results_and_fails_the_run(tmp_path, demo_bundle):
    root = gradescope_tree(tmp_path, demo_bundle)
    shutil.copy(DEMO_SOLUTION / "mathy.py", root / "submission")
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text("{}")  # a stale one from an older run
    toml = root / "source" / "assignment" / "assignment.toml"
    toml.write_text(toml.read_text().replace("total = 10", "total = 11"))
    proc, data = run_autograder(root)
    assert proc.returncode == 3 and data is None
    assert "a problem in the autograder, not in the submission" in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(BASH is None, reason="needs bash")
@pytest.mark.skipif(not DAY65_SOLUTION.is_dir(), reason="needs the course's solutions/")
def test_run_autograder_gives_the_day65_reference_solution_full_marks(tmp_path):
    root = gradescope_tree(tmp_path, build(tmp_path, DAY65))
    for module in find_assignment(str(DAY65)).modules:
        shutil.copy(DAY65_SOLUTION / f"{module}.py", root / "submission")
    proc, data = run_autograder(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert data["score"] == 100 == sum(t["max_score"] for t in data["tests"])
    assert {t["status"] for t in data["tests"]} == {"passed"}
    hidden_names = {p.stem for p in (DAY65 / "hidden").glob("test_*.py")}
    assert hidden_names and any(t["visibility"] == "after_published" for t in data["tests"])
