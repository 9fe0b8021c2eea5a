"""The Day 65 grader graded: the reference solution, alternative correct
solutions (one as a notebook with exploration cells and magics) and plausible
student bugs (mutants), each through the real `hwgrade check` command."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase
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


def grade(path: Path, *options: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(DAY65), str(path),
                           "--format", "json", *options],
                          capture_output=True, text=True, timeout=900)
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
    """Every submission graded once: the correct solutions, the starter and the
    sleeper with every check, one at a time (each training's round trips want both
    cores: one for the grader, one for the worker); the other mutants without the
    500-epoch checks (no mutant lists one, and each would cost a full training),
    two at a time."""
    paths = {"solution": ROOT / "solutions" / "day65",
             "starter": DAY65 / "starter",
             **{f"alternative/{n}": SUBMISSIONS / "alternatives" / n for n in ALTERNATIVES},
             **{f"mutant/{n}": mutant_dir / n for n in MUTANTS}}
    full = {name: grade(path) for name, path in paths.items() if not _quick(name)}
    with ThreadPoolExecutor(2) as pool:
        rest = dict(zip([n for n in paths if _quick(n)], pool.map(
            lambda name: grade(paths[name], "--quick"), [n for n in paths if _quick(n)]),
            strict=True))
    return full | rest


# Its regularized_update loops over the weights in Python: correct, and ~200 million
# loop turns for the 500-epoch grid (minutes). Graded without those checks here.
SLOW_ALTERNATIVES = {"elementwise_loops"}


def _quick(name: str) -> bool:
    kind, _, which = name.partition("/")
    return (kind == "mutant" and not MUTANTS[which].get("full")) or (
        kind == "alternative" and which in SLOW_ALTERNATIVES)


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
    assert result["score"] == result["max_score"] == (
        100 if name not in SLOW_ALTERNATIVES else 100 - 15)  # without the 500-epoch checks


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
        # a stub still raising NotImplementedError is its own explanation
        assert checks[check]["hint"] or checks[check]["expected"] or (
            "NotImplementedError" in checks[check]["message"]), checks[check]
    assert not [c for c in result["checks"] if c["status"] == "error"]
    if "points_lost" in expected:  # fair points: exactly what the bug is worth
        assert result["max_score"] - result["score"] == expected["points_lost"], [
            (c["name"], c["max_points"]) for c in result["checks"] if c["status"] != "passed"]
    for pattern in expected.get("keeps", []):
        kept = [c for c in result["checks"] if fnmatchcase(c["name"], pattern)]
        assert kept and all(c["status"] == "passed" for c in kept), (pattern, kept)


@pytest.mark.slow
def test_a_function_that_goes_wrong_late_is_caught_only_by_the_500_epoch_checks(graded):
    checks = statuses(graded["mutant/tanh_wrong_after_many_calls"])
    early = [n for n in checks if n.endswith("_first_epochs")]
    assert early and all(checks[n]["status"] == "passed" for n in early)
    caught = checks["exercise5_batch_size_500_epochs"]
    # The worker that trained called tanh far more often than the grader's checks:
    # its states stop verifying, and the second recomputation names the function.
    assert caught["status"] == "failed" and "gave different answers" in caught["message"]
    assert caught["function"] == "activations.tanh"
    # sigmoid at learning rate 1 (exercise 7) needs no tanh: its configs still pass
    exercise7 = [c for c in graded["mutant/tanh_wrong_after_many_calls"]["experiments"]
                 if c["exercise"] == 7][0]
    sigmoid = [c for c in exercise7["configs"] if c["config"]["activation"] == "sigmoid"][0]
    assert sigmoid["within"] is True


@pytest.mark.slow
def test_starter_gets_zero_with_a_reason_per_check(graded):
    result = graded["starter"]
    assert result["score"] == 0
    assert {c["status"] for c in result["checks"]} <= {"failed", "not_run"}
    assert any("NotImplementedError" in c["message"] for c in result["checks"])


@pytest.mark.slow
def test_grading_twice_gives_identical_results(graded, mutant_dir):
    again = grade(mutant_dir / "update_derivative_after_step", "--quick")
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


def test_the_trainings_use_whole_batches_only():
    """The first-epoch checks depend on minibatches_in_order, which checks whole
    batches only: a grid batch size that does not divide the training points would
    need minibatches_remainder too."""
    from grader.experiments.run import experiment_grid

    settings = find_assignment(str(DAY65)).settings["experiments"]
    for experiment in experiment_grid(settings):
        config = experiment.config
        n_train = 500 * config.train_ratio // 100  # Playground's 500 points, split
        assert n_train % config.batch_size == 0, config


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


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_during_a_check_stops_it_at_once_with_exit_130():
    """A student's Ctrl-C once the second worker trains: a short message (not pytest's
    output, not "a problem in the grader"), exit 130, and no worker left running."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", "day65",
                             str(ROOT / "solutions" / "day65"), "--lang", "en"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(_descendants(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # both workers started: the training has begun
    time.sleep(2)
    workers = _descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert err.strip() == "interrupted: nothing was graded (run the same command again to grade)"
    assert out == ""
    assert workers and not [p for p in workers if _running(p)]


def _running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone
        return False
