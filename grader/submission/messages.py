"""Every student-facing string of submission loading, keyed by a stable id.

Messages are `str.format` templates. Code never builds student-facing text
from its own literals: it calls `render(message_id, **fields)`, so that a
translation (zh-TW is planned) only has to add a second table with the same
ids and fields.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- the submission as a whole -------------------------------------------------
    "path.not_found": "The submission {path} does not exist.",
    "path.unsupported": (
        "{path} is not a folder, a Jupyter notebook (.ipynb) or a .zip archive. "
        "Submit a folder with {modules}, one notebook, or a .zip of either."
    ),
    "folder.empty": (
        "No Python file (.py) and no notebook (.ipynb) was found in {path}. "
        "Put {modules} at the top level of the folder. Found: {found}."
    ),
    "folder.nothing": "nothing",
    "folder.more": "and {count} more",
    "folder.too_many_py": (
        "{path} holds {count} .py files; at most {limit} are accepted. "
        "Remove the files that are not part of this homework."
    ),
    "folder.several_notebooks": (
        "{path} holds several notebooks ({names}) and none of {modules}. "
        "Submit exactly one notebook, or the .py files."
    ),
    "folder.missing_modules": "Missing {missing} in {path}. Found: {found}.{hints}",
    "hint.module_case": (
        " Found {candidate}: Python module names are case-sensitive, rename it to {expected}."
    ),
    "hint.module_close": " Did you mean {candidate}? Rename it to {expected}.",
    "hint.module_in_subfolder": (
        " Found {candidate} in a sub-folder: move it to the top level, next to the other files."
    ),
    # --- files ---------------------------------------------------------------------
    "file.too_large": "{path} is {size} bytes; at most {limit} bytes are accepted.",
    "file.not_regular": (
        "{path} is a symbolic link or a special file, not a regular file. Submit the file itself."
    ),
    "file.unreadable": "{path} could not be read ({reason}).",
    "file.not_utf8": (
        "{path} is not saved as UTF-8 (byte 0x{byte:02x} at line {line} cannot be decoded). "
        "Save it with the UTF-8 encoding (VS Code: 'Save with Encoding', then 'UTF-8')."
    ),
    "python.syntax": (
        "Syntax error at {location}: {reason}\n    {text}\n"
        "The grader can only read files that Python can read: fix this line."
    ),
    "python.invalid": "{location} cannot be read as Python: {reason}.",
    "python.too_complex": "{location} is too deeply nested for Python to read.",
    # --- notebooks -----------------------------------------------------------------
    "notebook.not_json": (
        "The notebook {path} is not valid JSON (line {line}, column {column}: {reason}). "
        "It may have been saved incompletely or edited by hand; save it again from Jupyter."
    ),
    "notebook.not_notebook": (
        "{path} is valid JSON but not a Jupyter notebook ({reason}). "
        "Submit the .ipynb file saved by Jupyter, VS Code or Colab."
    ),
    "notebook.reason_not_object": "the top level is not a JSON object",
    "notebook.reason_no_version": "it has no nbformat version number",
    "notebook.reason_no_cells": "it has no list of cells",
    "notebook.reason_bad_cell": "cell {cell} has no cell_type or no source text",
    "notebook.partly_invalid": (
        "The notebook {path} does not fully follow the Jupyter notebook format ({reason}); "
        "its code cells were read anyway."
    ),
    # --- zip archives --------------------------------------------------------------
    "zip.not_zip": "{path} is not a valid .zip archive ({reason}).",
    "zip.too_large": "{path} is {size} bytes; archives of at most {limit} bytes are accepted.",
    "zip.encrypted": (
        "{path} is password-protected ({member}). Submit an archive without a password."
    ),
    "zip.too_many_entries": (
        "{path} holds {count} entries; at most {limit} are accepted. "
        "Zip only the homework files."
    ),
    "zip.too_much_data": (
        "{path} unpacks to {size} bytes; at most {limit} bytes are accepted. "
        "Zip only the homework files."
    ),
    "zip.member_too_large": (
        "{member} in {path} unpacks to {size} bytes; at most {limit} bytes per file are accepted."
    ),
    "zip.ratio": (
        "{member} in {path} is compressed {ratio:.0f} times smaller than its content; "
        "archives like this (zip bombs) are refused."
    ),
    "zip.unsafe_name": (
        "{path} contains an entry with an unsafe name, {member} ({why}). "
        "Create the archive from inside your homework folder."
    ),
    "zip.why_absolute": "an absolute path",
    "zip.why_drive": "a drive letter",
    "zip.why_parent": "a '..' component",
    "zip.why_nul": "a NUL character",
    "zip.symlink": (
        "{path} contains a symbolic link, {member}. Archives may hold only files and folders."
    ),
    "zip.special": "{path} contains {member}, which is not a regular file or folder.",
    "zip.duplicate": (
        "{path} contains {member} twice (names that differ only in upper/lower case count "
        "as the same)."
    ),
    "zip.unsupported": (
        "{member} in {path} cannot be unpacked ({reason}). "
        "Create the archive again with a standard zip tool."
    ),
    "zip.corrupt": "{path} is damaged: {member} cannot be unpacked ({reason}).",
    # --- required functions (not fatal) ------------------------------------------
    "missing.function": "{module}.py has no top-level function {name}.",
    "missing.function_notebook": (
        "The notebook defines no top-level function {name} (graded as {module}.{name})."
    ),
    "hint.did_you_mean": " Did you mean {candidates}?",
    "hint.or": " or ",
    "hint.nested": (
        " {name} is defined inside {container} at {location}; move it to the top level "
        "(no indentation)."
    ),
    "hint.skipped_definition": (
        " {name} is defined at {location}, inside code that was skipped ({reason})."
    ),
    "hint.other_module": (
        " {name} is defined in {other}.py; the grader looks for it in {module}.py."
    ),
    "container.function": "function {name}",
    "container.class": "class {name}",
    # --- notes (informational, shown to the student) -------------------------------
    "note.py_over_notebook": (
        "Found both .py modules and the notebook {notebook}: the .py modules are graded, "
        "the notebook is ignored."
    ),
    "note.not_a_module_name": (
        "{name} was not staged: its name cannot be imported as a Python module."
    ),
    "note.name_clash": (
        "{name} was not staged: its name clashes with {other}, which is staged. Rename it."
    ),
    "note.helper_not_staged": "{name} was not staged because of a problem: {problem}",
    "note.shadows": (
        "{name} has the name of a Python module ({module}); code that imports {module} "
        "will get your file instead. Rename it."
    ),
    "note.unstaged_import": (
        "{module}.py imports {name} ({location}), but only top-level .py files are graded "
        "(not sub-folders, tests or conftest.py): that import will fail."
    ),
    "note.relative_import": (
        "{module}.py uses a relative import at {location}; the graded files are plain "
        "modules, not a package: import your other files by name (from utils import f)."
    ),
    "note.uses_skipped_global": (
        "{function} ({location}) uses the global name {name}, which only code that was "
        "skipped sets ({where}); when graded, {name} will not exist. Set it inside the "
        "function, or as a plain constant (NAME = 0.5)."
    ),
    "note.unbound_at_import": (
        "{location} uses {name} when the notebook is imported (in a decorator, a default "
        "value or a base class), but only code that was skipped sets it ({where}): "
        "importing the notebook will fail. Set it as a plain constant, or inside the function."
    ),
    "note.never_bound_at_import": (
        "{location} uses {name} when the notebook is imported (in a decorator, a default "
        "value or a base class), but the notebook's kept code never sets it before: "
        "importing the notebook will fail."
    ),
    # --- notebook code that is not kept ----------------------------------------
    "skip.line_magic": "IPython magic, not Python",
    "skip.shell": "shell command, not Python",
    "skip.help": "IPython help syntax, not Python",
    "skip.cell_magic": "cell magic {magic}: the whole cell is skipped",
    "skip.ipython_call": "IPython call",
    "skip.runs_code": "{what} (only imports, functions, classes and constants are kept)",
    "skip.self_import": "imports {name}, which the notebook itself provides",
    "skip.interactive_import": "imports {name}, which is only for interactive use in notebooks",
    "what.call": "a function call",
    "what.expression": "an expression",
    "what.assignment": "an assignment computed at run time",
    "what.augmented": "an augmented assignment",
    "what.loop": "a loop",
    "what.if": "an if block",
    "what.main": "the if __name__ == '__main__' block",
    "what.with": "a with block",
    "what.try": "a try block",
    "what.match": "a match block",
    "what.delete": "a del statement",
    "what.assert": "an assert statement",
    "what.raise": "a raise statement",
    "what.await": "an await expression",
    "what.statement": "a statement",
    # --- locations -----------------------------------------------------------------
    "location.file": "{path}",
    "location.file_line": "{path}, line {line}",
    "location.cell": "{path}, cell {cell}",
    "location.cell_line": "{path}, cell {cell}, line {line}",
}


def render(message_id: str, **fields: object) -> str:
    """The student-facing text of `message_id` with `fields` filled in."""
    return MESSAGES[message_id].format(**fields)


def render_list(items: list[str], *, limit: int = 15) -> str:
    """A comma-separated list, shortened to `limit` items ("and 3 more")."""
    if not items:
        return render("folder.nothing")
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += ", " + render("folder.more", count=len(items) - limit)
    return shown
