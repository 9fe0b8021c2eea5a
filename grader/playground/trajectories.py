"""Trainings that start or end at epoch boundaries (states.py), for verified training.

- trajectory_training: a stack of runs from their initial networks, every
  boundary's state recorded: what the student's worker computes and reports.
- transition_training: one epoch for a stack of (epoch, run) items, each from
  its own start state, and the losses after it: how the grader recomputes
  every reported transition at once (grader/experiments/verify.py).

Both run the engine's own step loop (engine._epoch) with the same array
layout, so an item's arithmetic is its run's, whatever it is stacked with.
Like the engine, these generators yield component requests and are driven by
whoever answers them. This file runs in the grader and in the worker.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grader.playground.config import TrainConfig
from grader.playground.engine import (
    Progress,
    Training,
    _checked_batches,
    _data,
    _epoch,
    _forward,
    _losses,
    _Network,
    _Split,
    initial_parameters,
)
from grader.playground.problem import make_problem
from grader.playground.rng import Seed
from grader.playground.states import Layout, schedule


def trajectory_training(runs: Sequence[tuple[TrainConfig, Seed]], *,
                        start: np.ndarray | None = None, first_epoch: int = 0,
                        epochs: int | None = None, progress: Progress | None = None,
                        problems=None) -> Training:
    """Train runs that share a stack key for `epochs` epochs (default: all of the
    config's) from boundary first_epoch, whose states are `start` (None: the initial
    networks); returns the states at every boundary on the way, (epochs + 1, runs,
    Layout.size), start included. Nothing is judged here: a run that diverges goes
    on with whatever its numbers are (the grader decides)."""
    configs = [config for config, _ in runs]
    first = configs[0]
    epochs = first.epochs - first_epoch if epochs is None else epochs
    if problems is None:
        problems = [make_problem(config, seed) for config, seed in runs]
    split = _Split(configs, vectorized_rates=False)
    data = _data(problems)
    n_train = data[0].shape[1]
    (batches,) = yield [("minibatches", (n_train, first.batch_size), slice(None))]
    checked = _checked_batches(batches, n_train)
    steps = batch_data(data, checked)
    plan = schedule([len(b) for b in checked], first.batch_size, first.epochs)
    layout = Layout.of(first.layer_sizes, plan.carries)
    if start is None:
        net = _Network(*initial_parameters(problems), split, speculate=False)
        carry = None
    else:
        weights, biases, carry = layout.unpack(start)
        net = _Network(weights, biases, split, speculate=False,
                       dead=dead_links(weights, split, plan.updated[first_epoch]))
    states = np.empty((epochs + 1, len(runs), layout.size))
    layout.pack(net.weights, net.biases, carry, out=states[0])
    with np.errstate(all="ignore"):  # divergence is the grader's to find
        for epoch in range(epochs):
            carry = yield from _epoch(net, steps, first.batch_size, carry)
            layout.pack(net.weights, net.biases, carry, out=states[epoch + 1])
            if progress is not None:
                progress(epoch + 1)
    return states


def batch_data(data, batches: Sequence[np.ndarray]) -> list[tuple]:
    """(x, y, count) of each batch, for every run of `data` (engine._data)."""
    x_train, y_train = data[0], data[1]
    return [(x_train[:, idx], y_train[:, idx], len(idx)) for idx in batches]


def dead_links(weights, split: _Split, updated: bool) -> list[np.ndarray] | None:
    """L1's dead links at a boundary (states.py): the L1 runs' zero weights, once some
    update has happened; None: none (the network's default)."""
    if not updated or split.l1_runs is None:
        return None
    return [(w == 0) & split.l1_runs for w in weights]


def transition_training(configs: Sequence[TrainConfig], data, run_of: np.ndarray,
                        starts: np.ndarray, layout: Layout, steps: Sequence[tuple],
                        updated: bool, evaluate: np.ndarray) -> Training:
    """One epoch for each item, from its start state.

    configs: each item's; data: engine._data of the distinct runs; run_of: each
    item's run in data; starts: (items, layout.size) rows, all carrying the same
    count; steps: batch_data of the checked batches; updated: whether an update happened before
    these boundaries (L1's dead links are then the L1 runs' zero weights);
    evaluate: the items whose losses after the epoch are wanted.
    Returns (end states (items, layout.size), losses (evaluated items, 2)).
    Requests' rows are the items' positions."""
    split = _Split(list(configs), vectorized_rates=False)
    weights, biases, carry = layout.unpack(starts)
    net = _Network(weights, biases, split, speculate=True,
                   dead=dead_links(weights, split, updated))
    _, _, x_eval, y_eval = data
    n_train = data[0].shape[1]
    # Each step's points of every run were gathered once (batch_data): the items' rows.
    items_steps = ((np.take(x, run_of, axis=0), np.take(y, run_of, axis=0), count)
                   for x, y, count in steps)
    with np.errstate(all="ignore"):
        carry = yield from _epoch(net, items_steps, configs[0].batch_size, carry)
        yield from net.finish()
        ends = layout.pack(net.weights, net.biases, carry)
        rows = np.flatnonzero(evaluate)
        losses = np.empty((0, 2))
        if len(rows):
            sub = _Split([configs[i] for i in rows], vectorized_rates=False)
            forward = _forward([w[rows] for w in net.weights], [b[rows] for b in net.biases],
                               x_eval[run_of[rows]], sub, False)
            (_, _, out), _ = yield from _rows_of(forward, rows)
            losses = _losses(out, y_eval[run_of[rows]], n_train)
    return ends, losses


def _rows_of(training, rows: np.ndarray):
    """A sub-training's requests with their rows given as positions among all items."""
    answers = None
    while True:
        try:
            requests = training.send(answers) if answers is not None else next(training)
        except StopIteration as done:
            return done.value
        answers = yield [(method, args, rows[sub]) for method, args, sub in requests]
