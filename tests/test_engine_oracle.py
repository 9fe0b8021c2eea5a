"""The vectorized engine against the literal per-example oracle (tests/playground_oracle.py)."""

from __future__ import annotations

import numpy as np
import pytest
from playground_oracle import train_oracle

from grader.playground.config import ACTIVATIONS, TrainConfig
from grader.playground.engine import train
from grader.playground.features import ALL_FEATURES
from grader.playground.problem import make_problem

SEEDS = [3, "0.12345"]  # one NumPy seed, one Playground seed, trained together


def _oracle(config: TrainConfig, seed):
    p = make_problem(config, seed)
    return train_oracle(
        p.x_train, p.y_train, p.x_test, p.y_test, p.weights, p.biases,
        activation=config.activation, learning_rate=config.learning_rate,
        batch_size=config.batch_size, regularization=config.regularization,
        regularization_rate=config.regularization_rate, epochs=config.epochs,
    )


def _assert_matches(config: TrainConfig):
    results = train([(config, s) for s in SEEDS])
    for seed, result in zip(SEEDS, results, strict=True):
        expected = _oracle(config, seed)
        np.testing.assert_allclose(result.curve, np.array(expected.curve), rtol=0, atol=1e-12)
        # Parameters drift a little more than losses: rounding differences of one
        # ulp per step (batched sums, lr * (g / n) vs nn.ts's (lr / n) * g) grow.
        for got, want in zip(result.weights, expected.weights, strict=True):
            np.testing.assert_allclose(got, np.array(want), rtol=0, atol=1e-10)
        for got, want in zip(result.biases, expected.biases, strict=True):
            np.testing.assert_allclose(got, np.array(want), rtol=0, atol=1e-10)
    return results


@pytest.mark.parametrize("regularization", [None, "L1", "L2"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch_size", [10, 7])  # 7 does not divide 250: the leftover carry
def test_engine_matches_oracle_first_three_epochs(activation, regularization, batch_size):
    # Playground's default learning rate: at lr >= 0.3, linear and relu nets on
    # these features are chaotic enough to amplify one-ulp differences past 1e-12
    # within three epochs.
    config = TrainConfig(
        dataset="spiral", features=ALL_FEATURES, hidden=(8,), activation=activation,
        learning_rate=0.03, batch_size=batch_size, regularization=regularization,
        regularization_rate=0.3 if regularization else 0, epochs=3)
    _assert_matches(config)


@pytest.mark.parametrize("dataset", ["circle", "xor", "gauss"])
def test_engine_matches_oracle_on_deeper_networks(dataset):
    config = TrainConfig(dataset=dataset, noise=25, hidden=(4, 2), activation="relu",
                         learning_rate=0.1, batch_size=3, regularization="L2",
                         regularization_rate=0.003, epochs=3)
    _assert_matches(config)


def test_l1_dead_links_match_the_oracle_and_stay_zero():
    # A strong L1 rate kills links within a few epochs (Playground's zero crossing).
    config = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,),
                         learning_rate=0.03, regularization="L1", regularization_rate=3,
                         epochs=3)
    results = _assert_matches(config)
    for seed, result in zip(SEEDS, results, strict=True):
        dead = np.array(_oracle(config, seed).dead[0])
        assert dead.any(), "the setting must kill some links for this test to mean anything"
        assert (result.weights[0][dead] == 0).all()
        # Longer training: a dead link never comes back.
        longer = train([(TrainConfig(**{**config.to_dict(), "features": config.features,
                                        "hidden": config.hidden, "epochs": 6}), seed)])[0]
        assert (longer.weights[0][dead] == 0).all()


def test_leftover_batch_is_carried_into_the_next_epoch():
    # 250 points, batch 100: updates after points 100 and 200; the last 50 points'
    # gradients join the first update of epoch 2 (averaged over 150 points).
    config = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,),
                         batch_size=100, learning_rate=0.3, epochs=2)
    _assert_matches(config)
    p = make_problem(config, SEEDS[0])
    dropped = train_oracle(  # the same points without the carry: must differ
        p.x_train[:200], p.y_train[:200], p.x_test, p.y_test, p.weights, p.biases,
        activation="tanh", learning_rate=0.3, batch_size=100, regularization=None,
        regularization_rate=0, epochs=2)
    engine = train([(config, SEEDS[0])])[0]
    assert abs(engine.curve[1, 1] - dropped.curve[1][1]) > 1e-6
