"""One seeded run's starting point: the data split and the initial network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.playground.config import TrainConfig
from grader.playground.datasets import DATASETS, NUM_SAMPLES, shuffle
from grader.playground.features import feature_matrix
from grader.playground.rng import Seed, make_stream


@dataclass(frozen=True)
class Problem:
    """Everything a run starts from; weights[l] is (n_out, n_in), biases[l] (n_out,)."""

    seed: Seed
    train_points: np.ndarray  # (n_train, 2) raw (x1, x2), for plots
    test_points: np.ndarray
    x_train: np.ndarray  # (n_train, n_features)
    y_train: np.ndarray  # (n_train,) of +1 / -1
    x_test: np.ndarray
    y_test: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]


def make_problem(config: TrainConfig, seed: Seed) -> Problem:
    """Draw data, shuffle, split and initial weights from one stream, in the
    order the browser does on page load (generateData, then reset)."""
    stream = make_stream(seed)
    points, labels = DATASETS[config.dataset](NUM_SAMPLES, config.noise / 100, stream)
    order = shuffle(len(points), stream)
    points, labels = points[order], labels[order]
    split = len(points) * config.train_ratio // 100
    weights, biases = [], []
    sizes = config.layer_sizes
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        # One draw per link, for each node, for each node of the previous layer.
        weights.append(stream.random(n_out * n_in).reshape(n_out, n_in) - 0.5)
        biases.append(np.full(n_out, 0.1))
    return Problem(
        seed=seed,
        train_points=points[:split],
        test_points=points[split:],
        x_train=feature_matrix(points[:split], config.features),
        y_train=labels[:split],
        x_test=feature_matrix(points[split:], config.features),
        y_test=labels[split:],
        weights=tuple(weights),
        biases=tuple(biases),
    )
