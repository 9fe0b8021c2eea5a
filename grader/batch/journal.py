"""The batch journal: OUTDIR/journal.jsonl, one JSON line per grading attempt, append-only.

A record is written, flushed and fsync'ed before the result is reported to anyone,
so a run killed at any moment (Ctrl-C, kill -9, a power cut) loses at most the
gradings in flight. A torn last line (killed mid-write) is cut off when the journal
is opened again. Every output of a batch is rebuilt from this file.

A record:
    {"journal": 1, "id": "alice", "key": {"submission": sha256, "assignment": ...,
     "grader": {...}}, "source": "alice/", "seconds": 2.1,
     "result": {GradeResult.to_dict()}}             a grading that produced a result
    ... "failure": "the grader process died ..."}   one that did not (no result)

Only one process may use a journal at a time (an exclusive lock on OUTDIR/.lock).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOURNAL = "journal.jsonl"
LOCK = ".lock"
VERSION = 1


class JournalError(Exception):
    """The journal cannot be used: locked by another run, or not a journal."""


@dataclass(frozen=True)
class Record:
    id: str
    key: dict[str, Any]
    source: str
    seconds: float
    result: dict[str, Any] | None = None
    failure: str | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {"journal": VERSION, "id": self.id, "key": self.key,
                                "source": self.source, "seconds": round(self.seconds, 3)}
        if self.result is not None:
            data["result"] = self.result
        else:
            data["failure"] = self.failure or "unknown failure"
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Record:
        data = json.loads(line)
        if data.get("journal") != VERSION:
            raise ValueError(f"journal record version {data.get('journal')!r}")
        return cls(id=str(data["id"]), key=dict(data["key"]), source=str(data["source"]),
                   seconds=float(data["seconds"]), result=data.get("result"),
                   failure=data.get("failure"))


class Journal:
    """An open journal: `records` as read, then `append` (durable) for each new attempt."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[Record] = []
        self.skipped_lines = 0  # unreadable lines (other than a torn tail), left in place
        self._file = None

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a torn last line: the write it belonged to never finished
            with open(self.path, "r+b") as file:
                file.truncate(end)
                file.flush()
                os.fsync(file.fileno())
        for line in data[:end].decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            try:
                self.records.append(Record.from_json(line))
            except (ValueError, KeyError, TypeError):
                self.skipped_lines += 1

    def append(self, record: Record) -> None:
        """Write record and make it durable (flush + fsync) before returning."""
        line = (record.to_json() + "\n").encode("utf-8")
        if self._file is None:
            created = not self.path.exists()
            self._file = open(self.path, "ab")  # noqa: SIM115 - closed in close()
            if created:
                fsync_dir(self.path.parent)
        self._file.write(line)
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records.append(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@contextmanager
def open_journal(outdir: Path) -> Iterator[Journal]:
    """The journal of outdir (created if missing), locked for this process."""
    outdir.mkdir(parents=True, exist_ok=True)
    with _locked(outdir / LOCK):
        journal = Journal(outdir / JOURNAL)
        journal._load()
        try:
            yield journal
        finally:
            journal.close()


def read_records(outdir: Path) -> list[Record]:
    """The records of a journal, read only (for merge)."""
    journal = Journal(outdir / JOURNAL)
    if journal.path.exists():
        data = journal.path.read_bytes()
        for line in data[: data.rfind(b"\n") + 1].decode("utf-8", "replace").splitlines():
            try:
                journal.records.append(Record.from_json(line))
            except (ValueError, KeyError, TypeError):
                continue
    return journal.records


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in folder durable (POSIX; a no-op elsewhere)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as file:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            try:
                msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
            except OSError:
                raise JournalError(f"another hwgrade grade is using {path.parent}") from None
            yield
            return
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise JournalError(f"another hwgrade grade is using {path.parent}") from None
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
