"""Build the Day 65 starter notebook from the starter .py files.

    python assignments/day65/make_notebook.py day65.ipynb

The notebook holds: an introduction (zh-TW and English); for each module, its
docstring as a markdown cell and its functions (the same stubs as the .py
file) as one code cell; then the handout's experiments as `!hwgrade play`
cells and a matplotlib cell that plots the loss curves. hwgrade grades only
the definitions (imports, functions, constants) and skips every other cell,
so students may run the experiment cells freely.

build_notebook() is deterministic (fixed cell ids), so a test can compare a
committed notebook with a fresh build.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
from nbformat import v4

STARTER = Path(__file__).resolve().parent / "starter"
MODULES = ("activations", "regularization", "minibatch")
_NOQA = re.compile(r"[ \t]+# noqa\b.*$", re.MULTILINE)  # for the linter, not for students
_CHECK_LINE = re.compile(r"^Check your work with:.*$\n?", re.MULTILINE)

INTRO_ZH = "\n".join([
    "# 第 65 天作業：啟動函數、正規化與小批次",
    "",
    "請在下面三個程式碼儲存格中完成每個函數（它們現在會 `raise NotImplementedError`）：",
    "",
    "1. **啟動函數**：sigmoid、tanh、relu、linear 與它們的導數"
    "（導數在輸入 z 處計算，與 TensorFlow Playground 相同；relu'(0) = 0）。",
    "2. **正規化**：L1 / L2 懲罰項與導數，以及 Playground 的權重更新規則 "
    "`regularized_update`。",
    "3. **小批次**：`minibatches`，把樣本索引切成小批次。",
    "",
    "完成後執行 `!hwgrade check day65 day65.ipynb`（見最後一節）檢查成績與提示。"
    "評分只會讀取 import、函數定義與常數；畫圖、訓練等其他儲存格會被略過，可以放心執行。"
    "部分分數來自老師執行的隱藏檢查，所以請依照說明完整實作，而不只是通過公開檢查。",
])

INTRO_EN = """\
## Day 65 homework: activation functions, regularization, minibatches

Fill in every function in the three code cells below (each now raises
`NotImplementedError`): the activations and their derivatives (taken at the
input z, as TensorFlow Playground does; relu'(0) = 0), the L1 / L2 penalties,
derivatives and Playground's update rule, and `minibatches`.

Check your work with `!hwgrade check day65 day65.ipynb` (last section). The
grader keeps only imports, function definitions and constants; plots and
training cells are skipped, so run them as much as you like. Some points
come from hidden checks that your instructor runs: implement each function
as its docstring says, not just enough to pass the public checks."""

EXPERIMENTS = """\
## 實驗：講義的練習 5-8 / Experiments: the handout's exercises 5-8

`hwgrade play` trains the handout's networks (spiral, all 7 features, one hidden
layer of 8, 500 epochs) with the grader's Playground engine, several seeds per
setting, and prints a table of final losses.  With `--use-submission .` it trains
with **your** activations, `regularized_update` and `minibatches` instead.

`hwgrade play` 會用評分程式的 Playground 引擎重做講義的練習（螺旋資料、7 個特徵、
一層 8 個神經元、500 次遞迴），每個設定跑數個亂數種子並列出最終損失。
加上 `--use-submission .` 則改用**你自己寫的**函數訓練。"""

PLAY_CELLS = (
    "# 練習 5 Exercise 5: batch size 1 / 5 / 10 / 25\n!hwgrade play --exercise 5",
    "# 練習 6 Exercise 6: learning rate 0.03 ... 3\n!hwgrade play --exercise 6",
    "# 練習 7 Exercise 7: tanh / relu / sigmoid / linear, with your own functions\n"
    "!hwgrade play --exercise 7 --use-submission .",
    "# 練習 8 Exercise 8: L1 / L2 at rates 0.001 ... 0.03\n!hwgrade play --exercise 8",
    "# Save every run's loss curve for the plot below\n"
    "!hwgrade play --exercise 7 --seeds 4 --csv exercise7.csv",
)

PLOT = """\
import csv
from collections import defaultdict

import matplotlib.pyplot as plt

with open("exercise7.csv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
PLOT_FIELDS = ["activation", "learning_rate", "batch_size", "regularization",
               "regularization_rate"]
varied = [k for k in PLOT_FIELDS if len({row[k] for row in rows}) > 1]
curves = defaultdict(lambda: defaultdict(list))  # setting -> run -> test loss per epoch
for row in rows:
    setting = ", ".join(f"{k} {row[k]}" for k in varied)
    curves[setting][row["run"]].append(float(row["test_loss"] or "nan"))

for setting, runs in curves.items():
    losses = np.array(list(runs.values()))
    plt.plot(np.arange(1, losses.shape[1] + 1), np.nanmedian(losses, axis=0), label=setting)
plt.xlabel("epoch")
plt.ylabel("test loss (median over seeds)")
plt.legend()
plt.show()"""

CHECK = """\
## 檢查作業 / Check your work

The report lists every check with its points; a failed check shows what was
expected, what your function returned, and a hint. 報告會列出每項檢查與分數；
未通過的檢查會顯示預期值、你的函數傳回的值與提示。"""


def module_cells(source: Path, module: str) -> list[nbformat.NotebookNode]:
    """The module's docstring as markdown, and its code without the docstring."""
    text = (source / f"{module}.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    docstring = ast.get_docstring(tree) or ""
    body = tree.body
    lines = text.splitlines()
    first = body[1].lineno if body and ast.get_docstring(tree) is not None else 1
    code = _NOQA.sub("", "\n".join(lines[first - 1:]).strip("\n"))
    title, _, rest = docstring.partition("\n")
    title = title.removeprefix("Day 65 homework: ").rstrip(".")
    markdown = f"### {module}.py: {title}\n{_CHECK_LINE.sub('', rest).rstrip()}"
    return [v4.new_markdown_cell(markdown), v4.new_code_cell(code)]


def build_notebook(source: Path | None = None) -> nbformat.NotebookNode:
    """The starter notebook (source: a folder with the three modules; default the starter)."""
    source = STARTER if source is None else Path(source)
    cells = [v4.new_markdown_cell(INTRO_ZH), v4.new_markdown_cell(INTRO_EN)]
    for module in MODULES:
        cells.extend(module_cells(source, module))
    cells.append(v4.new_markdown_cell(EXPERIMENTS))
    cells.extend(v4.new_code_cell(text) for text in PLAY_CELLS)
    cells.append(v4.new_code_cell(PLOT))
    cells.append(v4.new_markdown_cell(CHECK))
    cells.append(v4.new_code_cell("!hwgrade check day65 day65.ipynb"))
    return assemble(cells, "day65")


def assemble(cells: list, id_prefix: str) -> nbformat.NotebookNode:
    """A notebook of these cells with fixed ids and a Python 3 kernel: the same
    input always gives the same file."""
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"{id_prefix}-{number:02d}"  # nbformat would draw random ids
    nb = v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python make_notebook.py OUTPUT.ipynb", file=sys.stderr)
        return 2
    output = Path(args[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(), str(output))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
