"""stage_submission: from what a student handed in to plain modules a worker can import.

Nothing here runs student code: files are listed, read (within limits),
decoded and compiled to check them (the code objects are dropped), and
analysed with `ast` and `symtable`. Everything is checked in memory first;
dest is written only when the submission is accepted, so after a
SubmissionError dest is still empty.

Rules (see also notebook.py for what is kept of a notebook):
- path is a folder, a .ipynb file or a .zip (of a folder or of one notebook).
- Folder: the required modules are the top-level <module>.py files. If the
  folder has neither .py files nor notebooks but exactly one sub-folder
  (ignoring dot-folders, __MACOSX, __pycache__), that sub-folder is used
  instead, once (the wrapper folder of a zip). If none of the required .py
  files is there and there is exactly one notebook, the notebook is the
  submission (several notebooks: SubmissionError). If there are both, the .py
  files win and a note says so.
- Staged from a folder: the required modules and the other top-level .py
  files ("helpers") except conftest.py, test_*.py, __init__.py, __main__.py
  and names that cannot be imported. Never sub-folders or other files.
- A required module that is missing, unreadable, not UTF-8, too large or not
  valid Python is a SubmissionError. A helper with such a problem is a
  SubmissionError too if a staged module imports it (statically, at any
  depth); otherwise it is left out with a note.
- A required function that is not defined is not fatal: it is reported in
  StagedSubmission.missing, and everything else is staged.
- Notebook: its kept code becomes _notebook.py; each required module becomes
  `from _notebook import *` plus one `from _notebook import name` line per
  required function found (so the worker sees exactly what the check saw).
"""

from __future__ import annotations

import ast
import builtins
import difflib
import keyword
import stat
import symtable
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.i18n import joined
from grader.submission.archive import open_archive
from grader.submission.errors import SubmissionError
from grader.submission.messages import render, render_list
from grader.submission.model import (
    DEFAULT_LIMITS,
    NOTEBOOK_MODULE,
    Kind,
    Limits,
    ModuleOrigin,
    Requirement,
    SkippedCode,
    SourceLocation,
    SourceMap,
    StagedSubmission,
)
from grader.submission.notebook import (
    NotebookCode,
    SkippedStatement,
    bindings_of_skipped,
    extract_code,
    read_notebook,
)
from grader.submission.pysource import (
    Bindings,
    compile_check,
    container_name,
    decode_utf8,
    did_you_mean,
    imported_modules,
    module_bindings,
    nested_definitions,
    split_lines,
)
from grader.submission.tree import DirectoryTree, Listing, SubmissionTree, TreeFile

_NOT_STAGED_QUIETLY = frozenset({"conftest", "__init__", "__main__"})
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
     *(f"lpt{i}" for i in range(1, 10))}
)
_SHADOWABLE = frozenset(sys.stdlib_module_names) | {"numpy", "pytest", "hypothesis"}
_BUILTIN_NAMES = frozenset(dir(builtins))


def stage_submission(
    path: Path, requirement: Requirement, dest: Path, *, limits: Limits = DEFAULT_LIMITS
) -> StagedSubmission:
    """Check the submission at path without running it and stage it into dest.

    dest must be an empty folder (created if missing). Raises SubmissionError
    (student-facing) when the submission cannot be graded at all; ValueError
    if dest is not empty.
    """
    path, dest = Path(path), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"dest must be an empty folder: {dest}")
    staged = _load(path, requirement, limits)
    for module, data in staged.files.items():
        (dest / f"{module}.py").write_bytes(data)
    return StagedSubmission(
        dest=dest,
        kind=staged.kind,
        modules=tuple(staged.files),
        source_map=SourceMap(dict(staged.origins)),
        function_locations=dict(staged.function_locations),
        missing=dict(staged.missing),
        skipped=tuple(staged.skipped),
        notes=tuple(dict.fromkeys(staged.notes)),
    )


@dataclass
class _Staged:
    """What will be written, gathered before anything is."""

    kind: Kind
    files: dict[str, bytes] = field(default_factory=dict)
    origins: dict[str, ModuleOrigin] = field(default_factory=dict)
    function_locations: dict[str, SourceLocation] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    skipped: list[SkippedCode] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _load(path: Path, requirement: Requirement, limits: Limits) -> _Staged:
    display = path.as_posix()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SubmissionError("path.not_found", path=display) from None
    except OSError as exc:
        raise SubmissionError("file.unreadable", path=display, reason=exc.strerror) from None
    if stat.S_ISDIR(info.st_mode):
        return _from_tree(DirectoryTree(path), "", requirement, limits)
    suffix = path.suffix.lower()
    if suffix == ".ipynb" and stat.S_ISREG(info.st_mode):
        real = path.resolve()  # the caller chose this path; a link to it is fine
        file = TreeFile((real.name,), display, info.st_size)
        return _stage_notebook(DirectoryTree(real.parent), file, [], "notebook", requirement,
                               limits)
    if suffix == ".zip" and stat.S_ISREG(info.st_mode):
        with open_archive(path, limits) as tree:
            return _from_tree(tree, "zip+", requirement, limits)
    raise SubmissionError(
        "path.unsupported", path=display, modules=_module_files(requirement)
    )


def _module_files(requirement: Requirement) -> str:
    return ", ".join(f"{m}.py" for m in requirement.modules)


# --- folders ---------------------------------------------------------------------------


def _from_tree(
    tree: SubmissionTree, prefix: str, requirement: Requirement, limits: Limits
) -> _Staged:
    root: tuple[str, ...] = ()
    listing = tree.listdir(root)
    if not _code_files(listing) and len(listing.folders) == 1:  # a wrapper folder
        root = (listing.folders[0],)
        listing = tree.listdir(root)
    py = [f for f in listing.files if f.name.endswith(".py")]
    notebooks = [f for f in listing.files if f.name.lower().endswith(".ipynb")]
    if len(py) > limits.max_py_files:
        raise SubmissionError(
            "folder.too_many_py", path=tree.describe(root), count=len(py),
            limit=limits.max_py_files,
        )
    names = {f.name for f in py}
    if notebooks and not any(f"{m}.py" in names for m in requirement.modules):
        if len(notebooks) > 1:
            raise SubmissionError(
                "folder.several_notebooks", path=tree.describe(root),
                names=render_list([f.name for f in notebooks]),
                modules=_module_files(requirement),
            )
        kind: Kind = "zip+notebook" if prefix else "notebook"
        return _stage_notebook(tree, notebooks[0], py, kind, requirement, limits,
                               listing.folders)
    if not py:
        raise SubmissionError(
            "folder.empty", path=tree.describe(root), modules=_module_files(requirement),
            found=render_list(_found(listing)),
        )
    return _stage_folder(tree, root, listing, py, notebooks, prefix, requirement, limits)


def _code_files(listing: Listing) -> list[TreeFile]:
    return [f for f in listing.files if f.name.endswith(".py") or f.name.lower().endswith(".ipynb")]


def _found(listing: Listing) -> list[str]:
    return [f.name for f in listing.files] + [f"{d}/" for d in listing.folders]


def _stage_folder(
    tree: SubmissionTree,
    root: tuple[str, ...],
    listing: Listing,
    py: list[TreeFile],
    notebooks: list[TreeFile],
    prefix: str,
    requirement: Requirement,
    limits: Limits,
) -> _Staged:
    by_name = {f.name: f for f in py}
    absent = [m for m in requirement.modules if f"{m}.py" not in by_name]
    if len(absent) == len(requirement.modules):
        raise SubmissionError("folder.missing_modules",
                              **_missing_modules(tree, root, listing, absent, requirement))
    staged = _Staged(kind="zip+folder" if prefix else "folder")
    if notebooks:
        staged.notes.append(render("note.py_over_notebook", notebook=notebooks[0].display))
    trees: dict[str, ast.Module] = {}
    present = [m for m in requirement.modules if m not in absent]
    for module in present:
        file = by_name[f"{module}.py"]
        staged.files[module], trees[module] = _load_python(tree, file, limits)
        staged.origins[module] = ModuleOrigin(file.display)
    helpers = [f for f in py if f.name[:-3] not in requirement.modules]
    _stage_helpers(tree, listing, helpers, trees, staged, limits)
    bindings = {module: module_bindings(t) for module, t in trees.items()}
    for module in present:
        functions = requirement.modules[module]
        display = staged.origins[module].path
        for name in functions:
            found = bindings[module]
            if name in found.names:
                location = SourceLocation(display, None, found.names[name])
                staged.function_locations[f"{module}.{name}"] = location
            elif not found.open_ended:
                staged.missing[f"{module}.{name}"] = joined([
                    render("missing.function", module=module, name=name),
                    _nested_hint(trees[module], name, _line_of(display)),
                    _other_module_hint(module, name, bindings),
                    did_you_mean(name, _not_required(found.names, requirement))], "")
    if absent:  # the files that are there still get their feedback
        found = _missing_modules(tree, root, listing, absent, requirement)
        staged.notes.append(render("note.missing_modules", **found))
        for module in absent:
            for name in requirement.modules[module]:
                staged.missing[f"{module}.{name}"] = joined([
                    render("missing.module", module=module, name=name, path=found["path"]),
                    _other_module_hint(module, name, bindings) or found["hints"]], "")
    return staged


def _missing_modules(
    tree: SubmissionTree,
    root: tuple[str, ...],
    listing: Listing,
    absent: list[str],
    requirement: Requirement,
) -> dict[str, str]:
    """The message parameters for modules absent from a folder: what is there, and
    the file each might be (a name that differs in case or a letter, a sub-folder)."""
    present = {f"{m}.py" for m in requirement.modules} - {f"{m}.py" for m in absent}
    candidates = [f.name for f in listing.files if f.name not in present]
    hints = []
    for module in absent:
        expected = f"{module}.py"
        same = [c for c in candidates if c.casefold() == expected.casefold()]
        close = difflib.get_close_matches(expected, candidates, n=1, cutoff=0.6)
        nested = [
            f"{folder}/{expected}"
            for folder in listing.folders[:20]
            if expected in {f.name for f in tree.listdir((*root, folder)).files}
        ]
        if same:
            hints.append(render("hint.module_case", candidate=same[0], expected=expected))
        elif close:
            hints.append(render("hint.module_close", candidate=close[0], expected=expected))
        elif nested:
            hints.append(render("hint.module_in_subfolder", candidate=nested[0]))
    return {"path": tree.describe(root), "missing": ", ".join(f"{m}.py" for m in absent),
            "found": render_list(_found(listing)), "hints": joined(hints, "")}


def _load_python(tree: SubmissionTree, file: TreeFile, limits: Limits) -> tuple[bytes, ast.Module]:
    raw = tree.read(file, limits.max_py_bytes)
    text = decode_utf8(raw, file.display)

    lines = split_lines(text.removeprefix("\ufeff"))
    return raw, compile_check(raw, file.display, _line_of(file.display), lines)


def _stage_helpers(
    tree: SubmissionTree,
    listing: Listing,
    helpers: list[TreeFile],
    trees: dict[str, ast.Module],
    staged: _Staged,
    limits: Limits,
) -> None:
    """Stage the helper modules; see the module docstring for broken ones."""
    loaded: dict[str, tuple[TreeFile, bytes, ast.Module]] = {}
    broken: dict[str, tuple[TreeFile, SubmissionError]] = {}
    left_out = set(listing.folders)
    taken = {module.casefold(): module for module in staged.files}  # dest may ignore case
    for file in helpers:
        stem = file.name[:-3]
        if stem in _NOT_STAGED_QUIETLY or stem.startswith("test_"):
            left_out.add(stem)
        elif not stem.isidentifier() or keyword.iskeyword(stem) or (
            stem.casefold() in _WINDOWS_RESERVED
        ):
            staged.notes.append(render("note.not_a_module_name", name=file.name))
        elif stem.casefold() in taken:
            staged.notes.append(render("note.name_clash", name=file.name,
                                       other=f"{taken[stem.casefold()]}.py"))
        else:
            taken[stem.casefold()] = stem
            try:
                raw, module_tree = _load_python(tree, file, limits)
            except SubmissionError as exc:
                broken[stem] = (file, exc)
            else:
                loaded[stem] = (file, raw, module_tree)
    # a broken helper that staged code imports is fatal; others are left out
    queue = list(trees.values())
    needed: set[str] = set()
    while queue:
        for name, _, level in imported_modules(queue.pop()):
            if level or name in needed:
                continue
            if name in broken:
                raise broken[name][1]
            if name in loaded:
                needed.add(name)
                queue.append(loaded[name][2])
    for file, exc in broken.values():
        staged.notes.append(render("note.helper_not_staged", name=file.name, problem=exc.message))
    own = list(trees.items())
    for stem, (file, raw, module_tree) in loaded.items():
        staged.files[stem] = raw
        staged.origins[stem] = ModuleOrigin(file.display)
        trees[stem] = module_tree
        own.append((stem, module_tree))
        if stem in _SHADOWABLE:
            staged.notes.append(render("note.shadows", name=file.name, module=stem))
    for module, module_tree in own:
        origin = staged.origins[module]
        for name, line, level in imported_modules(module_tree):
            location = origin.locate(line)
            if level:
                staged.notes.append(render("note.relative_import", module=module,
                                           location=location))
            elif name in left_out and name not in staged.files:
                staged.notes.append(render("note.unstaged_import", module=module, name=name,
                                           location=location))


# --- hints for missing functions ----------------------------------------------------------


def _nested_hint(
    module_tree: ast.Module, name: str, locate: Callable[[int], SourceLocation]
) -> str:
    for stmt in module_tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for container, line in nested_definitions(stmt, name):
                return render("hint.nested", name=name, container=container_name(container),
                              location=locate(line))
    return ""


def _line_of(path: str) -> Callable[[int], SourceLocation]:
    return lambda line: SourceLocation(path, None, line)


def _not_required(names, requirement: Requirement) -> list[str]:
    """Candidates for "did you mean": a function the assignment asks for under its own
    name (tanh_derivative for a missing relu_derivative) is not a misspelling."""
    required = {f for functions in requirement.modules.values() for f in functions}
    return [n for n in names if n not in required]


def _other_module_hint(module: str, name: str, bindings: dict[str, Bindings]) -> str:
    for other, found in bindings.items():
        if other != module and name in found.names:
            return render("hint.other_module", name=name, other=other, module=module)
    return ""


def _skipped_hint(name: str, statements: tuple[SkippedStatement, ...], path: str) -> str:
    for skipped in statements:
        for node in ast.walk(skipped.node):
            if _defines(node, name):
                location = SourceLocation(path, skipped.cell, node.lineno)
                return render("hint.skipped_definition", name=name, location=location,
                              reason=skipped.reason)
    return ""


def _defines(node: ast.AST, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    return isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)


# --- notebooks ----------------------------------------------------------------------------


def _stage_notebook(
    tree: SubmissionTree,
    file: TreeFile,
    helpers: list[TreeFile],
    kind: Kind,
    requirement: Requirement,
    limits: Limits,
    folders: tuple[str, ...] = (),
) -> _Staged:
    raw = tree.read(file, limits.max_notebook_bytes)
    nb, notes = read_notebook(raw, file.display)
    provided = frozenset(requirement.modules) | {NOTEBOOK_MODULE}
    code = extract_code(nb, file.display, provided)
    origin = ModuleOrigin(file.display, code.lines)
    whole = SourceLocation(file.display, None, 0)

    def locate(line: int) -> SourceLocation:
        return origin.locate(line) or whole

    nb_tree = compile_check(code.text, f"{NOTEBOOK_MODULE}.py", locate, split_lines(code.text))
    found = module_bindings(nb_tree)
    staged = _Staged(kind=kind, skipped=list(code.skipped), notes=list(notes))
    for module, functions in requirement.modules.items():
        rows: list[tuple[str, tuple[int | None, int]]] = [
            (f"# Generated by hwgrade: {module} is graded from the notebook's code.", (None, 0)),
            (f"from {NOTEBOOK_MODULE} import *  # noqa: F401,F403", (None, 0)),
        ]
        for name in functions:
            if name in found.names:
                location = locate(found.names[name])
                staged.function_locations[f"{module}.{name}"] = location
                rows.append((f"from {NOTEBOOK_MODULE} import {name}  # noqa: F401",
                             (location.cell, location.line)))
            elif not found.open_ended:
                staged.missing[f"{module}.{name}"] = joined([
                    render("missing.function_notebook", module=module, name=name),
                    _nested_hint(nb_tree, name, locate),
                    _skipped_hint(name, code.skipped_statements, file.display),
                    did_you_mean(name, _not_required(found.names, requirement))], "")
        staged.files[module] = ("\n".join(text for text, _ in rows) + "\n").encode("utf-8")
        staged.origins[module] = ModuleOrigin(file.display, tuple(where for _, where in rows))
    staged.files[NOTEBOOK_MODULE] = code.text.encode("utf-8")
    staged.origins[NOTEBOOK_MODULE] = origin
    staged.notes += _uses_skipped_globals(code.text, found, code.skipped_statements, locate,
                                          file.display)
    trees = {NOTEBOOK_MODULE: nb_tree}
    staged.notes += _unbound_at_import(code, found, file.display)
    listing = Listing(tuple(helpers), folders)
    _stage_helpers(tree, listing, helpers, trees, staged, limits)
    return staged


def _unbound_at_import(code: NotebookCode, found: Bindings, path: str) -> list[str]:
    setters = bindings_of_skipped(code.skipped_statements)
    notes = []
    for cell, line, name in code.unbound_at_import:
        location = SourceLocation(path, cell, line)
        if name in setters:
            setter = setters[name]
            where = SourceLocation(path, setter.cell, setter.node.lineno)
            notes.append(render("note.unbound_at_import", location=location, name=name,
                                where=where))
        elif not found.open_ended:
            notes.append(render("note.never_bound_at_import", location=location, name=name))
    return notes


def _uses_skipped_globals(
    text: str,
    found: Bindings,
    skipped: tuple[SkippedStatement, ...],
    locate: Callable[[int], SourceLocation],
    path: str,
) -> list[str]:
    """Notes for kept functions that read a global only skipped code sets (a NameError later)."""
    setters = bindings_of_skipped(skipped)
    if not setters:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = symtable.symtable(text, f"{NOTEBOOK_MODULE}.py", "exec")
    notes = []
    for function in table.get_children():
        if function.get_type() != "function":
            continue
        used: set[str] = set()
        stack = [function]
        while stack:
            scope = stack.pop()
            if scope.get_type() == "function":
                used.update(scope.get_globals())
            stack.extend(scope.get_children())
        for name in sorted(used - set(found.names) - _BUILTIN_NAMES):
            if name in setters:
                setter = setters[name]
                notes.append(render(
                    "note.uses_skipped_global",
                    function=function.get_name(),
                    location=locate(function.get_lineno()),
                    name=name,
                    where=SourceLocation(path, setter.cell, setter.node.lineno),
                ))
    return notes
