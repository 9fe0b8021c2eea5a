"""A gradebook row per submission, decided from the scan and the journal.

status:
- graded            the checks ran; total is the score
- submission_error  the submission cannot be graded (syntax error, no code, several
                    hand-ins for one student...): total 0, `error` says why
- grader_error      the grader could not produce a result (it crashed or hung; never
                    the student's fault): no total, `error` says what happened
- pending           not graded yet (the run was interrupted before it came to it)

A failed attempt never silently replaces a result: when the latest attempt failed
and an earlier one succeeded, the row keeps the earlier result and `note` says so.
Rows are plain data: results.jsonl holds them, and `hwgrade merge` renders them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from grader.batch.journal import Record
from grader.batch.layouts import Submission
from grader.results import GradeResult

STATUSES = ("graded", "submission_error", "grader_error", "pending")


@dataclass
class Row:
    id: str
    status: str
    source: str
    name: str = ""
    late: bool = False
    total: float | None = None
    max_total: float | None = None
    error: str = ""
    note: str = ""
    submission_sha256: str = ""
    seconds: float | None = None
    extras: tuple[str, ...] = ()
    result: GradeResult | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["extras"] = list(self.extras)
        data["result"] = self.result.to_dict() if self.result is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        values = dict(data)
        values["extras"] = tuple(values.get("extras", ()))
        if values.get("result") is not None:
            values["result"] = GradeResult.from_dict(values["result"])
        return cls(**values)


def is_current(record: Record | None, key: dict[str, Any]) -> bool:
    """Whether record (the latest attempt) is a result graded under exactly key."""
    return record is not None and record.result is not None and record.key == key


def build_row(sub: Submission, records: list[Record], key: dict[str, Any] | None) -> Row:
    """The row of sub from its journal records (oldest first); key: the current one."""
    row = Row(id=sub.id, status="submission_error", source=sub.source, name=sub.name,
              late=sub.late, extras=sub.extras, submission_sha256=(key or {}).get("submission",
                                                                                   ""))
    if sub.problem is not None:
        row.total, row.error = 0.0, sub.problem
        return row
    if not records:
        row.status, row.error = "pending", "not graded yet: run the same command again"
        return row
    latest = records[-1]
    success = next((r for r in reversed(records) if r.result is not None), None)
    notes = []
    if success is None:
        row.status, row.error, row.seconds = "grader_error", latest.failure or "", latest.seconds
        return row
    if latest is not success:
        notes.append(f"the latest grading failed ({latest.failure}); this is the result of an "
                     "earlier grading")
    if key is not None and success.key != key:
        what = [name for name in ("submission", "assignment", "grader")
                if success.key.get(name) != key.get(name)]
        notes.append(f"graded before the {' and '.join(what)} changed; not regraded yet")
    result = GradeResult.from_dict(success.result)
    row.result, row.seconds = result, success.seconds
    row.submission_sha256 = success.key.get("submission", "")
    row.total, row.max_total = result.score, result.max_score
    if result.error:
        row.error = result.error
        row.total, row.max_total = 0.0, None
    else:
        row.status = "graded"
    row.note = "; ".join(notes)
    return row
