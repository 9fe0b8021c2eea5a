"""Notebook submissions: keep the definitions, drop the code that runs when imported.

A notebook mixes the homework's functions with exploration (training runs,
plots, magics). Of every code cell, in order, only these top-level
statements are kept (everything else is reported as SkippedCode):
- imports (`import` / `from ... import`), except of modules the notebook
  itself provides and of interactive-only modules (INTERACTIVE_MODULES);
- function and class definitions, decorated or not;
- assignments to plain names whose value is static: literals, negative
  numbers and arithmetic of them, containers of them, lambdas, and names or
  attributes (np.pi) of what kept code already bound;
- `try` blocks made only of the above (the `try: import x / except
  ImportError:` idiom).
Bare constants (docstrings, `...`) and `pass` are dropped silently, and so are the
notebook's own check cells: imports of hwgrade and calls through it.
IPython syntax is dropped first: cells whose first line starts with %%
(cell magics), and lines starting with % or ! (line magics, shell commands)
or of the form `name?` (help). Those lines are only removed when the cell
is not valid Python as written, so a string line starting with % survives.
Cells are numbered from 1 counting ALL cells (markdown and raw too).
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import nbformat

from grader.submission.errors import SubmissionError
from grader.submission.messages import render
from grader.submission.model import SkippedCode, SourceLocation
from grader.submission.pysource import bound_name, compile_check, split_lines

INTERACTIVE_MODULES = frozenset(
    {"google.colab", "IPython", "ipywidgets", "matplotlib", "seaborn", "plotly"}
)
"""Imports of these (and their submodules) are skipped: the grader's worker may
not have them, and the homework's functions do not need them."""

CHECK_MODULE = "hwgrade"
"""`import hwgrade; hwgrade.check(...)` runs the grader, not the homework: dropped without
a word (the worker has no grader to import, and a check cell is no student's mistake)."""

_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_TOP_LEVEL_AWAIT = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
_BUILTIN_NAMES = frozenset(dir(builtins))
_MAX_TEXT = 60


# --- reading ------------------------------------------------------------------------


def read_notebook(raw: bytes, path: str) -> tuple[nbformat.NotebookNode, tuple[str, ...]]:
    """The notebook in raw (converted to format 4) and notes; SubmissionError if unusable.

    A notebook whose structure is usable but that fails nbformat's schema
    validation (odd metadata, widget state) is accepted with a note.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SubmissionError(
            "file.not_utf8", path=path, line=line, byte=raw[exc.start]
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            "notebook.not_json", path=path, line=exc.lineno, column=exc.colno, reason=exc.msg
        ) from None
    except RecursionError:
        raise SubmissionError(
            "notebook.not_json", path=path, line=1, column=1, reason="nested too deeply"
        ) from None
    _check_structure(data, path)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = nbformat.convert(nbformat.reader.reads(text), 4)
        except Exception as exc:  # nbformat raises many types on bad input
            raise SubmissionError(
                "notebook.not_notebook", path=path, reason=_first_line(exc)
            ) from None
        try:
            nbformat.validate(nb)
        except Exception as exc:  # ditto
            notes.append(render("notebook.partly_invalid", path=path, reason=_first_line(exc)))
    _check_structure(nb, path)
    return nb, tuple(notes)


def _check_structure(data: object, path: str) -> None:
    """Enough structure to read code cells: {"cells": [{"cell_type": ..., "source": ...}]}.

    Format-3 notebooks keep their cells in "worksheets"; they pass here and
    are checked again after conversion to format 4.
    """
    if not isinstance(data, dict):
        raise SubmissionError(
            "notebook.not_notebook", path=path, reason=render("notebook.reason_not_object")
        )
    if not isinstance(data.get("nbformat"), int):
        raise SubmissionError(
            "notebook.not_notebook", path=path, reason=render("notebook.reason_no_version")
        )
    if "worksheets" in data and "cells" not in data:
        return
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError(
            "notebook.not_notebook", path=path, reason=render("notebook.reason_no_cells")
        )
    for number, cell in enumerate(cells, start=1):
        source = cell.get("source") if isinstance(cell, dict) else None
        ok_source = isinstance(source, str) or (
            isinstance(source, list) and all(isinstance(s, str) for s in source)
        )
        if not ok_source or not isinstance(cell.get("cell_type"), str):
            raise SubmissionError(
                "notebook.not_notebook", path=path,
                reason=render("notebook.reason_bad_cell", cell=number),
            )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return _shorten(text[0] if text else type(exc).__name__, 120)


# --- keeping the definitions -----------------------------------------------------------


@dataclass(frozen=True)
class SkippedStatement:
    """A skipped top-level statement, kept for hints ("relu is defined inside a loop")."""

    cell: int
    node: ast.stmt
    reason: str


@dataclass(frozen=True)
class NotebookCode:
    """The kept code as one module, with where each of its lines comes from.

    lines[N - 1] is the (cell, line in cell) of line N of text; (cell, 0) or
    (None, 0) for lines the grader wrote (comments).
    """

    text: str
    lines: tuple[tuple[int | None, int], ...]
    skipped: tuple[SkippedCode, ...]
    skipped_statements: tuple[SkippedStatement, ...]
    unbound_at_import: tuple[tuple[int, int, str], ...]
    """(cell, line, name): a kept decorator, default value or base class reads name,
    which no kept code bound before (importing the module will fail)."""


def extract_code(nb: nbformat.NotebookNode, path: str, provided: frozenset[str]) -> NotebookCode:
    """Keep the definitions of nb's code cells (see the module docstring).

    provided: module names the notebook itself stands for (importing them from
    the notebook would be circular). SubmissionError for a cell that is not
    valid Python even without its IPython syntax.
    """
    out = _Output()
    bound: set[str] = set()
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        source = "".join(cell.source) if isinstance(cell.source, list) else cell.source
        lines = split_lines(source)
        magic = _cell_magic(lines)
        if magic is not None:
            index, word = magic
            out.skip(number, index + 1, lines[index], render("skip.cell_magic", magic=word))
            continue
        tree, lines = _parse_cell(lines, number, path, out)
        cleaned = "\n".join(lines)
        kept_any = False
        for stmt in tree.body:
            reason = _skip_reason(stmt, bound, provided)
            if reason is None:
                if not kept_any:
                    out.comment(f"# --- cell {number} ---", number)
                    kept_any = True
                out.keep(stmt, cleaned, lines, number)
                out.unbound_at_import.extend(
                    (number, node.lineno, node.id)
                    for node in _import_time_names(stmt)
                    if node.id not in bound and node.id not in _BUILTIN_NAMES
                )
                bound.update(_bound_names(stmt))
            elif reason:
                out.skip(number, stmt.lineno, lines[stmt.lineno - 1], reason)
                out.skipped_statements.append(SkippedStatement(number, stmt, reason))
    return out.result()


def _cell_magic(lines: list[str]) -> tuple[int, str] | None:
    for index, line in enumerate(lines):
        if line.strip():
            stripped = line.lstrip()
            return (index, stripped.split()[0]) if stripped.startswith("%%") else None
    return None


def _parse_cell(
    lines: list[str], number: int, path: str, out: _Output
) -> tuple[ast.Module, list[str]]:
    """The cell's AST; IPython-only lines are blanked (and reported) if it does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse("\n".join(lines)), lines
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    cleaned = list(lines)
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("%"):
            reason = "skip.line_magic"
        elif stripped.startswith("!"):
            reason = "skip.shell"
        elif _HELP.match(line):
            reason = "skip.help"
        else:
            continue
        out.skip(number, index + 1, line, render(reason))
        cleaned[index] = ""
    cell_path = SourceLocation(path, number, 0)

    def locate(line: int) -> SourceLocation:
        return SourceLocation(path, number, line) if line else cell_path

    tree = compile_check("\n".join(cleaned), f"<cell {number}>", locate, cleaned,
                         flags=_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST)
    return tree, cleaned


# --- what is kept --------------------------------------------------------------------


def _skip_reason(stmt: ast.stmt, bound: set[str], provided: frozenset[str]) -> str | None:
    """None to keep stmt, "" to drop it silently, else the student-facing reason."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    if isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
    ):
        return ""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return _import_reason(stmt, provided)
    if isinstance(stmt, ast.Assign):
        names_only = all(_is_name_target(t) for t in stmt.targets)
        if names_only and _is_static(stmt.value, bound):
            return None
        return _runs_code("what.assignment")
    if isinstance(stmt, ast.AnnAssign):
        if isinstance(stmt.target, ast.Name) and (
            stmt.value is None or _is_static(stmt.value, bound)
        ):
            return None
        return _runs_code("what.assignment")
    if isinstance(stmt, ast.Try) and _is_import_guard(stmt, bound, provided):
        return None
    if isinstance(stmt, ast.Expr):
        return _expression_reason(stmt.value)
    return _runs_code(_statement_kind(stmt))


def _import_reason(stmt: ast.Import | ast.ImportFrom, provided: frozenset[str]) -> str | None:
    if isinstance(stmt, ast.ImportFrom):
        modules = [stmt.module or ""] if stmt.level == 0 else []
    else:
        modules = [alias.name for alias in stmt.names]
    for module in modules:
        top = module.split(".")[0]
        if top == CHECK_MODULE:
            return ""
        if top in provided:
            return render("skip.self_import", name=top)
        if any(module == m or module.startswith(m + ".") for m in INTERACTIVE_MODULES):
            return render("skip.interactive_import", name=module)
    return None


def _is_import_guard(stmt: ast.Try, bound: set[str], provided: frozenset[str]) -> bool:
    """`try: import x except ImportError: ...` made only of keepable statements."""
    local = set(bound)
    parts = [stmt.body, stmt.orelse, stmt.finalbody] + [h.body for h in stmt.handlers]
    for body in parts:
        for inner in body:
            if _skip_reason(inner, local, provided) not in (None, ""):
                return False
            local.update(_bound_names(inner))
    return all(h.type is None or _is_static(h.type, local) for h in stmt.handlers)


def _is_name_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_is_name_target(e) for e in target.elts)
    return False


def _is_static(node: ast.expr, bound: set[str] | frozenset[str]) -> bool:
    """A value computed without calling anything (see the module docstring)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in bound or node.id in _BUILTIN_NAMES
    if isinstance(node, ast.Attribute):
        root = node.value
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id in bound
    if isinstance(node, ast.UnaryOp):
        return _is_static(node.operand, bound)
    if isinstance(node, ast.BinOp):
        return _is_static(node.left, bound) and _is_static(node.right, bound)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_static(e, bound) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_static(k, bound) for k in node.keys) and all(
            _is_static(v, bound) for v in node.values
        )
    if isinstance(node, ast.Lambda):
        defaults = node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        return all(_is_static(d, bound) for d in defaults)
    return False


def _expression_reason(value: ast.expr) -> str:
    if isinstance(value, ast.Call):
        func = value.func
        while isinstance(func, (ast.Attribute, ast.Call)):
            func = func.value if isinstance(func, ast.Attribute) else func.func
        if isinstance(func, ast.Name) and func.id == "get_ipython":
            return render("skip.ipython_call")
        if isinstance(func, ast.Name) and func.id == CHECK_MODULE:
            return ""
        return _runs_code("what.call")
    if isinstance(value, ast.Await):
        return _runs_code("what.await")
    return _runs_code("what.expression")


def _statement_kind(stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
        return "what.main"
    kinds: dict[tuple[type, ...], str] = {
        (ast.For, ast.AsyncFor, ast.While): "what.loop",
        (ast.If,): "what.if",
        (ast.With, ast.AsyncWith): "what.with",
        (ast.Try,): "what.try",
        (ast.AugAssign,): "what.augmented",
        (ast.Delete,): "what.delete",
        (ast.Assert,): "what.assert",
        (ast.Raise,): "what.raise",
    }
    if hasattr(ast, "Match"):
        kinds[(ast.Match,)] = "what.match"
    if hasattr(ast, "TryStar"):
        kinds[(ast.TryStar,)] = "what.try"
    for types, kind in kinds.items():
        if isinstance(stmt, types):
            return kind
    return "what.statement"


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def _runs_code(what: str) -> str:
    return render("skip.runs_code", what=render(what))


def _import_time_names(stmt: ast.stmt) -> Iterator[ast.Name]:
    """Names a def or class statement reads when it runs: decorators, defaults, bases."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        exprs = stmt.decorator_list + stmt.args.defaults + [
            d for d in stmt.args.kw_defaults if d is not None
        ]
    elif isinstance(stmt, ast.ClassDef):
        exprs = stmt.decorator_list + stmt.bases + [k.value for k in stmt.keywords]
    else:
        exprs = []
    for expr in exprs:
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                yield node


def _bound_names(stmt: ast.stmt) -> set[str]:
    """Names stmt binds at module scope (not inside the functions or classes it defines)."""
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, _OWN_SCOPE):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(bound_name(node, a) for a in node.names if a.name != "*")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return names


_OWN_SCOPE = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def bindings_of_skipped(statements: tuple[SkippedStatement, ...]) -> dict[str, SkippedStatement]:
    """Name -> the first skipped statement that would have bound it at module scope."""
    found: dict[str, SkippedStatement] = {}
    for skipped in statements:
        for name in _bound_names(skipped.node):
            found.setdefault(name, skipped)
    return found


# --- writing the kept code --------------------------------------------------------------


class _Output:
    """Accumulates _notebook.py: __future__ imports first, then kept code by cell."""

    def __init__(self) -> None:
        self.future: list[tuple[str, tuple[int, int]]] = []
        self.body: list[tuple[str, tuple[int | None, int]]] = []
        self.skipped: list[SkippedCode] = []
        self.skipped_statements: list[SkippedStatement] = []
        self.unbound_at_import: list[tuple[int, int, str]] = []

    def comment(self, text: str, cell: int | None) -> None:
        self.body.append((text, (cell, 0)))

    def keep(self, stmt: ast.stmt, source: str, lines: list[str], cell: int) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try)):
            # compound statements start at column 0 and own their whole lines
            first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            chunk = lines[first - 1 : stmt.end_lineno]
            if self.body and not self.body[-1][0].startswith("# --- cell"):
                self.body.append(("", (cell, 0)))  # readability only
        else:  # a simple statement may share its line with others (a; b)
            first = stmt.lineno
            chunk = split_lines(ast.get_source_segment(source, stmt) or "")
        target = (
            self.future
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
            else self.body
        )
        target.extend((text, (cell, first + i)) for i, text in enumerate(chunk))

    def skip(self, cell: int, line: int, text: str, reason: str) -> None:
        self.skipped.append(SkippedCode(cell, line, _shorten(text.strip(), _MAX_TEXT), reason))

    def result(self) -> NotebookCode:
        header = [
            ("# Generated by hwgrade from the notebook's code cells: imports, definitions", None),
            ("# and constants only. Edit the notebook, not this file.", None),
        ]
        rows = [(text, (cell, 0)) for text, cell in header] + self.future + self.body
        text = "\n".join(row[0] for row in rows) + "\n"
        return NotebookCode(
            text=text,
            lines=tuple(row[1] for row in rows),
            skipped=tuple(sorted(self.skipped, key=lambda s: (s.cell, s.line))),
            skipped_statements=tuple(self.skipped_statements),
            unbound_at_import=tuple(self.unbound_at_import),
        )


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."
