"""The grader process of `hwgrade.check()`: grades a kernel's notebook in a fresh interpreter.

    python -m grader.live_grader ASSIGNMENT_FOLDER NOTEBOOK RESULT_JSON --lang zh-TW [--quick]

The notebook's kernel is a process where student code has run (and may have patched
numpy, warnings, builtins...): the grader never runs there. hwgrade.check() writes
the kernel's notebook (grader.submission.live) and starts this module, which grades it
with grade_submission exactly as `hwgrade check` does (its worker runs the student's
code) and writes the result's JSON to RESULT_JSON, so that nothing printed on the way
can be taken for it. Exit codes: 0 graded (a submission error is a result too), 3 the
grader could not grade (the reason on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.assignment import Assignment, find_assignment
from grader.grading import GraderError, grade_submission
from grader.i18n import LANGS
from grader.results import GradeResult


def grade(assignment: Assignment, notebook: Path, *, quick: bool, lang: str) -> GradeResult:
    """grade_submission on the notebook; quick leaves out the long checks."""
    return grade_submission(assignment, notebook, quick=quick, lang=lang)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.live_grader")
    parser.add_argument("assignment", help="the assignment's folder")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path, help="where the result's JSON goes")
    parser.add_argument("--lang", choices=LANGS, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = grade(find_assignment(args.assignment), args.notebook, quick=args.quick,
                       lang=args.lang)
    except GraderError as error:
        print(error, file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # hwgrade.check's kernel was interrupted; workers are closed
        return 130
    args.output.write_text(result.to_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
