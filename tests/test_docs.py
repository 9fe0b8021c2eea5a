"""Every command the README and the guides under docs/ show is run, and prints what the
guide shows (by shape: numbers and spacing aside; see tests/doc_commands.py)."""

from __future__ import annotations

import os
import subprocess

import pytest
from doc_commands import GUIDES, ROOT, Shown, same_shape, shape, shown_commands

SHOWN = shown_commands()


LINKED = ("solutions", "assignments", "tests", "docs")


def run(shown: Shown, tmp_path) -> subprocess.CompletedProcess:
    # stderr into stdout, unbuffered: the lines in the order a terminal shows them
    env = {**os.environ, "LC_ALL": shown.lang, "LANG": shown.lang, "COLUMNS": "100",
           "PYTHONUNBUFFERED": "1"}
    env.pop("LC_MESSAGES", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    cwd = shown.cwd
    if cwd is None:
        cwd = tmp_path / "work"
        cwd.mkdir()
        for name in LINKED:
            (cwd / name).symlink_to(ROOT / name, target_is_directory=True)
    return subprocess.run(shown.argv(), cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)


# Most are whole gradings or trainings of seconds each: slow tests, all of them
@pytest.mark.slow
@pytest.mark.parametrize("shown", [pytest.param(s, id=s.id) for s in SHOWN])
def test_a_shown_command_prints_what_its_guide_shows(shown, tmp_path):
    done = run(shown, tmp_path)
    assert done.returncode == shown.exit_code, done.stdout[-3000:]
    printed = done.stdout.splitlines()
    mismatch = same_shape(shown.output, printed)
    assert mismatch is None, f"{shown.id}: {mismatch!r} not printed; got:\n" + "\n".join(
        printed[:80])


def test_the_guides_show_commands_and_every_guide_is_linked_from_the_readme():
    assert SHOWN, "no ```console block in the guides"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in GUIDES[1:]:
        assert str(guide.relative_to(ROOT)) in readme, guide


def test_shapes_ignore_numbers_and_spacing_and_dots_skip_lines():
    assert shape("Score: 85/85  (54 checks: 54 passed)") == "Score: #/# (# checks: # passed)"
    assert shape("0.085 (0.046-0.116) 1e-9") == "# (#-#) #"
    assert same_shape(["a 1", "...", "z"], ["a 2", "b", "c", "z"]) is None
    assert same_shape(["a", "...", "b 1", "c"], ["a", "b 1", "b 2", "c"]) is None  # backtracks
    assert same_shape(["a", "y"], ["a", "b"]) == "y"
    assert same_shape(["a"], ["a", "b"]).startswith("(the lines are there")
    assert same_shape(["a", "..."], ["a", "b"]) is None
