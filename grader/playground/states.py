"""What one epoch hands to the next: a network's state at an epoch boundary, as flat rows.

A run's state is everything the next epoch starts from: the weights (in the
engine's transposed layout), the biases and, when the batches leave points
over (Playground's leftover quirk), the carried gradient sums and their count.
L1's dead links are not stored: after the first update a link is dead exactly
when its weight is 0 in an L1 run (a crossing sets it to 0 and marks it; a dead
weight stays 0), and before any update no link is dead.

A stack of runs keeps its states as one (runs, size) float64 array per
boundary, so that a whole trajectory, (epochs + 1, runs, size), crosses from
the worker to the grader as one plain array. This file runs in the grader and,
with the rest of grader.playground, inside the student's worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """How an epoch's batches fall into updates, from each boundary's carried count.

    counts[e]: the points carried into epoch e (0-based); counts[0] is 0.
    updated[e]: whether some update happened before boundary e."""

    counts: tuple[int, ...]
    updated: tuple[bool, ...]

    @property
    def carries(self) -> bool:
        return any(self.counts)


def schedule(batch_lengths: Sequence[int], batch_size: int, epochs: int) -> Schedule:
    """The carried count and "an update happened" at every boundary 0..epochs, as the
    engine's step loop gives them (a batch updates once it and what was carried
    reach batch_size; otherwise it is carried on)."""
    counts, updated = [0], [False]
    epoch_from: dict[int, tuple[int, bool]] = {}  # carried count -> (count after, updated)
    for _ in range(epochs):
        start = counts[-1]
        if start not in epoch_from:
            count, any_update = start, False
            for n in batch_lengths:
                count += n
                if count >= batch_size:
                    count, any_update = 0, True
            epoch_from[start] = (count, any_update)
        count, any_update = epoch_from[start]
        counts.append(count)
        updated.append(updated[-1] or any_update)
    return Schedule(tuple(counts), tuple(updated))


@dataclass(frozen=True)
class Layout:
    """Where each part of a state lies in a run's flat row."""

    weight_shapes: tuple[tuple[int, int], ...]  # (n_in, n_out) per layer (engine layout)
    bias_sizes: tuple[int, ...]
    carries: bool  # the row holds carried gradients and their count after the parameters

    @classmethod
    def of(cls, layer_sizes: Sequence[int], carries: bool) -> Layout:
        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
        return cls(tuple(pairs), tuple(n_out for _, n_out in pairs), carries)

    @property
    def parameters(self) -> int:
        return sum(a * b for a, b in self.weight_shapes) + sum(self.bias_sizes)

    @property
    def size(self) -> int:
        return self.parameters * (2 if self.carries else 1) + self.carries

    def pack(self, weights, biases, carry, out: np.ndarray | None = None) -> np.ndarray:
        """(runs, size) from the engine's arrays; carry: (grad_w, grad_b, count) or None."""
        runs = len(weights[0])
        if out is None:
            out = np.empty((runs, self.size))
        parts = [w.reshape(runs, -1) for w in weights] + list(biases)
        if self.carries:
            if carry is None:
                parts += [np.zeros((runs, self.parameters)), np.zeros((runs, 1))]
            else:
                grad_w, grad_b, count = carry
                parts += [g.reshape(runs, -1) for g in grad_w] + list(grad_b)
                parts.append(np.full((runs, 1), float(count)))
        np.concatenate(parts, axis=1, out=out)
        return out

    def unpack(self, rows: np.ndarray):
        """The engine's (weights, biases, carry) from (runs, size) rows (copies)."""
        runs = len(rows)
        at = 0
        weights, biases = [], []
        for n_in, n_out in self.weight_shapes:
            weights.append(rows[:, at:at + n_in * n_out].reshape(runs, n_in, n_out).copy())
            at += n_in * n_out
        for n_out in self.bias_sizes:
            biases.append(rows[:, at:at + n_out].copy())
            at += n_out
        carry = None
        if self.carries:
            counts = rows[:, -1]
            count = int(counts[0]) if runs else 0
            if count:
                grad_w, grad_b = [], []
                for n_in, n_out in self.weight_shapes:
                    grad_w.append(rows[:, at:at + n_in * n_out].reshape(runs, n_in, n_out).copy())
                    at += n_in * n_out
                for n_out in self.bias_sizes:
                    grad_b.append(rows[:, at:at + n_out].copy())
                    at += n_out
                carry = (grad_w, grad_b, count)
        return weights, biases, carry


def same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row of two (runs, size) arrays: equal bit for bit, except that every NaN
    equals every NaN and -0.0 equals 0.0 (the engine's arithmetic does not tell
    them apart in anything that follows)."""
    equal = (a == b) | (np.isnan(a) & np.isnan(b))
    return equal.reshape(len(a), -1).all(axis=1) if equal.size else np.ones(len(a), bool)
