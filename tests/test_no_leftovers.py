"""Nothing outlives a grading, and a hung function costs one time limit.

Each hostile submission is graded by `hwgrade` as a real subprocess, as an
instructor's batch or a student's terminal would run it; afterwards the test
counts, for 2 s at most, every process still in a worker cgroup or running as
the worker's user (nobody), and the hwgrade cgroup folders: all must reach zero.
These need what makes the guarantee: Linux as root, with the namespace sandbox
(README, "Protections"); elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import csv
import glob
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.worker import sandbox

HERE = Path(__file__).parent
ROOT = HERE.parent
DEMO = HERE / "demo_assignment"
CORRECT = (HERE / "demo_solution" / "mathy.py").read_text(encoding="utf-8")
SQUARE = CORRECT.split("def safe_div")[0]
NOBODY = 65534

_planned = sandbox.planned_protections(64)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (sys.platform.startswith("linux") and os.geteuid() == 0
                            and _planned.pid_namespace and _planned.process_limit),
                       reason="the guarantee needs Linux as root with the namespace sandbox"),
]


def with_safe_div(body: str) -> str:
    return SQUARE + "\n\ndef safe_div(a, b):\n" + textwrap.indent(textwrap.dedent(body), "    ")


ATTACKS = {
    "fork bomb": """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """,
    "double-forked daemon": """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(3600)
            os._exit(0)
        time.sleep(3600)
    """,
    "spinner ignoring SIGTERM": """
        import os, signal
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.setsid()
            while True:
                pass
        while True:
            pass
    """,
    "sleep forever": "import time\ntime.sleep(10**6)\n",
    "kills its parent": """
        import os, signal, time
        os.kill(os.getppid(), signal.SIGKILL)
        os.kill(1, signal.SIGKILL)
        time.sleep(3600)
    """,
}


def leftovers() -> tuple[list[str], list[str]]:
    """(processes of workers, hwgrade cgroup folders) on this machine now."""
    processes = []
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            in_worker_cgroup = "hwgrade-" in Path(proc, "cgroup").read_text()
            as_nobody = os.stat(proc).st_uid == NOBODY
            command = Path(proc, "cmdline").read_bytes().replace(b"\0", b" ")[:100]
        except OSError:
            continue  # gone meanwhile
        if in_worker_cgroup or as_nobody:
            processes.append(f"{Path(proc).name}: {command.decode(errors='replace')}")
    folders = glob.glob("/sys/fs/cgroup/hwgrade-*") + glob.glob("/sys/fs/cgroup/*/hwgrade-*")
    return processes, folders


def assert_nothing_left(within: float = 2.0) -> None:
    end = time.monotonic() + within
    while (left := leftovers()) != ([], []) and time.monotonic() < end:
        time.sleep(0.05)
    assert left == ([], []), left


@pytest.fixture(autouse=True)
def clean_machine():
    assert_nothing_left(10.0)  # what an earlier test left would be counted against this one
    yield


def submission(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "mathy.py").write_text(source, encoding="utf-8")
    return folder


def hwgrade(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_in_a_call_leaves_nothing_when_the_check_ends(tmp_path, attack):
    folder = submission(tmp_path / "sub", with_safe_div(ATTACKS[attack]))
    start = time.monotonic()
    proc = hwgrade("check", str(DEMO), str(folder), "--lang", "en", "--format", "json")
    out, err = proc.communicate(timeout=120)
    seconds = time.monotonic() - start
    assert proc.returncode == 1, err  # failed checks, not a grader error
    assert '"score": 5' in out  # square's points, whatever safe_div did
    assert_nothing_left()
    # one time limit (3 s here) for safe_div and its hidden check, not one per check
    assert seconds < 30, seconds


def test_sigkill_of_the_grader_mid_check_leaves_nothing(tmp_path):
    folder = submission(tmp_path / "sub", with_safe_div(ATTACKS["double-forked daemon"]))
    proc = hwgrade("check", str(DEMO), str(folder))
    end = time.monotonic() + 60
    while not any("sleep" in p or "server.py" in p for p in leftovers()[0]):
        assert time.monotonic() < end and proc.poll() is None, "no worker started"
        time.sleep(0.05)
    time.sleep(1.0)  # inside safe_div: the daemon is up
    assert leftovers()[1], "the worker has cgroup folders while it runs"
    proc.kill()
    proc.communicate()
    assert_nothing_left()


def test_sigterm_of_the_grader_mid_check_leaves_nothing(tmp_path):
    folder = submission(tmp_path / "sub", with_safe_div(ATTACKS["spinner ignoring SIGTERM"]))
    proc = hwgrade("check", str(DEMO), str(folder))
    end = time.monotonic() + 60
    while len(leftovers()[0]) < 2:
        assert time.monotonic() < end and proc.poll() is None, "no worker started"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.terminate()
    proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert_nothing_left()


def test_a_class_with_fork_bombs_and_sleepers_grades_the_others_and_leaves_nothing(tmp_path):
    subs = tmp_path / "class"
    for i in range(10):
        submission(subs / f"ok{i:02d}", CORRECT)
    for i in range(2):
        submission(subs / f"bomb{i}", with_safe_div(ATTACKS["fork bomb"]))
        submission(subs / f"sleeper{i}", with_safe_div(ATTACKS["sleep forever"]))
    proc = hwgrade("grade", str(DEMO), str(subs), "-o", str(tmp_path / "out"), "--jobs", "2")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), err
    with open(tmp_path / "out" / "gradebook.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    totals = {row["id"]: float(row["total"]) for row in rows}
    assert totals == {**{f"ok{i:02d}": 10.0 for i in range(10)},
                      **{f"{kind}{i}": 5.0 for kind in ("bomb", "sleeper") for i in range(2)}}
    assert_nothing_left()


def _day65_variant(tmp_path: Path, anchor: str, body: str) -> Path:
    dest = tmp_path / "day65"
    shutil.copytree(ROOT / "solutions" / "day65", dest)
    activations = dest / "activations.py"
    text = activations.read_text(encoding="utf-8")
    at = text.index(anchor) + len(anchor)
    activations.write_text(text[:at] + textwrap.indent(textwrap.dedent(body), "    ")
                           + text[at:], encoding="utf-8")
    return dest


HUNG = "did not return within 10 s earlier in this grading"


@pytest.mark.parametrize("anchor, body, points, seconds, said", [
    # sigmoid's 13 points of function checks and exercise 7 (it trains sigmoid);
    # exercises 5, 6 and 8 do not need it and keep theirs
    ("def sigmoid(z):\n", "import time\ntime.sleep(10**6)\n", 79, 45, HUNG),
    ("def sigmoid(z):\n", "while True:\n    pass\n", 79, 45, HUNG),
    # linear's 2 points and exercise 7's 9; stopped at the pids limit, in every worker
    ("def linear(z):\n", "import os\nwhile True:\n    try:\n        os.fork()\n"
                         "    except OSError:\n        pass\n", 89, 60,
     "linear tried to start more than 64 processes"),
])
def test_day65_with_a_hung_function_pays_one_time_limit(tmp_path, anchor, body, points,
                                                       seconds, said):
    folder = _day65_variant(tmp_path, anchor, body)
    start = time.monotonic()
    proc = hwgrade("check", "day65", str(folder), "--lang", "en")
    out, err = proc.communicate(timeout=300)
    took = time.monotonic() - start
    assert f"Score: {points}/100" in out, out[-3000:] + err[-2000:]
    assert said in out
    assert took < seconds, took
    assert_nothing_left()
    if "sigmoid" in anchor:  # the caller is not blamed for the callee's hang
        assert "sigmoid_derivative calls sigmoid, which did not return" in out


def test_the_worker_dies_with_unshare(tmp_path):
    """`unshare --kill-child`'s parent-death signal is cleared by setpriv's uid change:
    the worker sets its own after it, so killing `unshare` ends it."""
    from grader.worker.client import Worker, WorkerLimits

    folder = submission(tmp_path / "sub", CORRECT)
    with Worker(folder, ["mathy"], limits=WorkerLimits()) as worker:
        assert worker.call("mathy", "square", 3.0) == 9.0
        keeper = worker._res.session.sandboxed.process.pid
        children = Path(f"/proc/{keeper}/task/{keeper}/children").read_text().split()
        (unshare,) = children
        os.kill(int(unshare), signal.SIGKILL)
        end = time.monotonic() + 2
        while leftovers()[0] and time.monotonic() < end:
            time.sleep(0.02)
        assert leftovers()[0] == []
    assert_nothing_left()
