"""Benchmark: a correct submission graded beside a fork bomb (not a test).

Grades the Day 65 reference solution with `hwgrade grade --jobs 2`, once in a
class of its own and once in a class with a submission whose `linear` is a fork
bomb, interleaved `--repeats` times, and reports the median of the correct
submission's own grading time (its gradebook `duration`) in each, and their
ratio. The worker tree of the fork bomb shares one CPU (a cgroup quota), so the
neighbour should slow the correct grading by at most 1.5x (the issue's target);
the fork bomb's own grading time is printed too (target: within 60 s).

    python benchmarks/hostile_neighbour.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "day65"
FORK_BOMB = ("def linear(z):\n", "    import os\n    while True:\n        try:\n"
                                 "            os.fork()\n        except OSError:\n"
                                 "            pass\n")


def make_class(root: Path, with_bomb: bool) -> Path:
    shutil.copytree(SOLUTION, root / "correct")
    if with_bomb:
        bomb = root / "bomb"
        shutil.copytree(SOLUTION, bomb)
        source = (bomb / "activations.py").read_text(encoding="utf-8")
        anchor, body = FORK_BOMB
        at = source.index(anchor) + len(anchor)
        (bomb / "activations.py").write_text(source[:at] + body + source[at:], encoding="utf-8")
    return root


def grade(root: Path) -> dict[str, float]:
    """{student: seconds} from the gradebook of one `hwgrade grade --jobs 2` run."""
    out = root.parent / (root.name + "-out")
    subprocess.run([sys.executable, "-m", "grader", "grade", "day65", str(root), "-o", str(out),
                    "--jobs", "2"], cwd=ROOT, check=False, capture_output=True)
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as f:
        return {row["id"]: float(row["duration"]) for row in csv.DictReader(f)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    alone, beside, bomb = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            alone.append(grade(make_class(Path(tmp) / f"alone{k}", False))["correct"])
            times = grade(make_class(Path(tmp) / f"beside{k}", True))
            beside.append(times["correct"])
            bomb.append(times["bomb"])
            print(f"run {k + 1}: alone {alone[-1]:.1f} s, beside a fork bomb {beside[-1]:.1f} s "
                  f"(the fork bomb: {bomb[-1]:.1f} s)", flush=True)
    a, b = statistics.median(alone), statistics.median(beside)
    print(f"correct submission: alone {a:.1f} s, beside a fork bomb {b:.1f} s: "
          f"{b / a:.2f}x (target at most 1.5x); the fork bomb {statistics.median(bomb):.1f} s "
          f"(target at most 60 s)")


if __name__ == "__main__":
    main()
