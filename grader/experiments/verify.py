"""Training with a student's functions: the worker trains, the grader verifies.

A worker trains every run of a stack with the student's functions on its own
(grader/playground/calls.py: record_trajectory), a block of epochs at a time,
and reports each run's state at every epoch boundary. Nothing it reports is
believed as such:

1. the grader builds each run's initial network itself and requires the
   reported state 0 to be it (and each later block to start where the verified
   part ends);
2. it recomputes every reported transition at once: the (epoch, run) items are
   stacked, in chunks that stay in cache, and one epoch of steps is run for all
   of them, the student's functions answering each step's calls for a whole
   round of chunks in one round trip (lockstep.serve_together);
3. a transition counts only when the recomputed end state equals the reported
   one bit for bit (states.same_bits). By induction the verified trajectory is
   exactly what a lockstep training with the served functions reaches; the
   losses, divergence and final networks are computed from it, by the grader.

A run the worker says failed is recomputed at the epoch it failed in: the error
then comes from the grader's own call. A transition that does not verify fails
its run as Unverified, naming the function whose answers changed when a second
recomputation in the worker that trained tells it.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from grader.experiments.lockstep import Calls, StudentCalls, serve_together, stack_runs
from grader.playground.binding import Binding
from grader.playground.config import TrainConfig
from grader.playground.datasets import NUM_SAMPLES
from grader.playground.engine import (
    ComponentError,
    RunResult,
    _checked_batches,
    _data,
    initial_parameters,
    stack_order,
)
from grader.playground.problem import make_problem
from grader.playground.rng import Seed
from grader.playground.states import Layout, same_bits, schedule
from grader.playground.trajectories import batch_data, transition_training
from grader.worker.errors import Interrupted, StudentCodeError, Unverified

CHUNK_ELEMENTS = 80_000  # items x batch size x widest layer: a step's arrays stay in cache
ROUND_BYTES = 6 * 2**20  # about what one round trip carries (the lane's areas hold 16 MiB)
RECHECK_ITEMS = 4  # failed transitions recomputed again to find the function that changed
MAX_TIMEOUTS = 2  # blocks of a trainer that may run out of time before it stops asking
BLOCK_SECONDS = 1.0  # about how long the worker trains between two reports

Runs = Sequence[tuple[TrainConfig, Seed]]
CallMany = Callable[[Calls], list[Any]]
Outcome = list[RunResult] | BaseException


class VerifiedTraining:
    """The verified training of groups of runs, {key: [(config, seed), ...]}, whose
    worker side starts now: each trainer (a SubmissionProxy of its own, a sibling
    worker) trains its share of the stacks in a thread, a block of epochs at a time,
    while the caller goes on; results() verifies each block as it arrives.

    binding: which student functions serve the engine's components (the
    assignment's); reference[key] names components served by the engine
    itself for that key, in the worker's training and in the verification alike.
    Runs that appear under several keys are trained and verified once. first_block:
    the epochs of each stack's first block, whose results early() gives alone."""

    def __init__(self, trainers: Sequence[Any], groups: Mapping[Hashable, Runs], *,
                 binding: Binding,
                 reference: Mapping[Hashable, Collection[str]] | None = None,
                 eval_epochs: Collection[int] | None = None, first_block: int = 0) -> None:
        self.groups = groups
        self.binding = binding
        self.eval_epochs = eval_epochs
        self.first_block = first_block
        self._checks: list[StackCheck] | None = None
        self._sizes: list[list[int]] = []
        self._parts = {key: frozenset((reference or {}).get(key, ())) for key in groups}
        # One run per distinct id: the grid repeats some configurations.
        unique: dict[tuple, tuple[Hashable, int]] = {}
        for key, runs in groups.items():
            for position in range(len(runs)):
                unique.setdefault(self._id(key, position), (key, position))
        distinct: dict[Hashable, list[int]] = {key: [] for key in groups}
        for key, position in unique.values():
            distinct[key].append(position)
        self.stacks = [(parts, members) for (parts, _), members in stack_runs(
            {key: [groups[key][p] for p in positions] for key, positions in distinct.items()},
            reference).items()]
        # members index the distinct lists: back to the groups' own positions
        self.stacks = [(parts, [(key, distinct[key][p]) for key, p in members])
                       for parts, members in self.stacks]
        self._arrived: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._trainers = list(trainers)
        self._owner = [0] * len(self.stacks)
        shares: list[list[int]] = [[] for _ in self._trainers]
        load = [0.0] * len(self._trainers)
        # Longest first, each to the least loaded trainer; within a trainer, the stack
        # that costs the grader most to verify first.
        for i in sorted(range(len(self.stacks)), key=lambda i: -self._train_cost(i)):
            t = load.index(min(load))
            shares[t].append(i)
            load[t] += self._train_cost(i)
            self._owner[i] = t
        # A function found hung (by any worker of the grading) ends the trainings under
        # way: they would wait for it too. Each is asked again, with it disabled.
        registries = {id(r): r for r in (getattr(t, "hung", None) for t in self._trainers)
                      if r is not None}
        self._unlisten = [r.listen(self._function_hung) for r in registries.values()]
        self._threads = [threading.Thread(
            target=self._train, args=(t, sorted(share, key=lambda i: -self._verify_cost(i))),
            name=f"hwgrade-trainer-{t}", daemon=True) for t, share in enumerate(shares)]
        for thread in self._threads:
            thread.start()

    def _runs(self, i: int) -> list[tuple[TrainConfig, Seed]]:
        return [self.groups[key][position] for key, position in self.stacks[i][1]]

    def _train_cost(self, i: int) -> float:
        runs = self._runs(i)
        return training_seconds(runs[0][0], len(runs))

    def _verify_cost(self, i: int) -> float:
        runs = self._runs(i)
        return len(runs) * runs[0][0].epochs

    def blocks(self, i: int) -> list[int]:
        """The epochs of each block the worker trains stack i in: first_block epochs
        first (when set), then the rest in blocks of about BLOCK_SECONDS."""
        epochs = self._runs(i)[0][0].epochs
        head = [self.first_block] if 0 < self.first_block < epochs else []
        rest = epochs - sum(head)
        n = max(1, min(rest, math.ceil(self._train_cost(i) * rest / epochs / BLOCK_SECONDS)))
        return head + [rest * (k + 1) // n - rest * k // n for k in range(n)]

    def _train(self, t: int, share: list[int]) -> None:
        """Trainer t's thread: its stacks' blocks (the first block of each first), each
        reported to results() as (stack, reply or None, why there is none or None)."""
        trainer = self._trainers[t]
        hung = None  # out of budget or CPU, or timed out twice: the rest is not asked
        timeouts = 0
        start: dict[int, np.ndarray | None] = {}
        first_epoch = dict.fromkeys(share, 0)
        order = [(i, b) for b in range(max((len(self.blocks(i)) for i in share), default=0))
                 for i in share if b < len(self.blocks(i))]
        if not self.first_block:  # no first block wanted early: stack after stack
            order.sort()
        for i, b in order:
            epochs = self.blocks(i)[b]
            if self._stop.is_set():
                return
            value, lost = None, hung
            if hung is None and (b == 0 or start.get(i) is not None):
                ask = {**request(self._runs(i), self.binding, self.stacks[i][0]),
                       "start": start.get(i), "first_epoch": first_epoch[i], "epochs": epochs}
                seconds = trainer.call_timeout + 4 * self._train_cost(i) * epochs / (
                    self._runs(i)[0][0].epochs)
                value, lost = self._trajectory(trainer, ask, seconds)
                # A block that ran out of time costs its stack. The others are asked on:
                # its stack may need a function that hangs (which the checks will find
                # and disable) where theirs do not; a second one ends the training.
                timeouts += lost is not None and lost["code"] == "reason.timeout"
                if lost is not None and (lost["code"] in ("reason.budget", "reason.cpu")
                                         or timeouts >= MAX_TIMEOUTS):
                    hung = lost
                states = value.get("states") if type(value) is dict else None
                start[i] = states[-1] if type(states) is np.ndarray and len(states) else None
            self._arrived.put((i, value, lost))
            first_epoch[i] += epochs

    def _trajectory(self, trainer: Any, ask: dict, seconds: float) -> tuple[Any, dict | None]:
        hung = getattr(trainer, "hung", None)
        while True:
            known = len(hung) if hung is not None else 0
            try:
                value, lost = trainer.trajectory(ask, seconds)
            except Interrupted:  # a function was found hung meanwhile: again, without it
                if self._stop.is_set():
                    return None, {"code": "reason.protocol", "params": {"detail": "stopped"}}
                continue
            except Exception as exc:  # closed under it (an interrupt), or a bug
                return None, {"code": "reason.protocol", "params": {"detail": str(exc)[:300]}}
            if lost is None or lost["code"] != "reason.processes" or hung is None:
                return value, lost
            # Stopped at the process limit, by one of many functions: the function checks
            # name it soon (they call one at a time); then again, without it.
            end = time.monotonic() + trainer.call_timeout
            while len(hung) == known and time.monotonic() < end and not self._stop.is_set():
                time.sleep(0.05)
            if len(hung) == known or self._stop.is_set():
                return value, lost

    def _function_hung(self, qualname: str) -> None:
        for trainer in self._trainers:
            trainer.interrupt()

    def early(self, submission: Any) -> dict[Hashable, Outcome]:
        """Every key's results over the first block's epochs alone, as soon as those
        are verified (the rest goes on arriving meanwhile)."""
        return self._outcomes(submission, self.first_block)

    def results(self, submission: Any) -> dict[Hashable, Outcome]:
        """Every key's results (or the error that stopped one of its runs), each block
        verified through `submission` (a SubmissionProxy) as it arrives."""
        return self._outcomes(submission, None)

    def _outcomes(self, submission: Any, upto: int | None) -> dict[Hashable, Outcome]:
        if self._checks is None:
            self._checks = [StackCheck(submission.call_many, self._runs(i), binding=self.binding,
                                       reference=parts,
                                       eval_epochs=self.eval_epochs)
                            for i, (parts, _) in enumerate(self.stacks)]
            self._sizes = [list(reversed(self.blocks(i))) for i in range(len(self.stacks))]
        checks = self._checks
        while any(sizes and (upto is None or check.at < upto)
                  for check, sizes in zip(checks, self._sizes, strict=True)):
            i, value, lost = self._arrived.get()
            checks[i].add(value, lost, self._sizes[i].pop())
        found: dict[tuple, RunResult | BaseException] = {}
        for i, check in enumerate(checks):
            verified = check.results(recheck=lambda t=self._owner[i]: self._idle(t), upto=upto)
            for (key, position), result in zip(self.stacks[i][1], verified, strict=True):
                found[self._id(key, position)] = result
        out: dict[Hashable, Outcome] = {}
        for key, runs in self.groups.items():
            results = [found[self._id(key, p)] for p in range(len(runs))]
            error = next((r for r in results if isinstance(r, BaseException)), None)
            out[key] = error if error is not None else results
        return out

    def _id(self, key: Hashable, position: int) -> tuple:
        """What makes a run: the same id is trained and verified once."""
        config, seed = self.groups[key][position]
        return self._parts[key], config, repr(seed)

    def _idle(self, t: int) -> CallMany:
        """Trainer t's call_many, once its thread is done with it."""
        self._threads[t].join()
        return self._trainers[t].call_many

    def close(self) -> None:
        """Stop asking the trainers and close them (a training under way ends with its
        worker); the threads end with them."""
        self._stop.set()
        for unlisten in self._unlisten:
            unlisten()
        for trainer in self._trainers:
            trainer.close()
        for thread in self._threads:
            thread.join(timeout=5)


def training_seconds(config: TrainConfig, runs: int) -> float:
    """A stack's training time in the worker, roughly (seconds, measured on Day 65 on a
    2-core machine): a fixed cost per step, and array work growing with runs x batch."""
    steps = config.epochs * math.ceil(NUM_SAMPLES * config.train_ratio / 100 / config.batch_size)
    return steps * (60 + 0.75 * runs * config.batch_size) * 1e-6


def request(runs: Runs, binding: Binding, reference: Collection[str] = ()) -> dict:
    """What the worker is asked to train (server.py's "trajectory" op), all epochs."""
    return {"runs": [[config.to_dict(), seed] for config, seed in runs],
            "binding": binding.to_table(),
            "reference": sorted(reference), "start": None, "first_epoch": 0,
            "epochs": runs[0][0].epochs}


class StackCheck:
    """The verification of one stack's trajectory, block by block (see module doc)."""

    def __init__(self, call_many: CallMany, runs: Runs, *, binding: Binding,
                 reference: Collection[str] = (),
                 eval_epochs: Collection[int] | None = None) -> None:
        self.call_many = call_many
        self.configs = [config for config, _ in runs]
        self.seeds = [seed for _, seed in runs]
        first = self.configs[0]
        self.epochs = first.epochs
        self.evaluated = (set(range(self.epochs)) if eval_epochs is None
                          else set(eval_epochs) | {self.epochs - 1})
        problems = [make_problem(config, seed) for config, seed in runs]
        self.data = _data(problems)
        self.translator = StudentCalls(binding, reference)
        n = len(runs)
        self.problems: list[list[tuple[int, BaseException]]] = [[] for _ in range(n)]
        self.curves = np.full((n, self.epochs, 2), np.nan)
        self.diverged: list[int | None] = [None] * n
        self.mismatched: list[tuple[int, int, np.ndarray]] = []  # (run, epoch, start row)
        self.at = 0  # the boundary up to which the active runs are verified
        self.active = np.ones(n, dtype=bool)
        try:
            self.batches = _batches(call_many, self.translator, self.data[0].shape[1],
                                    first.batch_size)
        except (StudentCodeError, ComponentError) as error:
            self.failed: BaseException | None = error
            return
        self.failed = None
        self.steps = batch_data(self.data, self.batches)
        self.plan = schedule([len(b) for b in self.batches], first.batch_size, self.epochs)
        self.layout = Layout.of(first.layer_sizes, self.plan.carries)
        self.trusted = self.layout.pack(*initial_parameters(problems), None)
        self.kept = {0: self.trusted}  # the active runs' state at each block's end
        self.named = 0  # the mismatches already looked into

    def add(self, reply: object, lost: dict | None, epochs: int) -> None:
        """Verify the worker's block of `epochs` epochs from boundary self.at (its
        reply is untrusted; lost: why there is none, a reason.* message)."""
        if self.failed is not None:
            return
        at, n_runs = self.at, len(self.configs)
        states, reached = _parsed(reply, epochs, n_runs, self.layout.size)
        if states is None:  # nothing usable: what the functions do next says why
            states, reached = self.trusted[None], [1] * n_runs
            lost = lost or {"code": "reason.protocol",
                            "params": {"detail": "its report was not a trajectory"}}
        else:
            lost = None
        started = same_bits(states[0], self.trusted)
        finite = np.isfinite(states[:, :, :self.layout.parameters]).all(axis=2)
        items: list[tuple[int, int]] = []  # (run, epoch within the block)
        probes: list[bool] = []
        for r in np.flatnonzero(self.active):
            if not started[r]:
                self._stop(r, at, Unverified("unverified", epoch=at + 1))
                continue
            last = reached[r] - 1
            bad = np.flatnonzero(~finite[1:last + 1, r])
            end = int(bad[0]) + 1 if len(bad) else last
            if len(bad):
                self.diverged[r] = at + end
            items += [(r, e) for e in range(end)]
            probes += [False] * end
            if end == last < epochs:
                items.append((r, last))
                probes.append(True)
        run_of = np.array([r for r, _ in items], dtype=np.intp)
        epoch_of = np.array([e for _, e in items], dtype=np.intp)
        starts = states[epoch_of, run_of]
        done = self._transitions(self.call_many, [(r, at + e) for r, e in items], starts,
                                 [not p and at + e in self.evaluated
                                  for (_, e), p in zip(items, probes, strict=True)])
        reported = states[np.minimum(epoch_of + 1, len(states) - 1), run_of]  # probes: unused
        ends, losses_of, errors = done
        equal = same_bits(ends, reported)
        for k, ((r, e), probe) in enumerate(zip(items, probes, strict=True)):
            losses, error = losses_of.get(k), errors.get(k)
            if not self.active[r]:
                continue
            if error is not None:
                self._stop(r, at + e, error)
            elif probe:
                self._stop(r, at + e, Unverified("unverified_lost", reason=lost) if lost
                           else Unverified("unverified_stopped", epoch=at + e + 1))
            elif not equal[k]:
                self._stop(r, at + e, Unverified("unverified", epoch=at + e + 1))
                self.mismatched.append((r, at + e, starts[k]))
            elif losses is not None:
                self.curves[r, at + e] = losses
                if not np.isfinite(losses).all():
                    self.diverged[r] = min(self.diverged[r] or at + e + 1, at + e + 1)
                    self.active[r] = False
        for r in np.flatnonzero(self.active):
            if self.diverged[r] is not None:
                self.active[r] = False
        self.trusted = states[-1].copy() if len(states) == epochs + 1 else self.trusted
        self.at += epochs
        self.kept[self.at] = self.trusted

    def _stop(self, r: int, epoch: int, error: BaseException) -> None:
        self.problems[r].append((epoch, error))
        self.active[r] = False

    def results(self, recheck: Callable[[], CallMany] | None = None, upto: int | None = None
                ) -> list[RunResult | BaseException]:
        """Per run, its RunResult from the verified trajectory (its first `upto` epochs:
        a block boundary; None: all), or the earliest problem in them that matters (one
        after the run diverged does not). recheck: gives the call_many of the worker
        that trained, to name a function whose answers changed."""
        if self.failed is not None:
            return [self.failed] * len(self.configs)
        if len(self.mismatched) > self.named:
            self._name_changed(recheck)
            self.named = len(self.mismatched)
        return [self._result(r, self.epochs if upto is None else upto)
                for r in range(len(self.configs))]

    def _result(self, r: int, upto: int) -> RunResult | BaseException:
        config, diverged = self.configs[r], self.diverged[r]
        if diverged is not None and diverged > upto:
            diverged = None
        relevant = [(at, error) for at, error in self.problems[r]
                    if at < upto and (diverged is None or at < diverged)]
        if relevant:
            return min(relevant, key=lambda p: p[0])[1]
        curve = self.curves[r, :upto]
        if diverged is not None:  # as the engine parks a diverged run: NaN losses, zeros
            curve = curve.copy()
            curve[diverged - 1:] = np.nan
            return RunResult(config, self.seeds[r], curve, diverged,
                             tuple(np.zeros((b, a)) for a, b in self.layout.weight_shapes),
                             tuple(np.zeros(n) for n in self.layout.bias_sizes))
        if upto not in self.kept:  # the blocks did not arrive: a grader bug
            raise RuntimeError(f"verified up to epoch {self.at}, not {upto}")
        weights, biases, _ = self.layout.unpack(self.kept[upto][r][None])
        return RunResult(config, self.seeds[r], curve, None,
                         tuple(w[0].T.copy() for w in weights), tuple(b[0] for b in biases))

    def _transitions(self, call_many: CallMany, items: list[tuple[int, int]],
                     starts: np.ndarray, evaluate: list[bool]
                     ) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, BaseException]]:
        """Recompute each (run, epoch) item's epoch from its start row: the end states
        (items, size), {item: losses after it} for those evaluated, {item: the first
        error of its rows}."""
        first = self.configs[0]
        plan = self.plan
        width = max(first.layer_sizes[1:])
        per_chunk = max(1, CHUNK_ELEMENTS // (first.batch_size * width))

        def phase(i: int) -> tuple:  # what must be equal within a chunk
            return plan.counts[items[i][1]], plan.updated[items[i][1]]

        order = sorted(range(len(items)), key=lambda i: (
            phase(i), stack_order(self.configs[items[i][0]]), items[i]))
        chunks: list[list[int]] = []
        for i in order:
            if not chunks or len(chunks[-1]) == per_chunk or phase(chunks[-1][0]) != phase(i):
                chunks.append([])
            chunks[-1].append(i)
        n_weights = sum(a * b for a, b in self.layout.weight_shapes)
        ends = np.full((len(items), self.layout.size), np.nan)
        losses_of: dict[int, np.ndarray] = {}
        errors_of: dict[int, BaseException] = {}
        for round_of in _rounds(chunks, lambda n: 8 * n * (2 * first.batch_size * width
                                                            + 2 * n_weights)):
            trainings = []
            for chunk in round_of:
                run_of = np.array([items[i][0] for i in chunk])
                trainings.append((transition_training(
                    [self.configs[r] for r in run_of], self.data, run_of, starts[chunk],
                    self.layout, self.steps, phase(chunk[0])[1],
                    np.array([evaluate[i] for i in chunk])), len(chunk), self.translator))
            for chunk, (value, errors) in zip(round_of, serve_together(call_many, trainings),
                                              strict=True):
                errors_of.update((chunk[row], error) for row, error in errors.items())
                if value is None:  # the whole chunk stopped: its errors say why
                    continue
                ends[chunk] = value[0]
                losses_of.update(zip([i for i in chunk if evaluate[i]], value[1], strict=True))
        return ends, losses_of, errors_of

    def _name_changed(self, recheck: Callable[[], CallMany] | None) -> None:
        """Recompute a few failed transitions twice (here, and in the worker that
        trained or here again) and compare the answers call by call: the first
        function whose answer to the same call differs is named in those runs' errors."""
        picked, seen = [], set()
        for r, e, start in self.mismatched:
            if r not in seen and len(picked) < RECHECK_ITEMS:
                seen.add(r)
                picked.append((r, e, start))
        starts = np.array([start for _, _, start in picked])
        logs = []
        for serve in (self.call_many, recheck() if recheck is not None else self.call_many):
            log: list[tuple[list, list]] = []

            def recording(calls, serve=serve, log=log):
                outcomes = serve(calls)
                log.append((calls, outcomes))
                return outcomes

            self._transitions(recording, [(r, e) for r, e, _ in picked], starts,
                              [False] * len(picked))
            logs.append(log)
        changed = _first_difference(*logs)
        if changed is None:
            return
        for r, e, _ in picked:
            self.problems[r] = [
                (at, Unverified("unverified_changed", function=changed, names=[changed],
                                epoch=e + 1) if at == e and isinstance(error, Unverified)
                 else error) for at, error in self.problems[r]]


def _batches(call_many: CallMany, translator: StudentCalls, n_train: int, batch_size: int
             ) -> list[np.ndarray]:
    """The epoch's batches: the grader's own call of the student's minibatches."""
    calls, assemble = translator.translate("minibatches", (n_train, batch_size))
    return _checked_batches(assemble(call_many(calls) if calls else []), n_train)


def _parsed(reply: object, epochs: int, n_runs: int, size: int):
    """(states, reached) from the worker's reply, or (None, None) if it is not one."""
    if type(reply) is not dict:
        return None, None
    states, reached = reply.get("states"), reply.get("reached")
    if not (type(states) is np.ndarray and states.dtype == np.float64
            and states.shape == (epochs + 1, n_runs, size)):
        return None, None
    if not (type(reached) is list and len(reached) == n_runs
            and all(type(n) is int and 1 <= n <= epochs + 1 for n in reached)):
        return None, None
    return states, reached


def _rounds(chunks: list[list[int]], cost: Callable[[int], int]):
    """The chunks in rounds that each carry at most about ROUND_BYTES per round trip."""
    batch: list[list[int]] = []
    load = 0
    for chunk in chunks:
        size = cost(len(chunk))
        if batch and load + size > ROUND_BYTES:
            yield batch
            batch, load = [], 0
        batch.append(chunk)
        load += size
    if batch:
        yield batch


def _first_difference(one: list, other: list) -> str | None:
    """The "module.function" of the first call whose outcomes differ between two logs."""
    for (calls, a), (_, b) in zip(one, other, strict=False):
        for (module, function, *_), x, y in zip(calls, a, b, strict=True):
            if not _same_outcome(x, y):
                return f"{module}.{function}"
    return None


def _same_outcome(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return x.shape == y.shape and x.dtype == y.dtype and (
            x.size == 0 or bool(same_bits(x.reshape(1, -1), y.reshape(1, -1))[0]))
    if isinstance(x, BaseException) or isinstance(y, BaseException):
        return type(x) is type(y) and str(x) == str(y)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same_outcome(a, b) for a, b in zip(x, y, strict=True))
    return type(x) is type(y) and x == y
