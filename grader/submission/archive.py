"""Zip submissions: every entry is vetted before anything is unpacked.

Nothing is extracted to disk: the archive is read in memory (within the
limits), so an entry's name is never used as a file system path. Refused:
non-zip files, password-protected entries, symbolic links and other special
entries, absolute names, drive letters, '..' components, names that collide
(ignoring case), too many entries, too much data, and entries compressed far
better than real homework compresses (zip bombs).
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grader.submission.errors import SubmissionError
from grader.submission.messages import render
from grader.submission.model import Limits
from grader.submission.tree import Listing, TreeFile, is_ignored, too_large

_DRIVE = re.compile(r"^[A-Za-z]:")
_ENCRYPTED = 0x1  # general purpose bit flag 0


@contextmanager
def open_archive(path: Path, limits: Limits) -> Iterator[ZipTree]:
    """The vetted archive at path as a SubmissionTree; SubmissionError if it is refused."""
    display = path.as_posix()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SubmissionError("file.unreadable", path=display, reason=exc.strerror) from None
    if size > limits.max_archive_bytes:
        raise SubmissionError(
            "zip.too_large", path=display, size=size, limit=limits.max_archive_bytes
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SubmissionError("zip.not_zip", path=display, reason=exc) from None
    with archive:
        yield ZipTree(archive, display, limits)


class ZipTree:
    """The files of a vetted archive (see the module docstring)."""

    def __init__(self, archive: zipfile.ZipFile, display: str, limits: Limits) -> None:
        self.archive = archive
        self.display = display
        self.entries: dict[tuple[str, ...], zipfile.ZipInfo] = {}
        self.folders: set[tuple[str, ...]] = {()}
        self._vet(limits)

    def _vet(self, limits: Limits) -> None:
        infos = self.archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise SubmissionError(
                "zip.too_many_entries", path=self.display, count=len(infos),
                limit=limits.max_zip_entries,
            )
        total = sum(info.file_size for info in infos)
        if total > limits.max_zip_total_bytes:
            raise SubmissionError(
                "zip.too_much_data", path=self.display, size=total,
                limit=limits.max_zip_total_bytes,
            )
        seen: set[str] = set()
        for info in infos:
            parts = self._vet_entry(info, limits)
            folded = "/".join(parts).casefold()
            if folded in seen and not info.is_dir():
                raise SubmissionError("zip.duplicate", path=self.display, member=info.filename)
            seen.add(folded)
            if any(is_ignored(part) for part in parts):
                continue
            for depth in range(1, len(parts)):
                self.folders.add(parts[:depth])
            if info.is_dir():
                self.folders.add(parts)
            else:
                self.entries[parts] = info

    def _vet_entry(self, info: zipfile.ZipInfo, limits: Limits) -> tuple[str, ...]:
        name = info.filename
        member = name

        def refuse(why: str) -> SubmissionError:
            return SubmissionError(
                "zip.unsafe_name", path=self.display, member=member, why=render(why)
            )

        if "\x00" in name:
            raise refuse("zip.why_nul")
        if name.startswith(("/", "\\")):
            raise refuse("zip.why_absolute")
        if _DRIVE.match(name):
            raise refuse("zip.why_drive")
        parts = tuple(p for p in re.split(r"[\\/]", name) if p not in ("", "."))
        if ".." in parts:
            raise refuse("zip.why_parent")
        if info.flag_bits & _ENCRYPTED:
            raise SubmissionError("zip.encrypted", path=self.display, member=member)
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if file_type == stat.S_IFLNK:
            raise SubmissionError("zip.symlink", path=self.display, member=member)
        if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise SubmissionError("zip.special", path=self.display, member=member)
        if info.file_size > limits.max_zip_member_bytes:
            raise SubmissionError(
                "zip.member_too_large", path=self.display, member=member,
                size=info.file_size, limit=limits.max_zip_member_bytes,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.zip_ratio_min_bytes and ratio > limits.max_zip_ratio:
            raise SubmissionError("zip.ratio", path=self.display, member=member, ratio=ratio)
        return parts

    def describe(self, folder: tuple[str, ...]) -> str:
        return "/".join((self.display, *folder))

    def listdir(self, folder: tuple[str, ...]) -> Listing:
        depth = len(folder) + 1
        files = [
            TreeFile(key, f"{self.display}/{'/'.join(key)}", info.file_size)
            for key, info in self.entries.items()
            if len(key) == depth and key[:-1] == folder
        ]
        folders = [key[-1] for key in self.folders if len(key) == depth and key[:-1] == folder]
        return Listing(tuple(sorted(files, key=lambda f: f.name)), tuple(sorted(folders)))

    def read(self, file: TreeFile, limit: int) -> bytes:
        info = self.entries[file.key]
        if info.file_size > limit:
            raise too_large(file, info.file_size, limit)
        member = "/".join(file.key)
        try:
            # ZipExtFile stops at the declared size and checks the CRC.
            with self.archive.open(info) as handle:
                data = handle.read(limit + 1)
        except NotImplementedError as exc:  # compression method (e.g. deflate64)
            raise SubmissionError(
                "zip.unsupported", path=self.display, member=member, reason=exc
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError) as exc:
            raise SubmissionError(
                "zip.corrupt", path=self.display, member=member, reason=exc
            ) from None
        if len(data) > limit:
            raise too_large(file, len(data), limit)
        return data
