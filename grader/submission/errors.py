"""The one exception of submission loading: the submission, not the grader, is at fault."""

from __future__ import annotations

from grader.submission.messages import render


class SubmissionError(Exception):
    """A submission that cannot be staged, with a student-facing explanation.

    `message` is the rendered text (English for now); `message_id` and `fields`
    let a later renderer translate it. `path` is the student's file as they know
    it (inside an archive: "archive.zip/folder/file.py"), `line` its 1-based line
    and `cell` the notebook cell (1-based, counting every cell), when known.
    Raised from None: the student never sees a Python traceback of the grader.
    """

    def __init__(
        self,
        message_id: str,
        *,
        path: str | None = None,
        line: int | None = None,
        cell: int | None = None,
        **fields: object,
    ) -> None:
        self.message_id = message_id
        self.fields = dict(fields)
        self.path = path
        self.line = line
        self.cell = cell
        self.message = render(message_id, path=path, line=line, cell=cell, **fields)
        super().__init__(self.message)

    def __reduce__(self):  # keyword-only arguments need help to cross processes
        return (_rebuild, (self.message_id, self.path, self.line, self.cell, self.fields))


def _rebuild(message_id, path, line, cell, fields) -> SubmissionError:
    return SubmissionError(message_id, path=path, line=line, cell=cell, **fields)
