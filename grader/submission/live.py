"""The source of a running notebook kernel's functions, as a notebook to stage.

`hwgrade.check("day65")` in a notebook cell grades the functions the kernel has run,
also in Colab, where the notebook is not a file on disk. Their source is the kernel's
input history (IPython's `_ih`, also known as `In`), not `inspect.getsource` of each
function: the history holds everything the kernel ran, in order, so the imports,
constants and helpers the functions need come with them, a redefined function's last
definition is the last one in it, and a lambda, a decorated function or an import alias
(`import numpy as np`) are read exactly as notebook.py reads them from a file. getsource,
by contrast, gives a function but not the imports and constants it reads, nothing for
names it only finds at call time, and only the line of a lambda.

kernel_notebook(namespace) makes a notebook of one code cell per history entry, so
that cell N is the kernel's `In [N]`; staging it (stage_submission) keeps the
definitions and skips the rest, like any .ipynb. An entry that is not valid Python
(a syntax error the kernel refused to run) becomes an empty cell: it bound nothing.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import nbformat
from nbformat import v4

HISTORY_NAMES = ("_ih", "In")  # IPython's input history; `In` is the same list
_FLAGS = ast.PyCF_ONLY_AST | getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)


def kernel_namespace() -> Mapping[str, Any]:
    """The running kernel's user namespace (IPython's user_ns), else __main__'s."""
    ipython = sys.modules.get("IPython")  # never imported here: only if a kernel has it
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def input_history(namespace: Mapping[str, Any]) -> list[str] | None:
    """The kernel's inputs, entry N being `In [N]` (entry 0 is IPython's empty one);
    None where the namespace is not an IPython kernel's."""
    for name in HISTORY_NAMES:
        history = namespace.get(name)
        if isinstance(history, Sequence) and not isinstance(history, str) and all(
                isinstance(entry, str) for entry in history):
            return list(history)
    return None


def kernel_notebook(history: Sequence[str]) -> nbformat.NotebookNode:
    """A notebook whose code cell N is history entry N (see the module docstring)."""
    cells = [v4.new_code_cell(source if _parses(source) else "")
             for source in history[1:]]
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"in-{number}"  # fixed ids: the same history, the same notebook
    return v4.new_notebook(cells=cells)


def defined_functions(namespace: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """Those of names ("module.function") whose function the namespace holds."""
    return [name for name in names if callable(namespace.get(name.rpartition(".")[2]))]


def _parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: not ours to show
            compile(source, "<kernel input>", "exec", flags=_FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
