"""Hostile and broken submissions: each gets exactly the points its real values
earn, nothing leaks, and grading always finishes.

Every submission below has a correct `square` (worth 5 points with its
dependent check) unless the attack is at import time; the attack sits in
`safe_div` (worth 2 + 3 hidden points) or at the module's top level.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from grader.assignment import find_assignment
from grader.grading import grade_submission

HERE = Path(__file__).parent
DEMO = find_assignment(str(HERE / "demo_assignment"))
SECRET = "demo-hidden-check-secret-7f3a"

SQUARE = """
import numpy as np

def square(x):
    x = np.asarray(x, dtype=np.float64)
    return x * x
"""


def with_safe_div(body: str, prelude: str = "") -> str:
    return textwrap.dedent(prelude) + SQUARE + "\n\ndef safe_div(a, b):\n" + textwrap.indent(
        textwrap.dedent(body), "    ")


HIDDEN_FILE = str(HERE / "demo_assignment" / "hidden" / "test_mathy_hidden.py")

# name -> (source, expected score); square's 5 points stay whenever import works.
IN_A_CALL = {
    "infinite_loop": ("while True:\n    pass\n", 5),
    "sleep_ignoring_sigterm": (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(3600)\n",
        5),
    "allocate_10_gb": ("x = np.ones(10 * 2**30 // 8)\nreturn x\n", 5),
    "fork_bomb": ("import os\nwhile True:\n    os.fork()\n", 5),
    "fork_outlives_call": (
        "import os, time\nif os.fork() == 0:\n    time.sleep(3600)\n"
        "a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)\n"
        "return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))\n", 10),
    "os_exit": ("import os\nos._exit(0)\n", 5),
    "sys_exit": ("import sys\nsys.exit(0)\n", 5),
    "keyboard_interrupt": ("raise KeyboardInterrupt\n", 5),
    "print_fake_results": (
        "print('100/100'); print('{\"score\": 10, \"max_score\": 10}')\n"
        "import sys; sys.stdout.write('Score: 10/10\\n')\nreturn a\n", 5),
    "flood_stdout_stderr": (
        "import sys\nsys.stdout.write('x' * 100_000_000)\nsys.stderr.write('y' * 100_000_000)\n"
        "return np.zeros(np.shape(a))\n", 5),
    "leak_hidden_checks": (f"raise RuntimeError(open({HIDDEN_FILE!r}).read())\n", 5),
    "kill_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", 5),
    "open_socket": (
        "import socket\ns = socket.create_connection(('127.0.0.1', 9), timeout=1)\n", 5),
    "segfault": ("import ctypes\nctypes.string_at(0)\n", 5),
    "wrong_type": ("return 'a / b'\n", 5),
    "wrong_shape": ("return np.zeros(3)\n", 5),
    "wrong_dtype": ("return np.zeros(np.shape(a), dtype=np.float32)\n", 5),
    "nan": ("return np.full(np.shape(a), np.nan)\n", 5),
    "three_gb_array": ("return np.zeros(3 * 2**30 // 8)\n", 5),
    "subclass_eq_always_true": (
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "return np.zeros(np.shape(a)).view(Liar)\n", 5),
    "array_hook_runs_code": (
        "class Sneaky:\n    def __array__(self, *args, **kwargs):\n"
        "        open('/tmp/hwgrade-pwned', 'w').write('pwned')\n"
        "        return np.array([0.5, 0.0, -0.75, 0.0])\n"
        "return Sneaky()\n", 5),
}

AT_IMPORT = {
    "loop_at_import": "while True:\n    pass\n",
    "os_exit_at_import": "import os\nos._exit(0)\n",
    "sys_exit_at_import": "import sys\nsys.exit(0)\n",
    "raise_at_import": "raise ImportError('nope')\n",
}


def grade_source(tmp_path: Path, source: str, extra: dict[str, str] | None = None):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "mathy.py").write_text(source, encoding="utf-8")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    start = time.monotonic()
    result = grade_submission(DEMO, folder)
    return result, time.monotonic() - start


def assert_no_leak(result) -> None:
    assert SECRET not in json.dumps(result.to_dict())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(IN_A_CALL))
def test_attack_in_a_call(tmp_path, name):
    body, expected = IN_A_CALL[name]
    result, seconds = grade_source(tmp_path, with_safe_div(body))
    assert result.error is None
    assert result.score == expected, [(c.name, c.status, c.message) for c in result.checks]
    checks = {c.name: c for c in result.checks}
    if expected == 5:
        assert checks["safe_div"].status == "failed"
        assert checks["safe_div"].message
        assert checks["safe_div_empty_and_0d"].status == "not_run"
    assert checks["square_values"].status == "passed"
    assert_no_leak(result)
    assert seconds < 60
    assert not Path("/tmp/hwgrade-pwned").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(AT_IMPORT))
def test_attack_at_import_fails_every_check_once(tmp_path, name):
    correct = with_safe_div("a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)\n"
                            "return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))\n")
    result, seconds = grade_source(tmp_path, AT_IMPORT[name] + correct)
    assert result.score == 0
    statuses = {c.status for c in result.checks}
    assert statuses <= {"failed", "not_run"}
    failed = [c for c in result.checks if c.status == "failed"]
    assert all("import" in c.message for c in failed), [c.message for c in failed]
    # an import that hangs is paid for once, not once per check
    assert seconds < 30


@pytest.mark.slow
def test_monkeypatching_numpy_builtins_and_pytest_stays_in_the_worker(tmp_path):
    prelude = """
    import builtins, numpy
    numpy.allclose = lambda *a, **k: True
    numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
    builtins.isinstance = lambda *a: True
    try:
        import pytest
        pytest.fail = lambda *a, **k: None
    except ImportError:
        pass
    """
    result, _ = grade_source(tmp_path, with_safe_div("return a\n", prelude))
    assert result.score == 5  # safe_div is wrong and stays wrong


@pytest.mark.slow
def test_a_submitted_conftest_is_never_loaded(tmp_path):
    conftest = ("import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
                "def pytest_runtest_makereport(item, call):\n"
                "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    result, _ = grade_source(tmp_path, with_safe_div("return a\n"),
                             extra={"conftest.py": conftest})
    assert result.score == 5


def _descendants(root: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_no_worker_processes_are_left_behind(tmp_path):
    grade_source(tmp_path, with_safe_div(IN_A_CALL["fork_outlives_call"][0]))
    deadline = time.monotonic() + 5
    while _descendants(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _descendants(os.getpid()) == []
