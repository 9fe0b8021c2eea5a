"""The pool of grader processes, with a stand-in grader that dies, hangs, reports
a grader error or answers: each costs only its own submission."""

from __future__ import annotations

import sys
import textwrap
import time

import pytest

from grader.batch.runner import GraderPool, Job

FAKE = textwrap.dedent("""
    import json, os, signal, sys, time
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        job = json.loads(line)
        path = job["path"]
        print("noise on stdout", flush=True)  # must never reach the answers
        if path == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        if path == "hang":
            time.sleep(3600)
        if path == "bug":
            answers.write(json.dumps({"grader_error": "a bug"}) + "\\n"); answers.flush()
            sys.exit(0)
        if path == "garbage":
            answers.write("not json\\n"); answers.flush()
            continue
        answers.write(json.dumps({"result": {"path": job["display"], "pid": os.getpid()}})
                      + "\\n")
        answers.flush()
""")


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_child.py"
    script.write_text(FAKE)
    return [sys.executable, str(script)]


def run(command, paths, **options):
    jobs = [Job(f"s{n}", path, f"display-{n}") for n, path in enumerate(paths)]
    with GraderPool(".", command=command, **{"jobs": 2, "timeout": 30, **options}) as pool:
        return {o.id: o for o in pool.grade(jobs)}


def test_every_job_gets_exactly_one_outcome_whatever_its_grader_does(fake):
    paths = ["ok", "die", "ok", "bug", "ok", "garbage", "ok", "die", "ok"]
    start = time.monotonic()
    outcomes = run(fake, paths, timeout=20)
    assert sorted(outcomes) == sorted(f"s{n}" for n in range(len(paths)))
    for n, path in enumerate(paths):
        outcome = outcomes[f"s{n}"]
        if path == "ok":
            assert outcome.result["path"] == f"display-{n}" and outcome.failure is None
        else:
            assert outcome.result is None and outcome.failure
    assert "killed by SIGKILL" in outcomes["s1"].failure
    assert outcomes["s3"].failure == "a bug"
    assert "unreadable answer" in outcomes["s5"].failure
    assert time.monotonic() - start < 20


def test_a_hanging_grader_is_stopped_at_the_timeout(fake):
    start = time.monotonic()
    outcomes = run(fake, ["hang", "ok", "ok"], timeout=2)
    assert "longer than 2 s" in outcomes["s0"].failure
    assert outcomes["s1"].result and outcomes["s2"].result
    assert time.monotonic() - start < 15


def test_processes_are_reused_then_replaced(fake):
    outcomes = run(fake, ["ok"] * 6, jobs=1, tasks_per_child=4)
    pids = [outcomes[f"s{n}"].result["pid"] for n in range(6)]
    assert len(set(pids[:4])) == 1 and len(set(pids)) == 2
