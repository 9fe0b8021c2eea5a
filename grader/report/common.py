"""What several renderings share: a check's explanation as labelled lines, the one-line
summary, and writing a rendering to a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader.results import CheckResult, GradeResult


def points(value: float) -> str:
    return f"{value:g}"


def explanation(check: CheckResult) -> list[tuple[str, str]]:
    """(label, text) pairs a student needs to fix the check, as the terminal shows them."""
    rows = [("message", check.message)] if check.message else []
    rows += [(label, value) for label, value in (
        ("expected", check.expected), ("got", check.actual),
        ("input", check.counterexample), ("hint", check.hint)) if value]
    return rows


def explanation_text(check: CheckResult) -> str:
    """The explanation as plain text, the message first and unlabelled."""
    return "\n".join(text if label == "message" else f"{label + ':':<9} {text}"
                     for label, text in explanation(check))


def summary_line(result: GradeResult) -> str:
    """One line: what `--output` leaves on stdout, and the total in other renderings."""
    if result.error:
        return (f"hwgrade check {result.assignment}: could not be graded: "
                f"{' '.join(result.error.split())}")
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in result.counts().items() if n)
    line = (f"hwgrade check {result.assignment}: {points(result.score)}/"
            f"{points(result.max_score)} ({len(result.checks)} checks: {counts or 'none'})")
    if result.pending_points:
        line += f"; {points(result.pending_points)} points left to hidden checks"
    return line


def write_atomic(path: Path, text: str) -> None:
    """Write text as UTF-8 to path, atomically (see write_atomic_bytes)."""
    write_atomic_bytes(path, text.encode("utf-8", "replace"))  # a lone surrogate: "?"


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write data to path so that a reader sees the old file or the whole new one, never a
    half-written report (a CI step or an upload may read it while a later run writes it)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would surprise whoever reads the report
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
