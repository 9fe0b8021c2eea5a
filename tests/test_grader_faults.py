"""Faults of the grader or the assignment are reported as such, never blamed on
the student; the grader imports where POSIX-only modules do not exist."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from grader.assignment import find_assignment
from grader.cli import main
from grader.grading import grade_submission

HERE = Path(__file__).parent


def demo_copy(tmp_path: Path, extra_check: str, total: int = 10) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(HERE / "demo_assignment", folder)
    (folder / "checks" / "test_extra.py").write_text(textwrap.dedent(extra_check))
    manifest = folder / "assignment.toml"
    manifest.write_text(manifest.read_text().replace("total = 10", f"total = {total}"))
    return folder


def test_a_bug_in_a_check_is_the_graders_error_not_a_failure(tmp_path):
    folder = demo_copy(tmp_path, """
        import pytest

        @pytest.mark.points(1)
        def test_buggy(submission):
            '''a check with a bug in it'''
            return {}["missing"]
    """, total=11)
    result = grade_submission(find_assignment(str(folder)), HERE / "demo_solution")
    buggy = next(c for c in result.checks if c.name == "buggy")
    assert buggy.status == "error"
    assert "bug in hwgrade" in buggy.message and "not in your code" in buggy.message
    assert "KeyError" in buggy.details
    assert result.score == 10 and not result.all_passed


def test_a_check_file_that_does_not_import_stops_with_exit_3(tmp_path):
    folder = demo_copy(tmp_path, "import nonexistent_module_xyz\n")
    result = CliRunner().invoke(main, ["check", str(folder), str(HERE / "demo_solution")])
    assert result.exit_code == 3
    assert "not in your code" in result.output and "nonexistent_module_xyz" in result.output


def test_points_that_do_not_add_up_to_the_manifest_total_are_an_assignment_error(tmp_path):
    folder = demo_copy(tmp_path, "", total=12)
    result = CliRunner().invoke(main, ["check", str(folder), str(HERE / "demo_solution")])
    assert result.exit_code == 3
    assert "worth 10 points, but assignment.toml says 12" in result.output
    # a partial run (--only, or no hidden checks) is not held to the total
    result = CliRunner().invoke(main, ["check", str(folder), str(HERE / "demo_solution"),
                                       "--no-hidden"])
    assert result.exit_code == 0


def test_a_check_without_points_is_an_assignment_error(tmp_path):
    folder = demo_copy(tmp_path, "def test_unpointed(submission):\n    pass\n")
    result = CliRunner().invoke(main, ["check", str(folder), str(HERE / "demo_solution")])
    assert result.exit_code == 3 and "no points marker" in result.output


POSIX_ONLY = ["resource", "fcntl", "pwd", "grp", "termios", "pty", "posix"]


def test_grader_modules_import_without_posix_only_modules():
    # Windows and macOS students import the same modules: block what Windows lacks.
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in {POSIX_ONLY!r}:
                    raise ImportError('blocked: ' + name)
        sys.meta_path.insert(0, Block())
        import grader.cli, grader.grading, grader.worker.client, grader.worker.sandbox
        import grader.worker.namespace, grader.worker.cgroup, grader.submission
        print('ok')
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_a_ctrl_c_whose_keyboardinterrupt_python_drops_still_stops_the_check(tmp_path):
    """Python only prints an exception raised in a __del__ or a gc callback (hypothesis
    has one): a Ctrl-C that lands there must still end the grading as interrupted."""
    folder = demo_copy(tmp_path, """
        import signal
        import pytest

        class Dropped:
            def __del__(self):
                signal.raise_signal(signal.SIGINT)  # the handler raises inside __del__

        @pytest.mark.points(1)
        def test_signal_in_a_finalizer(submission):
            '''a check during which the student pressed Ctrl-C'''
            Dropped()
    """, total=11)
    result = CliRunner().invoke(main, ["check", str(folder), str(HERE / "demo_solution"),
                                       "--lang", "en"])
    assert result.exit_code == 130, result.output
    assert "interrupted: nothing was graded" in result.output
    assert "Score" not in result.output


def test_grading_leaves_the_callers_hypothesis_settings_as_they_were():
    from hypothesis import settings

    # derandomize given: with CI set, hypothesis's "ci" profile is the default
    settings.register_profile("caller-test", max_examples=7, deadline=1234,
                              derandomize=False)
    before = settings.default
    settings.load_profile("caller-test")
    try:
        grade_submission(find_assignment(str(HERE / "demo_assignment")), HERE / "demo_solution")
        assert settings.default.max_examples == 7
        assert settings.default.deadline == settings(deadline=1234).deadline
        assert settings.default.derandomize is False  # not the grading's profile
    finally:
        settings.register_profile("caller-restore", before)
        settings.load_profile("caller-restore")
