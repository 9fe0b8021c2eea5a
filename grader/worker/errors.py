"""What went wrong in the student's code, as the student should read it.

Every failure of a call into the submission is a StudentCodeError: `code` is a
stable message id (a key of MESSAGES), `params` the plain data the message
needs, `function` the qualified name of the function that was running
("activations.sigmoid", or None). `message` is the sentence as a grader.i18n
Message: a str in English that grading renders again in the student's language
(the templates are the [worker] tables of grader/locale/*.toml).

A failure of the grader itself (the worker cannot even be started) is a
WorkerStartError: the grader's fault, never the student's.
"""

from __future__ import annotations

from collections.abc import Mapping

from grader.i18n import DEFAULT_LANG, GRADER, Message

MESSAGES: dict[str, str] = {  # the English templates, by code (from grader/locale/en.toml)
    key.removeprefix("worker."): text
    for key, text in GRADER.catalog(DEFAULT_LANG).items() if key.startswith("worker.")
}


def render(error: StudentCodeError, catalog: Mapping[str, str] = MESSAGES) -> str:
    """The sentence for `error`, from `catalog` (MESSAGES or a translation with its keys)."""
    return _fill(catalog, error.code, error.params)


def _fill(catalog: Mapping[str, str] | None, code: str, params: Mapping[str, object]):
    """The sentence of `code`: from `catalog`'s templates, or, without one, as a Message
    of the grader's catalogs (a str in English that grading renders again in the
    student's language)."""

    def make(key: str, **fields: object):
        return GRADER(f"worker.{key}", **fields) if catalog is None else \
            catalog[key].format(**fields)

    fields = dict(params)
    names = fields.get("names")
    if isinstance(names, list) and names:
        fields["name"] = names[0] if len(names) == 1 else make("one_of", names=", ".join(names))
    else:
        fields.setdefault("name", make("your_code"))
    reason = fields.get("reason")
    if isinstance(reason, dict):  # a nested message: the cause of an import failure
        inner = {**params, **reason.get("params", {})}
        inner.pop("reason", None)
        fields["reason"] = _fill(catalog, str(reason["code"]), inner)
    return make(code, **fields)


class StudentCodeError(Exception):
    """A failure of the submission's code while the grader called it (see module doc)."""

    def __init__(self, code: str, *, function: str | None = None, **params: object) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown message id {code!r}")
        self.code = code
        self.function = function
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> Message:
        return _fill(None, self.code, self.params)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # keyword-only arguments need help to cross processes
        return (_rebuild, (type(self), self.code, self.function, self.params))


def _rebuild(cls, code, function, params) -> StudentCodeError:
    return cls(code, function=function, **params)


class StudentTimeout(StudentCodeError):
    """A call (or an import) did not return in time; the worker was killed."""


class StudentCrash(StudentCodeError):
    """The worker died from a signal: segmentation fault, CPU limit, killed..."""


class StudentExit(StudentCodeError):
    """The code exited the process, called sys.exit() or raised KeyboardInterrupt."""


class StudentException(StudentCodeError):
    """The code raised an ordinary exception."""

    @property
    def exc_type(self) -> str:
        return str(self.params["exc_type"])

    @property
    def exc_message(self) -> str:
        return str(self.params["exc_message"])

    @property
    def location(self) -> tuple[str, int] | None:
        """(file, line) of the innermost frame inside the submission's files, if any."""
        if "file" not in self.params:
            return None
        return str(self.params["file"]), int(self.params["line"])  # type: ignore[call-overload]


class StudentMemoryError(StudentCodeError):
    """The code ran out of memory (MemoryError under the address-space limit)."""


class BadReturn(StudentCodeError):
    """The returned value cannot cross to the grader (type or size)."""


class MissingFunction(StudentCodeError):
    """The module has no such function (or the name is not callable)."""


class ProtocolViolation(StudentCodeError):
    """The worker sent something malformed (the code wrote to or closed the channel)."""


class ImportFailed(StudentCodeError):
    """Importing the module failed; every later call into it fails the same way."""


class BudgetExhausted(StudentCodeError):
    """The wall-clock budget of the whole submission is used up."""


class Unverified(StudentCodeError):
    """The training the student's process reported did not verify (experiments/verify.py)."""


# Failures of the process, not of a returned value: the worker was lost or never had
# the module. Repeating the call costs a timeout or a restart and tells nothing new,
# and a hint about a check's formula would be beside the point.
PROCESS_FAILURES = (StudentTimeout, StudentCrash, StudentExit, ImportFailed)


class WorkerStartError(RuntimeError):
    """The worker could not be started: a problem of the grader or its machine."""


class Interrupted(Exception):
    """The grader ended a worker's training from another thread (Worker.interrupt):
    not the student's doing; the training is asked again."""
