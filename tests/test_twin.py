"""Twin training (grader/experiments/twin.py): the worker trains on its own, the
grader trains with its guesses, and only keys whose result digests agree skip
lockstep. Whatever the student's functions do, the results must be lockstep's."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import find_assignment
from grader.checks.proxy import SubmissionProxy
from grader.experiments import guesses, twin
from grader.experiments.lockstep import train_in_lockstep
from grader.playground import calls
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import RunResult
from grader.playground.features import ALL_FEATURES
from grader.submission import Requirement, stage_submission
from grader.worker.client import Worker
from grader.worker.errors import StudentCodeError, StudentException, StudentTimeout

ROOT = Path(__file__).resolve().parents[1]
BASE = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,), epochs=3,
                   batch_size=10, learning_rate=0.3)
GRID = {
    "tanh": BASE,
    "sigmoid": dataclasses.replace(BASE, activation="sigmoid"),
    "relu": dataclasses.replace(BASE, activation="relu"),
    "l1": dataclasses.replace(BASE, regularization="L1", regularization_rate=0.01),
    "batch 25": dataclasses.replace(BASE, batch_size=25),
}
GROUPS = {key: [(config, seed) for seed in (0, 1)] for key, config in GRID.items()}
PROBE_CALLS = 2 * len({c.activation for c in GRID.values()}) + len(
    {(c.learning_rate, c.regularization_rate, c.regularization) for c in GRID.values()})


def student_functions(**changes):
    """A correct submission (np.tanh, the stable sigmoid, nn.ts's update), with changes."""
    functions = {
        ("activations", "tanh"): np.tanh,
        ("activations", "tanh_derivative"): lambda z: 1 - np.tanh(z) ** 2,
        ("activations", "sigmoid"): guesses.SIGMOID[0],
        ("activations", "sigmoid_derivative"):
            lambda z: guesses.SIGMOID[0](z) * (1 - guesses.SIGMOID[0](z)),
        ("activations", "relu"): lambda z: np.maximum(z, 0.0),
        ("activations", "relu_derivative"): lambda z: (z > 0).astype(np.float64),
        ("activations", "linear"): lambda z: np.array(z, dtype=np.float64),
        ("activations", "linear_derivative"): np.ones_like,
        ("regularization", "regularized_update"): guesses.UPDATES[0],
        ("minibatch", "minibatches"): PLAYGROUND.minibatches,
    }
    functions.update({tuple(name.split(".")): f for name, f in changes.items()})
    return functions


class Pending:
    def __init__(self, value):
        self.value = value
        self.waited = False

    def result(self):
        self.waited = True
        return self.value


class InProcess:
    """A submission served in this process: call_many as lockstep sends it, and a
    train_ahead that runs the worker's side of a twin training (or returns `reply`)."""

    def __init__(self, functions, reply=...) -> None:
        self.functions = functions
        self.reply = reply
        self.round_trips = 0
        self.pending: list[Pending] = []

    def _call(self, module, function, args):
        try:
            return self.functions[module, function](*args)
        except Exception as exc:
            raise calls.Failed from exc

    def call_many(self, requested):
        self.round_trips += 1
        out = []
        for module, function, args, *_ in requested:
            try:
                out.append(self.functions[module, function](*args))
            except Exception as exc:
                out.append(StudentException("exception", function=f"{module}.{function}",
                                            exc_type=type(exc).__name__, exc_message=str(exc)))
        return out

    def train_ahead(self, stacks, eval_epochs):
        if self.reply is ...:
            with np.errstate(all="ignore"):
                value = calls.digest_stacks(stacks, eval_epochs, self._call)
        else:
            value = self.reply
        self.pending.append(Pending(value))
        return self.pending[-1]


def same_results(a, b) -> bool:
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return type(a) is type(b) and str(a) == str(b)
    return all(np.array_equal(x.curve, y.curve, equal_nan=True) and x.diverged_at == y.diverged_at
               and all(np.array_equal(p, q) for p, q in zip(x.weights + x.biases,
                                                            y.weights + y.biases, strict=True))
               for x, y in zip(a, b, strict=True))


def fell_back(monkeypatch) -> list:
    """The keys twin training hands to lockstep, recorded."""
    seen: list = []

    def spy(call_many, again, **kwargs):
        seen.extend(again)
        return train_in_lockstep(call_many, again, **kwargs)

    monkeypatch.setattr(twin, "train_in_lockstep", spy)
    return seen


def lockstep(functions):
    return train_in_lockstep(InProcess(functions).call_many, GROUPS)


def test_correct_functions_train_without_lockstep_and_give_its_results(monkeypatch):
    again = fell_back(monkeypatch)
    submission = InProcess(student_functions())
    got = twin.train_twinned(submission, GROUPS)
    assert again == []
    # the probe, a call per function and update setting; the training crossed once
    assert submission.round_trips == PROBE_CALLS
    assert submission.pending[0].waited
    want = lockstep(student_functions())
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_another_rounding_retrains_only_the_keys_it_touches(monkeypatch):
    # correct, and none of the guesses round like it
    sigmoid = ("activations.sigmoid", lambda z: np.exp(-np.log1p(np.exp(-z))))
    functions = student_functions(**dict([sigmoid]))
    again = fell_back(monkeypatch)
    got = twin.train_twinned(InProcess(functions), GROUPS)
    assert again == ["sigmoid"]
    want = lockstep(functions)
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_a_guessed_rounding_needs_no_lockstep(monkeypatch):
    # sigmoid through tanh and the update in another order: both among the guesses
    functions = student_functions(**{
        "activations.sigmoid": guesses.SIGMOID[2],
        "regularization.regularized_update": guesses.UPDATES[1]})
    again = fell_back(monkeypatch)
    got = twin.train_twinned(InProcess(functions), GROUPS)
    assert again == []
    want = lockstep(functions)
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_a_function_that_raises_fails_its_keys_as_in_lockstep(monkeypatch):
    def relu(z):
        raise ValueError("no relu today")

    functions = student_functions(**{"activations.relu": relu})
    again = fell_back(monkeypatch)
    got = twin.train_twinned(InProcess(functions), GROUPS)
    assert again == ["relu"]
    assert isinstance(got["relu"], StudentCodeError)
    assert all(isinstance(got[key], list) for key in GROUPS if key != "relu")
    want = lockstep(functions)
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_a_wrong_update_is_seen_after_training_even_when_the_probe_passed(monkeypatch):
    """Right on the probe, wrong in training (after a number of calls): the digests
    disagree, and lockstep trains with the wrong function."""
    state = {"calls": 0}

    def update(w, g, lr, rate, kind):
        state["calls"] += 1
        new = guesses.UPDATES[0](w, g, lr, rate, kind)
        return new if state["calls"] < 40 else new * 0.5

    functions = student_functions(**{"regularization.regularized_update": update})
    again = fell_back(monkeypatch)
    got = twin.train_twinned(InProcess(functions), GROUPS)
    assert sorted(again) == sorted(GROUPS)
    reference = lockstep(student_functions())
    assert not any(same_results(got[key], reference[key]) for key in GROUPS)


@pytest.mark.parametrize("reply", [None, "digests", [], [{}] * 3, [[]] * 4,
                                   [{"0": "0" * 32}] * 4, [{0: None}] * 4])
def test_a_reply_that_is_not_the_digests_agrees_on_nothing(monkeypatch, reply):
    again = fell_back(monkeypatch)
    got = twin.train_twinned(InProcess(student_functions(), reply=reply), GROUPS)
    assert sorted(again) == sorted(GROUPS)
    want = lockstep(student_functions())
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_the_grader_waits_for_the_worker_even_when_its_own_training_fails(monkeypatch):
    submission = InProcess(student_functions())

    def broken(method, args):
        raise RuntimeError("a grader bug")

    monkeypatch.setattr(twin, "_answer_with", lambda guess: broken)
    with pytest.raises(RuntimeError):
        twin.train_twinned(submission, GROUPS)
    assert submission.pending[0].waited  # the worker is not left mid-request


def test_a_function_that_hangs_in_the_probe_fails_its_keys_without_training(monkeypatch):
    """play --use-submission with a tanh that never returns: one call's time limit and
    "tanh did not return", not a training that hangs until the worker's CPU limit."""
    again = fell_back(monkeypatch)
    hung = StudentTimeout("timeout", function="activations.tanh", seconds="10")

    class Hanging(InProcess):
        def call_many(self, requested):
            if any(function == "tanh" for _, function, *_ in requested):
                self.round_trips += 1
                return [hung for _ in requested]
            return super().call_many(requested)

    submission = Hanging(student_functions())
    got = twin.train_twinned(submission, GROUPS)
    uses_tanh = {key for key, config in GRID.items() if config.activation == "tanh"}
    assert uses_tanh and all(got[key] is hung for key in uses_tanh)
    assert again == []
    # the others trained as ever, without the tanh keys
    want = lockstep(student_functions())
    assert all(same_results(got[key], want[key]) for key in GROUPS if key not in uses_tanh)
    assert [len(p.value) for p in submission.pending] == [len(twin.stack_runs(
        {k: v for k, v in GROUPS.items() if k not in uses_tanh}))]


def test_an_interrupt_does_not_wait_for_the_worker(monkeypatch):
    """Ctrl-C while the grader trains its side: the run ends and closes its workers;
    waiting for their digests first could take the whole training."""
    submission = InProcess(student_functions())

    def interrupted(method, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(twin, "_answer_with", lambda guess: interrupted)
    with pytest.raises(KeyboardInterrupt):
        twin.train_twinned(submission, GROUPS)
    assert not submission.pending[0].waited


# --- digests ---------------------------------------------------------------------------


def result(curve, weights) -> RunResult:
    return RunResult(config=BASE, seed=0, curve=np.array(curve, dtype=float), diverged_at=None,
                     weights=(np.array(weights, dtype=float),), biases=(np.zeros(2),))


def test_digests_tell_results_apart_except_the_sign_of_zero():
    a = result([[0.5, 0.25]], [0.0, 1.0])
    digest = calls.digests([a], [7])
    assert list(digest) == [7]
    assert calls.digests([result([[0.5, 0.25]], [-0.0, 1.0])], [7]) == digest
    assert calls.digests([result([[0.5, 0.25]], [0.0, np.nextafter(1.0, 2.0)])], [7]) != digest
    assert calls.digests([result([[0.5, np.nan]], [0.0, 1.0])], [7]) != digest
    assert calls.digests([a, a], [7, 8], failed={1}) == {7: digest[7], 8: None}


def test_a_failed_call_fails_only_its_rows():
    runs = [(GRID["tanh"], 0), (GRID["relu"], 0)]
    training = twin.group_training(runs, vectorized_rates=False)
    answer = calls.answer_with(lambda module, function, args: (
        (_ for _ in ()).throw(calls.Failed()) if function.startswith("relu")
        else student_functions()[module, function](*args)))
    results, failed = calls.train_with(training, answer, len(runs))
    assert failed == {1}
    assert np.isfinite(results[0].curve).all()


# --- guesses ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(guesses.CANDIDATES))
def test_the_probe_recognises_every_candidate(name):
    for candidate in guesses.CANDIDATES[name]:
        functions = student_functions(**{f"activations.{name}": candidate})
        guess = guesses.probe(InProcess(functions).call_many, [name.split("_")[0]], [])
        z = np.linspace(-30, 30, 301)
        with np.errstate(all="ignore"):
            assert guesses.same(guess.activations[name](z), candidate(z))


def test_the_probe_recognises_every_update_order_and_defaults_to_the_first():
    rng = np.random.default_rng(1)
    w, g = rng.normal(0, 1, 500), rng.normal(0, 0.1, 500)
    for update in guesses.UPDATES:
        functions = student_functions(**{"regularization.regularized_update": update})
        guess = guesses.probe(InProcess(functions).call_many, [],
                              [(0.1, 0.03, kind) for kind in (None, "L1", "L2")])
        for kind in (None, "L1", "L2"):  # the same numbers (L1: lr*rate*d == lr*(rate*d))
            assert guesses.same(guess.updates[kind](w, g, 0.1, 0.03, kind),
                                update(w, g, 0.1, 0.03, kind))
    broken = student_functions(**{"regularization.regularized_update": lambda *a: "no"})
    guess = guesses.probe(InProcess(broken).call_many, [], [(0.1, 0.03, "L2")])
    assert guess.updates["L2"] is guesses.UPDATES[0]


# --- a real worker ---------------------------------------------------------------------


def staged_worker(folder: Path, tmp: Path):
    assignment = find_assignment(str(ROOT / "assignments" / "day65"))
    staged = stage_submission(folder, Requirement(assignment.modules), tmp / "staged")
    worker = Worker(staged.dest, staged.modules, hidden_paths=assignment.private_paths())
    return worker, SubmissionProxy(worker, staged)


def test_through_a_real_worker_the_solution_trains_in_a_few_round_trips(monkeypatch):
    again = fell_back(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        worker, proxy = staged_worker(ROOT / "solutions" / "day65", Path(tmp))
        with worker, proxy.fast_lane():
            got = twin.train_twinned(proxy, GROUPS)
            trips = worker.stats.round_trips
            want = train_in_lockstep(proxy.call_many, GROUPS)
    assert again == []
    assert trips < PROBE_CALLS + 9  # starting, importing, the probe, the training
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_a_worker_that_dies_while_training_leaves_lockstep_to_say_why(monkeypatch, tmp_path):
    folder = tmp_path / "dying"
    shutil.copytree(ROOT / "solutions" / "day65", folder)
    source = folder / "activations.py"
    # relu's 50th call kills the process: not the probe, well into the training
    source.write_text(source.read_text() + "\n\n_CALLS = [0]\n_relu = relu\n\n\n"
                      "def relu(z):\n    _CALLS[0] += 1\n    if _CALLS[0] == 50:\n"
                      "        import os\n        os._exit(3)\n    return _relu(z)\n")
    again = fell_back(monkeypatch)
    worker, proxy = staged_worker(folder, tmp_path)
    with worker, proxy.fast_lane():
        got = twin.train_twinned(proxy, GROUPS)
    assert sorted(again) == sorted(GROUPS)  # the worker died: no digest at all
    # lockstep, on a fresh worker: relu's count starts again and reaches 50 there,
    # and that round trip's calls all fail with the death (lockstep's rule)
    assert isinstance(got["relu"], StudentCodeError)
    assert "relu" in str(got["relu"]) or got["relu"].function == "activations.relu"
    assert any(isinstance(got[key], list) for key in GROUPS)


def test_a_sibling_started_in_the_background_shares_the_work(monkeypatch):
    """As the Day 65 checks run it: the worker side in a second worker, launched in a
    thread; the cheapest stacks go to the first worker once the grader's side starts."""
    again = fell_back(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        worker, proxy = staged_worker(ROOT / "solutions" / "day65", Path(tmp))
        with worker:
            sibling = proxy.sibling()
            try:
                training = twin.TwinTraining(sibling, GROUPS, late_share=0.3,
                                             in_background=True)
                assert training.late and training.early  # both workers train
                with proxy.fast_lane():
                    got = training.results(proxy)
                    want = train_in_lockstep(proxy.call_many, GROUPS)
            finally:
                sibling.close()
    assert again == []
    assert all(same_results(got[key], want[key]) for key in GROUPS)


def test_a_busy_worker_refuses_other_calls():
    with tempfile.TemporaryDirectory() as tmp:
        worker, proxy = staged_worker(ROOT / "solutions" / "day65", Path(tmp))
        with worker:
            stacks = [{"runs": [[GRID["tanh"].to_dict(), 0]], "keys": [0]}]
            pending = proxy.train_ahead(stacks, None)
            with pytest.raises(RuntimeError, match="still training"):
                proxy.call_many([("activations", "tanh", (np.zeros(2),))])
            reply = pending.result()
            assert type(reply) is list and set(reply[0]) == {"0"}
            assert proxy.call_many([("activations", "tanh", (np.zeros(2),))])[0].shape == (2,)
