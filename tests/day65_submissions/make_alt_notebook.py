"""Build the notebook alternative: alternatives/notebook/day65.ipynb.

The notebook holds the three modules of alternatives/exp_negative_abs as code
cells, mixed with what students really put in a notebook: IPython magics
(%matplotlib inline, !pip install, a %%time cell, `name?` help), exploration
that runs code (plots, a small training loop using the homework's functions)
and a shell call of hwgrade. The grader must keep only the definitions and
grade it like the .py version: full points.

    python tests/day65_submissions/make_alt_notebook.py [OUTPUT.ipynb]

build_notebook() is deterministic (fixed cell ids), so a test can compare the
committed notebook with a fresh build.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
from nbformat import v4

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "alternatives" / "exp_negative_abs"
OUTPUT = HERE / "alternatives" / "notebook" / "day65.ipynb"

SETUP = """\
!pip install --quiet numpy matplotlib
%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np"""

PLOT_ACTIVATIONS = """\
z = np.linspace(-6, 6, 241)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for f, df in [(sigmoid, sigmoid_derivative), (tanh, tanh_derivative), (relu, relu_derivative)]:
    axes[0].plot(z, f(z), label=f.__name__)
    axes[1].plot(z, df(z), label=df.__name__)
for ax in axes:
    ax.legend()
plt.show()"""

HELP_AND_PROBE = """\
sigmoid?
print(sigmoid(np.array([-1e300, 0.0, 1e300])))
print(minibatches(7, 3))"""

TRAINING = """\
%%time
# A tiny logistic-regression run: does L1 zero out the useless weights?
rng = np.random.default_rng(0)
X = rng.normal(size=(250, 7))
y = (X[:, 0] - 2 * X[:, 1] > 0).astype(float)
w = rng.uniform(-0.5, 0.5, size=7)
losses = []
for _ in range(100):
    for batch in minibatches(len(X), 10, rng):
        p = sigmoid(X[batch] @ w)
        grad = X[batch].T @ (p - y[batch]) / len(batch)
        w = regularized_update(w, grad, 0.3, 0.01, "L1")
    p = sigmoid(X @ w)
    losses.append(float(np.mean(0.5 * (p - y) ** 2)))
print(w)"""

PLOT_LOSS = """\
plt.plot(losses)
plt.xlabel("epoch")
plt.ylabel("train loss")
plt.title("L1, rate 0.01")"""

GRADE = "!hwgrade check day65 day65.ipynb"


def module_code(name: str) -> str:
    """The alternative's module as a notebook cell: without its docstring and without
    `import numpy as np` (the setup cell imports numpy once for the whole notebook)."""
    text = (SOURCE / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    start = tree.body[1].lineno if ast.get_docstring(tree) is not None else 1
    lines = [line for line in text.splitlines()[start - 1:] if line != "import numpy as np"]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).strip("\n")  # 2 blank lines at most


def build_notebook() -> nbformat.NotebookNode:
    """The notebook, cell by cell (deterministic: same output on every call)."""
    code = {name: module_code(name) for name in ("activations", "regularization", "minibatch")}
    cells = [
        v4.new_markdown_cell("# Day 65 作業：啟動函數、正規化與小批次\n"
                             "My homework notebook (the exp(-|z|) version)."),
        v4.new_code_cell(SETUP),
        v4.new_markdown_cell("## 啟動函數 Activations"),
        v4.new_code_cell(code["activations"]),
        v4.new_code_cell(PLOT_ACTIVATIONS),
        v4.new_markdown_cell("## 正規化 Regularization"),
        v4.new_code_cell(code["regularization"]),
        v4.new_markdown_cell("## 小批次 Minibatches"),
        v4.new_code_cell(code["minibatch"]),
        v4.new_code_cell(HELP_AND_PROBE),
        v4.new_markdown_cell("## 實驗 Experiments"),
        v4.new_code_cell(TRAINING),
        v4.new_code_cell(PLOT_LOSS),
        v4.new_code_cell(GRADE),
    ]
    return _assemble(cells, "day65-alt")


def _assemble(cells, id_prefix):
    """The starter notebook's own assembly (assignments/day65/make_notebook.py)."""
    import importlib.util

    path = HERE.parents[1] / "assignments" / "day65" / "make_notebook.py"
    spec = importlib.util.spec_from_file_location("_day65_make_notebook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.assemble(cells, id_prefix)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0]) if args else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(), str(output))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
