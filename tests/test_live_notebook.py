"""The released Day 65 notebook, solved, run headless in a real IPython kernel (nbclient and
ipykernel, the test venv's python): its cells run in order, and its check cells
(hwgrade.check) grade the kernel's functions with the same result as `hwgrade check` on
the saved notebook, in the locale's language."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebook runs in: a test dependency)
import nbclient
import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main

ROOT = Path(__file__).parents[1]
DAY65 = ROOT / "assignments" / "day65"
SOLUTIONS = ROOT / "solutions" / "day65"
KERNEL = "hwgrade-test-python"
# The wrong function: relu'(0) = 1, where Playground (and the checks) want 0.
RIGHT = "np.greater(_as_float64(z), 0.0)"
WRONG = "np.greater_equal(_as_float64(z), 0.0)"
# What the test adds after the notebook's last cell: the full check's result (IPython's
# `_`, the last cell's value) as data, to compare with the saved file's grading.
REPORT_CELL = ("print('RESULT', __import__('json').dumps("
               "[[c.name, c.status, c.points] for c in _.checks] + [_.score, _.max_score]))")


def solved_notebook() -> nbformat.NotebookNode:
    """The released notebook with solutions/day65's code in the stubs' cells, relu_derivative
    broken, and without the exercise cells of `hwgrade play` (each trains the handout's
    sweep, minutes on 2 cores, and none is what is tested here)."""
    spec = importlib.util.spec_from_file_location("_day65_make_notebook",
                                                  DAY65 / "make_notebook.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    notebook = builder.build_notebook(SOLUTIONS)
    notebook.cells = [c for c in notebook.cells if "!hwgrade play --exercise" not in c.source
                      or "--csv" in c.source]
    (activations,) = [c for c in notebook.cells if RIGHT in c.source]
    activations.source = activations.source.replace(RIGHT, WRONG)
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> tuple[nbformat.NotebookNode, Path]:
    """(the executed notebook, the solved notebook as saved before running it)."""
    folder = tmp_path_factory.mktemp("live-notebook")
    saved = folder / "day65.ipynb"
    notebook = solved_notebook()
    nbformat.write(notebook, str(saved))
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    spec_dir = folder / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "hwgrade tests", "language": "python"}), encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(folder / "jupyter"))  # the kernel is this venv's
        env.setenv("JUPYTER_RUNTIME_DIR", str(folder / "runtime"))
        env.setenv("IPYTHONDIR", str(folder / "ipython"))
        env.setenv("MPLBACKEND", "agg")
        for name in ("LC_ALL", "LC_MESSAGES"):
            env.delenv(name, raising=False)
        env.setenv("LANG", "zh_TW.UTF-8")  # hwgrade.check's language, from the locale
        client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=900,
                                         resources={"metadata": {"path": str(folder)}})
        client.execute()
    return notebook, saved


def outputs(cell) -> tuple[str, str]:
    """(text/plain of the cell's value, text/html of it)."""
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result.data["text/plain"], result.data["text/html"]


def check_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and "hwgrade.check(" in c.source]


@pytest.mark.slow
def test_the_full_check_cell_shows_the_score_and_the_wrong_function_in_chinese(executed):
    notebook, _ = executed
    text, html = outputs(check_cells(notebook)[-1])
    assert "得分：" in text and "/100" in text  # the terminal report, in zh-TW
    failed = [line for line in text.splitlines() if line.startswith("✘")]
    assert failed and all("relu_derivative" in line for line in failed), failed
    assert "activations.relu_derivative: " in text
    assert "這個 notebook 的核心執行過的函數" in text  # where the functions came from
    assert html.startswith('<div class="hwgrade-report" lang="zh-TW">')
    assert "<table" in html and "未通過" in html and "分數" in html


@pytest.mark.slow
def test_the_kernels_result_is_the_saved_notebooks_result(executed):
    notebook, saved = executed
    (line,) = [line for output in notebook.cells[-1].outputs if output.get("text")
               for line in output.text.splitlines() if line.startswith("RESULT ")]
    *checks, score, max_score = json.loads(line.removeprefix("RESULT "))
    graded = CliRunner().invoke(main, ["check", "day65", str(saved), "--format", "json"],
                                catch_exceptions=False)
    assert graded.exit_code == 1  # `hwgrade check` on the saved notebook: one check failed
    from_file = json.loads(graded.output)
    assert from_file["error"] is None and from_file["submission"]["kind"] == "notebook"
    assert checks == [[c["name"], c["status"], c["points"]] for c in from_file["checks"]]
    assert (score, max_score) == (from_file["score"], from_file["max_score"])
    assert 80 <= score < max_score == 100


@pytest.mark.slow
def test_every_cell_ran_in_order_without_an_error(executed):
    notebook, _ = executed
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    install = code[0]
    assert install.source.endswith("%pip install hwgrade")
    assert any("Requirement already satisfied" in o.get("text", "") for o in install.outputs)


@pytest.mark.slow
def test_each_quick_check_cell_shows_a_score(executed):
    notebook, _ = executed
    quick = check_cells(notebook)[:-1]
    assert len(quick) == 3
    for cell in quick:
        text, _ = outputs(cell)
        assert "得分：" in text and "activations.relu_derivative: " in text

