"""The HTML report (grader/report/html.py) on a synthetic Day 65 result
(tests/html_result.py): self-contained, inert, complete, graceful with missing
experiment data, escaped, deterministic, and matplotlib only when drawing."""

from __future__ import annotations

import copy
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from html_page import BLUE, ORANGE, Page, assert_self_contained, images, near
from html_result import EXERCISES, day65_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.report import html, plots, render
from grader.results import CheckResult, GradeResult, SubmissionInfo

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def result() -> GradeResult:
    return day65_result()


@pytest.fixture(scope="module")
def page_text(result) -> str:
    return html.render(result)


def test_one_self_contained_document_with_a_csp(page_text):
    assert page_text.startswith("<!DOCTYPE html>\n") and page_text.endswith("</html>\n")
    assert_self_contained(page_text)
    assert '<meta charset="utf-8">' in page_text


def test_the_score_and_every_check_with_what_went_wrong(result, page_text):
    page = Page(page_text)
    assert "Score 15/23" in page.plain
    rows = [a for a in page.all("tr") if "check" in (a.get("class") or "").split()]
    assert [r["id"] for r in rows] == [f"check-{c.name}" for c in result.checks]
    assert [r["class"].split()[1] for r in rows] == [c.status for c in result.checks]
    failed = result.checks[1]
    for text in (failed.title, f"activations.sigmoid: {failed.message}", failed.expected,
                 failed.actual, failed.counterexample, failed.hint):
        assert text in page.plain
    assert "not run: needs sigmoid is stable for huge |z|" in page.plain
    assert "This is a problem in the grader, not in your code" in page.plain
    assert page.plain.count("hidden") == 1  # one hidden check, marked
    assert "0/3" in page.plain and "8/8" in page.plain


def test_each_exercise_has_its_observation_table_curves_and_boundary(result, page_text):
    page = Page(page_text)
    sections = [a["id"] for a in page.all("section") if a.get("class") == "exercise"]
    assert sections == ["exercise-5", "exercise-6", "exercise-7", "exercise-8"]
    for _, title, _, observation, configs in EXERCISES:
        assert title in page.plain and observation in page.plain
        for label, _ in configs:
            assert label in page.plain
    assert page.plain.count("reproduced with your functions") == 4  # 3 yes, 1 "not ..."
    assert page.plain.count("not reproduced with your functions") == 1
    table_rows = sum(len(e["configs"]) for e in result.experiments)
    assert table_rows == 23
    assert len(page.all("table")) == 1 + 4
    # the student's median (p10-p90) beside the reference's, diverged counts
    first = result.experiments[0]["configs"][0]
    s, r = first["student"], first["reference"]
    assert f"{s['median']:.3f} ({s['p10']:.3f}–{s['p90']:.3f})" in page.plain
    assert f"{r['median']:.3f} ({r['p10']:.3f}–{r['p90']:.3f})" in page.plain
    assert "1/8" in page.plain and "0/64" in page.plain and "6/8" in page.plain
    within = [c["within"] for e in result.experiments for c in e["configs"]]
    cells = re.findall(r'<span class="badge (yes|no)">(?:yes|no)</span></td></tr>', page_text)
    assert cells == ["yes" if w else "no" for w in within]
    assert len(page.all("img")) == 23 + 4  # a panel per setting and a heat map per exercise


def test_the_heat_map_is_playgrounds_and_the_curves_are_drawn(page_text):
    page = Page(page_text)
    decoded = images(page)
    is_map = [img["alt"].startswith("Decision boundary") for img in page.all("img")]
    maps = [d for d, m in zip(decoded, is_map, strict=True) if m]
    curves = [d for d, m in zip(decoded, is_map, strict=True) if not m]
    assert len(maps) == 4 and len(curves) == 23
    for heat in maps:
        assert heat.shape[:2] == (420, 420)
        blue, orange = near(heat, BLUE).mean(), near(heat, ORANGE).mean()
        assert blue > 0.15 and orange > 0.15, (blue, orange)
        # training points are white-edged: some white inside the plane
        inner = heat[60:360, 60:360]
        assert (inner > 0.97).all(axis=-1).mean() > 0.005
    for curve in curves:
        assert curve.shape[:2] == (160, 210)
        coloured = (curve.max(axis=-1) - curve.min(axis=-1)) > 0.3
        assert coloured.mean() > 0.01


def test_heat_colours_follow_playgrounds_scale():
    colours = plots.heat_colours(np.array([[-1.0, 0.0, 1.0, math.nan, 5.0, -0.02]]))
    assert np.allclose(colours[0, 0], ORANGE) and np.allclose(colours[0, 2], BLUE)
    assert np.allclose(colours[0, 1], plots._rgb(plots.PLAYGROUND_GREY), atol=0.02)
    assert np.allclose(colours[0, 3], 1.0)  # NaN: white
    assert np.allclose(colours[0, 4], BLUE)  # clipped
    # quantized: near 0 is grey-ish, paler than a confident output
    assert abs(colours[0, 5] - plots._rgb(plots.PLAYGROUND_GREY)).max() < 0.05


def test_the_boundary_rows_run_from_the_top():
    """Row 0 of values is y = +6: a grid positive only in its first row is blue at the top."""
    from grader.report.experiments_view import exercise_view

    values = [[1.0] * 10] + [[-1.0] * 10] * 9
    view = exercise_view({"configs": [{"label": "a"}], "boundary": {
        "values": values, "extent": [-6, 6, -6, 6], "points": [], "test_points": []}})
    image = matplotlib.image.imread(io.BytesIO(plots.decision_boundary(view.boundary)))[..., :3]
    column = image[:, 210]
    top = np.argmax(near(column, BLUE))
    bottom = len(column) - 1 - np.argmax(near(column[::-1], ORANGE))
    assert top < 100 and bottom > 300


# --- graceful with missing data -------------------------------------------------------------


def _with_experiments(result: GradeResult, experiments) -> GradeResult:
    clone = copy.deepcopy(result)
    clone.experiments = experiments
    return clone


def test_no_experiments_no_exercise_sections(result):
    text = html.render(_with_experiments(result, []))
    assert_self_contained(text)
    assert 'class="exercise"' not in text and "<img" not in text


def test_failed_training_renders_what_is_there(result):
    experiments = copy.deepcopy(result.experiments)
    five, six, seven, eight = experiments
    for config in five["configs"]:
        config["student"] = None  # training with the student's code failed
        config["within"] = None
    five["boundary"] = None
    five["passed"] = None
    five["observation"]["reproduced"] = None
    six["configs"] = []
    seven["boundary"]["values"] = [[None] * 50] * 50  # every output lost
    del seven["observation"]
    for config in eight["configs"]:
        config["reference"] = None
        config["student"]["curve"] = None
    text = html.render(_with_experiments(result, experiments))
    assert_self_contained(text)
    page = Page(text)
    assert page.plain.count("no result") == 5 + 9
    assert page.plain.count("No decision boundary: training produced none.") == 2
    assert "No configurations were trained." in page.plain
    assert "No learning curves: training produced none." in page.plain
    assert "not decided" in page.plain
    # exercise 5's reference curves (5 panels), 7's curves (4; its boundary lost every
    # output), 8's boundary
    assert len(page.all("img")) == 5 + 4 + 1


MALFORMED = [None, 7, "x", [], {}, {"exercise": "five"},
             {"exercise": 5, "configs": None, "boundary": "none"},
             {"exercise": 5, "configs": [None, 3, {"student": [], "reference": "?"}]},
             {"exercise": 5, "configs": [{"label": None, "student": {
                 "median": "0.1", "p10": True, "p90": math.inf, "diverged": -1,
                 "curve_every": 0, "curve": {"median": [[0.1]], "p10": None}}}]},
             {"exercise": 5, "configs": [{"label": "a", "reference": {
                 "curve_every": 10, "curve": {"median": [None, [0.2, None], [0.3, math.nan],
                                                         [0.1, 0.2], "x"]}}}],
              "boundary": {"values": [[0.1, 0.2], [0.3]], "points": "x"}},
             {"exercise": 5, "configs": [{"label": "a"}],
              "boundary": {"values": [[0.5, -0.5], [math.nan, 1e300]], "extent": [6, -6, 0],
                           "points": [[0, 0, 1], [None, 1, 1], [1, 2]],
                           "test_points": [[0.5, 0.5, -1]]}}]


@pytest.mark.parametrize("entry", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_experiments_never_break_the_page(result, entry):
    text = html.render(_with_experiments(result, [entry, result.experiments[2]]))
    assert_self_contained(text)
    assert "Exercise 7: activation" in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 600) | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=4),
    max_leaves=12)


def _paths(value, prefix=()):
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_part_of_an_exercise_replaced_by_any_json_renders(result, data):
    """Fuzz: replace one field anywhere in exercise 7 by arbitrary JSON-like data."""
    entry = copy.deepcopy(result.experiments[2])
    # keep the big arrays out of the choice (their elements are covered above)
    paths = [p for p in _paths(entry) if len(p) < 6]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(json_values)
    if not path:
        entry = value
    else:
        parent = entry
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    assert_self_contained(html.render(_with_experiments(result, [entry])))


# --- escaping --------------------------------------------------------------------------------

ATTACKS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
           "'><svg onload=alert(1)>", "</style><script>alert(2)</script>",
           "<!-- --><iframe src=//evil.example>", "\x00\x1b[31m\ud800 &amp; &lt;"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_text_from_a_submission_comes_out_inert(result, attack):
    hostile = copy.deepcopy(result)
    hostile.assignment = attack
    hostile.submission = SubmissionInfo(path=attack, kind=attack, notes=[attack],
                                        skipped=[attack])
    hostile.checks = [CheckResult(name=attack, title=attack, status=s, points=0, max_points=1,
                                  message=attack, expected=attack, actual=attack,
                                  counterexample=attack, hint=attack, function=attack,
                                  hidden=True, needs=[attack])
                      for s in ("failed", "error", "not_run")]
    hostile.checks.append(CheckResult(name="n", title="t", status="not_run", points=0,
                                      max_points=1, needs=[attack]))
    entry = copy.deepcopy(result.experiments[0])
    entry.update(title=attack, varied=attack, observation={"text": attack, "reproduced": True})
    entry["configs"][0]["label"] = attack
    entry["boundary"]["label"] = attack
    hostile.experiments = [entry]
    text = html.render(hostile)
    assert_self_contained(text)
    page = Page(text)
    for tag, _ in page.tags:
        assert tag not in ("svg", "iframe", "script")
    assert len(page.all("img")) == len(entry["configs"]) + 1  # the panels, the heat map
    if attack.isprintable():  # whatever was written is shown, as text
        assert attack in page.plain
        assert attack not in text
    assert "\x00" not in text and "\x1b" not in text
    text.encode("utf-8")  # no lone surrogate left


def test_a_submission_that_could_not_be_graded(result):
    broken = GradeResult(assignment="day65", score=0, max_score=0, checks=[],
                         submission=SubmissionInfo(path="bob.zip", kind="zip"),
                         error="Syntax error in activations.py, line 3: <invalid syntax>")
    page = Page(html.render(broken))
    assert "Your submission could not be graded:" in page.plain
    assert "line 3: <invalid syntax>" in page.plain
    assert page.all("table") == [] and "Score" not in page.plain


def test_pending_points_and_notebook_notes(result):
    partial = _with_experiments(result, [])
    partial.pending_points = 12
    partial.submission.notes = ["day65.ipynb was graded, two other notebooks were not"]
    partial.submission.skipped = ["print(sigmoid(1))"]
    page = Page(html.render(partial))
    assert "12 more points will be decided by hidden checks" in page.plain
    assert "two other notebooks" in page.plain and "print(sigmoid(1))" in page.plain


def test_labels_follow_the_results_language(result):
    chinese = _with_experiments(result, result.experiments[2:3])
    chinese.lang = "zh-TW"  # the field the translation work adds; absent means English
    text = html.render(chinese)
    assert '<html lang="zh-TW">' in text and "分數 15/23" in text and "檢查" in text
    assert "你的最終測試損失" in text and "用你的函數重現了" in text
    assert '<html lang="en">' in html.render(_with_experiments(result, []))


# --- determinism and cost ---------------------------------------------------------------------


def test_the_same_result_gives_the_same_bytes(result, page_text):
    assert html.render(result) == page_text
    assert render(result, "html") == page_text
    # and in a fresh interpreter, from the result's JSON (what the batch re-renders from)
    script = ("import sys, json; from grader.results import GradeResult; "
              "from grader.report import html; "
              "sys.stdout.write(html.render(GradeResult.from_dict(json.load(sys.stdin))))")
    fresh = subprocess.run([sys.executable, "-c", script], input=result.to_json(),
                           capture_output=True, text=True, encoding="utf-8", timeout=120,
                           check=True, cwd=HERE)
    assert fresh.stdout == page_text


def test_timings_do_not_change_the_page(result, page_text):
    slower = copy.deepcopy(result)
    slower.timings = {"total": 99.0}
    for check in slower.checks:
        check.duration = 3.0
    assert html.render(slower) == page_text


def test_matplotlib_is_imported_only_to_draw():
    script = """
import json, sys
from html_result import day65_result
from grader.report import render
result = day65_result()
for fmt in ("text", "json", "junit", "gradescope"):
    render(result, fmt)
result.experiments, plots = [], result.experiments
render(result, "html")
before = "matplotlib" in sys.modules
result.experiments = plots
render(result, "html")
print(json.dumps([before, "matplotlib" in sys.modules, "matplotlib.pyplot" in sys.modules]))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True, cwd=HERE).stdout
    assert json.loads(out) == [False, True, False]  # and never pyplot's global state


def test_every_label_the_page_uses_is_in_both_languages():
    """The labels are the grader catalog's html.* messages (tests/test_i18n.py checks
    the two languages agree); a label name the renderer spells wrong fails here."""
    import re

    from grader.report import html
    from grader.report.html_labels import labels

    used = set(re.findall(r'\bt\["(\w+)"\]', Path(html.__file__).read_text("utf-8")))
    assert len(used) >= 30
    for lang in ("en", "zh-TW"):
        assert not used - labels(lang).keys(), lang
    assert labels("zh-TW")["score"] != labels("en")["score"]
    assert labels("zh_TW.UTF-8") == labels("zh-TW") and labels(None) == labels("en")
