"""Loading and staging a student's submission, without ever running it.

    staged = stage_submission(Path("alice.zip"), requirement, dest)

turns a folder of .py files, one Jupyter notebook, or a .zip of either into
plain modules in dest (so that a worker whose sys.path holds dest can
`import activations`), after static checks: every staged module compiles,
every required module exists, every required function is defined (a missing
function is reported in `staged.missing`, not raised). A submission that
cannot be graded at all raises SubmissionError, whose `message` is meant for
the student. `staged.source_map.locate(module, line)` maps a line of a staged
module back to the student's file, notebook cell and line.
"""

from grader.submission.errors import SubmissionError
from grader.submission.messages import MESSAGES, render
from grader.submission.model import (
    DEFAULT_LIMITS,
    NOTEBOOK_MODULE,
    Kind,
    Limits,
    ModuleOrigin,
    Requirement,
    SkippedCode,
    SourceLocation,
    SourceMap,
    StagedSubmission,
)
from grader.submission.staging import stage_submission

__all__ = [
    "DEFAULT_LIMITS",
    "MESSAGES",
    "NOTEBOOK_MODULE",
    "Kind",
    "Limits",
    "ModuleOrigin",
    "Requirement",
    "SkippedCode",
    "SourceLocation",
    "SourceMap",
    "StagedSubmission",
    "SubmissionError",
    "render",
    "stage_submission",
]
