"""What went wrong in the student's code, as the student should read it.

Every failure of a call into the submission is a StudentCodeError: `code` is a
stable message id (a key of MESSAGES), `params` the plain data the message
needs, `function` the qualified name of the function that was running
("activations.sigmoid", or None). `message` renders the English sentence; a
translation only has to provide a catalog with the same keys (see `render`).

A failure of the grader itself (the worker cannot even be started) is a
WorkerStartError: the grader's fault, never the student's.
"""

from __future__ import annotations

from collections.abc import Mapping

MESSAGES: dict[str, str] = {
    # --- one call ---------------------------------------------------------------------
    "timeout": "{name} did not return within {seconds} s",
    "check_time": "{name} did not return within the time limit of this check ({seconds} s)",
    "cpu": "{name} used up the CPU time allowed for your code ({seconds} s of computing)",
    "crash": "your code crashed ({signal_description}, signal {signal}) while running {name}",
    "exit": "your code exited the process while running {name} (os._exit or sys.exit)",
    "sys_exit": "{name} called sys.exit({exit_code}); return a value instead of exiting",
    "interrupt": "{name} raised KeyboardInterrupt; return a value instead",
    "exception": "{name} raised {exc_type}: {exc_message}",
    "exception_at": "{name} raised {exc_type}: {exc_message} ({file}, line {line})",
    "memory": "{name} ran out of memory (limit {limit_mib} MiB)",
    "bad_return": (
        "{name} returned a {type_name}, which cannot be sent back: "
        "return a numpy array or a number"
    ),
    "bad_return_limit": "{name} returned a value that cannot be sent back: {reason}",
    "missing_function": "{module}.py has no function named {function_name}",
    "missing_detail": "{detail}",  # the submission loader's own message (with "did you mean")
    "protocol": "your code disturbed the grader's connection while running {name} ({detail})",
    "import_failed": "importing {module}.py failed: {reason}",
    "budget": "grading time for this submission is used up (limit {seconds} s)",
    # --- pieces -----------------------------------------------------------------------
    "one_of": "one of {names}",
    "reason.exception": "{exc_type}: {exc_message}",
    "reason.exception_line": "{exc_type}: {exc_message} (line {line})",
    "reason.exception_at": "{exc_type}: {exc_message} ({file}, line {line})",
    "reason.timeout": "it did not finish within {seconds} s",
    "reason.cpu": "it used up the CPU time allowed ({seconds} s of computing)",
    "reason.crash": "it crashed ({signal_description}, signal {signal})",
    "reason.exit": "it exited the process (os._exit or sys.exit at the top level of the file)",
    "reason.sys_exit": "it called sys.exit({exit_code}) at the top level of the file",
    "reason.interrupt": "it raised KeyboardInterrupt",
    "reason.memory": "it ran out of memory (limit {limit_mib} MiB)",
    "reason.protocol": "it disturbed the grader's connection ({detail})",
    "reason.not_found": "there is no file {module}.py in the submission",
    "reason.budget": "grading time for this submission is used up (limit {seconds} s)",
}


def render(error: StudentCodeError, catalog: Mapping[str, str] = MESSAGES) -> str:
    """The sentence for `error`, from `catalog` (MESSAGES or a translation with its keys)."""
    return _fill(catalog, error.code, error.params)


def _fill(catalog: Mapping[str, str], code: str, params: Mapping[str, object]) -> str:
    fields = dict(params)
    names = fields.get("names")
    if isinstance(names, list) and names:
        fields["name"] = (
            names[0] if len(names) == 1 else catalog["one_of"].format(names=", ".join(names))
        )
    else:
        fields.setdefault("name", "your code")
    reason = fields.get("reason")
    if isinstance(reason, dict):  # a nested message: the cause of an import failure
        inner = {**params, **reason.get("params", {})}
        inner.pop("reason", None)
        fields["reason"] = _fill(catalog, str(reason["code"]), inner)
    return catalog[code].format(**fields)


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
    def message(self) -> str:
        return render(self)

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


class WorkerStartError(RuntimeError):
    """The worker could not be started: a problem of the grader or its machine."""
