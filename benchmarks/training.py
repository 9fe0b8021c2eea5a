"""Benchmark: Day 65's grid with the reference solution, lockstep against verified
training (not a test).

Ways, each with the solution's functions in real workers, in one run:
- lockstep: every step's calls cross to the worker (the baseline; what the
  first-epoch blame uses);
- verified, 1 trainer: a second worker trains and reports its states, the
  grader recomputes every transition through the first (grader/experiments/verify.py);
- verified, 2 trainers: as `hwgrade check` runs it.
All must give bit for bit the same results; the figures are wall seconds and the
ratio to lockstep. --epochs 100 keeps lockstep's batch-size-1 run short.

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
from grader.experiments.run import experiment_binding, experiment_grid  # noqa: E402
from grader.experiments.verify import VerifiedTraining  # noqa: E402
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
    binding = experiment_binding(assignment)
    settings = assignment.settings["experiments"]
    grid = [dataclasses.replace(e.config, epochs=args.epochs) for e in experiment_grid(settings)]
    groups = {key: [(config, seed) for seed in settings["seeds"]]
              for key, config in enumerate(grid)}
    evaluated = set(range(int(settings["early_epochs"]))) | set(
        range(report.CURVE_EVERY - 1, args.epochs, report.CURVE_EVERY))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}; {len(grid)} configurations x {len(settings['seeds'])} "
          f"seeds x {args.epochs} epochs; wall seconds, best of {args.repeats}")
    trainers_of = {"lockstep": 0, "verified, 1 trainer": 1, "verified, 2 trainers": 2}
    times: dict[str, list[float]] = {way: [] for way in trainers_of}
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
                            got = train_in_lockstep(proxy.call_many, groups, binding=binding,
                                                    eval_epochs=evaluated)
                        else:
                            trainers = [proxy.sibling() for _ in range(trainers_of[way])]
                            training = VerifiedTraining(trainers, groups, binding=binding,
                                                        eval_epochs=evaluated)
                            try:
                                got = training.results(proxy)
                            finally:
                                training.close()
                    times[way].append(time.perf_counter() - start)
                    prints[way] = fingerprint(got)
    if len({repr(p) for p in prints.values()}) != 1:
        sys.exit("the ways gave different results")
    base = min(times["lockstep"])
    for way, seconds in times.items():
        print(f"{way:>20}: {min(seconds):6.1f} s  {base / min(seconds):4.1f}x   "
              f"(all: {', '.join(f'{s:.1f}' for s in seconds)})")
    print("identical results: yes")


if __name__ == "__main__":
    main()
