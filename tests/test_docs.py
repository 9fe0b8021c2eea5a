"""Every command the README and the guides under docs/ show is run, and prints what the
guide shows (by shape: numbers and spacing aside; see tests/doc_commands.py)."""

from __future__ import annotations

import os
import subprocess

import pytest
from doc_commands import GUIDES, ROOT, Shown, same_shape, shape, shown_commands

SHOWN = shown_commands()


def run(shown: Shown) -> subprocess.CompletedProcess:
    env = {**os.environ, "LC_ALL": shown.lang, "LANG": shown.lang, "COLUMNS": "100"}
    env.pop("LC_MESSAGES", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(shown.argv(), cwd=shown.cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("shown", [
    pytest.param(s, id=s.id, marks=[pytest.mark.slow] if s.slow else [])
    for s in SHOWN])
def test_a_shown_command_prints_what_its_guide_shows(shown):
    done = run(shown)
    assert done.returncode == shown.exit_code, done.stdout[-2000:] + done.stderr[-2000:]
    printed = (done.stdout + done.stderr).splitlines()
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
    assert same_shape(["a", "z"], ["a", "b", "z"]) == "z"
    assert same_shape(["a"], ["a", "b"]) == "(more output: 'b')"
    assert same_shape(["a", "..."], ["a", "b"]) is None
