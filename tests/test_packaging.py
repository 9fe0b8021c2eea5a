"""What ships: the wheel holds the grader and the public side of assignments,
never a hidden check or a solution."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_wheel_has_public_checks_but_no_hidden_checks_and_no_solutions(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("hwgrade-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "grader/cli.py" in names and "grader/schemas/result.schema.json" in names
    assert "assignments/day65/assignment.toml" in names
    assert "assignments/day65/checks/test_activations.py" in names
    assert "assignments/day65/starter/activations.py" in names
    # Student-facing texts: the grader's and the public checks' catalogs, never the hidden's.
    assert {"grader/locale/en.toml", "grader/locale/zh-TW.toml",
            "assignments/day65/locale/en.toml", "assignments/day65/locale/zh-TW.toml"} <= set(names)
    assert not [n for n in names if "/hidden/" in n or n.startswith("solutions")]
    assert not [n for n in names if n.startswith("tests/")]
    hidden_sources = {p.name for p in (ROOT / "assignments" / "day65" / "hidden").glob("*.py")}
    assert hidden_sources and not [n for n in names if Path(n).name in hidden_sources]
