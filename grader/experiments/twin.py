"""Train with a student's functions twice at once, and keep what both agree on.

Lockstep (lockstep.py) waits for the student's answers at every step: the
batch-size-1 configuration alone is 125,000 round trips, one after another.
A twin training gets lockstep's results with both cores busy and almost no
round trips:

1. the student's functions are probed once and each is matched with a correct
   implementation that answers the probe with the same numbers (guesses.py);
2. the worker trains every run itself with the student's functions, exactly as
   lockstep would (the same engine, the same calls and checks of what they
   return: grader/playground/calls.py), and sends back one digest per key of
   its runs' results (curves, final weights);
3. meanwhile the grader trains the same runs with the matched implementations
   and digests its results the same way;
4. a key whose digests agree trained, with the student's functions, to exactly
   the grader's numbers: those are used. Every other key (other rounding, an
   error, a worker that died or timed out, a reply that is not digests) trains
   again in lockstep, where each answer crosses over.

Trust: a digest is the worker's word about what the student's functions led
to, exactly as much as a lockstep answer is its word about what a function
returned; the grader takes no number from the worker, only an agreement with
numbers it computed itself. Results agree up to the sign of zeros (-0.0 and
0.0 digest alike).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from grader.experiments import guesses
from grader.experiments.lockstep import stack_runs, train_in_lockstep
from grader.playground import calls
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.datasets import NUM_SAMPLES
from grader.playground.engine import RunResult, group_training
from grader.playground.rng import Seed


def train_twinned(
    submission: Any,
    groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]],
    *,
    eval_epochs: Collection[int] | None = None,
) -> dict[Hashable, list[RunResult] | BaseException]:
    """train_in_lockstep's results for these groups (every component the student's).
    submission: a SubmissionProxy (call_many, train_ahead). A key whose functions
    lost the worker in the probe (hung, or ended the process) gets that error
    without training: it would hang or crash the same way, one time limit later."""
    guess = probe(submission, groups)  # first: the worker is busy once training
    lost = {key: error for key, runs in groups.items()
            if (error := _lost_by(guess, runs)) is not None}
    rest = {key: runs for key, runs in groups.items() if key not in lost}
    done = TwinTraining(submission, rest, eval_epochs).results(submission, guess) if rest else {}
    return {key: lost[key] if key in lost else done[key] for key in groups}


def _lost_by(guess: guesses.Guess, runs: Sequence[tuple[TrainConfig, Seed]]
             ) -> BaseException | None:
    """The first of the runs' functions whose probe call lost the worker, as its error."""
    for config, _ in runs:
        for name in (config.activation, f"{config.activation}_derivative",
                     config.update_setting):
            if name in guess.lost:
                return guess.lost[name]
    return None


def probe(submission: Any, groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]]
          ) -> guesses.Guess:
    """The guesses for the student's functions in these groups' trainings."""
    configs = [config for runs in groups.values() for config, _ in runs]
    return guesses.probe(submission.call_many, {c.activation for c in configs},
                         {c.update_setting for c in configs})


class TwinTraining:
    """A twin training whose worker side starts now, in `early_side` (a
    SubmissionProxy: the grader's own, or a sibling so that other checks can use
    the grader's meanwhile); results() does the grader's side and waits.

    late_share: the part of the worker side (by estimated cost, the cheapest stacks)
    left for the grader's own worker, started by results(): with a sibling that
    started early, it would otherwise be the last to finish. in_background: start
    early_side (launch it, import the submission, send the runs) in a thread, so
    that the caller goes on at once; results() and started() wait for it."""

    def __init__(self, early_side: Any,
                 groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]],
                 eval_epochs: Collection[int] | None = None, *, late_share: float = 0.0,
                 in_background: bool = False) -> None:
        self.groups = groups
        self.eval_epochs = eval_epochs
        self.evaluated = None if eval_epochs is None else sorted(eval_epochs)
        self.label = {key: i for i, key in enumerate(groups)}
        self.stacks = list(stack_runs(groups).values())
        self.spec = [{"runs": [[groups[k][p][0].to_dict(), groups[k][p][1]]
                               for k, p in members],
                      "keys": [self.label[k] for k, _ in members]} for members in self.stacks]
        costs = [_cost(groups[members[0][0]][0][0], len(members)) for members in self.stacks]
        self.late: list[int] = []
        for i in sorted(range(len(costs)), key=costs.__getitem__):
            if sum(costs[j] for j in self.late) + costs[i] > late_share * sum(costs):
                break
            self.late.append(i)
        self.early = [i for i in range(len(self.stacks)) if i not in self.late]
        self.pending: Any = None
        self._start_error: Exception | None = None
        self._starting: threading.Thread | None = None
        if in_background:
            # A worker's start is mostly waiting (a process, mounts, imports): the
            # thread holds the GIL little. The worker is used by one thread at a time.
            self._starting = threading.Thread(target=self._start, args=(early_side,),
                                              name="hwgrade-twin-start", daemon=True)
            self._starting.start()
        else:
            self._start(early_side)

    def _start(self, early_side: Any) -> None:
        try:
            self.pending = early_side.train_ahead([self.spec[i] for i in self.early],
                                                  self.evaluated)
        except Exception as exc:  # a grader bug: raised again by results(), in its thread
            self._start_error = exc

    def started(self) -> None:
        """Wait until the early side has its work (after which it may be closed)."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None

    def results(self, submission: Any, guess: guesses.Guess | None = None
                ) -> dict[Hashable, list[RunResult] | BaseException]:
        """The grader's side: train with the guesses (probed through `submission`
        unless given: only when the worker side is another worker), compare digests,
        and retrain in lockstep, through `submission`, what disagrees."""
        groups = self.groups
        late = None
        self.started()
        if self._start_error is not None:
            raise self._start_error
        interrupted = False
        try:
            if guess is None:
                guess = probe(submission, groups)
            if self.late:
                late = submission.train_ahead([self.spec[i] for i in self.late],
                                              self.evaluated)
            done: dict[Hashable, Any] = {key: [None] * len(runs) for key, runs in groups.items()}
            mine = []
            answer = _answer_with(guess)
            with np.errstate(all="ignore"):  # as in the engine: divergence is detected
                for members, stack in zip(self.stacks, self.spec, strict=True):
                    # Rates as per-run arrays: one update call for the whole stack. The
                    # same numbers per run as one call per setting (elementwise IEEE
                    # arithmetic), and if not, the digests would disagree.
                    training = group_training([groups[k][p] for k, p in members],
                                              vectorized_rates=True,
                                              eval_epochs=self.eval_epochs)
                    results, _ = calls.train_with(training, answer, len(members))
                    mine.append(calls.digests(results, stack["keys"]))
                    for (key, position), result in zip(members, results, strict=True):
                        done[key][position] = result
        except (KeyboardInterrupt, SystemExit):
            # The run ends: its workers are closed (at once), not waited for, which
            # could take the whole training.
            interrupted = True
            raise
        finally:
            replies = {}
            if not interrupted:  # after an error too: no worker may be left busy
                self.started()
                for part, pending in ((self.early, self.pending), (self.late, late)):
                    reply = pending.result() if pending is not None else None
                    if type(reply) is list and len(reply) == len(part):  # untrusted data
                        replies.update(zip(part, reply, strict=True))
        agreed = {key for i, ours in enumerate(mine) for key in _agreed(ours, replies.get(i))}
        again = {key: runs for key, runs in groups.items() if self.label[key] not in agreed}
        if again:
            done.update(train_in_lockstep(submission.call_many, again,
                                          eval_epochs=self.eval_epochs))
        return done


def _cost(config: TrainConfig, runs: int) -> float:
    """A stack's training time, roughly (in microseconds, measured on Day 65): a
    fixed cost per step, and array work growing with runs x batch size."""
    steps = config.epochs * math.ceil(NUM_SAMPLES * config.train_ratio / 100 / config.batch_size)
    return steps * (60 + 0.75 * runs * config.batch_size)


def _answer_with(guess: guesses.Guess):
    """The engine's answers from the guess (as calls.answer_with from the student's)."""

    def answer(method: str, args: tuple) -> Any:
        if method == "activation":
            return guess.activation(*args)
        if method == "regularized_update":
            weights, gradients, learning_rate, rate, kind = args
            return [guess.update(w, g, learning_rate, rate, kind)
                    for w, g in zip(weights, gradients, strict=True)]
        return PLAYGROUND.minibatches(*args)

    return answer


def _agreed(ours: dict[int, str | None], reply: object) -> set[int]:
    """The keys of a stack whose digest the worker sent is the grader's (the reply is
    untrusted data: anything malformed agrees on nothing)."""
    if type(reply) is not dict:
        return set()
    return {key for key, digest in ours.items()
            if digest is not None and reply.get(str(key)) == digest}
