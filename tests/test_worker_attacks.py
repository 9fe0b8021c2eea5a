"""Adversarial submissions against the worker: each must end as a clear student-facing
failure of the call that needed it, the grader must go on (a fresh worker for the next
call), and nothing may be left behind (processes, temp dirs, cgroups).

Tests that need a protection the platform lacks are skipped with the reason.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.worker.client import Call, Worker, WorkerLimits
from grader.worker.errors import (
    BadReturn,
    ImportFailed,
    ProtocolViolation,
    StudentCodeError,
    StudentCrash,
    StudentException,
    StudentExit,
    StudentMemoryError,
    StudentTimeout,
)

LINUX = sys.platform.startswith("linux")

ATTACKS = """
import ctypes
import os
import signal
import socket
import sys
import time

import numpy as np

def ok():
    return 42

def spin():
    while True:
        pass

def stubborn():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1)

def hog(gib):
    return np.ones(int(gib * 2**30), dtype=np.uint8)

def hog_python():
    return bytearray(10 * 2**30)

def fork_bomb():
    while True:
        try:
            os.fork()
        except OSError:
            pass

def count_forks():
    n = 0
    while n < 1000:
        try:
            pid = os.fork()
        except OSError:
            return n
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    return n

def linger(new_session):
    if os.fork() == 0:
        if new_session:
            os.setsid()
        time.sleep(60)
        os._exit(0)
    return 1

def hard_exit():
    os._exit(0)

def soft_exit():
    sys.exit(0)

def flood():
    print("x" * 100_000_000)
    sys.stderr.write("y" * 100_000_000)
    os.write(1, b"z" * 1_000_000)
    for _ in range(100_000):
        print("line")
    return "done"

def read(path):
    with open(path) as f:
        return f.read()

def listdir(path):
    return sorted(os.listdir(path))

def umount(path):
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.umount2(path.encode(), 2)  # MNT_DETACH
    return [result, ctypes.get_errno()]

def write(path):
    with open(path, "w") as f:
        f.write("1")
    return "written"

def connect(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return "connected"
    finally:
        s.close()

def kill_parent():
    os.kill(os.getppid(), signal.SIGKILL)
    return os.getppid()

def segfault():
    return ctypes.string_at(0)

def scribble():
    fd = int(sys.argv[sys.argv.index("--fd") + 1])
    os.write(fd, b"NOT A HWGRADE MESSAGE" * 10)
    return 1

def close_channel():
    fd = int(sys.argv[sys.argv.index("--fd") + 1])
    os.close(fd)
    time.sleep(60)

def whoami():
    return [os.getpid(), os.getuid(), os.getcwd()]

def sleepy():
    time.sleep(3600)

def spin_together(n, seconds):
    # n forked spinners; the CPU time they used in all
    r, w = os.pipe()
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass
            t = os.times()
            os.write(w, f"{t.user + t.system} ".encode())
            os._exit(0)
        pids.append(pid)
    os.close(w)
    for pid in pids:
        os.waitpid(pid, 0)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    return sum(float(x) for x in data.split())

def calls_sleepy():
    return sleepy()

def swallows_sleepy():
    try:
        return sleepy()
    except Exception:
        return "swallowed"
"""


def write(directory: Path, name: str, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.py").write_text(textwrap.dedent(source))
    return directory


def processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir() if LINUX else ():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def own_cgroups() -> list[Path]:
    roots = [Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/cpu")]
    return [p for r in roots if r.is_dir() for p in r.glob(f"hwgrade-{os.getpid()}-*")]


@pytest.fixture
def make_worker(tmp_path, monkeypatch):
    """Workers on the ATTACKS submission; afterwards nothing of them may remain."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    staged = write(tmp_path / "sub", "attacks", ATTACKS)
    workers = []

    def make(modules=("attacks",), hidden=(), **limits):
        worker = Worker(staged, list(modules), limits=WorkerLimits(**limits),
                        hidden_paths=[tmp_path / "secret", tmp_path / "secret.txt", *hidden])
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.close()
    assert list(root.iterdir()) == []
    assert processes_mentioning(str(tmp_path)) == []
    assert own_cgroups() == []


def fails_with(worker, cls, function, *args):
    start = time.monotonic()
    with pytest.raises(cls) as info:
        worker.call("attacks", function, *args)
    return info.value, time.monotonic() - start


def test_infinite_loop_times_out_and_the_next_call_gets_a_fresh_worker(make_worker):
    worker = make_worker(call_timeout=1.0)
    assert worker.call("attacks", "ok") == 42
    err, elapsed = fails_with(worker, StudentTimeout, "spin")
    assert 0.9 < elapsed < 2.0
    assert err.message == "spin did not return within 1 s"
    assert worker.call("attacks", "ok") == 42
    assert worker.stats.restarts == 1


def test_timeout_in_a_batch_names_every_function_in_flight(make_worker):
    worker = make_worker(call_timeout=0.5)
    outcomes = worker.call_many([Call("attacks", "ok"), Call("attacks", "spin")])
    assert all(isinstance(o, StudentTimeout) for o in outcomes)
    assert outcomes[1].message == "one of ok, spin did not return within 1 s"


@pytest.mark.slow
def test_sigterm_is_no_shelter(make_worker):
    worker = make_worker(call_timeout=1.0, kill_grace=0.5)
    _, elapsed = fails_with(worker, StudentTimeout, "stubborn")
    assert elapsed < 2.5
    assert worker.call("attacks", "ok") == 42


def test_infinite_loop_at_import_is_paid_once(make_worker, tmp_path):
    write(tmp_path / "sub", "hangs", "while True:\n    pass\n")
    worker = make_worker(modules=("hangs", "attacks"), import_timeout=1.0)
    err, elapsed = fails_with_module(worker, "hangs")
    assert 0.9 < elapsed < 3.0
    assert err.message == "importing hangs.py failed: it did not finish within 1 s"
    err2, elapsed2 = fails_with_module(worker, "hangs")
    assert elapsed2 < 0.05 and err2.message == err.message
    assert worker.call("attacks", "ok") == 42


def fails_with_module(worker, module):
    start = time.monotonic()
    with pytest.raises(ImportFailed) as info:
        worker.call(module, "f")
    return info.value, time.monotonic() - start


@pytest.mark.parametrize(("source", "reason"), [
    ("import os\nos._exit(0)\n", "it exited the process"),
    ("import sys\nsys.exit(0)\n", "it called sys.exit(0)"),
    ("raise KeyboardInterrupt\n", "it raised KeyboardInterrupt"),
])
def test_exiting_at_import(make_worker, tmp_path, source, reason):
    write(tmp_path / "sub", "quits", source)
    worker = make_worker(modules=("quits", "attacks"))
    err, _ = fails_with_module(worker, "quits")
    assert reason in err.message
    assert worker.call("attacks", "ok") == 42


def test_exiting_in_a_call(make_worker):
    worker = make_worker()
    err, _ = fails_with(worker, StudentExit, "hard_exit")
    assert err.message == (
        "your code exited the process while running hard_exit (os._exit or sys.exit)")
    err, _ = fails_with(worker, StudentExit, "soft_exit")
    assert "soft_exit called sys.exit(0)" in err.message
    assert worker.call("attacks", "ok") == 42


def test_memory_blowup_is_refused_and_the_worker_recovers(make_worker):
    worker = make_worker(memory_mib=1024)
    err, _ = fails_with(worker, StudentMemoryError, "hog", 10)
    assert err.message == "hog ran out of memory (limit 1024 MiB)"
    fails_with(worker, StudentMemoryError, "hog_python")
    fails_with(worker, StudentMemoryError, "hog", 3)  # "return a 3 GB array"
    assert worker.call("attacks", "hog", 0.001).shape == (2**30 // 1000,)


def test_a_large_return_value_hits_the_size_limit(make_worker):
    worker = make_worker(max_message_bytes=2**20)
    err, _ = fails_with(worker, BadReturn, "hog", 0.002)
    assert "too large" in err.message


@pytest.mark.slow
def test_cpu_time_limit(make_worker):
    worker = make_worker(cpu_seconds=1, call_timeout=10.0)
    err, elapsed = fails_with(worker, StudentCrash, "spin")
    assert err.code == "cpu" and elapsed < 4.0
    assert "CPU time" in err.message
    assert worker.call("attacks", "ok") == 42


@pytest.mark.slow
def test_fork_bomb_is_contained(make_worker):
    worker = make_worker(call_timeout=5.0)
    if not worker.protections.process_limit:
        pytest.skip("no process limit on this platform")
    err, elapsed = fails_with(worker, StudentCodeError, "fork_bomb")
    if worker.protections.cpu_limit:  # a cgroup: stopped at its limit, not at the timeout
        assert err.code == "processes" and elapsed < 1.5, (err.code, elapsed)
        assert "fork_bomb tried to start more than 64 processes" in err.message
    assert worker.call("attacks", "ok") == 42


def test_process_limit_counts(make_worker):
    worker = make_worker(max_processes=16)
    if not worker.protections.process_limit:
        pytest.skip("no process limit on this platform")
    assert 0 < worker.call("attacks", "count_forks") < 16


@pytest.mark.parametrize("new_session", [False, True])
def test_lingering_children_die_with_their_call_or_the_worker(make_worker, tmp_path,
                                                             new_session):
    worker = make_worker()
    assert worker.call("attacks", "ok") == 42
    before = set(processes_mentioning(str(tmp_path)))  # the worker (and its launchers)
    assert worker.call("attacks", "linger", new_session) == 1
    left = set(processes_mentioning(str(tmp_path))) - before
    if worker.protections.pid_namespace:  # its init ends every stray as a call ends
        assert left == set()
    else:
        assert len(left) == 1
    worker.close()
    assert processes_mentioning(str(tmp_path)) == []


def test_flooding_stdout_and_stderr_is_fast_and_harmless(make_worker, capfd):
    worker = make_worker()
    start = time.monotonic()
    assert worker.call("attacks", "flood") == "done"
    assert time.monotonic() - start < 3.0
    assert len(worker.last_stdout) <= 8192
    out, err = capfd.readouterr()
    assert "xxxx" not in out and "yyyy" not in err and "zzzz" not in out


def test_segfault_is_a_crash(make_worker):
    worker = make_worker()
    err, _ = fails_with(worker, StudentCrash, "segfault")
    assert err.message == "your code crashed (segmentation fault, signal 11) while running segfault"
    assert worker.call("attacks", "ok") == 42


def test_scribbling_on_the_channel_is_a_protocol_violation(make_worker):
    worker = make_worker()
    err, _ = fails_with(worker, ProtocolViolation, "scribble")
    assert "bad magic" in err.message
    assert worker.call("attacks", "ok") == 42


@pytest.mark.slow
def test_closing_the_channel(make_worker):
    worker = make_worker(call_timeout=1.0)
    # No EOF while the launcher still holds the socket: a timeout is as good an answer.
    err, elapsed = fails_with(worker, (ProtocolViolation, StudentTimeout), "close_channel")
    assert elapsed < 2.5
    assert worker.call("attacks", "ok") == 42


# --- what the sandbox hides and forbids ------------------------------------------------------


def needs(worker, protection):
    if not getattr(worker.protections, protection):
        pytest.skip(f"{protection} is not available here: {worker.protections.notes}")


def test_hidden_paths_are_invisible_and_stay_hidden(make_worker, tmp_path):
    checks = Path(__file__).resolve().parent  # stands for a course's hidden checks
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "answers.py").write_text("ANSWER = 42\n")
    (tmp_path / "secret.txt").write_text("solution")
    config = checks.parent / "pyproject.toml"  # a single hidden file reads as empty
    worker = make_worker(hidden=[checks, config])
    needs(worker, "hidden_paths")
    # Invisible: an empty folder / empty file where it is covered, or no such path
    # at all where a whole parent (e.g. /tmp, when the checkout lives there) is.
    assert invisible(worker, "listdir", checks) in ([], "missing")
    assert invisible(worker, "read", config) in ("", "missing")
    fails_with(worker, StudentException, "read", str(checks / "test_worker_attacks.py"))
    fails_with(worker, StudentException, "read", str(tmp_path / "secret" / "answers.py"))
    fails_with(worker, StudentException, "read", str(tmp_path / "secret.txt"))
    result, errno = worker.call("attacks", "umount", str(checks))
    assert result == -1 and errno in (1, 2)  # EPERM (no capabilities left) or ENOENT
    assert invisible(worker, "listdir", checks) in ([], "missing")


def invisible(worker, what: str, path: Path):
    try:
        return worker.call("attacks", what, str(path))
    except StudentException as error:
        assert "FileNotFoundError" in error.message, error.message
        return "missing"


def test_files_outside_the_working_directory_are_read_only(make_worker):
    worker = make_worker()
    needs(worker, "read_only_files")
    planted = Path("/etc") / f"hwgrade-planted-{os.getpid()}"
    err, _ = fails_with(worker, StudentException, "write", str(planted))
    assert "OSError" in err.message or "PermissionError" in err.message
    assert not planted.exists()
    fails_with(worker, StudentException, "write", "/proc/sys/kernel/core_pattern")
    assert worker.call("attacks", "write", "scratch.txt") == "written"  # its own cwd
    assert worker.call("attacks", "listdir", "/dev") == ["full", "null", "random", "urandom",
                                                         "zero"]


def test_private_places_and_other_workers_are_invisible(make_worker, tmp_path):
    other = tmp_path / "tmp" / "hwgrade-worker-other" / "staged"
    other.mkdir(parents=True)
    (other / "activations.py").write_text("# another student's work\n")
    worker = make_worker()
    needs(worker, "hidden_paths")
    try:
        visible = worker.call("attacks", "listdir", str(tmp_path / "tmp"))
        assert visible == [p for p in visible if p.startswith("hwgrade-worker-")]
        assert "hwgrade-worker-other" not in visible
        assert worker.call("attacks", "listdir", "/run") == []  # the host's unix sockets
        assert worker.call("attacks", "listdir", str(Path.home())) in ([], [".pyenv"])
    finally:
        for path in (other / "activations.py", other, other.parent):
            path.unlink() if path.is_file() else path.rmdir()


def test_root_only_files_are_unreadable(make_worker):
    worker = make_worker()
    needs(worker, "unprivileged_user")
    assert worker.call("attacks", "whoami")[1] == 65534
    fails_with(worker, StudentException, "read", "/etc/shadow")


def test_no_network(make_worker):
    worker = make_worker()
    needs(worker, "no_network")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        err, _ = fails_with(worker, StudentException, "connect", port)
    assert "OSError" in err.message


def test_killing_the_parent_does_not_hurt_the_grader(make_worker):
    worker = make_worker()
    needs(worker, "pid_namespace")
    pid, uid, cwd = worker.call("attacks", "whoami")
    assert pid == 1  # it sees only its own namespace
    worker.call("attacks", "kill_parent")
    assert worker.call("attacks", "ok") == 42
    os.kill(os.getpid(), 0)  # still here
    assert worker.stats.restarts == 0


def test_grader_numpy_is_untouched_by_a_worker_crash(make_worker):
    worker = make_worker()
    fails_with(worker, StudentCrash, "segfault")
    assert np.add(1, 1) == 2
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN


def test_a_function_that_hung_fails_at_once_afterwards_and_callers_blame_it(make_worker):
    worker = make_worker(call_timeout=1.0)
    err, elapsed = fails_with(worker, StudentTimeout, "sleepy")
    assert err.code == "timeout" and 1.0 <= elapsed < 3.0
    err, elapsed = fails_with(worker, StudentTimeout, "sleepy")
    assert err.code == "hung" and elapsed < 0.5
    assert err.message == ("sleepy did not return within 1 s earlier in this grading; "
                           "checks that need it were not run")
    # a function calling it fails at once too, and blames it (in a fresh worker)
    for caller in ("calls_sleepy", "swallows_sleepy"):
        err, elapsed = fails_with(worker, StudentTimeout, caller)
        assert err.code == "hung_callee" and err.params["hung"] == "sleepy" and elapsed < 0.5
        assert err.function == f"attacks.{caller}"
    assert worker.call("attacks", "ok") == 42
    # a sibling (the same grading) knows it without paying the time again
    sibling = worker.sibling()
    try:
        err, elapsed = fails_with(sibling, StudentTimeout, "calls_sleepy")
        assert err.code == "hung_callee" and elapsed < 3.0
    finally:
        sibling.close()


def test_a_caller_that_hangs_in_a_callee_blames_the_callee(make_worker):
    worker = make_worker(call_timeout=1.0)
    err, _ = fails_with(worker, StudentTimeout, "calls_sleepy")
    assert err.code == "hung_callee" and err.params["hung"] == "sleepy"
    assert "calls_sleepy calls sleepy, which did not return within 1 s" in err.message
    assert worker.hung.names() == ["attacks.sleepy"]
    err, elapsed = fails_with(worker, StudentTimeout, "sleepy")
    assert err.code == "hung" and elapsed < 0.5


def test_a_check_time_limit_is_not_a_hang(make_worker):
    worker = make_worker(call_timeout=5.0)
    with worker.deadline(0.5):
        fails_with(worker, StudentTimeout, "sleepy")
    assert worker.hung.names() == []


def test_the_worker_tree_shares_one_cpu(make_worker):
    worker = make_worker()
    needs(worker, "cpu_limit")
    used = worker.call("attacks", "spin_together", 4, 1.5)
    # 4 spinners for 1.5 s: 6 s of CPU where there are 4 cores, 3 s on 2; one CPU's quota
    # gives them about 1.5 s together (a busy machine gives less, never more)
    assert 0.3 < used < 2.2, used
