"""The live source of hwgrade.check(): a kernel's input history as a notebook, staged like
any .ipynb (grader/submission/live.py), and what the notebook reader drops (check cells)."""

from __future__ import annotations

import importlib.util
import runpy
import sys
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.submission import Requirement, SourceLocation, stage_submission
from grader.submission.live import (
    defined_functions,
    input_history,
    kernel_namespace,
    kernel_notebook,
)

ROOT = Path(__file__).parents[1]
DAY65 = ROOT / "assignments" / "day65"
REQUIREMENT = Requirement({"activations": ["sigmoid", "tanh", "relu", "linear"]})


def run_cells(*cells: str) -> dict:
    """A kernel-like namespace: each cell is recorded in _ih (In [N] is _ih[N], as IPython
    does before running it), then run; a cell that does not compile runs nothing."""
    namespace: dict = {"_ih": [""]}
    namespace["In"] = namespace["_ih"]
    for cell in cells:
        namespace["_ih"].append(cell)
        try:
            code = compile(cell, f"<In [{len(namespace['_ih']) - 1}]>", "exec")
        except SyntaxError:
            continue
        exec(code, namespace)
    return namespace


def stage(namespace: dict, tmp_path: Path, requirement: Requirement = REQUIREMENT):
    """Stage the namespace's history as hwgrade.check does; (staged, _notebook's globals)."""
    nbformat.write(kernel_notebook(input_history(namespace)), str(tmp_path / "kernel.ipynb"))
    staged = stage_submission(Path("kernel.ipynb"), requirement, tmp_path / "staged")
    # our own test cells: running the staged module here is safe, and shows what it binds
    return staged, runpy.run_path(str(staged.dest / "_notebook.py"))


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """hwgrade.check stages kernel.ipynb from its own folder: the reports name it so."""
    monkeypatch.chdir(tmp_path)


def test_functions_their_helper_the_import_alias_and_a_constant_are_staged(tmp_path):
    namespace = run_cells(
        "import numpy as np",
        "LIMIT = 500.0",
        "def _clip(z):\n    return np.clip(z, -LIMIT, LIMIT)",
        "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-_clip(z)))",
        "sigmoid(np.array([0.0, 1e6]))",  # exploration: skipped
    )
    staged, module = stage(namespace, tmp_path)
    assert module["np"] is np and module["LIMIT"] == 500.0
    assert module["sigmoid"](np.array([0.0, 1e6])).tolist() == [0.5, 1.0]
    assert staged.function_locations["activations.sigmoid"] == SourceLocation(
        "kernel.ipynb", 4, 1)  # cell N is In [N]
    assert [(s.cell, s.text) for s in staged.skipped] == [
        (5, "sigmoid(np.array([0.0, 1e6]))")]


def test_a_lambda_a_decorated_function_and_the_last_definition_win(tmp_path):
    namespace = run_cells(
        "import numpy as np",
        "relu = lambda z: np.maximum(z, 0.0)",
        "def traced(f):\n    f.traced = True\n    return f",
        "@traced\ndef tanh(z):\n    return np.tanh(z)",
        "def linear(z):\n    return z + 1  # wrong",
        "linear(np.zeros(2))",
        "def linear(z):\n    return np.asarray(z, dtype=float)",
    )
    staged, module = stage(namespace, tmp_path)
    assert module["relu"](np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    assert module["tanh"].traced and module["tanh"](np.array([0.0])).tolist() == [0.0]
    assert module["linear"](np.array([3.0])).tolist() == [3.0]  # In [7], not In [5]
    assert module["linear"](3.0) == namespace["linear"](3.0)
    assert staged.function_locations["activations.linear"] == SourceLocation(
        "kernel.ipynb", 7, 1)
    assert "activations.sigmoid" in staged.missing  # never defined: reported, not fatal


def test_an_input_that_did_not_compile_ran_nothing_and_is_left_out(tmp_path):
    namespace = run_cells("import numpy as np",
                          "def tanh(z) return z",  # the kernel refused it
                          "def tanh(z):\n    return np.tanh(z)")
    staged, module = stage(namespace, tmp_path)
    assert module["tanh"](np.array([0.0])).tolist() == [0.0]
    assert staged.function_locations["activations.tanh"].cell == 3
    assert nbformat.reads(nbformat.writes(kernel_notebook(namespace["_ih"])), 4).cells[1] \
        .source == ""


def test_the_check_cell_and_ipython_calls_are_not_graded(tmp_path):
    history = ["", "import numpy as np\ndef relu(z):\n    return np.maximum(z, 0.0)",
               "get_ipython().run_line_magic('pip', 'install hwgrade')",
               "import hwgrade; hwgrade.check('day65', quick=True)"]
    staged, module = stage({"_ih": history}, tmp_path)
    text = (staged.dest / "_notebook.py").read_text(encoding="utf-8")
    assert "import hwgrade" not in text and "hwgrade.check" not in text and "relu" in module
    assert [s.cell for s in staged.skipped] == [2]  # the IPython call, not the check cell


def test_the_history_comes_from_ih_or_in_and_only_from_a_list_of_text():
    assert input_history({"_ih": ["", "x = 1"]}) == ["", "x = 1"]
    assert input_history({"In": ["", "y = 2"]}) == ["", "y = 2"]
    assert input_history({"_ih": "not a history", "In": ["", "z = 3"]}) == ["", "z = 3"]
    assert input_history({"In": [1, 2]}) is None
    assert input_history({"x": 1}) is None


def test_kernel_notebook_is_deterministic_and_valid():
    history = ["", "import numpy as np", "def f():\n    pass"]
    first, second = kernel_notebook(history), kernel_notebook(list(history))
    nbformat.validate(first)
    assert nbformat.writes(first) == nbformat.writes(second)
    assert [c.source for c in first.cells] == history[1:]


def test_defined_functions_are_the_callables_of_the_namespace():
    namespace = {"sigmoid": lambda z: z, "tanh": 3, "np": np}
    assert defined_functions(namespace, ["activations.sigmoid", "activations.tanh",
                                         "activations.relu"]) == ["activations.sigmoid"]


def test_the_kernel_namespace_is_ipythons_user_namespace(monkeypatch):
    user_ns = {"_ih": [""]}
    shell = types.SimpleNamespace(user_ns=user_ns)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert kernel_namespace() is user_ns
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert kernel_namespace() is vars(sys.modules["__main__"])


def test_the_released_notebooks_check_cells_are_dropped_when_it_is_graded_as_a_file(tmp_path):
    spec = importlib.util.spec_from_file_location("_day65_make_notebook",
                                                  DAY65 / "make_notebook.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    notebook = builder.build_notebook()
    checks = [c for c in notebook.cells
              if c.cell_type == "code" and "hwgrade.check(" in c.source]
    assert len(checks) == 4  # a quick check after each part, then the full check
    path = tmp_path / "day65.ipynb"
    nbformat.write(notebook, str(path))
    modules = {"activations": ["sigmoid"], "regularization": ["l1_penalty"],
               "minibatch": ["minibatches"]}
    staged = stage_submission(path, Requirement(modules), tmp_path / "staged")
    text = (staged.dest / "_notebook.py").read_text(encoding="utf-8")
    assert "import hwgrade" not in text and "hwgrade.check" not in text
    assert not [s for s in staged.skipped if "hwgrade.check" in s.text]
    assert [s.text for s in staged.skipped if s.cell == 1] == ["%pip install hwgrade"]


@pytest.mark.parametrize("cell", ["from hwgrade import check", "import hwgrade as hw",
                                  "hwgrade.check('day65')"])
def test_each_form_of_a_check_cell_is_dropped_silently(tmp_path, cell):
    staged, _ = stage({"_ih": ["", "def relu(z):\n    return z", cell]}, tmp_path)
    assert not staged.skipped
    assert cell not in (staged.dest / "_notebook.py").read_text(encoding="utf-8")
