"""Benchmark: `hwgrade grade` throughput (submissions per minute) at --jobs 1 and 2.

Fixed mixes, built fresh in a temporary folder for every run (no journal to resume):
  day65  the reference solution, 3 alternative correct solutions (one a notebook) and
         4 mutants from tests/day65_submissions (8 submissions)
  demo   tests/demo_assignment: 6 correct (folder, zip, notebook, .py), 4 wrong,
         2 hostile (an infinite loop, os._exit), 1 syntax error, 1 empty folder (14)

Each figure is the wall time of the real command (`python -m grader grade ... -q`), so
it includes starting the grader processes, scanning, hashing and writing the outputs.
The target (issue 5): on 2 cores, --jobs 2 at least 1.6x --jobs 1. Figures depend on
the machine and on whatever else runs on it: the load average is printed with them.

    /tmp/venv/bin/python benchmarks/batch.py [--mix day65|demo|both] [--repeat N] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

DAY65_SUBMISSIONS = ROOT / "tests" / "day65_submissions"
DAY65_MIX = {
    "solution": ROOT / "solutions" / "day65",
    "alt_clipped": DAY65_SUBMISSIONS / "alternatives" / "clipped_and_scalar",
    "alt_masks": DAY65_SUBMISSIONS / "alternatives" / "masks_and_split",
    "alt_notebook": DAY65_SUBMISSIONS / "alternatives" / "notebook",
}
DAY65_MUTANTS = ["relu_in_place", "sigmoid_float32", "update_no_l1_clip",
                 "minibatch_off_by_one_long"]


def build_day65(root: Path) -> Path:
    sys.path.insert(0, str(DAY65_SUBMISSIONS))
    import mutants  # tests/day65_submissions/mutants.py

    for name, source in DAY65_MIX.items():
        shutil.copytree(source, root / name)
    for name in DAY65_MUTANTS:
        mutants.build(name, root).rename(root / f"mut_{name}")
    return ROOT / "assignments" / "day65"


def build_demo(root: Path) -> Path:
    from batch_submissions import CORRECT, SQUARE, WRONG_SQUARE, _notebook, with_safe_div

    def folder(name: str, source: str) -> None:
        (root / name).mkdir()
        (root / name / "mathy.py").write_text(source, encoding="utf-8")

    for n in range(3):
        folder(f"correct{n}", CORRECT)
    with zipfile.ZipFile(root / "zipped.zip", "w") as archive:
        archive.writestr("mathy.py", CORRECT)
    _notebook(root / "notebook.ipynb", CORRECT)
    (root / "single.py").write_text(CORRECT, encoding="utf-8")
    for n in range(3):
        folder(f"wrong{n}", WRONG_SQUARE)
    folder("missing", SQUARE)
    folder("loops", with_safe_div("while True:\n    pass\n"))
    folder("exits", with_safe_div("import os\nos._exit(0)\n"))
    folder("syntax", "def square(x):\n    return x *\n")
    (root / "empty").mkdir()
    return ROOT / "tests" / "demo_assignment"


MIXES = {"day65": build_day65, "demo": build_demo}


def run(mix: str, jobs: int) -> tuple[float, int]:
    """Seconds of wall time for one batch, and the number of submissions."""
    with tempfile.TemporaryDirectory(prefix="hwgrade-bench-") as tmp:
        subs = Path(tmp, "subs")
        subs.mkdir()
        assignment = MIXES[mix](subs)
        count = len(os.listdir(subs))
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(assignment),
                               str(subs), "-o", str(Path(tmp, "out")), "--jobs", str(jobs),
                               "--quiet"], cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"hwgrade grade failed ({proc.returncode}):\n{proc.stderr}")
        return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mix", choices=["day65", "demo", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per setting, interleaved; the best is reported")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{platform.node()}: {cpus} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")
    figures = {}
    for mix in (["day65", "demo"] if args.mix == "both" else [args.mix]):
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeat):  # interleaved, so that a busy spell hits both
            for jobs in (1, 2):
                seconds, count = run(mix, jobs)
                times[jobs].append(seconds)
                print(f"  {mix} --jobs {jobs}: {seconds:.1f} s", flush=True)
        per_jobs = {}
        for jobs in (1, 2):
            best = min(times[jobs])
            per_jobs[jobs] = {"seconds": [round(t, 2) for t in times[jobs]],
                              "submissions": count, "per_minute": round(60 * count / best, 1)}
            print(f"{mix:<6} --jobs {jobs}: {count} submissions in {best:6.1f} s (best of "
                  f"{args.repeat}) = {60 * count / best:6.1f} submissions/min")
        speedup = per_jobs[2]["per_minute"] / per_jobs[1]["per_minute"]
        print(f"{mix:<6} speed-up --jobs 2 / --jobs 1: {speedup:.2f}x (target >= 1.6x)")
        figures[mix] = {"jobs": per_jobs, "speedup": round(speedup, 2)}
    if hasattr(os, "getloadavg"):
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"cpus": cpus, "figures": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
