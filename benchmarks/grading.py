"""Benchmark: `hwgrade check day65` on the reference solution (not a test).

Grades the reference solution several times, each in a fresh process exactly
as a student runs it, and reports the wall time, the time the grader spent
waiting on the student's worker (round trips), and where the check time went.
The issue's target: all checks and experiments within 30 s on a 2-core machine.

    python benchmarks/grading.py [--repeats 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def grade_once() -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(ROOT / "assignments" / "day65"),
         str(ROOT / "solutions" / "day65"), "--format", "json"],
        capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"grading failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {args.repeats}")
    runs = [grade_once() for _ in range(args.repeats)]
    wall, result = min(runs, key=lambda r: r[0])
    timings = result["timings"]
    by_kind: dict[str, float] = defaultdict(float)
    for check in result["checks"]:
        kind = "experiments" if check["name"].startswith("exercise") else (
            "hidden function checks" if check["hidden"] else "public function checks")
        by_kind[kind] += check["duration"]
    figures = {
        "score": f"{result['score']:g}/{result['max_score']:g}",
        "wall_seconds": round(wall, 2),
        "grading_seconds": round(timings["total"], 2),
        "worker_wait_seconds": round(timings["worker_wait"], 2),
        "worker_round_trips": timings["worker_round_trips"],
        "worker_wait_share": round(timings["worker_wait"] / timings["total"], 3),
        "check_seconds": {k: round(v, 2) for k, v in sorted(by_kind.items())},
        "all_wall_seconds": [round(w, 2) for w, _ in runs],
    }
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    print(f"target: within 30 s -> {'MET' if wall <= 30 else 'NOT MET'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
