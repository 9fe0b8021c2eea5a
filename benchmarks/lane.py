"""Benchmark: a training's round trips to the worker, socket against fast lane (not a test).

One round trip of a 500-epoch batch-1 training: the hidden layer's activation
and derivative of 8 runs (arrays of 8 x 1 x 8) and the previous step's update
(512 weights), to the reference solution in a real (sandboxed) worker. Both
transports in the same run, alternating, so the ratio holds on a busy machine.
The lane's goal: at least 10x fewer microseconds per round trip.

    python benchmarks/lane.py [--round-trips 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.worker import lane  # noqa: E402
from grader.worker.client import Call, Worker  # noqa: E402


def per_round_trip(worker: Worker, calls: list[Call], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        worker.call_many(calls)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not lane.supported():
        sys.exit("the fast lane needs Linux on x86-64")
    rng = np.random.default_rng(0)
    z = rng.normal(size=(8, 1, 8))
    w, g = rng.normal(size=512), rng.normal(size=512)
    calls = [Call("activations", "tanh", (z,)), Call("activations", "tanh_derivative", (z,)),
             Call("regularization", "regularized_update", (w, g, 0.03, 0.0, None))]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}; microseconds per round trip, best of {args.repeats}")
    socket_us, lane_us = [], []
    with Worker(ROOT / "solutions" / "day65",
                ["activations", "regularization", "minibatch"]) as worker:
        worker.call_many(calls)  # start the worker outside the timing
        for _ in range(args.repeats):
            socket_us.append(per_round_trip(worker, calls, args.round_trips))
            with worker.fast_lane():
                lane_us.append(per_round_trip(worker, calls, args.round_trips))
    best_socket, best_lane = min(socket_us), min(lane_us)
    print(f"socket: {best_socket:7.1f} us   (all: {', '.join(f'{u:.0f}' for u in socket_us)})")
    print(f"lane:   {best_lane:7.1f} us   (all: {', '.join(f'{u:.0f}' for u in lane_us)})")
    print(f"lane is {best_socket / best_lane:.1f}x faster (goal: 10x)")


if __name__ == "__main__":
    main()
