"""Verified training (grader/experiments/verify.py): the worker trains and reports
states, the grader recomputes every transition and believes only what equals them.

The trainers here run the worker's own code (calls.record_trajectory) in this
process; a worker that lies is a trainer that reports something else. Whatever
they report, the results must be exactly lockstep's with the served functions,
or the runs fail as Unverified."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from bindings import DAY65
from hypothesis import given
from hypothesis import strategies as st

import grader.experiments.verify as verify
from grader.experiments.lockstep import train_in_lockstep
from grader.experiments.verify import StackCheck, VerifiedTraining
from grader.playground import calls
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError, _checked_batches
from grader.playground.features import ALL_FEATURES
from grader.playground.states import Layout, same_bits, schedule
from grader.worker.errors import StudentException, Unverified

BASE = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,), epochs=8,
                   batch_size=10, learning_rate=0.3)
GRID = {
    "tanh": BASE,
    "relu": dataclasses.replace(BASE, activation="relu", learning_rate=1),
    "sigmoid": dataclasses.replace(BASE, activation="sigmoid", learning_rate=1),
    "l1": dataclasses.replace(BASE, regularization="L1", regularization_rate=0.03),
    "l2": dataclasses.replace(BASE, regularization="L2", regularization_rate=0.01),
    # the leftover quirk: 250 = 35 * 7 + 5 carried into the next epoch
    "batch 7 l1": dataclasses.replace(BASE, batch_size=7, regularization="L1",
                                      regularization_rate=0.01),
    # a batch larger than the data: an update every other epoch
    "batch 300": dataclasses.replace(BASE, batch_size=300),
    "batch 1": dataclasses.replace(BASE, batch_size=1, learning_rate=0.03, epochs=3),
    "diverges": dataclasses.replace(BASE, learning_rate=10, regularization="L2", epochs=20,
                                    regularization_rate=3),
}
GROUPS = {key: [(config, seed) for seed in (0, 1)] for key, config in GRID.items()}


def correct():
    out = {}
    for name in ("tanh", "relu", "sigmoid", "linear"):
        out["activations", name] = (lambda n: lambda z: PLAYGROUND.activation(n, z, False)[0])(
            name)
        out["activations", f"{name}_derivative"] = (
            lambda n: lambda z: PLAYGROUND.activation(n, z, True)[1])(name)
    out["regularization", "regularized_update"] = (
        lambda w, g, lr, rate, kind: PLAYGROUND.regularized_update([w], [g], lr, rate, kind)[0])
    out["minibatch", "minibatches"] = PLAYGROUND.minibatches
    return out


class Served:
    """A submission's functions, answering call_many as the worker would (copies in)."""

    def __init__(self, functions) -> None:
        self.functions = functions
        self.round_trips = 0

    def call_many(self, requested):
        self.round_trips += 1
        out = []
        for module, function, args, *_ in requested:
            args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            try:
                out.append(self.functions[module, function](*args))
            except Exception as exc:
                out.append(StudentException("exception", function=f"{module}.{function}",
                                            exc_type=type(exc).__name__, exc_message=str(exc)))
        return out


class Trainer(Served):
    """A worker that trains with `functions` (maybe not the served ones), or whose
    every reply goes through `lie(spec, reply)`; its call_many serves `serves`
    (default: the functions it trains with)."""

    call_timeout = 10.0

    def __init__(self, functions, lie=None, serves=None) -> None:
        super().__init__(functions if serves is None else serves)
        self.training = functions
        self.lie = lie
        self.cache: dict = {}
        self.asked: list[dict] = []
        self.closed = False

    def trajectory(self, spec, seconds):
        self.asked.append(spec)

        def call(module, function, args):
            try:
                return self.training[module, function](*args)
            except Exception:
                raise calls.Failed from None

        with np.errstate(all="ignore"):
            reply = calls.record_trajectory(spec, call, self.cache)
        if self.lie is not None:
            return self.lie(spec, reply)
        return reply, None

    def close(self):
        self.closed = True


def verified(served, trainers, groups=GROUPS, **options):
    training = VerifiedTraining(trainers, groups, binding=DAY65, **options)
    try:
        return training.results(served)
    finally:
        training.close()


def same(a, b) -> bool:
    return all(np.array_equal(x.curve, y.curve, equal_nan=True)
               and x.diverged_at == y.diverged_at
               and all(np.array_equal(p, q) for p, q in zip(x.weights + x.biases,
                                                            y.weights + y.biases, strict=True))
               for x, y in zip(a, b, strict=True))


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Several blocks per stack even for these short trainings."""
    monkeypatch.setattr(verify, "BLOCK_SECONDS", 0.005)


def test_correct_functions_give_lockstep_results_bit_for_bit():
    served = Served(correct())
    expected = train_in_lockstep(served.call_many, GROUPS, binding=DAY65)
    got = verified(served, [Trainer(correct()), Trainer(correct())])
    for key in GROUPS:
        assert not isinstance(got[key], BaseException), (key, got[key])
        assert same(got[key], expected[key]), key
    assert all(r.diverged_at is not None for r in got["diverges"])


def test_a_training_comes_in_several_blocks_and_the_first_block_alone_is_early():
    served, trainer = Served(correct()), Trainer(correct())
    training = VerifiedTraining([trainer], {"tanh": GROUPS["tanh"]}, binding=DAY65,
                                first_block=3)
    early = training.early(served)["tanh"]
    full = training.results(served)["tanh"]
    training.close()
    assert [a["epochs"] for a in trainer.asked][0] == 3 and len(trainer.asked) > 2
    assert [a["first_epoch"] for a in trainer.asked] == sorted(
        {a["first_epoch"] for a in trainer.asked})
    expected = train_in_lockstep(served.call_many, {"tanh": GROUPS["tanh"]}, binding=DAY65)["tanh"]
    assert same(full, expected)
    for e, f in zip(early, full, strict=True):
        assert len(e.curve) == 3
        np.testing.assert_array_equal(e.curve, f.curve[:3])


def test_the_same_run_under_two_keys_is_trained_once():
    trainer = Trainer(correct())
    groups = {"a": GROUPS["tanh"], "b": GROUPS["tanh"]}
    got = verified(Served(correct()), [trainer], groups)
    assert same(got["a"], got["b"])
    assert sum(len(a["runs"]) for a in trainer.asked if a["first_epoch"] == 0) == 2


def test_a_patched_worker_engine_gets_nothing_for_a_wrong_function():
    # The exploit: relu returns |z| when the grader calls it, while the worker's
    # training uses a correct relu (its engine patched at import time).
    wrong = correct() | {("activations", "relu"): np.abs}
    got = verified(Served(wrong), [Trainer(correct(), serves=wrong)])
    assert isinstance(got["relu"], Unverified) and got["relu"].code == "unverified"
    assert "epoch 1" in str(got["relu"])
    assert not isinstance(got["tanh"], BaseException)  # relu's neighbours verify


def test_a_worker_that_reports_the_reference_states_for_wrong_functions_gets_nothing():
    wrong = correct() | {("regularization", "regularized_update"):
                         lambda w, g, lr, rate, kind: w - lr * g}  # ignores regularization
    got = verified(Served(wrong), [Trainer(correct())])
    assert isinstance(got["l1"], Unverified) and isinstance(got["l2"], Unverified)
    assert not isinstance(got["tanh"], BaseException)


class Sleeper:
    """A tanh that answers correctly for its first `calls` calls in a process, then
    returns zeros: it behaves differently in the worker that trains."""

    def __init__(self, calls: int) -> None:
        self.left = calls

    def __call__(self, z):
        self.left -= 1
        return np.tanh(z) if self.left >= 0 else np.zeros_like(z)


def test_a_sleeper_is_caught_and_named():
    trainer = Trainer(correct() | {("activations", "tanh"): Sleeper(300)})
    got = verified(Served(correct()), [trainer], {"tanh": GROUPS["tanh"]})
    assert isinstance(got["tanh"], Unverified)
    assert got["tanh"].code == "unverified_changed"
    assert got["tanh"].function == "activations.tanh"
    assert "activations.tanh gave different answers" in str(got["tanh"])


def test_a_function_that_answers_differently_on_a_second_call_is_caught():
    rng = np.random.default_rng(0)
    noisy = correct() | {("activations", "sigmoid"):
                         lambda z: PLAYGROUND.activation("sigmoid", z, False)[0]
                         + 1e-12 * rng.random()}
    got = verified(Served(noisy), [Trainer(noisy)], {"sigmoid": GROUPS["sigmoid"]})
    assert isinstance(got["sigmoid"], Unverified)
    assert got["sigmoid"].function == "activations.sigmoid"


@pytest.mark.parametrize("reply", [None, "states", {}, {"states": None},
                                   {"states": np.zeros((2, 2)), "reached": [1, 1]},
                                   {"states": np.zeros((9, 2, 73), dtype=np.float32),
                                    "reached": [9, 9]},
                                   {"states": np.zeros((9, 2, 73)), "reached": [9, 99]},
                                   {"states": np.zeros((9, 2, 73)), "reached": "all"}])
def test_a_reply_that_is_not_a_trajectory_verifies_nothing(reply):
    trainer = Trainer(correct(), lie=lambda spec, real: (reply, None))
    got = verified(Served(correct()), [trainer], {"tanh": GROUPS["tanh"]})
    assert isinstance(got["tanh"], Unverified) and got["tanh"].code == "unverified_lost"


def test_forged_states_of_the_same_shape_verify_nothing():
    def forged(spec, real):
        real["states"][1:] += 1e-15  # everything after the start, a hair off
        return real, None

    got = verified(Served(correct()), [Trainer(correct(), lie=forged)], {"l1": GROUPS["l1"]})
    assert isinstance(got["l1"], Unverified) and "epoch 1" in str(got["l1"])


def test_a_forged_start_verifies_nothing():
    def forged(spec, real):
        real["states"][0, :, 0] += 1.0
        return real, None

    got = verified(Served(correct()), [Trainer(correct(), lie=forged)], {"tanh": GROUPS["tanh"]})
    assert isinstance(got["tanh"], Unverified)


def test_a_worker_lost_in_the_middle_of_reporting_says_why_and_stops_asking():
    timeout = {"code": "reason.timeout", "params": {"seconds": "5"}}

    def dies(spec, real):
        return (real, None) if spec["first_epoch"] == 0 else (None, timeout)

    trainer = Trainer(correct(), lie=dies)
    got = verified(Served(correct()), [trainer], {"tanh": GROUPS["tanh"], "l1": GROUPS["l1"]})
    for key in ("tanh", "l1"):
        assert isinstance(got[key], Unverified) and got[key].code == "unverified_lost"
        assert "did not finish within 5 s" in str(got[key])
    assert sum(a["first_epoch"] > 0 for a in trainer.asked) == 1  # not asked again


def test_a_worker_that_claims_a_failure_that_did_not_happen_is_not_believed():
    def claims(spec, real):
        real["reached"] = [2] * len(real["reached"])
        return real, None

    got = verified(Served(correct()), [Trainer(correct(), lie=claims)], {"tanh": GROUPS["tanh"]})
    assert isinstance(got["tanh"], Unverified) and got["tanh"].code == "unverified_stopped"


def test_a_function_that_raises_fails_its_runs_with_the_graders_own_error():
    def tanh(z):
        if z.shape[0] > 0 and np.abs(z).max() > 3:
            raise ValueError("too big")
        return np.tanh(z)

    raising = correct() | {("activations", "tanh"): tanh}
    got = verified(Served(raising), [Trainer(raising)], {"tanh": GROUPS["tanh"],
                                                         "relu": GROUPS["relu"]})
    assert isinstance(got["tanh"], StudentException) and "too big" in str(got["tanh"])
    assert not isinstance(got["relu"], BaseException)


def test_batches_that_repeat_a_point_are_refused():
    with pytest.raises(ComponentError):
        _checked_batches([np.array([0, 0, 2]), np.array([3])], 4)
    assert len(_checked_batches([np.array([2, 0]), np.array([3, 1])], 4)) == 2
    wrong = correct() | {("minibatch", "minibatches"):
                         lambda n, b: [np.zeros(n, dtype=np.int64)]}
    got = verified(Served(wrong), [Trainer(wrong)], {"tanh": GROUPS["tanh"]})
    assert isinstance(got["tanh"], ComponentError)


def test_a_hanging_trainer_is_not_waited_for_after_close():
    # close() stops the threads; a result() never asked for does not hang the caller
    trainer = Trainer(correct())
    training = VerifiedTraining([trainer], {"tanh": GROUPS["tanh"]}, binding=DAY65)
    training.close()
    assert trainer.closed


@given(st.lists(st.integers(1, 40), min_size=1, max_size=12), st.integers(1, 60),
       st.integers(0, 30))
def test_the_schedule_is_the_step_loops_count(lengths, batch_size, epochs):
    plan = schedule(lengths, batch_size, epochs)
    count, updated = 0, False
    for e in range(epochs):
        for n in lengths:
            count += n
            if count >= batch_size:
                count, updated = 0, True
        assert plan.counts[e + 1] == count and plan.updated[e + 1] == updated
    assert plan.counts[0] == 0 and len(plan.counts) == epochs + 1


@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.booleans(), st.integers(1, 4))
def test_a_state_unpacks_to_what_was_packed(sizes, carries, runs):
    layout = Layout.of(sizes, carries)
    rng = np.random.default_rng(len(sizes))
    weights = [rng.random((runs, a, b)) for a, b in layout.weight_shapes]
    biases = [rng.random((runs, b)) for b in layout.bias_sizes]
    carry = ([rng.random(w.shape) for w in weights], [rng.random(b.shape) for b in biases],
             3) if carries else None
    row = layout.pack(weights, biases, carry)
    assert row.shape == (runs, layout.size)
    w2, b2, c2 = layout.unpack(row)
    assert all(np.array_equal(x, y) for x, y in zip(weights + biases, w2 + b2, strict=True))
    assert (c2 is None) == (carry is None)
    if carry:
        assert c2[2] == 3 and all(np.array_equal(x, y) for x, y in zip(
            carry[0] + carry[1], c2[0] + c2[1], strict=True))
    assert same_bits(row, layout.pack(w2, b2, c2)).all()


def test_same_bits_takes_nan_as_nan_and_minus_zero_as_zero():
    a = np.array([[np.nan, -0.0, 1.0]])
    assert same_bits(a, np.array([[np.nan, 0.0, 1.0]]))[0]
    assert not same_bits(a, np.array([[np.nan, 0.0, np.nextafter(1.0, 2.0)]]))[0]


def test_a_runs_bits_do_not_depend_on_what_it_is_stacked_with():
    # The scheme rests on this: the worker trains 8 runs stacked, the grader the same
    # epochs stacked with thousands of other items.
    rng = np.random.default_rng(0)
    a, w = rng.random((4000, 10, 7)), rng.random((4000, 7, 8))
    alone = np.matmul(a[:8], w[:8])
    assert np.matmul(a, w)[:8].tobytes() == alone.tobytes()
    assert np.matmul(a[3:11], w[3:11])[5:].tobytes() == np.matmul(a[8:11], w[8:11]).tobytes()


def test_stack_check_with_no_reply_probes_the_first_epoch():
    served = Served(correct())
    check = StackCheck(served.call_many, GROUPS["tanh"], binding=DAY65)
    check.add(None, {"code": "reason.crash", "params": {"signal_description": "killed",
                                                        "signal": 9}}, BASE.epochs)
    (first, _) = check.results()
    assert isinstance(first, Unverified) and "crashed" in str(first)
