"""What several renderings share: a check's explanation as labelled lines, the one-line
summary, the words of the report in the result's language, and writing a rendering to
a file.

A result's texts (titles, messages, hints, notes) are already in its language
(result.lang, chosen at grading time); the renderings only add their own labels, from
the [report] tables of grader/locale/*.toml, through `label`.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

from grader.i18n import DEFAULT_LANG, LANGS, label
from grader.results import CheckResult, GradeResult

DETAILS = ("expected", "got", "input", "hint")  # the labelled lines under a failure


def points(value: float) -> str:
    return f"{value:g}"


def lang_of(result: GradeResult) -> str:
    """The result's language; English for results from before `lang` (or a bad one)."""
    lang = getattr(result, "lang", DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def detail_label(name: str, lang: str) -> str:
    """"expected: " / "預期：", padded so that the texts after the labels line up."""
    texts = {d: label(f"report.label.{d}", lang) for d in DETAILS}
    width = max(display_width(t) for t in texts.values())
    return texts[name] + " " * (width - display_width(texts[name]))


def status_counts(result: GradeResult) -> str:
    """"2 passed, 1 failed", or "none"."""
    lang = lang_of(result)
    parts = [label(f"report.count.{s}", lang, n=n) for s, n in result.counts().items() if n]
    return label("report.separator", lang).join(parts) or label("report.none", lang)


def explanation(check: CheckResult) -> list[tuple[str, str]]:
    """(label, text) pairs a student needs to fix the check, as the terminal shows them."""
    rows = [("message", check.message)] if check.message else []
    rows += [(label, value) for label, value in (
        ("expected", check.expected), ("got", check.actual),
        ("input", check.counterexample), ("hint", check.hint)) if value]
    return rows


def explanation_text(check: CheckResult, lang: str = DEFAULT_LANG) -> str:
    """The explanation as plain text, the message first and unlabelled."""
    return "\n".join(text if name == "message" else f"{detail_label(name, lang)}{text}"
                     for name, text in explanation(check))


def summary_line(result: GradeResult) -> str:
    """One line: what `--output` leaves on stdout, and the total in other renderings."""
    lang = lang_of(result)
    if result.error:
        return label("report.summary_error", lang, assignment=result.assignment,
                     error=" ".join(result.error.split()))
    line = label("report.summary", lang, assignment=result.assignment,
                 score=points(result.score), max_score=points(result.max_score),
                 total=len(result.checks), counts=status_counts(result))
    if result.pending_points:
        line += label("report.summary_pending", lang, points=points(result.pending_points))
    if result.left_out:
        line += label("report.summary_left_out", lang, points=_left_out_points(result))
    return line


def _left_out_points(result: GradeResult) -> str:
    return points(sum(c.max_points for c in result.left_out))


def left_out_text(result: GradeResult) -> tuple[str, list[str]] | None:
    """What --quick left out: a sentence and the checks' titles; None if nothing."""
    if not result.left_out:
        return None
    lang = lang_of(result)
    head = label("report.left_out", lang, count=len(result.left_out),
                 points=_left_out_points(result))
    return head, [label("report.left_out_check", lang, title=c.title,
                        points=points(c.max_points)) for c in result.left_out]


TEMPORARY = ".*.tmp"  # glob of write_atomic_bytes' temporaries


def write_atomic(path: Path, text: str) -> None:
    """Write text as UTF-8 to path, atomically (see write_atomic_bytes)."""
    write_atomic_bytes(path, text.encode("utf-8", "replace"))  # a lone surrogate: "?"


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write data to path so that a reader sees the old file or the whole new one, never a
    half-written report (a CI step or an upload may read it while a later run writes it)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        # /dev/null, /dev/stdout, a FIFO: write into it. Replacing it would turn a
        # device into a regular file (as root, /dev/null for the whole machine).
        with open(path, "wb") as out:
            out.write(data)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # named to match TEMPORARY, so a later run can sweep what a SIGKILL left
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
