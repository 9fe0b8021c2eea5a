"""seedrandom known answers, Playground's data for a seed, features, initial weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.playground import datasets
from grader.playground.config import TrainConfig
from grader.playground.features import ALL_FEATURES, feature_matrix
from grader.playground.problem import make_problem
from grader.playground.rng import NumpyStream, SeedRandom, make_stream

# Read from seedrandom 2.4.3 itself (shared/spec/playground-semantics.md).
KNOWN_ANSWERS = {
    "0.12345": [0.9152007406557323, 0.4702753218035592, 0.2736265229359467,
                0.4061024686767439, 0.17774293688520318],
    "hwgrade": [0.8456240244337863, 0.3576671941185874, 0.3382156078083036,
                0.6628798545901915, 0.7510117122384674],
    "": [0.23144008215179881, 0.27404636548159655, 0.7901279251811976,
         0.40384160557189036, 0.1321140086237582],
}


@pytest.mark.parametrize("seed", list(KNOWN_ANSWERS))
def test_seedrandom_known_answers(seed):
    stream = SeedRandom(seed)
    assert [stream.next() for _ in range(5)] == KNOWN_ANSWERS[seed]  # exact, not approx


def test_random_block_equals_sequential_draws():
    a, b = SeedRandom("0.12345"), SeedRandom("0.12345")
    assert a.random(7).tolist() == [b.next() for _ in range(7)]


@given(st.text(max_size=300))
def test_seedrandom_values_are_in_unit_interval(seed):
    values = SeedRandom(seed).random(20)
    assert ((values >= 0) & (values < 1)).all()


def test_spiral_first_training_points_for_playground_seed():
    p = make_problem(TrainConfig(dataset="spiral", features=("x1", "x2")), "0.12345")
    expected = [(3.0204337300800503, -2.435442481807918, 1.0),
                (-0.1617203569582349, -0.22857499020081157, -1.0),
                (0.053782650700747385, -4.279662069192333, 1.0)]
    got = [(*map(float, p.train_points[i]), float(p.y_train[i])) for i in range(3)]
    assert got == expected


def test_initial_weights_follow_the_data_draws_in_the_same_stream():
    config = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,))
    p = make_problem(config, "hwgrade")
    stream = SeedRandom("hwgrade")
    stream.random(500 * 2 + 500)  # spiral: two draws per point; then the shuffle
    expected_first_layer = stream.random(8 * 7).reshape(8, 7) - 0.5
    assert np.array_equal(p.weights[0], expected_first_layer)
    assert np.array_equal(p.weights[1], stream.random(8).reshape(1, 8) - 0.5)
    assert all((b == 0.1).all() for b in p.biases)


@pytest.mark.parametrize("name", list(datasets.DATASETS))
@pytest.mark.parametrize("noise", [0, 0.5])
def test_datasets_have_500_labelled_points(name, noise):
    points, labels = datasets.DATASETS[name](500, noise, NumpyStream(0))
    assert points.shape == (500, 2) and labels.shape == (500,)
    assert set(np.unique(labels)) <= {-1.0, 1.0}
    assert np.isfinite(points).all()
    if name in ("spiral", "gauss"):  # label is fixed by the generator, 250 each
        assert (labels == 1).sum() == 250


def test_spiral_draws_noise_even_at_zero_noise():
    a, b = NumpyStream(5), NumpyStream(5)
    datasets.spiral(500, 0.0, a)
    b.random(1000)
    assert a.next() == b.next()


def test_shuffle_is_a_permutation_and_split_is_half():
    p = make_problem(TrainConfig(dataset="xor"), 11)
    assert len(p.x_train) == len(p.x_test) == 250
    assert p.x_train.shape == (250, 2)


def test_feature_order_is_playgrounds():
    pts = np.array([[0.5, -2.0]])
    got = feature_matrix(pts, ALL_FEATURES)[0]
    assert got.tolist() == [0.5, -2.0, 0.25, 4.0, -1.0, np.sin(0.5), np.sin(-2.0)]
    # a subset keeps Playground's column order whatever order it was given in
    assert feature_matrix(pts, ("sin(x2)", "x1")).tolist() == [[0.5, np.sin(-2.0)]]


def test_make_problem_is_deterministic_per_seed_and_differs_across_seeds():
    config = TrainConfig(dataset="circle", noise=10)
    a, b, c = make_problem(config, 1), make_problem(config, 1), make_problem(config, 2)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.x_train, c.x_train)


def test_make_stream_rejects_other_seed_types():
    with pytest.raises(TypeError):
        make_stream(1.5)
    with pytest.raises(TypeError):
        make_stream(True)
