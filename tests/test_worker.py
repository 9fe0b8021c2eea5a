"""The student worker and its client: ordinary behaviour (fast).

Each test writes a tiny submission into tmp_path and drives a Worker directly.
Adversarial submissions live in test_worker_attacks.py.
"""

from __future__ import annotations

import gc
import math
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.worker import errors, namespace
from grader.worker.client import Call, Worker, WorkerLimits
from grader.worker.errors import (
    MESSAGES,
    BadReturn,
    BudgetExhausted,
    ImportFailed,
    MissingFunction,
    StudentCodeError,
    StudentException,
    StudentExit,
    StudentTimeout,
)
from grader.worker.outcomes import check_reply
from grader.worker.sandbox import Protections

MOD = """
import numpy as np

def add(a, b):
    return a + b

def echo(*args, **kwargs):
    return [list(args), kwargs]

def boom(x):
    y = x + 1
    raise ValueError(f"bad value {y}")

def double_in_place(x, k):
    x *= 2

def nan():
    return float("nan"), np.array([np.nan, 1.0])

def shout():
    print("100/100")
    print('{"score": 100, "passed": true}')
    return 0

def sleep(seconds):
    import time
    time.sleep(seconds)
    return seconds

class Liar(np.ndarray):
    def __eq__(self, other):
        return True

def liar():
    return np.zeros(3).view(Liar)

class HasArray:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)

def has_array():
    return HasArray()

def nested_bad():
    return [1, {"a": HasArray()}]

def big(n):
    return np.zeros(n, dtype=np.uint8)

def exit_call():
    import sys
    sys.exit(0)

def interrupt():
    raise KeyboardInterrupt

def unwritten():
    raise NotImplementedError

not_callable = 3
"""


def write(directory: Path, name: str, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return directory


def processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir() if sys.platform.startswith("linux") else ():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Worker temp dirs go under tmp_path; afterwards: none left, no process left."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield tmp_path
    assert list(root.iterdir()) == []
    assert processes_mentioning(str(tmp_path)) == []


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One worker for the many tests that do not kill it."""
    staged = write(tmp_path_factory.mktemp("shared") / "sub", "mod", MOD)
    with Worker(staged, ["mod"], limits=WorkerLimits(max_message_bytes=2**20)) as worker:
        yield worker


# --- values ---------------------------------------------------------------------------


def test_call_round_trip_keeps_dtype_and_shape(shared):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = shared.call("mod", "add", x, np.float32(1))
    assert y.dtype == np.float32 and y.shape == (2, 3)
    np.testing.assert_array_equal(y, x + 1)
    assert shared.call("mod", "add", 2, 3) == 5
    assert shared.call("mod", "echo", 1, (2, 3), k="v") == [[1, [2, 3]], {"k": "v"}]


def test_call_many_is_one_round_trip_with_independent_outcomes(shared):
    before = shared.stats.round_trips
    outcomes = shared.call_many([
        Call("mod", "add", (np.int16(2), np.int16(3))),
        Call("mod", "boom", (1,)),
        Call("mod", "nope"),
        Call("mod", "add", (np.ones(2), 1)),
    ])
    assert shared.stats.round_trips == before + 1
    assert outcomes[0] == 5 and outcomes[0].dtype == np.int16
    assert isinstance(outcomes[1], StudentException)
    assert isinstance(outcomes[2], MissingFunction)
    np.testing.assert_array_equal(outcomes[3], [2.0, 2.0])
    assert shared.call_many([]) == []


def test_return_args_shows_in_place_changes(shared):
    x = np.array([1.0, 2.0])
    (result, args), plain = shared.call_many([
        Call("mod", "double_in_place", (x, 3), return_args=True),
        Call("mod", "double_in_place", (x, 3)),
    ])
    assert result is None and plain is None
    np.testing.assert_array_equal(args[0], [2.0, 4.0])
    assert args[1] == 3
    np.testing.assert_array_equal(x, [1.0, 2.0])  # the grader's own array is untouched


def test_nan_is_data(shared):
    scalar, array = shared.call("mod", "nan")
    assert math.isnan(scalar)
    assert np.isnan(array[0]) and array[1] == 1.0


def test_ndarray_subclass_arrives_as_plain_ndarray(shared):
    value = shared.call("mod", "liar")
    assert type(value) is np.ndarray
    assert not (value == np.ones(3)).any()


# --- failures ---------------------------------------------------------------------------


def test_exception_names_the_student_file_and_line(shared):
    with pytest.raises(StudentException) as info:
        shared.call("mod", "boom", 1)
    err = info.value
    assert err.function == "mod.boom"
    assert err.exc_type == "ValueError" and err.exc_message == "bad value 2"
    assert err.location == ("mod.py", 12)
    assert err.message == "boom raised ValueError: bad value 2 (mod.py, line 12)"


def test_an_exception_without_a_message_is_named_without_an_empty_colon(shared):
    """A starter's bare `raise NotImplementedError`."""
    with pytest.raises(StudentException) as info:
        shared.call("mod", "unwritten")
    assert info.value.message == "unwritten raised NotImplementedError (mod.py, line 58)"


def test_missing_function_and_non_callable(shared):
    with pytest.raises(MissingFunction, match="mod.py has no function named nope"):
        shared.call("mod", "nope")
    with pytest.raises(MissingFunction):
        shared.call("mod", "not_callable")
    with pytest.raises(ValueError, match="not one of this worker"):
        shared.call("other", "f")


def test_unsendable_return_values(shared):
    with pytest.raises(BadReturn) as info:
        shared.call("mod", "has_array")
    assert info.value.message == (
        "has_array returned a HasArray, which cannot be sent back: "
        "return a numpy array or a number"
    )
    with pytest.raises(BadReturn, match="returned a HasArray"):
        shared.call("mod", "nested_bad")
    with pytest.raises(BadReturn, match="too large"):  # max_message_bytes is 1 MiB here
        shared.call("mod", "big", 2 * 2**20)
    assert shared.call("mod", "big", 10).shape == (10,)


def test_too_large_together_is_refused_per_value(shared):
    outcomes = shared.call_many([Call("mod", "big", (600_000,)), Call("mod", "big", (600_000,)),
                                 Call("mod", "boom", (0,))])
    assert all(isinstance(o, BadReturn) for o in outcomes[:2])
    assert isinstance(outcomes[2], StudentException)


def test_sys_exit_and_keyboard_interrupt_in_a_call(shared):
    with pytest.raises(StudentExit, match=r"exit_call called sys.exit\(0\)"):
        shared.call("mod", "exit_call")
    with pytest.raises(StudentExit, match="interrupt raised KeyboardInterrupt"):
        shared.call("mod", "interrupt")
    assert shared.call("mod", "add", 1, 1) == 2  # the same worker goes on


def test_printed_results_are_only_data(shared, capfd):
    assert shared.call("mod", "shout") == 0
    assert "100/100" in shared.last_stdout
    out, err = capfd.readouterr()
    assert "100/100" not in out + err and "score" not in out + err


def test_grader_arguments_that_cannot_be_sent_raise_in_the_grader(shared):
    from grader.worker.protocol import EncodeError

    with pytest.raises(EncodeError):
        shared.call("mod", "echo", object())
    assert shared.call("mod", "add", 1, 2) == 3


# --- imports ---------------------------------------------------------------------------


def test_import_failure_is_remembered(private_tmp):
    staged = write(private_tmp / "sub", "broken", "import numpy\n\nx = undefined_name\n")
    write(staged, "good", "def f():\n    return 1\n")
    with Worker(staged, ["broken", "good", "absent"]) as worker:
        with pytest.raises(ImportFailed) as info:
            worker.call("broken", "f")
        assert info.value.message == (
            "importing broken.py failed: NameError: name 'undefined_name' is not defined (line 3)"
        )
        assert info.value.function == "broken.f"
        assert worker.call("good", "f") == 1
        with pytest.raises(ImportFailed, match="there is no file absent.py"):
            worker.call("absent", "f")
        assert worker.stats.restarts == 0


def test_monkeypatching_at_import_stays_in_the_worker(private_tmp):
    staged = write(private_tmp / "sub", "patch", """
        import builtins
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        builtins.abs = lambda x: 0
        builtins.isinstance = lambda *a: True

        def check():
            builtins.abs = lambda x: 0  # again: the worker restores builtins after each call
            return [bool(np.allclose(1, 2)), abs(-5)]

        def square(x):
            return x * x

        def fails():
            raise KeyError("k")
    """)
    with Worker(staged, ["patch"]) as worker:
        assert worker.call("patch", "check") == [True, 0]
        assert worker.call("patch", "square", np.arange(3.0)).tolist() == [0.0, 1.0, 4.0]
        with pytest.raises(StudentException, match="KeyError: 'k' \\(patch.py, line 17\\)"):
            worker.call("patch", "fails")
    assert not np.allclose(1, 2) and abs(-5) == 5
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1, 2)


# --- time -----------------------------------------------------------------------------


def test_deadline_caps_a_call_and_the_worker_recovers(private_tmp):
    staged = write(private_tmp / "sub", "mod", MOD)
    with Worker(staged, ["mod"]) as worker:
        worker.call("mod", "add", 1, 1)
        start = time.monotonic()
        with worker.deadline(0.5), pytest.raises(StudentTimeout) as info:
            worker.call("mod", "sleep", 5)
        assert time.monotonic() - start < 2.0
        assert info.value.code == "check_time"
        assert "time limit of this check (0.5 s)" in info.value.message
        with worker.deadline(5.0):
            assert worker.call("mod", "sleep", 0) == 0
        assert worker.stats.restarts == 1


def test_submission_budget_is_shared_by_all_calls(private_tmp):
    staged = write(private_tmp / "sub", "mod", MOD)
    limits = WorkerLimits(submission_budget=2.0, call_timeout=5.0)
    with Worker(staged, ["mod"], limits=limits) as worker:
        with pytest.raises(BudgetExhausted, match=r"used up \(limit 2 s\)"):
            worker.call("mod", "sleep", 4)
        start = time.monotonic()
        outcomes = worker.call_many([Call("mod", "add", (1, 1))] * 2)
        assert all(isinstance(o, BudgetExhausted) for o in outcomes)
        assert time.monotonic() - start < 0.1
        assert worker.stats.wait_seconds >= 1.9


# --- lifecycle ---------------------------------------------------------------------------


def test_lazy_start_close_and_stats(private_tmp):
    staged = write(private_tmp / "sub", "mod", MOD)
    worker = Worker(staged, ["mod"])
    assert worker.stats.round_trips == 0
    assert list((private_tmp / "tmp").iterdir()) == []  # nothing started yet
    assert worker.call("mod", "add", 1, 2) == 3
    assert worker.stats.round_trips == 2 and worker.stats.restarts == 0  # import + call
    assert worker.stats.wait_seconds > 0
    worker.close()
    worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        worker.call("mod", "add", 1, 2)


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="the full sandbox is expected as root on Linux")
def test_protections_as_root_on_linux(shared):
    protections = shared.protections
    assert isinstance(protections, Protections)
    assert all(v for k, v in protections.to_dict().items() if k != "notes"), protections
    assert protections.notes == ()


def test_an_unclosed_worker_is_cleaned_up_when_collected(private_tmp):
    staged = write(private_tmp / "sub", "mod", MOD)
    worker = Worker(staged, ["mod"])
    assert worker.call("mod", "add", 1, 2) == 3
    del worker
    gc.collect()  # weakref.finalize: the fixture checks that nothing is left


def test_without_namespaces_the_worker_still_works(private_tmp, monkeypatch):
    """What a macOS laptop or a container without namespaces gets (simulated)."""
    monkeypatch.setattr(namespace, "probe", lambda: (None, "disabled for this test"))
    staged = write(private_tmp / "sub", "mod", MOD + """
def stubborn():
    import signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)
""")
    limits = WorkerLimits(call_timeout=0.5, kill_grace=0.2)
    with Worker(staged, ["mod"], limits=limits) as worker:
        protections = worker.protections
        assert not protections.pid_namespace and not protections.hidden_paths
        assert any("disabled for this test" in note for note in protections.notes)
        assert worker.call("mod", "add", 1, 2) == 3
        start = time.monotonic()
        with pytest.raises(StudentTimeout):
            worker.call("mod", "stubborn")  # SIGTERM ignored: SIGKILL after the grace
        assert time.monotonic() - start < 1.5
        with pytest.raises(StudentException):
            worker.call("mod", "boom", 1)
        assert worker.stats.restarts == 1


def test_no_posix_only_module_is_imported_at_import_time():
    """Students run the grader on Windows: resource, fcntl, pwd... only inside functions."""
    blocker = textwrap.dedent("""
        import sys
        for name in ("resource", "fcntl", "pwd", "grp", "termios"):
            sys.modules[name] = None
        import grader.worker.client, grader.worker.sandbox, grader.worker.errors
        import grader.worker.namespace, grader.worker.cgroup
    """)
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- pure parts ---------------------------------------------------------------------------


def test_hiding_plan_puts_needed_paths_back(tmp_path):
    for d in ("home/a/course/.venv/numpy", "home/a/course/solutions", "home/b", "tmp/x"):
        (tmp_path / d).mkdir(parents=True)
    home, course = tmp_path / "home", tmp_path / "home/a/course"
    numpy_dir = course / ".venv/numpy"
    plan = namespace.hiding_plan(
        hidden=[home, tmp_path / "home/b", course / "solutions", tmp_path / "absent"],
        keep=[numpy_dir, numpy_dir / "core", course],
    )
    assert plan == [(home, [course]), (course / "solutions", [])]


def test_every_message_renders():
    params = dict(names=["relu"], seconds="10", signal_description="segmentation fault",
                  signal=11, exit_code=0, exc_type="ValueError", exc_message="m", file="a.py",
                  line=3, limit_mib=1024, limit=64, type_name="Foo", reason="r",
                  module="activations", function_name="relu", detail="d", epoch=7,
                  hung="sigmoid", absent="matplotlib")
    for code in MESSAGES:
        if code.startswith("reason.") or code == "one_of":
            continue
        assert StudentCodeError(code, **params).message
    nested = {"code": "reason.exception_line", "params": params}
    err = ImportFailed("import_failed", module="activations", reason=nested)
    assert err.message == "importing activations.py failed: ValueError: m (line 3)"
    for code in [c for c in MESSAGES if c.startswith("reason.")]:
        assert errors._fill(MESSAGES, code, params)


def test_messages_for_batches_and_pickling():
    err = StudentTimeout("timeout", function="a.relu", names=["relu", "relu_derivative"],
                         seconds="20")
    assert err.message == "one of relu, relu_derivative did not return within 20 s"
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is StudentTimeout and copy.message == err.message
    assert copy.function == "a.relu"
    with pytest.raises(ValueError):
        StudentCodeError("no-such-code")


@pytest.mark.parametrize("reply", [
    None, [], {"id": 1, "results": []}, {"id": 2, "results": [{"ok": 1}], "stdout": ""},
    {"id": True, "results": [{"ok": 1}], "stdout": ""},
    {"id": 1, "results": [{"ok": 1}, {"ok": 2}], "stdout": ""},
    {"id": 1, "results": [{"ok": 1, "error": 2}], "stdout": ""},
    {"id": 1, "results": [{"error": {"kind": "exception"}}], "stdout": ""},
    {"id": 1, "results": [{"error": {"kind": "evil", "type": "", "message": "", "frames": [],
                                     "detail": ""}}], "stdout": ""},
    {"id": 1, "results": [{"error": {"kind": "exception", "type": "E", "message": "",
                                     "frames": [["f.py", "3", "g"]], "detail": ""}}],
     "stdout": ""},
    {"id": 1, "results": [{"ok": 1}], "stdout": "x" * 70000},
])
def test_malformed_replies_are_refused(reply):
    with pytest.raises(ValueError):
        check_reply(reply, 1, 1)
