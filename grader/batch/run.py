"""`hwgrade grade`: a whole class, in parallel, resumable, into OUTDIR.

    report = grade_batch(assignment, Path("submissions"), Path("out"), jobs=4)

1. scan SUBMISSIONS (layouts.py), apply the id mapping (idmap.py), keep this shard's
   students (shards.py);
2. open OUTDIR's journal (journal.py) and leave out every student whose latest
   journaled attempt is a result for the same submission, assignment and grader
   (fingerprint.py), unless force;
3. grade the rest in a pool of grader processes (runner.py); each outcome is
   journaled durably, then its feedback file written, then reported to `events`;
4. always (also after Ctrl-C), rebuild every output from the journal (gradebook.py).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.assignment import Assignment
from grader.batch import fingerprint, gradebook, idmap, layouts
from grader.batch.journal import Record, open_journal, read_records
from grader.batch.rows import Row, build_row, is_current
from grader.batch.runner import GraderPool, Job, default_jobs
from grader.batch.shards import Shard

MANIFEST_FORMAT = "hwgrade-batch"
STAGING = ".staging"  # in OUTDIR: loose files gathered into folders, the graders' cwd


class Events(Protocol):
    """What a front end (the progress bar) hears about: `started` once, then a
    `graded` per submission graded in this run, in completion order."""

    def started(self, *, to_grade: int, unchanged: int, total: int) -> None: ...

    def graded(self, row: Row, *, failed: bool) -> None: ...


@dataclass
class BatchReport:
    rows: list[Row]
    summary: str
    outdir: Path
    graded_now: int = 0  # gradings that produced a result in this run
    failed_now: int = 0  # gradings in this run that produced no result (grader errors)
    unchanged: int = 0  # submissions whose journaled result was still valid
    interrupted: bool = False
    unrecognised: list[tuple[str, str]] = field(default_factory=list)

    @property
    def grader_errors(self) -> int:
        """Rows without a result because of the grader, or whose latest grading failed."""
        return sum(r.status == "grader_error" or "latest grading failed" in r.note
                   for r in self.rows)


def grade_batch(assignment: Assignment, submissions: Path, outdir: Path, *,
                jobs: int | None = None, force: bool = False, shard: Shard | None = None,
                mapping: dict[str, str] | None = None, events: Events | None = None,
                timeout: float | None = None, lang: str = "en",
                stop: threading.Event | None = None) -> BatchReport:
    """Grade every submission under `submissions` (that `shard` owns) into `outdir`, its
    student-facing texts in `lang` (grader.i18n.LANGS).

    `stop`, once set, ends the run as a KeyboardInterrupt would. A signal handler sets
    it as well as raising: Python drops an exception raised inside a weakref callback
    or a __del__ ("Exception ignored in ..."), and Ctrl-C must not be lost that way.
    """
    if outdir.resolve() == submissions.resolve():
        raise layouts.LayoutError("OUTDIR must be another folder than SUBMISSIONS")
    scan = layouts.scan(submissions, assignment, exclude=(outdir,))
    mapped = idmap.apply_mapping(scan, mapping) if mapping is not None else \
        idmap.Mapped(scan)
    subs = [s for s in mapped.scan.submissions if shard is None or shard.owns(s.id)]
    # The language is part of what a result depends on: switching it regrades (feedback
    # in one language, not a mix of the two runs').
    env = {"assignment": fingerprint.assignment_hash(assignment.root),
           "assignment_version": assignment.version, "grader": fingerprint.grader_key(),
           "lang": lang}
    keys = {s.id: {"submission": fingerprint.submission_hash(s.members), **env} for s in subs}
    manifest = _manifest(assignment, env, shard, submissions, mapped, subs)
    listing = gradebook.listing_of(manifest)
    names = gradebook.feedback_names([s.id for s in subs])
    report = BatchReport(rows=[], summary="", outdir=outdir, unrecognised=scan.unrecognised)
    with open_journal(outdir) as journal:
        gradebook.sweep_temporaries(outdir)
        history: dict[str, list[Record]] = defaultdict(list)
        for record in journal.records:
            history[record.id].append(record)
        todo = [s for s in subs if s.gradable
                and (force or not is_current(_last(history[s.id]), keys[s.id]))]
        report.unchanged = sum(s.gradable for s in subs) - len(todo)
        if events is not None:
            events.started(to_grade=len(todo), unchanged=report.unchanged, total=len(subs))
        try:
            if todo:
                _grade(assignment, submissions, outdir, todo, keys, history, journal, names,
                       report, jobs or default_jobs(), timeout, events, stop)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            # From the file, not from memory: an interrupt may fall between a record's
            # write and its bookkeeping, and the outputs must show all that is journaled.
            history = defaultdict(list)
            for record in read_records(outdir):
                history[record.id].append(record)
            report.rows = [build_row(s, history[s.id], keys[s.id]) for s in subs]
            report.summary = gradebook.write_outputs(outdir, report.rows, listing, manifest)
    return report


def _grade(assignment, submissions, outdir, todo, keys, history, journal, names, report,
           jobs, timeout, events, stop) -> None:
    by_id = {s.id: s for s in todo}
    limits = assignment.limits
    timeout = timeout or 2 * limits.submission_budget + limits.import_timeout + 120
    tmp = outdir / STAGING
    shutil.rmtree(tmp, ignore_errors=True)  # what a killed run left behind
    staging, workdir = tmp / "files", tmp / "work"
    staging.mkdir(parents=True)
    workdir.mkdir()
    try:
        queue = [Job(s.id, os.path.abspath(layouts.materialize(s, staging)),
                     _display(s, submissions), keys[s.id]["lang"]) for s in todo]
        with GraderPool(assignment.root, jobs=min(jobs, len(queue)), timeout=timeout,
                        private=(submissions, outdir), workdir=workdir) as pool:
            for outcome in pool.grade(queue, stop=stop):
                sub = by_id[outcome.id]
                record = Record(id=sub.id, key=keys[sub.id], source=sub.source,
                                seconds=outcome.seconds, result=outcome.result,
                                failure=outcome.failure)
                journal.append(record)  # durable before anything else hears of it
                history[sub.id].append(record)
                row = build_row(sub, history[sub.id], keys[sub.id])
                gradebook.write_feedback(outdir, row, assignment.name, names[sub.id])
                if outcome.result is None:
                    report.failed_now += 1
                else:
                    report.graded_now += 1
                if events is not None:
                    events.graded(row, failed=outcome.result is None)
            if stop is not None and stop.is_set():  # asked to stop as the last one ended
                raise KeyboardInterrupt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _display(sub: layouts.Submission, root: Path) -> str:
    """How results name the submission: its path under SUBMISSIONS (files gathered
    from an LMS download: the student's id)."""
    if sub.path is None:
        return sub.id
    return layouts.display_name(os.path.relpath(sub.path, root)).replace(os.sep, "/")


def _last(records: list[Record]) -> Record | None:
    return records[-1] if records else None


def _manifest(assignment: Assignment, env: dict[str, Any], shard: Shard | None,
              submissions: Path, mapped: idmap.Mapped, subs: list[layouts.Submission]) -> dict:
    return {
        "format": MANIFEST_FORMAT, "version": 1,
        "assignment": {"name": assignment.name, "title": assignment.title,
                       "version": assignment.version, "sha256": env["assignment"]},
        "grader": env["grader"],
        "lang": env["lang"],
        "shard": str(shard) if shard else None,
        "submissions": layouts.display_name(str(submissions)),
        "ids": [s.id for s in subs],
        "unrecognised": [list(u) for u in mapped.scan.unrecognised],
        "ignored": mapped.scan.ignored,
        "unmapped": mapped.unmapped,
        "absent": mapped.absent,
    }
