"""Build the Day 65 starter notebook from the starter .py files.

    python assignments/day65/make_notebook.py day65.ipynb

The notebook holds: a `%pip install` cell for Colab (harmless in a Jupyter that
has hwgrade); an introduction (zh-TW and English); for each module, its
docstring as a markdown cell, its functions (the same stubs as the .py file)
as one code cell and a quick check cell (`hwgrade.check("day65", quick=True)`,
which grades the functions the kernel has run); then the handout's experiments
as `!hwgrade play` cells, a matplotlib cell that plots the loss curves, and the
full check. hwgrade grades only the definitions (imports, functions, constants)
and skips every other cell (the check cells silently), so students may run the
experiment cells freely and the saved notebook grades as well.

build_notebook() is deterministic (fixed cell ids), so a test can compare a
committed notebook with a fresh build.
"""

from __future__ import annotations

import ast
import re
import shlex
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
    "在 Colab 上請先執行最上面的安裝儲存格。每一部分後面的檢查儲存格"
    "（`hwgrade.check(\"day65\", quick=True)`）會評分你在這個 notebook 中執行過的函數，"
    "最後一節是完整檢查。"
    "評分只會讀取 import、函數定義與常數；畫圖、訓練等其他儲存格會被略過，可以放心執行。"
    "部分分數來自老師執行的隱藏檢查，所以請依照說明完整實作，而不只是通過公開檢查。",
])

INTRO_EN = """\
## Day 65 homework: activation functions, regularization, minibatches

Fill in every function in the three code cells below (each now raises
`NotImplementedError`): the activations and their derivatives (taken at the
input z, as TensorFlow Playground does; relu'(0) = 0), the L1 / L2 penalties,
derivatives and Playground's update rule, and `minibatches`.

In Colab, run the install cell at the top first. The check cell after each
part (`hwgrade.check("day65", quick=True)`) grades the functions you have run in
this notebook; the last section is the full check. The grader keeps only
imports, function definitions and constants; plots and training cells are
skipped, so run them as much as you like. Some points
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

報告會列出每項檢查與分數；未通過的檢查會顯示預期值、你的函數傳回的值與提示。
完整檢查包含練習 5-8 的 500 個 epoch 實驗，約需半分鐘。`lang="zh-TW"` 或 `lang="en"`
指定報告的語言；在終端機執行 `hwgrade check day65 day65.ipynb` 則評分存檔後的 notebook。

The report lists every check with its points; a failed check shows what was
expected, what your function returned, and a hint. The full check includes the
500-epoch experiments of exercises 5-8 (about half a minute). `lang="en"` or
`lang="zh-TW"` picks the report's language; `hwgrade check day65 day65.ipynb` in
a terminal grades the saved notebook instead."""

INSTALL = """\
# 在 Colab 上請先執行這個儲存格，安裝 hwgrade（在已安裝 hwgrade 的 Jupyter 中執行也無妨）。
# Colab: run this cell first to install hwgrade (harmless in a Jupyter that has it).
%pip install {spec}"""

QUICK_CHECK = """\
# 快速檢查（不含 500 個 epoch 的實驗）：還沒完成的部分會顯示 NotImplementedError。
# Quick check (no 500-epoch experiments); parts not done yet show NotImplementedError.
import hwgrade; hwgrade.check("day65", quick=True)"""

FULL_CHECK = """\
# 完整檢查 / Full check
import hwgrade; hwgrade.check("day65")"""


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


def build_notebook(source: Path | None = None, *,
                   install_spec: str | None = None) -> nbformat.NotebookNode:
    """The starter notebook (source: a folder with the three modules; default the starter).

    install_spec: what the install cell installs (`hwgrade release --install-spec`;
    default grader.release.INSTALL_SPEC), quoted for the shell that %pip runs.
    """
    if install_spec is None:
        from grader import release

        install_spec = release.INSTALL_SPEC
    source = STARTER if source is None else Path(source)
    cells = [v4.new_code_cell(INSTALL.format(spec=shlex.quote(install_spec))),
             v4.new_markdown_cell(INTRO_ZH), v4.new_markdown_cell(INTRO_EN)]
    for module in MODULES:
        cells.extend(module_cells(source, module))
        cells.append(v4.new_code_cell(QUICK_CHECK))
    cells.append(v4.new_markdown_cell(EXPERIMENTS))
    cells.extend(v4.new_code_cell(text) for text in PLAY_CELLS)
    cells.append(v4.new_code_cell(PLOT))
    cells.append(v4.new_markdown_cell(CHECK))
    cells.append(v4.new_code_cell(FULL_CHECK))
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
