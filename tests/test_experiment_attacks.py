"""Hostile Day 65 submissions against the verified experiments, graded end to end
through real workers: a submission that cannot earn an experiment's points by its
functions gets none of them, and the grading finishes in bounded time.

Each submission is the reference solution with code appended to activations.py
that, at import time inside the worker, changes what the worker's own training
does (grader/playground/calls.py is the engine copy in the worker's runtime).
Graded are relu's value check and exercise 7 (the activations at learning rate 1,
whose 500-epoch check needs its first-epoch check)."""

from __future__ import annotations

import shutil
import textwrap
import time
from pathlib import Path

import pytest

from grader.assignment import find_assignment
from grader.grading import grade_submission

ROOT = Path(__file__).resolve().parents[1]
DAY65 = find_assignment(str(ROOT / "assignments" / "day65"))
ONLY = ["relu_values", "exercise7_activation_first_epochs", "exercise7_activation_500_epochs"]

# relu returns |z| when called, while the worker's own training is made to use a
# correct relu: the exploit of issue 10.
ABS_RELU = """
def relu(z):
    return np.abs(_as_float64(z))
"""
PATCH_ENGINE_BODY = """
_original = _calls.answer_with

def _patched(call, binding, reference=()):
    def honest(module, function, args):
        if function == "relu":
            return np.maximum(args[0], 0.0)
        return call(module, function, args)
    return _original(honest, binding, reference)

_calls.answer_with = _patched
"""
def _in_worker(body: str) -> str:
    """Code run at import time in the worker only, on the worker's engine copy."""
    return textwrap.dedent("""
    try:
        from grader.playground import calls as _calls
    except ImportError:
        _calls = None
    if _calls is not None:
    """) + textwrap.indent(textwrap.dedent(body), "    ")


# The worker reports a training with the engine's own functions (the reference's
# states), whatever the student's do.
REFERENCE_STATES = _in_worker("""
_answer_with = _calls.answer_with
_calls.answer_with = lambda call, binding, reference=(): _answer_with(call, binding, (
    "activation", "activation_derivative", "regularized_update", "minibatches"))
""")
DIES = _in_worker("""
import os
_asked = [0]
_record = _calls.record_trajectory
def _dying(spec, call, problems=None):
    _asked[0] += 1
    if _asked[0] >= 3:
        os._exit(3)
    return _record(spec, call, problems)
_calls.record_trajectory = _dying
""")
HANGS = _in_worker("""
import time
_asked = [0]
_record = _calls.record_trajectory
def _hanging(spec, call, problems=None):
    _asked[0] += 1
    if _asked[0] >= 3:
        time.sleep(3600)
    return _record(spec, call, problems)
_calls.record_trajectory = _hanging
""")
FLOODS = _in_worker("""
_asked = [0]
_record = _calls.record_trajectory
def _flooding(spec, call, problems=None):
    _asked[0] += 1
    reply = _record(spec, call, problems)
    if _asked[0] >= 3:
        reply["states"] = np.zeros((400, 300, 73))  # the wrong shape, and big
        reply["extra"] = ["x" * 1000] * 1000
    return reply
_calls.record_trajectory = _flooding
""")
SLEEPER_RELU = """
_relu_calls = [0]

def relu(z):
    _relu_calls[0] += 1  # correct until it has been called often (as in a training)
    z = _as_float64(z)
    return np.maximum(z, 0.0) if _relu_calls[0] < 2000 else np.maximum(z, 0.0) * 0.5
"""


def grade(tmp_path: Path, appended: str):
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions" / "day65", folder)
    with (folder / "activations.py").open("a", encoding="utf-8") as f:
        f.write("\n" + appended)
    start = time.monotonic()
    result = grade_submission(DAY65, folder, only=ONLY)
    return {c.name: c for c in result.checks}, time.monotonic() - start


def points(checks) -> dict[str, float]:
    return {name: c.points for name, c in checks.items()}


@pytest.mark.slow
def test_a_patched_worker_engine_gets_no_experiment_point(tmp_path):
    checks, _ = grade(tmp_path, ABS_RELU + _in_worker(PATCH_ENGINE_BODY))
    assert points(checks) == {name: 0 for name in ONLY}
    first = checks["exercise7_activation_first_epochs"]
    assert first.status == "failed" and "does not follow from" in str(first.message)
    assert checks["exercise7_activation_500_epochs"].status == "not_run"


@pytest.mark.slow
def test_a_worker_reporting_the_reference_states_gets_no_experiment_point(tmp_path):
    checks, _ = grade(tmp_path, ABS_RELU + REFERENCE_STATES)
    assert points(checks) == {name: 0 for name in ONLY}


@pytest.mark.slow
def test_a_relu_that_changes_after_many_calls_is_caught_and_named(tmp_path):
    checks, _ = grade(tmp_path, SLEEPER_RELU)
    assert checks["relu_values"].points == checks["relu_values"].max_points
    late = checks["exercise7_activation_500_epochs"]
    assert late.status == "failed" and late.points == 0
    assert late.function == "activations.relu"
    assert "gave different answers" in str(late.message)


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["dies", "hangs", "floods"])
def test_a_worker_that_fails_in_the_middle_of_reporting_gets_no_500_epoch_point(tmp_path,
                                                                                attack):
    checks, seconds = grade(tmp_path, {"dies": DIES, "hangs": HANGS, "floods": FLOODS}[attack])
    # relu and the first block are fine: those points are earned
    assert checks["relu_values"].points == checks["relu_values"].max_points
    assert checks["exercise7_activation_first_epochs"].points == 5
    late = checks["exercise7_activation_500_epochs"]
    assert late.status == "failed" and late.points == 0
    assert "could not be checked" in str(late.message)
    assert seconds < 120
