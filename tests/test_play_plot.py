"""`hwgrade play --plot`: the figure's files end to end, its errors, and what it draws
(each seed's curve, divergence crosses, L1's exactly-zero weights, the student's runs
beside the reference's, Chinese words without empty boxes)."""

from __future__ import annotations

import base64
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from click.testing import CliRunner

from grader import play, play_plot
from grader.assignment import find_assignment
from grader.cli import main
from grader.playground.config import TrainConfig
from grader.playground.engine import RunResult
from grader.report import fonts

FAST = ["play", "--exercise", "6", "--epochs", "20", "--seeds", "2"]
SOLUTION = Path(__file__).parents[1] / "solutions" / "day65"
PRESETS = play.exercise_presets(find_assignment("day65").settings["experiments"])


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_each_format_is_written_and_valid(tmp_path, suffix):
    target = tmp_path / f"exercise6{suffix}"
    result = invoke(*FAST, "--plot", target)
    assert result.exit_code == 0, result.output
    assert "learning rate" in result.stdout  # the table is still printed
    if suffix == ".png":
        image = matplotlib.image.imread(target)
        assert image.shape[1] > 5 * image.shape[0] / 2  # five panels side by side
    elif suffix == ".svg":
        assert ET.parse(target).getroot().tag.endswith("svg")
    else:
        page = target.read_text("utf-8")
        assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
        (data,) = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
        assert ET.fromstring(base64.b64decode(data)).tag.endswith("svg")
        assert "Exercise 6: learning rate" in page and page.count("<pre") == 1


def test_the_same_sweep_gives_the_same_svg(tmp_path):
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    for target in (first, second):
        assert invoke(*FAST, "--plot", target).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert b"<dc:date>" not in first.read_bytes()


@pytest.mark.parametrize("name", ["plot.pdf", "plot", "plot.png.txt"])
def test_an_unknown_suffix_is_a_usage_error(tmp_path, name):
    result = invoke(*FAST, "--plot", tmp_path / name)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ".png, .svg, .html" in result.output
    assert not (tmp_path / name).exists()


def test_a_missing_folder_is_a_usage_error_before_training(tmp_path):
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "missing" / "p.png", tmp_path / "file" / "p.png"):
        result = invoke("play", "--exercise", "6", "--plot", target)  # 500 epochs: not run
        assert result.exit_code == 2 and "its folder does not exist" in result.output
        assert "Traceback" not in result.output


def test_a_failed_write_says_why_with_exit_2(tmp_path, monkeypatch):
    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("grader.report.common.write_atomic_bytes", refuse)
    result = invoke(*FAST, "--plot", tmp_path / "p.png")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "could not write" in result.output and "Permission denied" in result.output


def test_a_directory_is_refused_by_click(tmp_path):
    result = invoke(*FAST, "--plot", tmp_path)
    assert result.exit_code == 2 and "Traceback" not in result.output


def _run(config, seed, weights, diverged_at=None, epochs=3):
    curve = np.linspace(0.5, 0.2, epochs * 2).reshape(epochs, 2)
    if diverged_at is not None:
        curve[diverged_at - 1:] = np.nan
    return RunResult(config, seed, curve, diverged_at, tuple(weights),
                     tuple(np.zeros(len(w)) for w in weights))


def test_zero_weights_counts_exact_zeros_of_the_final_network():
    config = TrainConfig(regularization="L1", regularization_rate=0.01, epochs=3)
    weights = [np.array([[0.0, 1e-300, -0.0], [0.3, 0.0, 2.0]]), np.array([[0.0, -1.0]])]
    assert _run(config, 0, weights).zero_weights == (4, 8)  # -0.0 is 0; 1e-300 is not
    assert _run(config, 0, [np.zeros((2, 3))], diverged_at=2).zero_weights is None


def _texts(figure) -> str:
    return "\n".join(t.get_text() for ax in figure.axes for t in ax.texts)


def _crosses(figure) -> list[tuple[float, float]]:
    return [(float(line.get_xdata()[0]), float(line.get_ydata()[0]))
            for ax in figure.axes for line in ax.lines if line.get_marker() == "X"]


def test_the_panel_gives_the_median_count_of_zero_weights_and_divergences():
    config = TrainConfig(regularization="L1", regularization_rate=0.01, epochs=3)
    layer = np.array([[0.0, 0.0, 0.5, 0.0, 0.1]])  # 3 of 5 zero
    runs = [_run(config, 0, [np.where(np.arange(5) < 1, 0.0, 1.0)[None]]),  # 1 of 5
            _run(config, 1, [layer]), _run(config, 2, [np.zeros((1, 5))]),  # 3, 5
            _run(config, 3, [np.zeros((1, 5))], diverged_at=2)]  # left out
    sweep = play.Sweep([config], [0, 1, 2, 3], runs)
    figure = play_plot.draw(play_plot.trainings(sweep), lang="en", exercise=None)
    assert "1/4 diverged · 3/5 weights exactly 0" in _texts(figure)
    # the cross is at the epoch it diverged, on the run's last finite test loss
    assert _crosses(figure) == [(2.0, runs[3].curve[0, 1])]


def test_divergence_is_marked_where_it_happens():
    # exercise 6 at learning rate 3; an L2 rate of 3 makes the weights blow up
    configs = play.expand_sweep({"learning_rate": [0.1, 3], "regularization": ["L2"],
                                 "regularization_rate": [3], "epochs": [20]}, PRESETS[6])
    sweep = play.run_sweep(configs, [0, 1])
    diverged = [r.diverged_at for r in sweep.results if r.diverged_at is not None]
    assert len(diverged) == 2  # both seeds at learning rate 3
    figure = play_plot.draw(play_plot.trainings(sweep), lang="en", exercise=6)
    assert sorted(x for x, _ in _crosses(figure)) == sorted(diverged)
    assert "0/2 diverged" in _texts(figure) and "2/2 diverged" in _texts(figure)
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 2


def test_exercise_8_is_a_table_of_kinds_by_rates_with_zero_weights():
    configs = play.expand_sweep({"epochs": [2]}, PRESETS[8])
    sweep = play.run_sweep(configs, [0])
    figure = play_plot.draw(play_plot.trainings(sweep), lang="en", exercise=8)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert titles[:4] == [f"regularization rate {r:g}" for r in (0.001, 0.003, 0.01, 0.03)]
    assert titles[4:] == [""] * 4  # the rates head the columns, L1 and L2 the rows
    assert _texts(figure).count("weights exactly 0") == 8
    assert "regularization L1" in _texts(figure) and "regularization L2" in _texts(figure)


def test_a_students_training_is_drawn_beside_the_references():
    configs = play.expand_sweep({"epochs": [3]}, PRESETS[7])
    reference = play.run_sweep(configs, [0, 1])
    figure = play_plot.draw(play_plot.trainings(reference, reference), lang="en", exercise=7)
    (legend,) = figure.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:2] == ["reference (hwgrade's own functions)", "your functions"]
    colours = {line.get_color() for ax in figure.axes for line in ax.lines}
    assert {play_plot.REFERENCE_BLUE, play_plot.STUDENT_ORANGE} <= colours


@pytest.mark.slow
def test_use_submission_with_plot_end_to_end(tmp_path):
    target = tmp_path / "mine.png"
    result = invoke("play", "--exercise", "7", "--epochs", "3", "--seeds", "2",
                    "--use-submission", SOLUTION, "--plot", target)
    assert result.exit_code == 0, result.output
    assert matplotlib.image.imread(target).shape[0] > 300


def test_chinese_words_need_a_cjk_font_and_fall_back_to_english(tmp_path):
    target = tmp_path / "zh.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of each glyph a font lacks
        result = invoke(*FAST, "--lang", "zh-TW", "--plot", target)
    assert result.exit_code == 0, result.output
    sweep = play.run_sweep(play.expand_sweep({"epochs": [2]}, PRESETS[6]), [0])
    words = play_plot.words_language("zh-TW")
    figure = play_plot.draw(play_plot.trainings(sweep), lang=words, exercise=6)
    if fonts.cjk_family() is None:
        # said in the language asked for: the terminal shows Chinese where a plot cannot
        assert words == "en" and "找不到含中文字形的字型" in result.output
    else:
        assert words == "zh-TW" and "fonts-noto-cjk" not in result.output
        assert "練習 6：學習速率" in [t.get_text() for t in figure.texts]
