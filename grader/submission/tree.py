"""A submission's files, from a folder on disk or from a zip archive, behind one interface.

Only names are listed and only the files that get staged are read, with a
size limit. Ignored everywhere: names starting with "." (.git, .DS_Store,
macOS "._x.py" resource forks), __MACOSX and __pycache__ folders.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from grader.submission.errors import SubmissionError

IGNORED_FOLDERS = frozenset({"__MACOSX", "__pycache__"})


def is_ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_FOLDERS


@dataclass(frozen=True)
class TreeFile:
    """One file of a submission. display is its path as the student knows it."""

    key: tuple[str, ...]  # path parts relative to the submission's root
    display: str
    size: int
    type: Literal["file", "link", "special"] = "file"

    @property
    def name(self) -> str:
        return self.key[-1]


@dataclass(frozen=True)
class Listing:
    files: tuple[TreeFile, ...]
    folders: tuple[str, ...]


class SubmissionTree(Protocol):
    def listdir(self, folder: tuple[str, ...]) -> Listing:
        """Files and sub-folders of folder (not ignored ones), sorted by name."""

    def read(self, file: TreeFile, limit: int) -> bytes:
        """file's content; SubmissionError if it is larger than limit or unreadable."""

    def describe(self, folder: tuple[str, ...]) -> str:
        """folder as the student knows it."""


def too_large(file: TreeFile, size: int, limit: int) -> SubmissionError:
    return SubmissionError("file.too_large", path=file.display, size=size, limit=limit)


class DirectoryTree:
    """A folder on disk. Symbolic links are listed but never followed or read."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self, folder: tuple[str, ...]) -> str:
        path = self.root.joinpath(*folder)
        # "." reads as a full stop in a message: the current folder by its own path
        return path.as_posix() if path.as_posix() != "." else Path.cwd().as_posix()

    def listdir(self, folder: tuple[str, ...]) -> Listing:
        files: list[TreeFile] = []
        folders: list[str] = []
        where = self.root.joinpath(*folder)
        try:
            entries = sorted(os.scandir(where), key=lambda e: e.name)
        except OSError as exc:
            raise SubmissionError(
                "file.unreadable", path=where.as_posix(), reason=exc.strerror or exc
            ) from None
        for entry in entries:
            if is_ignored(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished while listing
            key = (*folder, entry.name)
            display = self.root.joinpath(*key).as_posix()
            if stat.S_ISDIR(info.st_mode):
                folders.append(entry.name)
            elif stat.S_ISREG(info.st_mode):
                files.append(TreeFile(key, display, info.st_size))
            else:
                kind = "link" if stat.S_ISLNK(info.st_mode) else "special"
                files.append(TreeFile(key, display, info.st_size, kind))
        return Listing(tuple(files), tuple(folders))

    def read(self, file: TreeFile, limit: int) -> bytes:
        if file.type != "file":
            raise SubmissionError("file.not_regular", path=file.display)
        if file.size > limit:
            raise too_large(file, file.size, limit)
        path = self.root.joinpath(*file.key)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):  # replaced since listing
                raise SubmissionError("file.not_regular", path=file.display)
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise SubmissionError(
                "file.unreadable", path=file.display, reason=exc.strerror or exc
            ) from None
        if len(data) > limit:
            raise too_large(file, len(data), limit)
        return data
