"""Playground's classification datasets (src/dataset.ts), drawn from a stream.

Each generator consumes the uniform stream exactly as the browser does (same
draws, same order, same floating-point expressions), so a Playground seed
string gives the browser's points. Labels are +1 / -1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from grader.playground.rng import UniformStream

NUM_SAMPLES = 500  # Playground's NUM_SAMPLES_CLASSIFY
DOMAIN = 6.0  # Playground draws every dataset, and its heat map, in [-6, 6]^2


def _uniform(u: np.ndarray | float, a: float, b: float):
    return u * (b - a) + a  # dataset.ts randUniform, same operation order


def spiral(n_samples: int, noise: float, stream: UniformStream) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved arms, class +1 first (deltaT 0), then -1 (deltaT pi)."""
    n = n_samples / 2
    i = np.arange(int(n), dtype=np.float64)
    xs, labels = [], []
    for delta_t, label in ((0.0, 1.0), (math.pi, -1.0)):
        r = i / n * 5
        t = 1.75 * i / n * 2 * math.pi + delta_t
        # Two draws per point, x then y, even when noise is 0.
        u = stream.random(2 * len(i)).reshape(-1, 2)
        x = r * np.sin(t) + _uniform(u[:, 0], -1, 1) * noise
        y = r * np.cos(t) + _uniform(u[:, 1], -1, 1) * noise
        xs.append(np.stack([x, y], axis=1))
        labels.append(np.full(len(i), label))
    return np.concatenate(xs), np.concatenate(labels)


def circle(n_samples: int, noise: float, stream: UniformStream) -> tuple[np.ndarray, np.ndarray]:
    """A disc of +1 inside a ring of -1; labels decided on the noisy point."""
    radius = 5.0
    half = math.ceil(n_samples / 2)  # the browser loops while i < numSamples / 2
    parts = []
    for r_lo, r_hi in ((0.0, radius * 0.5), (radius * 0.7, radius)):
        u = stream.random(4 * half).reshape(-1, 4)
        r = _uniform(u[:, 0], r_lo, r_hi)
        angle = _uniform(u[:, 1], 0, 2 * math.pi)
        x = r * np.sin(angle)
        y = r * np.cos(angle)
        nx = _uniform(u[:, 2], -radius, radius) * noise
        ny = _uniform(u[:, 3], -radius, radius) * noise
        dx, dy = x + nx, y + ny
        label = np.where(np.sqrt(dx * dx + dy * dy) < radius * 0.5, 1.0, -1.0)
        parts.append((np.stack([x, y], axis=1), label))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def xor(n_samples: int, noise: float, stream: UniformStream) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants; points are pushed 0.3 away from the axes."""
    padding = 0.3
    u = stream.random(4 * n_samples).reshape(-1, 4)
    x = _uniform(u[:, 0], -5, 5)
    x = x + np.where(x > 0, padding, -padding)
    y = _uniform(u[:, 1], -5, 5)
    y = y + np.where(y > 0, padding, -padding)
    nx = _uniform(u[:, 2], -5, 5) * noise
    ny = _uniform(u[:, 3], -5, 5) * noise
    label = np.where((x + nx) * (y + ny) >= 0, 1.0, -1.0)
    return np.stack([x, y], axis=1), label


def gauss(n_samples: int, noise: float, stream: UniformStream) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs at (2, 2) (+1) and (-2, -2) (-1)."""
    variance = 0.5 + noise / 0.5 * 3.5  # d3 linear scale: [0, .5] -> [0.5, 4]
    half = math.ceil(n_samples / 2)
    points, labels = [], []
    for centre, label in ((2.0, 1.0), (-2.0, -1.0)):
        for _ in range(half):
            points.append((_normal(centre, variance, stream), _normal(centre, variance, stream)))
            labels.append(label)
    return np.array(points, dtype=np.float64), np.array(labels)


def _normal(mean: float, variance: float, stream: UniformStream) -> float:
    """dataset.ts normalRandom: Marsaglia's polar method, one value per call."""
    while True:
        v1 = 2 * stream.next() - 1
        v2 = 2 * stream.next() - 1
        s = v1 * v1 + v2 * v2
        if s <= 1:
            break
    # The browser would give -inf/NaN for s == 0 (probability ~2^-104); so do we.
    with np.errstate(all="ignore"):
        result = float(np.sqrt(-2 * np.log(s) / s)) * v1 if s > 0 else math.nan
    return mean + math.sqrt(variance) * result


def shuffle(n: int, stream: UniformStream) -> np.ndarray:
    """The permutation dataset.ts shuffle() applies (Fisher-Yates from the end)."""
    order = np.arange(n)
    draws = stream.random(n)
    for k, counter in enumerate(range(n, 0, -1)):
        index = math.floor(draws[k] * counter)
        order[counter - 1], order[index] = order[index], order[counter - 1]
    return order


Generator = Callable[[int, float, UniformStream], tuple[np.ndarray, np.ndarray]]

DATASETS: dict[str, Generator] = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral}
