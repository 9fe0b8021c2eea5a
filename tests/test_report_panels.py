"""The HTML report's panel per setting, and what the result records for it: each run's
divergence epoch and, for regularized settings, the final weights at exactly 0."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from html_page import Page, images
from html_result import day65_result

from grader.experiments.report import student_summary
from grader.playground.config import TrainConfig
from grader.playground.engine import RunResult, train
from grader.report import html

SCHEMA = json.loads((Path(__file__).parents[1] / "grader" / "schemas"
                     / "result.schema.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def result():
    return day65_result()


def _sections(text: str) -> dict[str, str]:
    parts = text.split('<section class="exercise" id="')[1:]
    return {part.split('"', 1)[0]: part for part in parts}


@pytest.mark.slow  # a whole Day 65 page: 27 plots
def test_every_setting_of_every_exercise_has_its_own_captioned_panel(result):
    sections = _sections(html.render(result))
    assert list(sections) == ["exercise-5", "exercise-6", "exercise-7", "exercise-8"]
    for entry in result.experiments:
        page = Page(sections[f"exercise-{entry['exercise']}"])
        panels = [a for a in page.all("figure") if a.get("class") == "panel"]
        labels = [c["label"] for c in entry["configs"]]
        assert len(panels) == len(labels)
        drawn = [img["alt"] for img in page.all("img") if img.get("width") == "210"]
        assert drawn == labels
        for label in labels:
            assert label in page.plain


def test_a_panel_says_what_diverged_and_how_many_weights_are_zero(result):
    experiments = copy.deepcopy(result.experiments)
    eight = experiments[3]["configs"][1]  # L1 at 0.001
    eight["student"].update(zero_weights=[30, 31, 35, 36, 37, 39, 41, None], weights=64,
                            diverged_at=[None] * 7 + [120])
    page = Page(_sections(html.render(_with(result, experiments[3:])))["exercise-8"])
    assert "weights exactly 0: 36/64 (your median)" in page.plain
    assert page.plain.count("weights exactly 0") == 1  # only where the result says
    assert "diverged: you 1/8, reference 0/64" in page.plain


def test_the_cross_of_a_diverged_run_is_drawn(result):
    experiments = copy.deepcopy(result.experiments[:1])  # exercise 5 alone: faster
    config = experiments[0]["configs"][0]
    plain = html.render(_with(result, experiments))
    config["student"]["diverged_at"] = [None] * 7 + [250]
    crossed = html.render(_with(result, experiments))
    before, after = (images(Page(_sections(t)["exercise-5"]))[0] for t in (plain, crossed))
    # black-edged cross markers near the top of the panel
    changed = np.abs(after - before).max(axis=-1) > 0.3
    rows = np.flatnonzero(changed.any(axis=1))
    assert changed.sum() > 20 and rows.max() < after.shape[0] / 3


def _with(result, experiments):
    out = copy.deepcopy(result)
    out.experiments = experiments
    return out


def test_the_summary_records_divergence_epochs_and_zero_weights_within_the_schema():
    configs = [TrainConfig(dataset="spiral", hidden=(3,), epochs=3, regularization="L1",
                           regularization_rate=0.3),
               TrainConfig(dataset="spiral", hidden=(3,), epochs=10, learning_rate=10,
                           regularization="L2", regularization_rate=3),
               TrainConfig(dataset="spiral", hidden=(3,), epochs=3)]
    results = train([(c, s) for c in configs for s in (0, 1)])
    l1, l2, plain = (student_summary(results[i:i + 2]) for i in (0, 2, 4))
    assert l1["diverged_at"] == [None, None] and l1["weights"] == 2 * 3 + 3 * 1
    assert l1["zero_weights"] == [r.zero_weights[0] for r in results[:2]]
    assert max(l1["zero_weights"]) > 0  # a strong L1 rate kills links within 3 epochs
    assert l2["zero_weights"] == [None, None] and all(l2["diverged_at"])
    assert "zero_weights" not in plain and "weights" not in plain
    entry = {"exercise": 8, "title": "t", "configs": [
        {"label": str(i), "config": c.to_dict(), "reference": {}, "student": s}
        for i, (c, s) in enumerate(zip(configs, (l1, l2, plain), strict=True))]}
    properties = SCHEMA["properties"]["experiments"]
    jsonschema.validate([entry], {**properties, "$defs": SCHEMA["$defs"]})


def test_zero_weights_are_counted_on_a_hand_made_network():
    config = TrainConfig(regularization="L1", regularization_rate=0.1, epochs=1)
    weights = (np.array([[0.0, 0.2], [0.0, -0.0], [1.0, 0.5]]), np.array([[0.0, 3.0]]))
    run = RunResult(config, 0, np.zeros((1, 2)), None, weights, (np.zeros(2), np.zeros(1)))
    assert run.zero_weights == (4, 8)
    assert student_summary([run])["zero_weights"] == [4]
