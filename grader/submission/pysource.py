"""Reading Python source without running it: decode, compile-check, find definitions.

Compiling source to a code object (which is then dropped) catches everything
an import would reject at compile time ('return' outside a function, bad
__future__ imports) that ast.parse lets through; nothing is executed.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from grader.i18n import joined
from grader.submission.errors import SubmissionError
from grader.submission.messages import render
from grader.submission.model import SourceLocation


def decode_utf8(raw: bytes, path: str) -> str:
    """raw as text; SubmissionError naming the file and line if it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SubmissionError(
            "file.not_utf8", path=path, line=line, byte=raw[exc.start]
        ) from None


def compile_check(
    source: str | bytes,
    filename: str,
    locate: Callable[[int], SourceLocation],
    lines: list[str],
    *,
    flags: int = 0,
) -> ast.Module:
    """The AST of source, after checking that it compiles; SubmissionError if not.

    locate maps a line of source to the student's original location; lines are
    the decoded lines of source (for quoting the offending line). Warnings the
    compiler emits about student code (invalid escape sequences...) are not the
    grader's concern and are silenced.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, filename, "exec", flags=flags, dont_inherit=True)
            return compile(source, filename, "exec", flags=flags | ast.PyCF_ONLY_AST,
                           dont_inherit=True)
    except SyntaxError as exc:
        lineno = exc.lineno or 0
        text = lines[lineno - 1].strip() if 1 <= lineno <= len(lines) else (exc.text or "")
        where = _location(locate, lineno)
        raise SubmissionError(
            "python.syntax",
            path=where.path,
            line=where.line or None,
            cell=where.cell,
            location=str(where),
            reason=exc.msg,
            text=text.strip(),
        ) from None
    except ValueError as exc:  # e.g. NUL bytes, on Python versions that do not say SyntaxError
        where = _location(locate, 0)
        raise SubmissionError(
            "python.invalid", path=where.path, cell=where.cell, location=str(where), reason=exc
        ) from None
    except (RecursionError, MemoryError):
        where = _location(locate, 0)
        raise SubmissionError(
            "python.too_complex", path=where.path, cell=where.cell, location=str(where)
        ) from None


def _location(locate: Callable[[int], SourceLocation], line: int) -> SourceLocation:
    return locate(line) if line > 0 else locate(0)


def split_lines(text: str) -> list[str]:
    """Lines as the Python tokenizer counts them (\\n, \\r\\n and \\r end a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# --- what a module defines --------------------------------------------------------


@dataclass(frozen=True)
class Bindings:
    """Names a module binds at module scope, each with the line of its last binding.

    open_ended: the module may bind names that cannot be seen statically
    (`from x import *`, a module-level __getattr__), so a name not listed may
    still exist.
    """

    names: dict[str, int]
    open_ended: bool


_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
if hasattr(ast, "TryStar"):  # Python 3.11+
    _BLOCKS = (*_BLOCKS, ast.TryStar)


def module_bindings(tree: ast.Module) -> Bindings:
    """Module-scope names: defs, classes, assignment targets, imports.

    Statements nested in if/try/with/for/while blocks at module level count
    (they bind module names too); function and class bodies do not.
    """
    names: dict[str, int] = {}
    open_ended = False
    for stmt in _module_scope_statements(tree.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[stmt.name] = stmt.lineno
            open_ended |= stmt.name == "__getattr__"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                for name in _target_names(target):
                    names[name] = stmt.lineno
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            for name in _target_names(stmt.target):
                names[name] = stmt.lineno
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name == "*":
                    open_ended = True
                else:
                    names[bound_name(stmt, alias)] = stmt.lineno
    return Bindings(names, open_ended)


def _module_scope_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, _BLOCKS):
            for part in ("body", "orelse", "finalbody"):
                yield from _module_scope_statements(getattr(stmt, part, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _module_scope_statements(handler.body)


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def bound_name(stmt: ast.Import | ast.ImportFrom, alias: ast.alias) -> str:
    """The name an import binds: `import a.b` binds a, `import a.b as c` binds c."""
    if alias.asname:
        return alias.asname
    return alias.name.split(".")[0] if isinstance(stmt, ast.Import) else alias.name


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, int, int]]:
    """(top-level module name, line, relative level) of every import, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno, 0
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if node.level or module:
                yield module, node.lineno, node.level


# --- hints for a function that is not where it is expected -------------------------


def nested_definitions(node: ast.AST, name: str) -> Iterator[tuple[ast.AST, int]]:
    """(enclosing def/class, line) of every definition of name inside node's body."""
    for stmt in getattr(node, "body", []):
        for inner in ast.walk(stmt):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if inner.name == name:
                    yield node, inner.lineno
            elif isinstance(inner, ast.Name) and inner.id == name and isinstance(
                inner.ctx, ast.Store
            ):
                yield node, inner.lineno


def container_name(node: ast.AST) -> str:
    """Student-facing "function main" / "class Model"."""
    key = "container.class" if isinstance(node, ast.ClassDef) else "container.function"
    return render(key, name=getattr(node, "name", "?"))


def did_you_mean(name: str, candidates: list[str]) -> str:
    """ " Did you mean relU or reLu?" for close names (case differences first), or ""."""
    pool = sorted({c for c in candidates if c != name})
    same_case = [c for c in pool if c.casefold() == name.casefold()]
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.7)
    lowered = {c.casefold(): c for c in pool}
    close += [lowered[c] for c in difflib.get_close_matches(name.casefold(), list(lowered), n=3,
                                                            cutoff=0.7)]
    found = list(dict.fromkeys(same_case + close))[:3]
    if not found:
        return ""
    return render("hint.did_you_mean", candidates=joined(found, render("hint.or")))
