"""Submission loading and staging (grader.submission): fast, no student code is ever run.

Fixtures are generated in tmp_path: folders of .py files, notebooks built
with nbformat.v4, and zip archives built with zipfile (including hostile ones).
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import re
import stat
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from grader.submission import (
    MESSAGES,
    Limits,
    Requirement,
    SourceLocation,
    StagedSubmission,
    SubmissionError,
    stage_submission,
)

REQ = Requirement(
    {
        "activations": [
            "sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative",
            "relu", "relu_derivative", "linear", "linear_derivative",
        ],
        "regularization": [
            "l1_penalty", "l2_penalty", "l1_derivative", "l2_derivative", "regularized_update",
        ],
        "minibatch": ["minibatches"],
    }
)

ACTIVATIONS = '''\
"""活化函數 (activation functions)."""
import numpy as np


def sigmoid(z):
    # 數值穩定的 sigmoid
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z):
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_derivative(z):
    return 1 - tanh(z) ** 2


def relu(z):
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def relu_derivative(z):
    return (np.asarray(z) > 0).astype(np.float64)


linear = lambda z: np.asarray(z, dtype=np.float64) * 1.0  # noqa: E731
from numpy import ones_like as _ones


def linear_derivative(z):
    return _ones(np.asarray(z, dtype=np.float64))
'''

REGULARIZATION = '''\
import numpy as np


def l1_penalty(weights):
    return float(np.sum(np.abs(weights)))


def l2_penalty(weights):
    return 0.5 * float(np.sum(np.square(weights)))


def l1_derivative(weights):
    return np.sign(weights)


def l2_derivative(weights):
    return np.array(weights, dtype=np.float64)


def regularized_update(weights, gradient, learning_rate, rate, kind):
    return weights - learning_rate * gradient
'''

MINIBATCH = '''\
import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    order = np.arange(n_samples) if rng is None else rng.permutation(n_samples)
    return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]
'''

GOOD = {
    "activations.py": ACTIVATIONS,
    "regularization.py": REGULARIZATION,
    "minibatch.py": MINIBATCH,
}


# --- fixture builders -------------------------------------------------------------------


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
    return root


def make_zip(path: Path, entries: dict[str, str | bytes], **kwargs) -> Path:
    """A deflated archive of entries (name -> content); see make_zip_infos for odd entries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kwargs) as archive:
            for name, content in entries.items():
                archive.writestr(name, content)
    return path


def make_zip_infos(path: Path, infos: list[tuple[zipfile.ZipInfo, bytes | str]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for info, content in infos:
                archive.writestr(info, content)
    return path


def notebook_bytes(*cells) -> bytes:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nbformat.writes(nb).encode("utf-8")


def write_notebook(path: Path, *cells) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(notebook_bytes(*cells))
    return path


def stage(path: Path, tmp_path: Path, **kwargs) -> StagedSubmission:
    dest = tmp_path / "staged"
    return stage_submission(path, REQ, dest, **kwargs)


def refused(path: Path, tmp_path: Path, **kwargs) -> SubmissionError:
    dest = tmp_path / "staged"
    with pytest.raises(SubmissionError) as info:
        stage_submission(path, REQ, dest, **kwargs)
    assert not dest.exists() or not any(dest.iterdir()), "nothing is written on refusal"
    assert "Traceback" not in info.value.message
    return info.value


def line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if needle in line)


# --- folders --------------------------------------------------------------------------


def test_folder_stages_the_modules_and_helpers_but_not_tests_or_other_files(tmp_path):
    folder = write_tree(tmp_path / "hw", {
        **GOOD,
        "helpers.py": "SCALE = 2\n",
        "conftest.py": "import pytest\n",
        "test_activations.py": "def test_x():\n    pass\n",
        "notes.txt": "hello",
        "data/activations_old.py": "x = 1\n",
        ".hidden.py": "x = 1\n",
        "__pycache__/activations.cpython-311.pyc": b"\x00\x01",
    })
    staged = stage(folder, tmp_path)
    assert staged.kind == "folder"
    assert staged.modules == ("activations", "regularization", "minibatch", "helpers")
    assert sorted(p.name for p in staged.dest.iterdir()) == sorted(
        ["activations.py", "regularization.py", "minibatch.py", "helpers.py"]
    )
    for name, content in GOOD.items():
        assert (staged.dest / name).read_bytes() == content.encode("utf-8")
    assert staged.missing == {}
    assert staged.skipped == ()
    assert set(staged.function_locations) == set(REQ.qualified_names)
    assert staged.function_locations["activations.sigmoid"] == SourceLocation(
        (folder / "activations.py").as_posix(), None, line_of(ACTIVATIONS, "def sigmoid(")
    )
    # assignment and (here) def both count; the lambda's line is its assignment
    assert staged.function_locations["activations.linear"].line == line_of(ACTIVATIONS, "linear =")


def test_source_map_of_a_folder_is_the_identity(tmp_path):
    folder = write_tree(tmp_path / "hw", GOOD)
    staged = stage(folder, tmp_path)
    location = staged.source_map.locate("minibatch", 4)
    assert location == SourceLocation((folder / "minibatch.py").as_posix(), None, 4)
    assert str(location).endswith("minibatch.py, line 4")
    assert staged.locate("numpy", 10) is None


def test_staging_never_runs_student_code(tmp_path):
    marker = tmp_path / "ran.txt"
    payload = (
        f"open({str(marker)!r}, 'w').write('student code ran')\n"
        "import os\nos._exit(3)\nraise SystemExit(1)\n"
    )
    folder = write_tree(tmp_path / "hw", {
        "activations.py": payload + ACTIVATIONS,
        "regularization.py": "import sys\nsys.exit(2)\n" + REGULARIZATION,
        "minibatch.py": MINIBATCH + "while True:\n    pass\n",
        "helper.py": payload,
    })
    notebook = write_notebook(
        tmp_path / "nb" / "hw.ipynb",
        new_code_cell(payload),
        new_code_cell(ACTIVATIONS + REGULARIZATION + MINIBATCH),
        new_code_cell(f"class Evil:\n    open({str(marker)!r}, 'w')\n"),  # runs only if imported
    )
    before = set(sys.modules)
    staged = stage(folder, tmp_path)
    staged_nb = stage_submission(notebook, REQ, tmp_path / "staged_nb")
    assert not marker.exists()
    assert staged.missing == {} and staged_nb.missing == {}
    assert "activations" not in sys.modules and "_notebook" not in sys.modules
    assert not {"activations", "helper", "minibatch"} & (set(sys.modules) - before)
    assert (staged.dest / "helper.py").exists()


def test_student_code_that_makes_the_compiler_warn_stages_without_warnings(tmp_path):
    # filterwarnings=error: an invalid escape sequence must not become an error
    folder = write_tree(tmp_path / "hw", {
        **GOOD,
        "minibatch.py": MINIBATCH + 'PATTERN = "\\d+"\nCHECK = 1 is 1\n',
    })
    assert stage(folder, tmp_path).missing == {}


def test_missing_module_suggests_the_close_name(tmp_path):
    folder = write_tree(tmp_path / "hw", {
        "activation.py": ACTIVATIONS,
        "regularization.py": REGULARIZATION,
        "minibatch.py": MINIBATCH,
    })
    staged = stage(folder, tmp_path)  # the other files still get their feedback
    (note,) = staged.notes
    assert f"Missing activations.py in the folder {folder.as_posix()}" in note
    assert "(found: activation.py, minibatch.py, regularization.py)" in note
    assert "Did you mean activation.py? Rename it to activations.py." in note
    assert staged.missing["activations.sigmoid"] == (
        f"activations.py is not in the folder {folder.as_posix()}: write sigmoid in a file "
        "named activations.py, next to the others. sigmoid is defined in activation.py; the "
        "grader looks for it in activations.py.")
    assert set(staged.missing) == {f"activations.{f}" for f in REQ.modules["activations"]}
    assert not (staged.dest / "activations.py").exists()


def test_a_folder_without_any_required_module_is_refused_naming_them_all(tmp_path):
    folder = write_tree(tmp_path / "hw", {"notes.py": "X = 1\n"})
    error = refused(folder, tmp_path)
    assert error.message == (
        "Missing activations.py, regularization.py, minibatch.py in the folder "
        f"{folder.as_posix()} (found: notes.py).")


def test_the_current_folder_is_named_by_its_path_not_a_dot(tmp_path, monkeypatch):
    folder = write_tree(tmp_path / "hw", {"notes.py": "X = 1\n"})
    monkeypatch.chdir(folder)
    assert f"in the folder {folder.as_posix()} (found" in refused(Path("."), tmp_path).message


def test_a_function_of_a_missing_module_written_in_another_file_is_pointed_to(tmp_path):
    folder = write_tree(tmp_path / "hw", {
        "activations.py": ACTIVATIONS,
        "regularization.py": REGULARIZATION + "\n\n" + MINIBATCH,
    })
    staged = stage(folder, tmp_path)
    assert "minibatches is defined in regularization.py; the grader looks for it in " \
        "minibatch.py." in staged.missing["minibatch.minibatches"]


def test_missing_module_catches_case_differences(tmp_path):
    # on case-insensitive file systems Activations.py "exists" as activations.py too
    folder = write_tree(tmp_path / "hw", {
        "Activations.py": ACTIVATIONS,
        "regularization.py": REGULARIZATION,
        "minibatch.py": MINIBATCH,
    })
    (note,) = stage(folder, tmp_path).notes
    assert "case-sensitive, rename it to activations.py" in note
    assert "Activations.py" in note


def test_missing_module_found_in_a_sub_folder(tmp_path):
    folder = write_tree(tmp_path / "hw", {
        "src/activations.py": ACTIVATIONS,
        "regularization.py": REGULARIZATION,
        "minibatch.py": MINIBATCH,
    })
    (note,) = stage(folder, tmp_path).notes
    assert "Found src/activations.py in a sub-folder" in note
    assert "src/" in note


def test_empty_folder_is_refused(tmp_path):
    folder = write_tree(tmp_path / "hw", {"README.md": "hi"})
    error = refused(folder, tmp_path)
    assert "No Python file" in error.message and "README.md" in error.message


def test_missing_function_is_reported_with_suggestions_and_the_rest_is_staged(tmp_path):
    activations = ACTIVATIONS.replace("def relu(", "def relU(").replace(
        "def tanh_derivative(z):\n    return 1 - tanh(z) ** 2\n",
        "class Helpers:\n    def tanh_derivative(self, z):\n        return 1 - tanh(z) ** 2\n",
    ).replace("def sigmoid_derivative(", "def sigmoid_derivitive(")
    regularization = REGULARIZATION.replace("def l1_penalty(", "def l1_penalty_(")
    folder = write_tree(tmp_path / "hw", {
        **GOOD,
        "activations.py": activations,
        "regularization.py": regularization,
        "minibatch.py": MINIBATCH + "\n\ndef l1_penalty(w):\n    return 0.0\n",
    })
    staged = stage(folder, tmp_path)
    assert set(staged.missing) == {
        "activations.relu", "activations.tanh_derivative", "activations.sigmoid_derivative",
        "regularization.l1_penalty",
    }
    assert "has no top-level function relu" in staged.missing["activations.relu"]
    assert "Did you mean relU?" in staged.missing["activations.relu"]
    assert "Did you mean sigmoid_derivitive?" in staged.missing["activations.sigmoid_derivative"]
    nested = staged.missing["activations.tanh_derivative"]
    assert "inside class Helpers" in nested and "move it to the top level" in nested
    other = staged.missing["regularization.l1_penalty"]
    assert "defined in minibatch.py" in other and "l1_penalty_" in other
    assert "activations.relu" not in staged.function_locations
    assert "activations.sigmoid" in staged.function_locations
    assert (staged.dest / "activations.py").exists()


def test_star_import_and_import_from_count_as_definitions(tmp_path):
    folder = write_tree(tmp_path / "hw", {
        **GOOD,
        "activations.py": "from helpers_act import *\n",
        "helpers_act.py": ACTIVATIONS,
        "minibatch.py": "from helpers_mb import minibatches\n",
        "helpers_mb.py": MINIBATCH,
    })
    staged = stage(folder, tmp_path)
    assert staged.missing == {}
    assert staged.function_locations["minibatch.minibatches"].line == 1
    assert "activations.sigmoid" not in staged.function_locations  # unknown, but not missing
    assert {"helpers_act", "helpers_mb"} <= set(staged.modules)


def test_syntax_error_names_file_line_and_text(tmp_path):
    broken = MINIBATCH.replace("def minibatches(n_samples, batch_size, rng=None):",
                               "def minibatches(n_samples, batch_size, rng=None)")
    folder = write_tree(tmp_path / "hw", {**GOOD, "minibatch.py": broken})
    error = refused(folder, tmp_path)
    assert error.path == (folder / "minibatch.py").as_posix()
    assert error.line == line_of(broken, "def minibatches")
    assert error.cell is None
    assert "def minibatches(n_samples, batch_size, rng=None)" in error.message
    assert f"minibatch.py, line {error.line}" in error.message


def test_compile_time_errors_that_ast_parse_accepts_are_caught(tmp_path):
    folder = write_tree(tmp_path / "hw", {**GOOD, "minibatch.py": MINIBATCH + "return 5\n"})
    error = refused(folder, tmp_path)
    assert "'return' outside function" in error.message
    assert error.line == len(MINIBATCH.splitlines()) + 1


def test_non_utf8_file_is_refused_with_its_name(tmp_path):
    big5 = "# 活化函數\n".encode("big5") + ACTIVATIONS.encode("ascii", "ignore")
    folder = write_tree(tmp_path / "hw", {**GOOD, "activations.py": big5})
    error = refused(folder, tmp_path)
    assert error.path == (folder / "activations.py").as_posix()
    assert "not saved as UTF-8" in error.message and error.line == 1


def test_utf8_with_chinese_is_kept_byte_for_byte(tmp_path):
    folder = write_tree(tmp_path / "hw", GOOD)
    staged = stage(folder, tmp_path)
    assert "數值穩定的 sigmoid" in (staged.dest / "activations.py").read_text(encoding="utf-8")


def test_folder_size_limits(tmp_path):
    folder = write_tree(tmp_path / "hw", GOOD)
    error = refused(folder, tmp_path, limits=Limits(max_py_bytes=200))
    assert "at most 200 bytes" in error.message
    many = write_tree(tmp_path / "many", {**GOOD, **{f"h{i}.py": "" for i in range(5)}})
    error = refused(many, tmp_path, limits=Limits(max_py_files=6))
    assert "holds 8 .py files; at most 6" in error.message


def test_broken_helper_is_left_out_unless_imported(tmp_path):
    folder = write_tree(tmp_path / "hw", {**GOOD, "scratch.py": "def oops(:\n", "old.py": b"\xff"})
    staged = stage(folder, tmp_path)
    assert "scratch" not in staged.modules and "old" not in staged.modules
    assert any("scratch.py was not staged" in note for note in staged.notes)
    assert any("old.py was not staged" in note and "UTF-8" in note for note in staged.notes)

    folder = write_tree(tmp_path / "hw2", {
        **GOOD,
        "minibatch.py": "from utils import minibatches\n",
        "utils.py": "import scratch\nfrom minibatch_impl import minibatches\n",
        "minibatch_impl.py": MINIBATCH,
        "scratch.py": "def oops(:\n",
    })
    error = refused(folder, tmp_path / "second")
    assert error.path == (folder / "scratch.py").as_posix()


def test_notes_for_imports_that_will_fail_and_names_that_cannot_be_staged(tmp_path):
    folder = write_tree(tmp_path / "hw", {
        **GOOD,
        "minibatch.py": "from utils.batching import minibatches\nfrom . import x\n",
        "utils/batching.py": MINIBATCH,
        "random.py": "x = 1\n",
        "my helpers.py": "x = 1\n",
        "class.py": "x = 1\n",
    })
    staged = stage(folder, tmp_path)
    notes = "\n".join(staged.notes)
    assert "minibatch.py imports utils" in notes
    assert "relative import" in notes
    assert "random.py has the name of a Python module (random)" in notes
    assert "my helpers.py was not staged" in notes and "class.py was not staged" in notes
    assert "random" in staged.modules


def test_helper_whose_name_differs_only_in_case_is_not_staged(tmp_path):
    folder = write_tree(tmp_path / "hw", {**GOOD, "Minibatch.py": "x = 1\n"})
    if len(list(folder.iterdir())) < 4:
        pytest.skip("case-insensitive file system")
    staged = stage(folder, tmp_path)
    assert "Minibatch" not in staged.modules
    assert any("Minibatch.py was not staged" in note for note in staged.notes)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_symlinked_module_in_a_folder_is_refused(tmp_path):
    secret = write_tree(tmp_path / "course", {"hidden_tests.py": "ANSWER = 42\n"})
    folder = write_tree(tmp_path / "hw", {
        "activations.py": ACTIVATIONS, "regularization.py": REGULARIZATION,
    })
    try:
        os.symlink(secret / "hidden_tests.py", folder / "minibatch.py")
    except OSError:
        pytest.skip("symlinks not permitted")
    error = refused(folder, tmp_path)
    assert "symbolic link" in error.message and error.path.endswith("minibatch.py")


def test_dest_must_be_empty_and_is_untouched_on_refusal(tmp_path):
    folder = write_tree(tmp_path / "hw", GOOD)
    dest = write_tree(tmp_path / "dest", {"old.py": ""})
    with pytest.raises(ValueError, match="empty"):
        stage_submission(folder, REQ, dest)
    refused(write_tree(tmp_path / "bad", {**GOOD, "minibatch.py": "def (\n"}), tmp_path)


def test_unsupported_or_missing_path(tmp_path):
    text = tmp_path / "hw.txt"
    text.write_text("hi", encoding="utf-8")
    assert "is not a folder, a Jupyter notebook" in refused(text, tmp_path).message
    assert "does not exist" in refused(tmp_path / "nope", tmp_path).message


# --- notebooks --------------------------------------------------------------------------

NB_SETUP = (
    "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\n!pip install tqdm\n"
)
NB_MINIBATCH = (
    MINIBATCH + "EPS = 1e-8\nNEG = -5\nTWO_PI = 2 * np.pi\nrng = np.random.default_rng(0)\n"
)
NB_TRAINING = "%%time\nfor epoch in range(500):\n    train()\n"
NB_EXPLORE = (
    "losses = []\nfor lr in [0.03, 0.1]:\n    losses.append(lr)\nplt.plot(losses)\n"
    "sigmoid(np.array([1.0]))\n"
)


def exploratory_notebook(path: Path) -> Path:
    return write_notebook(
        path,
        new_markdown_cell("# 第 65 天作業\n說明"),                                  # 1
        new_code_cell(NB_SETUP),                                                   # 2
        new_code_cell(ACTIVATIONS),                                                # 3
        new_markdown_cell("## 正規化"),                                            # 4
        new_code_cell(REGULARIZATION),                                             # 5
        new_code_cell(NB_MINIBATCH),                                               # 6
        new_code_cell(NB_TRAINING),                                                # 7
        new_code_cell(NB_EXPLORE),                                                 # 8
        new_code_cell("if __name__ == '__main__':\n    print(minibatches(10, 3))\n"),  # 9
        new_code_cell("get_ipython().run_line_magic('pwd', '')\nimport activations\n"),  # 10
        new_raw_cell("raw"),                                                       # 11
        new_code_cell(""),                                                         # 12
    )


def test_notebook_keeps_definitions_and_reports_what_it_skips(tmp_path):
    notebook = exploratory_notebook(tmp_path / "hw.ipynb")
    staged = stage(notebook, tmp_path)
    assert staged.kind == "notebook"
    assert staged.modules == ("activations", "regularization", "minibatch", "_notebook")
    assert staged.missing == {}
    kept = (staged.dest / "_notebook.py").read_text(encoding="utf-8")
    compile(kept, "_notebook.py", "exec")
    for module in ("activations", "regularization", "minibatch"):
        stub = (staged.dest / f"{module}.py").read_text(encoding="utf-8")
        compile(stub, f"{module}.py", "exec")
        assert "from _notebook import *" in stub
    assert "from _notebook import minibatches" in (staged.dest / "minibatch.py").read_text(
        encoding="utf-8"
    )
    assert "數值穩定的 sigmoid" in kept
    for constant in ("EPS = 1e-8", "NEG = -5", "TWO_PI = 2 * np.pi", "import numpy as np"):
        assert constant in kept
    for gone in ("matplotlib", "pip", "default_rng", "range(500)", "plt.plot", "__main__",
                 "get_ipython", "import activations"):
        assert gone not in kept

    skipped = {(s.cell, s.line): s for s in staged.skipped}
    assert skipped[(2, 1)].reason.startswith("IPython magic") and skipped[(2, 1)].text == (
        "%matplotlib inline"
    )
    assert "interactive use" in skipped[(2, 3)].reason
    assert skipped[(2, 4)].reason.startswith("shell command")
    assert skipped[(6, line_of(NB_MINIBATCH, "default_rng"))].text.startswith("rng = ")
    assert skipped[(7, 1)].reason.startswith("cell magic %%time")
    assert {line for cell, line in skipped if cell == 8} == {2, 4, 5}  # losses = [] is kept
    assert skipped[(8, 2)].reason.startswith("a loop (only imports, functions, classes")
    assert "function call" in skipped[(8, 5)].reason
    assert "__main__" in skipped[(9, 1)].reason
    assert skipped[(10, 1)].reason == "IPython call"
    assert "which the notebook itself provides" in skipped[(10, 2)].reason
    assert {cell for cell, _ in skipped} == {2, 6, 7, 8, 9, 10}
    assert list(staged.skipped) == sorted(staged.skipped, key=lambda s: (s.cell, s.line))


def test_notebook_locations_point_into_the_original_cells(tmp_path):
    notebook = exploratory_notebook(tmp_path / "hw.ipynb")
    staged = stage(notebook, tmp_path)
    path = notebook.as_posix()
    assert staged.function_locations["activations.sigmoid"] == SourceLocation(
        path, 3, line_of(ACTIVATIONS, "def sigmoid(")
    )
    assert staged.function_locations["minibatch.minibatches"] == SourceLocation(
        path, 6, line_of(MINIBATCH, "def minibatches(")
    )
    assert str(staged.function_locations["regularization.l2_penalty"]) == (
        f"{path}, cell 5, line {line_of(REGULARIZATION, 'def l2_penalty(')}"
    )
    # every line of the generated module maps back to the very same text in its cell
    kept = (staged.dest / "_notebook.py").read_text(encoding="utf-8").splitlines()
    cells = {2: NB_SETUP, 3: ACTIVATIONS, 5: REGULARIZATION, 6: NB_MINIBATCH, 8: NB_EXPLORE}
    for number, text in enumerate(kept, start=1):
        location = staged.locate("_notebook", number)
        assert location is not None and location.path == path
        if location.line:
            assert cells[location.cell].splitlines()[location.line - 1].startswith(text)
    # a stub's import line points at the function it imports
    stub = (staged.dest / "minibatch.py").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(stub, 1) if "import minibatches" in t)
    assert staged.locate("minibatch", line) == staged.function_locations["minibatch.minibatches"]
    assert staged.locate("_notebook", 10_000) is None


def test_staged_notebook_imports_in_a_fresh_interpreter(tmp_path):
    # the output (our own fixture code, not student code) works as the worker will use it
    staged = stage(exploratory_notebook(tmp_path / "hw.ipynb"), tmp_path)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import activations, minibatch, regularization\n"
        "print(float(activations.sigmoid(0.0)), len(minibatch.minibatches(10, 3)),"
        " regularization.l1_penalty([1, -2]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(staged.dest)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.5", "4", "3.0"]


def test_notebook_syntax_error_reports_cell_and_line(tmp_path):
    cell = "%load_ext autoreload\nimport numpy as np\n\ndef relu(z)\n    return np.maximum(z, 0)\n"
    notebook = write_notebook(
        tmp_path / "hw.ipynb",
        new_markdown_cell("intro"),
        new_code_cell(ACTIVATIONS),
        new_code_cell(cell),
    )
    error = refused(notebook, tmp_path)
    assert (error.path, error.cell, error.line) == (notebook.as_posix(), 3, 4)
    assert "def relu(z)" in error.message
    assert f"{notebook.as_posix()}, cell 3, line 4" in error.message


def test_notebook_keeps_strings_that_look_like_magics(tmp_path):
    cell = 'HELP = """\n%d items\n!important\n"""\n\ndef linear(z):\n    return z\n'
    staged = stage(write_notebook(tmp_path / "hw.ipynb", new_code_cell(cell)), tmp_path)
    assert "%d items\n!important" in (staged.dest / "_notebook.py").read_text(encoding="utf-8")
    assert staged.skipped == ()


def test_notebook_with_line_magics_inside_keeps_line_numbers(tmp_path):
    cell = "%time x = 1\n!ls\n\ndef sigmoid(z):\n    return z\n"
    staged = stage(write_notebook(tmp_path / "hw.ipynb", new_code_cell(cell)), tmp_path)
    assert staged.function_locations["activations.sigmoid"].line == 4
    assert [(s.line, s.text) for s in staged.skipped] == [(1, "%time x = 1"), (2, "!ls")]


def test_notebook_with_windows_line_endings_and_a_bom_file(tmp_path):
    cell = "%time x = 1\r\nimport numpy as np\r\n\r\ndef sigmoid(z):\r\n    return z\r\n"
    staged = stage(write_notebook(tmp_path / "hw.ipynb", new_code_cell(cell)), tmp_path)
    assert staged.function_locations["activations.sigmoid"].line == 4
    bom_file = b"\xef\xbb\xbfdef minibatches(:\n"
    folder = write_tree(tmp_path / "hw", {**GOOD, "minibatch.py": bom_file})
    error = refused(folder, tmp_path / "bom")
    assert error.line == 1 and "\ufeff" not in error.message


def test_notebook_missing_function_with_suggestions(tmp_path):
    notebook = write_notebook(
        tmp_path / "hw.ipynb",
        new_code_cell(ACTIVATIONS.replace("def relu(", "def reLU(")),
        new_code_cell("for _ in range(1):\n    def tanh_derivative(z):\n        return z\n"),
        new_code_cell(REGULARIZATION + MINIBATCH),
    )
    staged = stage(notebook, tmp_path)
    # tanh_derivative is defined in ACTIVATIONS too: only relu is missing
    assert set(staged.missing) == {"activations.relu"}
    assert "Did you mean reLU?" in staged.missing["activations.relu"]
    assert "import relu " not in (staged.dest / "activations.py").read_text(encoding="utf-8")

    notebook = write_notebook(
        tmp_path / "hw2.ipynb",
        new_code_cell("for _ in range(1):\n    def minibatches(n, b):\n        return []\n"),
    )
    staged = stage_submission(notebook, REQ, tmp_path / "staged2")
    message = staged.missing["minibatch.minibatches"]
    assert "defined at" in message and "cell 1, line 2" in message and "a loop" in message


def test_notebook_note_for_a_function_using_a_skipped_global(tmp_path):
    notebook = write_notebook(
        tmp_path / "hw.ipynb",
        new_code_cell("import numpy as np\nEPS = np.finfo(float).eps\n"),
        new_code_cell("def sigmoid(z):\n    return 1 / (1 + np.exp(-z)) + EPS\n"),
    )
    staged = stage(notebook, tmp_path)
    notes = "\n".join(staged.notes)
    assert "sigmoid" in notes and "global name EPS" in notes and "cell 1, line 2" in notes


def test_notebook_note_for_a_default_value_only_skipped_code_sets(tmp_path):
    notebook = write_notebook(
        tmp_path / "hw.ipynb",
        new_code_cell("import numpy as np\nrng = np.random.default_rng(0)\n"),
        new_code_cell("def minibatches(n, b, rng=rng):\n    return []\n\n"
                      "@memo\ndef relu(z):\n    return z\n"),
    )
    staged = stage(notebook, tmp_path)
    notes = "\n".join(staged.notes)
    assert "cell 2, line 1 uses rng when the notebook is imported" in notes
    assert "cell 1, line 2" in notes
    assert "cell 2, line 4 uses memo" in notes and "never sets it" in notes


def test_notebook_future_import_is_hoisted_and_try_import_is_kept(tmp_path):
    notebook = write_notebook(
        tmp_path / "hw.ipynb",
        new_code_cell("import math\n"),
        new_code_cell("from __future__ import annotations\n"
                      "try:\n    import scipy\nexcept ImportError:\n    scipy = None\n"
                      "def linear(z: float) -> float:\n    return z\n"),
    )
    staged = stage(notebook, tmp_path)
    kept = (staged.dest / "_notebook.py").read_text(encoding="utf-8")
    compile(kept, "_notebook.py", "exec")
    assert "except ImportError" in kept
    line = next(i for i, t in enumerate(kept.splitlines(), 1) if "__future__" in t)
    assert staged.locate("_notebook", line) == SourceLocation(notebook.as_posix(), 2, 1)


def test_broken_json_notebook(tmp_path):
    path = tmp_path / "hw.ipynb"
    path.write_bytes(notebook_bytes(new_code_cell(ACTIVATIONS))[:-40])
    error = refused(path, tmp_path)
    assert re.search(r"is not valid JSON \(line \d+, column \d+", error.message)
    assert error.path == path.as_posix()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"hello": "world"}', "no nbformat version"),
        ("[1, 2, 3]", "not a JSON object"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "x"}', "no list of cells"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
         "cell 1"),
        ('{"nbformat": 99, "cells": []}', "99"),
    ],
)
def test_json_that_is_not_a_notebook(tmp_path, content, reason):
    path = tmp_path / "hw.ipynb"
    path.write_text(content, encoding="utf-8")
    error = refused(path, tmp_path)
    assert "valid JSON but not a Jupyter notebook" in error.message and reason in error.message


def test_notebook_that_breaks_the_schema_but_has_usable_cells_is_read_with_a_note(tmp_path):
    nb = new_notebook(cells=[new_code_cell(MINIBATCH)])
    nb.cells[0]["outputs"] = [{"output_type": "mystery"}]
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    staged = stage(path, tmp_path)
    assert "minibatch.minibatches" in staged.function_locations
    assert any("does not fully follow the Jupyter notebook format" in n for n in staged.notes)


def test_notebook_not_utf8(tmp_path):
    path = tmp_path / "hw.ipynb"
    path.write_bytes(notebook_bytes(new_code_cell("# 中文\nx = 1\n")).decode().encode("big5"))
    assert "not saved as UTF-8" in refused(path, tmp_path).message


def test_folder_with_one_notebook_is_a_notebook_submission_with_helpers(tmp_path):
    folder = tmp_path / "hw"
    write_notebook(folder / "作業65.ipynb", new_code_cell("from mathutil import K\n" + MINIBATCH))
    write_tree(folder, {"mathutil.py": "K = 3\n", "test_me.py": "x = 1\n"})
    staged = stage(folder, tmp_path)
    assert staged.kind == "notebook"
    assert "mathutil" in staged.modules and "test_me" not in staged.modules
    assert staged.function_locations["minibatch.minibatches"].path.endswith("作業65.ipynb")


def test_py_modules_win_over_a_notebook(tmp_path):
    folder = write_tree(tmp_path / "hw", GOOD)
    write_notebook(folder / "draft.ipynb", new_code_cell("x = 1\n"))
    staged = stage(folder, tmp_path)
    assert staged.kind == "folder" and "_notebook" not in staged.modules
    assert any("the .py modules are graded" in note for note in staged.notes)


def test_several_notebooks_are_refused(tmp_path):
    folder = tmp_path / "hw"
    write_notebook(folder / "a.ipynb", new_code_cell("x = 1\n"))
    write_notebook(folder / "b.ipynb", new_code_cell("x = 1\n"))
    assert "several notebooks (a.ipynb, b.ipynb)" in refused(folder, tmp_path).message


SNIPPETS = [
    "import numpy as np",
    "def f{i}(z):\n    # 註解 {i}\n    return z",
    "@staticmethod\ndef g{i}(z):\n    return z",
    "K{i} = -{i} * 2",
    "%time x = {i}",
    "!echo {i}",
    "print({i})",
    "for _ in range({i}):\n    pass",
    "A{i} = 1; print(A{i}); B{i} = (1,\n  2)",
    "class C{i}:\n    x = {i}",
    "",
]

GRADING = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


@GRADING
@given(st.lists(st.lists(st.sampled_from(SNIPPETS), max_size=5), min_size=1, max_size=5))
def test_every_kept_notebook_line_maps_back_to_its_cell(tmp_path_factory, cells):
    sources = [
        "\n".join(snippet.format(i=10 * c + k) for k, snippet in enumerate(cell))
        for c, cell in enumerate(cells)
    ]
    root = tmp_path_factory.mktemp("nb")
    notebook = write_notebook(
        root / "hw.ipynb", *[new_code_cell(source) for source in sources]
    )
    staged = stage_submission(notebook, REQ, root / "staged")
    kept = (staged.dest / "_notebook.py").read_text(encoding="utf-8")
    compile(kept, "_notebook.py", "exec")
    for number, text in enumerate(kept.splitlines(), start=1):
        location = staged.locate("_notebook", number)
        assert location is not None
        if location.line:
            original = sources[location.cell - 1].splitlines()[location.line - 1]
            assert text in original  # whole line, or one statement of an a; b line
    for skipped in staged.skipped:
        assert skipped.text in sources[skipped.cell - 1].splitlines()[skipped.line - 1]


@GRADING
@given(st.lists(st.sampled_from(["..", ".", "", "hw", "C:", "__MACOSX", ".git", "a.py", "/",
                                 "\\"]), min_size=1, max_size=5))
def test_hostile_zip_names_never_write_outside_dest(tmp_path_factory, parts):
    name = "/".join(parts)
    assume(name)  # zipfile itself cannot write an empty name
    base = tmp_path_factory.mktemp("zip")
    work = base / "a" / "b" / "c"  # room for ../ to escape into, were anything extracted
    work.mkdir(parents=True)
    archive = make_zip_infos(
        work / "a.zip",
        [(zipfile.ZipInfo(n), c) for n, c in GOOD.items()] + [(zipfile.ZipInfo(name), "x = 1\n")],
    )
    before = set(base.rglob("*"))
    dest = work / "staged"
    try:
        staged = stage_submission(archive, REQ, dest)
    except SubmissionError:
        assert not any(dest.iterdir())
    else:
        assert {p.name for p in staged.dest.iterdir()} <= {
            "activations.py", "regularization.py", "minibatch.py", "a.py"
        }
    created = set(base.rglob("*")) - before
    assert all(path == dest or dest in path.parents for path in created)


# --- zip archives -------------------------------------------------------------------------


def test_zip_of_a_folder(tmp_path):
    archive = make_zip(tmp_path / "alice.zip", {**GOOD, "conftest.py": "", "notes/x.py": ""})
    staged = stage(archive, tmp_path)
    assert staged.kind == "zip+folder"
    assert staged.modules == ("activations", "regularization", "minibatch")
    assert staged.function_locations["minibatch.minibatches"].path == (
        f"{archive.as_posix()}/minibatch.py"
    )


def test_zip_with_a_wrapper_folder_and_macos_junk(tmp_path):
    entries = {f"hw65/{name}": content for name, content in GOOD.items()}
    entries["__MACOSX/hw65/._activations.py"] = b"\x00\x05\x16\x07junk"
    entries["hw65/.DS_Store"] = b"\x00"
    entries["hw65/__pycache__/minibatch.cpython-311.pyc"] = b"\x00"
    archive = make_zip(tmp_path / "alice.zip", entries)
    staged = stage(archive, tmp_path)
    assert staged.kind == "zip+folder"
    assert set(staged.modules) == {"activations", "regularization", "minibatch"}
    assert staged.locate("activations", 3).path == f"{archive.as_posix()}/hw65/activations.py"


def test_zip_of_a_notebook(tmp_path):
    nb = notebook_bytes(new_code_cell(ACTIVATIONS + REGULARIZATION + MINIBATCH))
    archive = make_zip(tmp_path / "alice.zip", {"homework/hw.ipynb": nb})
    staged = stage(archive, tmp_path)
    assert staged.kind == "zip+notebook" and staged.missing == {}
    assert staged.function_locations["minibatch.minibatches"].path == (
        f"{archive.as_posix()}/homework/hw.ipynb"
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.py", "'..' component"),
        ("hw/../../evil.py", "'..' component"),
        ("/etc/activations.py", "absolute path"),
        ("\\windows\\activations.py", "absolute path"),
        ("C:/activations.py", "drive letter"),
        ("hw\\..\\..\\evil.py", "'..' component"),
    ],
)
def test_zip_with_an_unsafe_name_is_refused(tmp_path, name, why):
    archive = make_zip_infos(
        tmp_path / "evil.zip",
        [(zipfile.ZipInfo(n), c) for n, c in GOOD.items()] + [(zipfile.ZipInfo(name), "x = 1\n")],
    )
    assert zipfile.ZipFile(archive).namelist()[-1] == name  # the hostile name is really there
    error = refused(archive, tmp_path)
    assert "unsafe name" in error.message and why in error.message
    assert not (tmp_path / "evil.py").exists()


def test_zip_with_a_symlink_is_refused(tmp_path):
    link = zipfile.ZipInfo("activations.py")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = make_zip_infos(tmp_path / "a.zip", [(link, "/etc/passwd")])
    assert "symbolic link, activations.py" in refused(archive, tmp_path).message


def test_zip_with_too_many_entries_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {**GOOD, **{f"junk/{i}.txt": "" for i in range(200)}})
    assert "holds 203 entries; at most 200" in refused(archive, tmp_path).message


def test_zip_bomb_is_refused(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", {**GOOD, "data.txt": b"\x00" * (2 * 1024 * 1024)})
    assert archive.stat().st_size < 100_000
    error = refused(archive, tmp_path)
    assert "zip bombs" in error.message and "data.txt" in error.message


def test_zip_size_limits(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {**GOOD, "big.bin": os.urandom(30_000)})
    error = refused(archive, tmp_path, limits=Limits(max_zip_member_bytes=20_000))
    assert "big.bin" in error.message and "at most 20000 bytes per file" in error.message
    error = refused(archive, tmp_path, limits=Limits(max_zip_total_bytes=25_000))
    assert "unpacks to" in error.message and "at most 25000 bytes" in error.message
    error = refused(archive, tmp_path, limits=Limits(max_archive_bytes=1_000))
    assert "archives of at most 1000 bytes" in error.message


def test_file_named_zip_that_is_not_a_zip(tmp_path):
    fake = tmp_path / "hw.zip"
    fake.write_text("this is not a zip", encoding="utf-8")
    assert "is not a valid .zip archive" in refused(fake, tmp_path).message


def test_encrypted_zip_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", GOOD)
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        for match in re.finditer(re.escape(signature), bytes(data)):
            data[match.start() + offset] |= 0x1  # "encrypted" general purpose flag
    archive.write_bytes(bytes(data))
    assert "password-protected" in refused(archive, tmp_path).message


def test_zip_with_names_differing_only_in_case_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {**GOOD, "Activations.py": "x = 1\n"})
    assert "contains Activations.py twice" in refused(archive, tmp_path).message


def test_corrupt_zip_member_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", GOOD)
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x03\x04") + 30 + len("activations.py")
    data[start + 5 : start + 25] = b"\xff" * 20  # inside the compressed data
    archive.write_bytes(bytes(data))
    error = refused(archive, tmp_path)
    assert "damaged" in error.message or "cannot be unpacked" in error.message


# --- the error type and the message table ------------------------------------------------


def test_submission_error_pickles_and_keeps_its_fields(tmp_path):
    error = refused(write_tree(tmp_path / "hw", {"notes.txt": ""}), tmp_path)
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.message, clone.path, clone.message_id) == (
        error.message, error.path, error.message_id
    )


def test_every_message_id_used_in_the_code_is_defined():
    root = Path(__file__).resolve().parents[1] / "grader" / "submission"
    used: set[str] = set()
    for source in root.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(
                r"[a-z_]+\.[a-z_]+", node.value
            ) and node.value.split(".")[0] in {m.split(".")[0] for m in MESSAGES}:
                used.add(node.value)
    assert used, "found no message ids"
    assert used <= set(MESSAGES), used - set(MESSAGES)
