"""Content hashes that decide whether a journaled grade is still valid.

A grade stays valid while three things are unchanged: the submission's files
(`submission_hash`), the assignment's files (`assignment_hash`: manifest,
public and hidden checks, reference data) and the grader (`grader_key`: the
hwgrade version, a hash of the modules that take part in grading, and the
versions of Python and of the libraries that generate and judge the examples).
Renderings (reports, gradebook, CLI) are not part of the key: changing them
rewrites the outputs without regrading anyone.
"""

from __future__ import annotations

import hashlib
import os
import platform
import stat
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from grader import __version__

BIG_FILE = 64 * 2**20  # larger files are fingerprinted by size and mtime, not read
MAX_ENTRIES = 20_000  # per submission: a folder tree beyond this is cut short (and says so)
_JUNK = frozenset({"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
                   ".DS_Store", ".git"})
# The parts of grader/ whose code decides a grade (not the renderings or the CLI).
_GRADING_CODE = ("__init__.py", "grading.py", "results.py", "assignment.py", "checks",
                 "worker", "submission", "experiments", "playground")
_LIBRARIES = ("numpy", "pytest", "hypothesis", "nbformat")


def submission_hash(members: Iterable[Path]) -> str:
    """sha256 of the files that make up one submission: names (relative to each
    member's parent), types and contents, symlinks by target, never followed."""
    digest = hashlib.sha256()
    budget = [MAX_ENTRIES]
    for member in sorted(members, key=lambda p: os.fsencode(p.name)):
        _feed(digest, member, os.fsencode(member.name), budget)
    if budget[0] <= 0:
        digest.update(b"\0truncated")
    return digest.hexdigest()


def _feed(digest, path: Path, rel: bytes, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    try:
        info = path.lstat()
    except OSError as error:
        digest.update(b"E" + rel + b"\0" + str(error.errno).encode() + b"\n")
        return
    if stat.S_ISLNK(info.st_mode):
        digest.update(b"L" + rel + b"\0" + os.fsencode(os.readlink(path)) + b"\n")
    elif stat.S_ISDIR(info.st_mode):
        digest.update(b"D" + rel + b"\n")
        try:
            names = sorted(os.listdir(path), key=os.fsencode)
        except OSError as error:
            digest.update(b"E" + str(error.errno).encode() + b"\n")
            return
        for name in names:
            if name not in _JUNK:
                _feed(digest, path / name, rel + b"/" + os.fsencode(name), budget)
    elif stat.S_ISREG(info.st_mode):
        digest.update(b"F" + rel + b"\0" + str(info.st_size).encode() + b"\0")
        if info.st_size > BIG_FILE:
            digest.update(b"mtime" + str(info.st_mtime_ns).encode())
        else:
            try:
                with open(path, "rb") as file:
                    for block in iter(lambda: file.read(2**20), b""):
                        digest.update(block)
            except OSError as error:
                digest.update(b"E" + str(error.errno).encode())
        digest.update(b"\n")
    else:  # fifos, sockets, devices: never opened
        digest.update(b"S" + rel + b"\n")


def tree_hash(root: Path) -> str:
    """sha256 of every file under root (names and contents), caches left out."""
    return submission_hash([root]) if root.exists() else ""


def assignment_hash(root: Path) -> str:
    """The assignment's files: what its checks and manifest say (the folder's own
    name is left out, so a copy of the assignment elsewhere hashes the same)."""
    digest = hashlib.sha256()
    for child in sorted(root.iterdir(), key=lambda p: os.fsencode(p.name)):
        if child.name not in _JUNK:
            digest.update(tree_hash(child).encode() + b"\n")
    return digest.hexdigest()


def grader_key() -> dict[str, str]:
    """What identifies the grader: a new version, changed grading code or a new
    library version makes every journaled grade stale."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for part in _GRADING_CODE:
        path = package / part
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and file.suffix in (".py", ".ini", ".json"):
                digest.update(file.relative_to(package).as_posix().encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    key = {"hwgrade": __version__, "code": digest.hexdigest()[:16],
           "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            key[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - a broken install
            key[name] = "missing"
    return key
