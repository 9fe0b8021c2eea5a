"""What `hwgrade grade` shows while it works, on stderr: a click progress bar with
ETA and running counts on a terminal, one line per submission otherwise (a log
file, a Slurm job), nothing with --quiet."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from grader.batch.rows import Row


class Progress:
    def __init__(self, *, label: str, quiet: bool = False, file: TextIO | None = None,
                 jobs: int = 1) -> None:
        self.label, self.quiet, self.jobs = label, quiet, jobs
        self.file = file or sys.stderr
        self.done = self.total = 0
        self.ok = self.with_failures = self.errors = 0
        self._bar = None

    def started(self, *, to_grade: int, unchanged: int, total: int) -> None:
        self.total = to_grade
        if self.quiet:
            return
        kept = f"; {unchanged} unchanged since the last run, not regraded" if unchanged else ""
        click.echo(f"{self.label}: {total} submission(s), {to_grade} to grade with "
                   f"{min(self.jobs, to_grade) or 1} process(es){kept}", file=self.file)
        if to_grade and self.file.isatty():
            self._bar = click.progressbar(length=to_grade, label="grading", file=self.file,
                                          show_eta=True, show_pos=True,
                                          item_show_func=lambda _: self.counts())
            self._bar.__enter__()

    def graded(self, row: Row, *, failed: bool) -> None:
        self.done += 1
        if row.result is not None and not row.result.error and not failed:
            self.ok += 1
            if not row.result.all_passed:
                self.with_failures += 1
        else:
            self.errors += 1
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(1, row.id)
            return
        if failed:
            what = f"grader error: {row.error or row.note}"
        elif row.status == "graded":
            what = f"{row.total:g}/{row.max_total:g}"
        else:
            what = f"{row.status.replace('_', ' ')}: {row.error}"
        click.echo(f"[{self.done}/{self.total}] {row.id}: {' '.join(what.split())[:160]}",
                   file=self.file)

    def counts(self) -> str:
        return (f"{self.ok} graded, {self.with_failures} with failed checks, "
                f"{self.errors} error{'s' if self.errors != 1 else ''}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
