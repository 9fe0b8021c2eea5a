"""A grader process of the batch pool: grades one submission at a time, for its parent.

    python -m grader.batch.child ASSIGNMENT_DIR [PRIVATE_PATH...]

Reads jobs on stdin, one JSON line each: {"path": "/abs/alice", "display": "alice/",
"lang": "zh-TW"} (lang optional, default en).
Answers each on its original stdout with one JSON line: {"result": GradeResult.to_dict()}
or {"grader_error": "..."} (after which it exits: a fresh process grades the next one).
Whatever else is printed goes to stderr, never into the answers. In the result, the
submission's path is `display` (so that outputs do not depend on where SUBMISSIONS or
the temporary folders were) and file names that are not UTF-8 are shown as \\xNN.

PRIVATE_PATHs (the class's SUBMISSIONS and the OUTDIR) are hidden from every
student's worker, like the assignment's hidden checks: a student's code must not
read another student's submission or the gradebook and return it in its messages.

SIGTERM, or the parent's death, interrupts the grading in progress (the student's
worker is stopped and temporary files are removed) and ends the process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    jobs = os.fdopen(os.dup(0), "r", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    signal.signal(signal.SIGTERM, _interrupt)
    _stop_with_parent(os.getppid())

    from grader.assignment import AssignmentError, load_assignment
    from grader.grading import GraderError, grade_submission

    try:
        assignment = _with_private(load_assignment(Path(argv[0])), argv[1:])
    except (AssignmentError, IndexError) as error:
        print(f"hwgrade batch child: {error}", file=sys.stderr)
        return 3
    try:
        for line in jobs:
            job = json.loads(line)
            try:
                result = grade_submission(assignment, Path(job["path"]),
                                          lang=job.get("lang", "en"), stop=_STOP)
                answer: dict[str, Any] = {"result": _clean(result.to_dict(), job)}
            except GraderError as error:
                answer = {"grader_error": _text(str(error))}
            except Exception:  # a bug in the grader: reported, and this process ends
                answer = {"grader_error": "hwgrade failed (a bug in the grader):\n"
                          + _text(traceback.format_exc(limit=8)[-3000:])}
            answers.write(json.dumps(answer, ensure_ascii=False, allow_nan=False) + "\n")
            answers.flush()
            if "grader_error" in answer:
                return 0
    except (KeyboardInterrupt, BrokenPipeError):
        return 143
    return 0


def _with_private(assignment, paths: list[str]):
    """The assignment, whose private_paths() (what the worker must not see) also hold paths."""
    from dataclasses import dataclass, fields

    from grader.assignment import Assignment

    @dataclass(frozen=True)
    class BatchAssignment(Assignment):
        also_private: tuple[Path, ...] = ()

        def private_paths(self) -> tuple[Path, ...]:
            return (*super().private_paths(), *self.also_private)

    values = {f.name: getattr(assignment, f.name) for f in fields(assignment)}
    return BatchAssignment(**values, also_private=tuple(Path(p).resolve() for p in paths))


_STOP = threading.Event()  # for a KeyboardInterrupt Python dropped (see GradingPlugin)


def _interrupt(signum, frame):
    _STOP.set()
    raise KeyboardInterrupt


def _stop_with_parent(parent: int) -> None:
    """The batch was killed (even with SIGKILL): stop grading for nobody."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(20)  # the grading in progress did not stop in time
        os._exit(143)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _text(value: str) -> str:
    return os.fsencode(value).decode("utf-8", "backslashreplace") \
        if any("\udc80" <= ch <= "\udcff" for ch in value) else value


def _clean(value: Any, job: dict[str, str]) -> Any:
    """Paths of this machine replaced by what the instructor knows; valid UTF-8 only."""
    if isinstance(value, str):
        return _text(value.replace(job["path"], job["display"]))
    if isinstance(value, dict):
        return {k: _clean(v, job) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, job) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
