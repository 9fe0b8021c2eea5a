"""Day 65 mutants: the reference solution with one plausible student bug each.

mutants.toml says, per mutant, which solution file to change (`file`), the text
to replace (`old`, found exactly once) and its buggy version (`new`), plus the
function the bug is in and the checks that must catch it. Building mutants
from the solution keeps them in step with it: a change to the solution that
touches a mutated passage makes `build` fail loudly instead of testing a
stale copy.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).parent
SOLUTION = HERE.parents[1] / "solutions" / "day65"
MUTANTS: dict[str, dict] = tomllib.loads((HERE / "mutants.toml").read_text(encoding="utf-8"))


def build(name: str, dest: Path) -> Path:
    """Write mutant `name` into dest/name (a folder of the three modules)."""
    spec = MUTANTS[name]
    folder = dest / name
    shutil.copytree(SOLUTION, folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / spec["file"]
    text = target.read_text(encoding="utf-8")
    if text.count(spec["old"]) != 1:
        raise ValueError(f"mutant {name}: its `old` text is not exactly once in {spec['file']}")
    target.write_text(text.replace(spec["old"], spec["new"], 1), encoding="utf-8")
    return folder
