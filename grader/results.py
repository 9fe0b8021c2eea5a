"""The one result model: what grading a submission produced.

Every output (terminal, JSON, JUnit, GitHub, Gradescope, HTML, gradebook) is
a rendering of a GradeResult. Its JSON form is versioned (SCHEMA_VERSION) and
described by grader/schemas/result.schema.json.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

SCHEMA_VERSION = 1

Status = Literal["passed", "failed", "not_run", "error"]
STATUSES: tuple[str, ...] = ("passed", "failed", "not_run", "error")


@dataclass
class CheckResult:
    """One check: its outcome, points, and what a student needs to fix it."""

    name: str  # unique within the assignment, e.g. "sigmoid_values"
    title: str  # the check's docstring (first paragraph)
    status: Status
    points: float
    max_points: float
    message: str = ""  # one student-facing sentence; empty when passed
    expected: str | None = None
    actual: str | None = None
    counterexample: str | None = None  # hypothesis's shrunk falsifying example
    hint: str | None = None
    function: str | None = None  # the student's function it is about, "activations.sigmoid"
    hidden: bool = False
    needs: list[str] = field(default_factory=list)  # prerequisites that failed (not_run)
    details: str | None = None  # longer text, e.g. the grader's own traceback for "error"
    duration: float = 0.0  # seconds (excluded from comparisons of results)


@dataclass
class SubmissionInfo:
    path: str
    kind: str = ""  # folder, notebook, zip+folder, zip+notebook
    sha256: str = ""  # of the staged modules, in name order
    skipped: list[str] = field(default_factory=list)  # notebook code that was not run
    notes: list[str] = field(default_factory=list)


@dataclass
class LeftOut:
    """A check this run left out on purpose, and why."""

    name: str
    title: str
    max_points: float
    reason: str  # "quick": a long check (hwgrade check --quick leaves those out)


@dataclass
class GradeResult:
    assignment: str
    score: float
    max_score: float
    checks: list[CheckResult]
    submission: SubmissionInfo
    pending_points: float = 0.0  # points of hidden checks that this run could not include
    left_out: list[LeftOut] = field(default_factory=list)  # not graded on purpose (--quick)
    error: str | None = None  # a submission error that stopped grading (exit code 2)
    # Where the student defined each function, "activations.sigmoid" -> {"path", "cell", "line"}
    # (path as the student knows it; cell for notebooks, else None): what CI annotations
    # point at. Optional, so results written before it existed still load.
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The language of every student-facing text in it (grader.i18n.LANGS), chosen at
    # grading time; optional like locations, results written before it are English.
    lang: str = "en"
    experiments: list[dict[str, Any]] = field(default_factory=list)
    protections: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    seeds: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def all_passed(self) -> bool:
        return self.error is None and all(c.status == "passed" for c in self.checks)

    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}

    def to_dict(self, *, timings: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not timings:  # what must be identical between two gradings of one submission
            data.pop("timings")
            for check in data["checks"]:
                check.pop("duration")
        return data

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(**kwargs), ensure_ascii=False, indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"unsupported result schema version {data.get('schema_version')!r}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["checks"] = [CheckResult(**c) for c in data["checks"]]
        values["submission"] = SubmissionInfo(**data["submission"])
        values["left_out"] = [LeftOut(**c) for c in data.get("left_out", [])]
        return cls(**values)
