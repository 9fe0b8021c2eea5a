"""Benchmark: 500-epoch spiral runs per second, for the handout's setting.

Setting: spiral, all 7 features, one hidden layer of 8 tanh nodes, tanh output,
learning rate 0.03, batch size 10, no regularization, 500 epochs, train and
test loss after every epoch (as Playground reports them).

Variants, all float64 and the same arithmetic (per-batch mean gradient of
0.5 * (out - label)^2, plain SGD, batches of 10 in fixed order):
  engine-64  grader.playground.engine.train on 64 seeds in one call (vectorized)
  engine-1   the same on 1 seed
  oracle     tests/playground_oracle.py, a per-example pure-Python port of nn.ts
  torch      PyTorch on CPU, one run at a time, autograd + manual SGD step

The engine timings include make_problem (data and initial weights); the oracle
and torch timings do not. The oracle and torch are too slow for 500 epochs, so
they are timed on a few epochs and scaled to 500 (their per-epoch cost is flat).

Results are ratios measured in one run, because absolute times depend on the
machine (2 cores here) and on whatever else is running on it. Targets: engine-64
at least 100x the per-run speed of the oracle and of torch, and 64 runs x 500
epochs in under 2 s of wall time.

    /tmp/venv/bin/python benchmarks/engine.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playground_oracle import train_oracle  # noqa: E402

from grader.playground.config import TrainConfig  # noqa: E402
from grader.playground.engine import train  # noqa: E402
from grader.playground.features import ALL_FEATURES  # noqa: E402
from grader.playground.problem import make_problem  # noqa: E402

EPOCHS = 500  # what "one run" means in runs/s
N_RUNS = 64
LR, BATCH = 0.03, 10


def config(epochs: int) -> TrainConfig:
    return TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,), activation="tanh",
                       learning_rate=LR, batch_size=BATCH, regularization=None,
                       regularization_rate=0, epochs=epochs)


def best_time(fn, repeats: int) -> float:
    """Best of `repeats` wall times of fn(), after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def engine_fn(n_runs: int, epochs: int, jobs: int = 1):
    runs = [(config(epochs), seed) for seed in range(n_runs)]
    return lambda: train(runs, jobs=jobs)


def oracle_fn(epochs: int):
    p = make_problem(config(epochs), 0)
    return lambda: train_oracle(p.x_train, p.y_train, p.x_test, p.y_test, p.weights, p.biases,
                                activation="tanh", learning_rate=LR, batch_size=BATCH,
                                regularization=None, regularization_rate=0, epochs=epochs)


def torch_fn(torch, epochs: int):
    """One run in PyTorch, from make_problem's data and weights; returns its curve."""
    p = make_problem(config(epochs), 0)
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    x_train, y_train, x_test, y_test = t(p.x_train), t(p.y_train), t(p.x_test), t(p.y_test)
    n = len(y_train)
    assert n % BATCH == 0, "no leftover batch (Playground's carry-over quirk) in this setting"
    batches = [(x_train[i:i + BATCH], y_train[i:i + BATCH]) for i in range(0, n, BATCH)]

    def run():
        w1, w2 = (t(w).requires_grad_() for w in p.weights)  # (8, 7), (1, 8)
        b1, b2 = (t(b).requires_grad_() for b in p.biases)
        params = (w1, b1, w2, b2)
        forward = lambda x: torch.tanh(torch.tanh(x @ w1.T + b1) @ w2.T + b2)[:, 0]  # noqa: E731
        curve = []
        for _ in range(epochs):
            for x, y in batches:
                loss = (0.5 * (forward(x) - y) ** 2).sum() / len(y)
                loss.backward()
                with torch.no_grad():
                    for q in params:
                        q -= LR * q.grad
                        q.grad = None
            with torch.no_grad():
                curve.append(((0.5 * (forward(x_train) - y_train) ** 2).mean().item(),
                              (0.5 * (forward(x_test) - y_test) ** 2).mean().item()))
        return np.array(curve)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few epochs and repeats (smoke test)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    args = parser.parse_args()
    engine_epochs, oracle_epochs, torch_epochs, repeats = (
        (20, 1, 5, 1) if args.quick else (EPOCHS, 5, 20, 3))

    try:
        import torch
    except ImportError:
        torch = None
    env = {
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "torch_threads": torch.get_num_threads() if torch else None,
        "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "quick": args.quick,
    }
    print("  ".join(f"{k}={v}" for k, v in env.items()))

    # (name, seconds per 500-epoch run, note)
    rows = []

    def measure(name, fn, n_runs, epochs, reps, note=""):
        seconds = best_time(fn, reps)
        rows.append((name, seconds / n_runs * EPOCHS / epochs, note))
        print(f"  timed {name}: {seconds:.3f} s for {n_runs} run(s) x {epochs} epochs "
              f"(best of {reps})", flush=True)
        return seconds

    wall_64 = measure("engine-64", engine_fn(N_RUNS, engine_epochs), N_RUNS, engine_epochs,
                      repeats) * EPOCHS / engine_epochs
    measure("engine-64j2", engine_fn(N_RUNS, engine_epochs, jobs=2), N_RUNS, engine_epochs,
            repeats, "the same 64 runs split over 2 processes (train(jobs=2))")
    measure("engine-1", engine_fn(1, engine_epochs), 1, engine_epochs, repeats)
    measure("oracle", oracle_fn(oracle_epochs), 1, oracle_epochs, repeats,
            f"timed {oracle_epochs} epochs, scaled to {EPOCHS}")
    torch_diff = None
    if torch is None:
        print("  torch: skipped: torch not installed")
    else:
        # Same work? Compare the epoch-1 losses with the engine's, once.
        engine_curve = train([(config(1), 0)])[0].curve
        torch_diff = float(np.abs(torch_fn(torch, 1)() - engine_curve).max())
        print(f"  torch vs engine, |loss difference| after epoch 1: {torch_diff:.2e}")
        measure("torch", torch_fn(torch, torch_epochs), 1, torch_epochs, repeats,
                f"timed {torch_epochs} epochs, scaled to {EPOCHS}; {env['torch_threads']} threads")

    base = rows[0][1]
    print(f"\n{EPOCHS}-epoch spiral runs (7 features, 8 tanh, lr {LR}, batch {BATCH})"
          + (" [QUICK: scaled from short runs]" if args.quick else ""))
    print(f"{'variant':<10} {'runs/s':>10} {'s/run':>10} {'engine-64 is':>13}  note")
    for name, per_run, note in rows:
        print(f"{name:<10} {1 / per_run:>10.3f} {per_run:>10.4f} {per_run / base:>12.1f}x  {note}")

    per_run = {name: s for name, s, _ in rows}
    ratios = {k: per_run[k] / base for k in ("oracle", "torch") if k in per_run}
    print()
    for k, r in ratios.items():
        print(f"engine-64 per-run speed vs {k}: {r:.0f}x (target >= 100x) "
              f"{'MET' if r >= 100 else 'NOT MET'}")
    print(f"wall time, {N_RUNS} runs x {EPOCHS} epochs: {wall_64:.2f} s (target < 2 s) "
          f"{'MET' if wall_64 < 2 else 'NOT MET'}")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "env": env, "epochs_per_run": EPOCHS,
            "seconds_per_run": per_run, "runs_per_second": {k: 1 / s for k, s in per_run.items()},
            "engine64_speedup": ratios, "wall_64_runs_seconds": wall_64,
            "torch_epoch1_loss_diff": torch_diff,
        }, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
