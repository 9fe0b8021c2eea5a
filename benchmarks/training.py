"""Benchmark: Day 65's 500-epoch grid with the reference solution, lockstep against
twin training (not a test).

The grid of the 500-epoch checks (21 configurations x seeds 0-7) trained with
the reference solution in a real (sandboxed) worker, three ways in the same run:

- lockstep: every step's calls cross to the worker (the baseline; what blame
  and the fallback of a twin training use);
- twin: the worker trains on its own, the grader with its guesses, the result
  digests are compared (grader/experiments/twin.py);
- twin + sibling: as the checks run it, the worker side in a second worker, the
  cheapest stacks left to the first (here without the head start the function
  checks give the sibling in `hwgrade check`).

All three must give identical results; the figures are wall seconds and the
ratio to lockstep.

    python benchmarks/training.py [--epochs 500] [--repeats 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import find_assignment  # noqa: E402
from grader.checks.proxy import SubmissionProxy  # noqa: E402
from grader.experiments import report  # noqa: E402
from grader.experiments.lockstep import train_in_lockstep  # noqa: E402
from grader.experiments.run import experiment_grid  # noqa: E402
from grader.experiments.twin import TwinTraining, train_twinned  # noqa: E402
from grader.submission import Requirement, stage_submission  # noqa: E402
from grader.worker.client import Worker, WorkerLimits  # noqa: E402


def fingerprint(results: dict) -> list:
    return [(key, [(r.curve.tobytes(), [w.tobytes() for w in r.weights]) for r in runs])
            for key, runs in sorted(results.items())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    assignment = find_assignment(str(ROOT / "assignments" / "day65"))
    settings = assignment.settings["experiments"]
    grid = [dataclasses.replace(e.config, epochs=args.epochs) for e in experiment_grid(settings)]
    groups = {key: [(config, seed) for seed in settings["seeds"]]
              for key, config in enumerate(grid)}
    evaluated = set(range(int(settings["early_epochs"]))) | set(
        range(report.CURVE_EVERY - 1, args.epochs, report.CURVE_EVERY))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}; {len(grid)} configurations x {len(settings['seeds'])} "
          f"seeds x {args.epochs} epochs; wall seconds, best of {args.repeats}")
    times: dict[str, list[float]] = {"lockstep": [], "twin": [], "twin + sibling": []}
    prints = {}
    with tempfile.TemporaryDirectory() as tmp:
        staged = stage_submission(ROOT / "solutions" / "day65",
                                  Requirement(assignment.modules), Path(tmp) / "staged")
        limits = WorkerLimits(submission_budget=3600)
        with Worker(staged.dest, staged.modules, limits=limits,
                    hidden_paths=assignment.private_paths()) as worker:
            proxy = SubmissionProxy(worker, staged)
            proxy.call_many([("minibatch", "minibatches", (10, 3))])  # started, imported
            for _ in range(args.repeats):
                for way in times:
                    start = time.perf_counter()
                    with proxy.fast_lane():
                        if way == "lockstep":
                            got = train_in_lockstep(proxy.call_many, groups,
                                                    eval_epochs=evaluated)
                        elif way == "twin":
                            got = train_twinned(proxy, groups, eval_epochs=evaluated)
                        else:
                            sibling = proxy.sibling()
                            try:
                                got = TwinTraining(sibling, groups, evaluated,
                                                   late_share=0.15).results(proxy)
                            finally:
                                sibling.close()
                    times[way].append(time.perf_counter() - start)
                    prints[way] = fingerprint(got)
    if not prints["twin"] == prints["twin + sibling"] == prints["lockstep"]:
        sys.exit("the three ways gave different results")
    base = min(times["lockstep"])
    for way, seconds in times.items():
        print(f"{way:>15}: {min(seconds):6.1f} s  {base / min(seconds):4.1f}x   "
              f"(all: {', '.join(f'{s:.1f}' for s in seconds)})")
    print("identical results: yes")


if __name__ == "__main__":
    main()
