"""`hwgrade release`: an assignment's student repository, written into a new folder.

    written = release(find_assignment("day65"), Path("day65-student"))

A student repository holds the starter modules (starter/<module>.py for each
module of the manifest, copied as they are), the starter notebook
(<name>.ipynb, built at release time by the assignment's make_notebook.py:
`build_notebook(starter_folder, install_spec=...)`), README.md (the
instructions, zh-TW first, then English, after a short note on the
repository), a .gitignore and a GitHub Actions workflow that installs hwgrade
and runs `hwgrade check <name> --format github`. What the workflow, the README
and the notebook's install cell install is the course's install spec
(`hwgrade release --install-spec`, default INSTALL_SPEC).

What never goes in: hidden/ and solutions/ (nothing is read from them), and
not the public checks either: they ship inside the hwgrade wheel, which is
what `hwgrade check` runs them from. Every file is built in memory first, so a
release that fails writes nothing; files are written only under DEST, never
through a symbolic link.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
from pathlib import Path

import nbformat

from grader.assignment import Assignment

# What students install (their CI, the README, the notebook's install cell) unless the
# release is given another spec, e.g. --install-spec
#   "hwgrade @ git+https://github.com/<course>/hwgrade@v1"
# (quoted for the shell wherever it is a shell command).
INSTALL_SPEC = "hwgrade"
PYTHON_VERSION = "3.11"

NOTEBOOK_BUILDER = "make_notebook.py"  # in the assignment folder: build_notebook(source)
INSTRUCTION_LANGUAGES = ("zh-TW", "en")  # README order
# "(English version: instructions.en.md)": a pointer to a file the release does not have.
_INSTRUCTIONS_POINTER = re.compile(r"^\([^()\n]*instructions\.[\w-]+\.md\)[ \t]*\n(?:[ \t]*\n)?",
                                   re.MULTILINE)

GITIGNORE = """\
# Python caches
__pycache__/
*.py[cod]
# Jupyter
.ipynb_checkpoints/
# virtual environments
.venv/
venv/
env/
# test and hypothesis caches
.hypothesis/
.pytest_cache/
"""


class ReleaseError(Exception):
    """The assignment cannot be released (a problem in the course's files)."""


class DestinationError(ReleaseError):
    """DEST cannot take the release (a usage error)."""


class InstallSpecError(ReleaseError):
    """The install spec cannot go into the files (a usage error)."""


def release(assignment: Assignment, dest: Path, *, force: bool = False,
            install_spec: str | None = None) -> list[Path]:
    """Write assignment's student repository into dest; return the files written.

    dest must be missing, empty or hold only .git (a fresh clone); with
    force, files of the same name in a non-empty dest are replaced and other
    files are left alone (nothing is deleted). install_spec: what students
    install (a pip requirement or URL; default INSTALL_SPEC).
    """
    files = student_files(assignment, install_spec=install_spec)
    dest = Path(dest)
    _check_destination(dest, assignment, force=force)
    _check_paths(dest, list(files))
    return [_write(dest, relative, data) for relative, data in files.items()]


def student_files(assignment: Assignment, *,
                  install_spec: str | None = None) -> dict[str, bytes]:
    """Every file of the release, by its path in the repository."""
    spec = checked_install_spec(install_spec)
    starter = assignment.root / "starter"
    files: dict[str, bytes] = {}
    for module in assignment.modules:
        source = starter / f"{module}.py"
        try:
            files[f"{module}.py"] = source.read_bytes()
        except OSError as error:
            raise ReleaseError(f"the starter module {source} cannot be read: "
                               f"{error.strerror or error}") from None
    notebook = starter_notebook(assignment, install_spec=spec)
    if notebook is not None:
        files[f"{assignment.name}.ipynb"] = nbformat.writes(notebook).encode("utf-8") + b"\n"
    files["README.md"] = readme(assignment, has_notebook=notebook is not None,
                                install_spec=spec).encode("utf-8")
    files[".gitignore"] = GITIGNORE.encode("utf-8")
    files[".github/workflows/hwgrade.yml"] = workflow(assignment, install_spec=spec).encode(
        "utf-8")
    return files


def checked_install_spec(install_spec: str | None) -> str:
    """The spec to write (INSTALL_SPEC when None); InstallSpecError for one that would break
    the files it goes into (empty, or holding a line break or another control character)."""
    spec = INSTALL_SPEC if install_spec is None else install_spec
    if not spec.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in spec):
        raise InstallSpecError(f"the install spec {spec!r} is empty or holds a control "
                               "character; give one pip requirement or URL, e.g. "
                               "'hwgrade @ git+https://example.org/course/hwgrade@v1'")
    return spec


def starter_notebook(assignment: Assignment, *,
                     install_spec: str | None = None) -> nbformat.NotebookNode | None:
    """The notebook the assignment's make_notebook.py builds from its starter, if it has one."""
    builder = assignment.root / NOTEBOOK_BUILDER
    if not builder.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_hwgrade_notebook_{assignment.name}", builder)
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        notebook = module.build_notebook(assignment.root / "starter",
                                         install_spec=checked_install_spec(install_spec))
        nbformat.validate(notebook)
    except Exception as error:  # the course's builder: any failure is the course's to fix
        raise ReleaseError(f"{builder} could not build the starter notebook: "
                           f"{type(error).__name__}: {error}") from None
    return notebook


def readme(assignment: Assignment, *, has_notebook: bool, install_spec: str | None = None) -> str:
    """A note on the repository (zh-TW, then English), then each language's instructions."""
    name = assignment.name
    modules = "、".join(f"`{m}.py`" for m in assignment.modules)
    modules_en = ", ".join(f"`{m}.py`" for m in assignment.modules)
    install = f"python -m pip install {shlex.quote(checked_install_spec(install_spec))}"
    rows = [f"| {modules} | 起始檔：請完成每個函數。Starter modules: fill in every function. |"]
    if has_notebook:
        rows.append(f"| `{name}.ipynb` | 同樣的函數放在 notebook 裡，還有重做講義實驗的儲存格。"
                    "The same functions as a notebook, with cells that redo the experiments. |")
    rows.append(f"| `.github/workflows/hwgrade.yml` | 每次 push 時由 GitHub Actions 執行 "
                f"`hwgrade check {name}`。GitHub Actions runs `hwgrade check {name}` "
                "on every push. |")
    notebook_zh = notebook_en = ""
    if has_notebook:
        notebook_zh = (f"\n- 資料夾裡有 .py 檔時，`hwgrade check {name}`（以及 CI）"
                       "評分的是 .py 檔。"
                       f"想繳交 notebook 的話，請刪除 {modules}（CI 就會改評 "
                       f"`{name}.ipynb`），或在本機執行 `hwgrade check {name} {name}.ipynb`。"
                       f"\n- notebook 裡的檢查儲存格（`hwgrade.check(\"{name}\")`）評分的是"
                       "你在 notebook 中執行過的函數（Jupyter 或 Colab 皆可；在 Colab 上請先"
                       "執行最上面的安裝儲存格）。")
        notebook_en = (f"\n- While the .py files are here, `hwgrade check {name}` (and CI) "
                       f"grades them. To hand in the notebook instead, delete {modules_en} "
                       f"(CI then grades `{name}.ipynb`), or run "
                       f"`hwgrade check {name} {name}.ipynb` locally."
                       f"\n- The notebook's check cells (`hwgrade.check(\"{name}\")`) grade "
                       "the functions you have run in the notebook (in Jupyter or Colab; in "
                       "Colab, run the install cell at the top first).")
    note = f"""\
# {assignment.title}

先做快速檢查 `hwgrade check {name} --quick`（幾秒鐘；它會說明略過了哪些較久的檢查、
共幾分），全部通過後再做完整檢查 `hwgrade check {name}`。
First the quick check, `hwgrade check {name} --quick` (seconds; it says which long
checks it left out and their points), then, when it is all green, the whole check,
`hwgrade check {name}`.

## 本儲存庫 / This repository

| 檔案 / file | 內容 / what it is |
| --- | --- |
{chr(10).join(rows)}

- 說明裡提到的 `starter/` 資料夾，就是本儲存庫的最上層。
- 公開檢查包含在 hwgrade 套件裡（`{install}`），不在本儲存庫中：
  `hwgrade check {name}` 會從已安裝的 hwgrade 執行它們。隱藏檢查只有老師會執行。{notebook_zh}

- The `starter/` folder the instructions mention is this repository's top level.
- The public checks ship inside the hwgrade package (`{install}`), not in this
  repository: `hwgrade check {name}` runs them from the installed hwgrade. Hidden
  checks are run by your instructor only.{notebook_en}
"""
    parts = [note]
    for language in INSTRUCTION_LANGUAGES:
        path = assignment.root / f"instructions.{language}.md"
        if path.is_file():
            text = _INSTRUCTIONS_POINTER.sub("", path.read_text(encoding="utf-8"))
            parts.append(text.strip() + "\n")
    return "\n---\n\n".join(parts)


def workflow(assignment: Assignment, *, install_spec: str | None = None) -> str:
    """The GitHub Actions workflow that checks the student's repository on every push."""
    spec = shlex.quote(checked_install_spec(install_spec))
    return f"""\
# Checks this homework with hwgrade on every push: the same check as
# `hwgrade check {assignment.name}` on your own machine.
name: hwgrade

on:
  push:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{PYTHON_VERSION}"
      - name: Install hwgrade
        run: |
          python -m pip install {spec}
      - name: hwgrade check {assignment.name}
        # --format github: the usual report in the log, each failed check as an annotation
        # on your function, and the score table on the run's summary page. The grade here
        # is advisory (this machine is yours to change); your instructor's run decides.
        run: |
          hwgrade check {assignment.name} --format github
"""


def _check_destination(dest: Path, assignment: Assignment, *, force: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise DestinationError(f"{dest} exists and is not a folder")
    target = dest.resolve()
    for private in (assignment.root.resolve(), *assignment.private_paths()):
        if target == private or private in target.parents or target in private.parents:
            raise DestinationError(
                f"{dest} overlaps the course's own files ({private}): release into a "
                "folder outside the assignment's folder and solutions/")
    if dest.is_dir() and not force:
        present = sorted(p.name for p in dest.iterdir() if p.name != ".git")
        if present:
            shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
            raise DestinationError(
                f"{dest} is not empty (it holds {shown}); release into a new or empty "
                "folder, or pass --force to write into it anyway (files of the same name "
                "are replaced, nothing is deleted)")


def _check_paths(dest: Path, relatives: list[str]) -> None:
    """Refuse before writing anything if a file's folder is a link or a file, or a file is a
    folder (with --force, DEST may hold anything)."""
    for relative in relatives:
        *folders, name = relative.split("/")
        folder = dest
        for part in folders:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise DestinationError(f"{folder} is in the way: it is not a plain folder")
        if (folder / name).is_dir() and not (folder / name).is_symlink():
            raise DestinationError(f"{folder / name} is in the way: it is a folder")


def _write(dest: Path, relative: str, data: bytes) -> Path:
    """Write data at dest/relative, never through a symbolic link (checked by _check_paths)."""
    target = dest.joinpath(*relative.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()  # replace the link itself, never what it points to
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        out.write(data)
    return target
