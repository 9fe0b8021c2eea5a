"""Playground's seven input features, computed from a point (x1, x2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# In Playground's order (playground.ts INPUTS).
FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}
ALL_FEATURES = tuple(FEATURES)
PLAYGROUND_DEFAULT_FEATURES = ("x1", "x2")
# Spellings a user may type on a command line.
ALIASES = {
    "x": "x1", "y": "x2", "x1sq": "x1^2", "x2sq": "x2^2", "xsquared": "x1^2",
    "ysquared": "x2^2", "x1*x2": "x1x2", "xtimesy": "x1x2", "sinx1": "sin(x1)",
    "sinx2": "sin(x2)", "sinx": "sin(x1)", "siny": "sin(x2)",
}


def canonical_feature(name: str) -> str:
    """The canonical name of a feature spelling, or KeyError."""
    key = name.strip().lower().replace(" ", "")
    if key in FEATURES:
        return key
    return ALIASES[key]


def feature_matrix(points: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """(n, 2) points -> (n, len(features)) inputs, columns in Playground's order."""
    x1, x2 = points[..., 0], points[..., 1]
    ordered = [f for f in ALL_FEATURES if f in features]
    return np.stack([FEATURES[f](x1, x2) for f in ordered], axis=-1)
