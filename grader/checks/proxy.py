"""Proxies that look like the student's modules: submission.activations.sigmoid(z).

Each call goes to the worker process; what comes back is plain data. A missing
function fails with the loader's message ("did you mean ...") instead of a
round trip. Within one check, a function that hung or crashed the worker
fails at once on later calls, so that hypothesis does not pay a timeout for
every example it tries while shrinking.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from grader.submission import StagedSubmission
from grader.worker.client import Call, Worker
from grader.worker.errors import PROCESS_FAILURES, MissingFunction, StudentCodeError


class SubmissionProxy:
    def __init__(self, worker: Worker, staged: StagedSubmission) -> None:
        self._worker = worker
        self._staged = staged
        self._sticky: dict[str, StudentCodeError] = {}

    def __getattr__(self, module: str) -> ModuleProxy:
        if module.startswith("_"):
            raise AttributeError(module)
        return ModuleProxy(self, module)

    def __repr__(self) -> str:  # stable: it can appear in hypothesis's reports
        return "<submission>"

    @contextlib.contextmanager
    def check_scope(self, seconds: float) -> Iterator[None]:
        """One check: its time limit, and a fresh start for sticky failures."""
        self._sticky.clear()
        with self._worker.deadline(seconds):
            yield

    def fast_lane(self) -> contextlib.AbstractContextManager[None]:
        """Many small calls (a training): through shared memory where possible."""
        return self._worker.fast_lane()

    def _missing(self, qualified: str) -> StudentCodeError | None:
        if qualified in self._sticky:
            return self._sticky[qualified]
        message = self._staged.missing.get(qualified)
        return MissingFunction("missing_detail", function=qualified, detail=message) \
            if message else None

    def _remember(self, qualified: str, outcome: Any) -> Any:
        if isinstance(outcome, PROCESS_FAILURES):  # sticky within a check
            self._sticky[qualified] = outcome
        return outcome

    def call_many(self, calls: Sequence[tuple]) -> list[Any]:
        """Several calls in one round trip: (module, function, args[, kwargs]) each.
        Returns one outcome per call: the value, or the StudentCodeError (not raised)."""
        outcomes: list[Any] = [None] * len(calls)
        pending: list[tuple[int, Call]] = []
        for i, spec in enumerate(calls):
            module, function, args, *rest = spec
            qualified = f"{module}.{function}"
            early = self._missing(qualified)
            if early is not None:
                outcomes[i] = early
            else:
                kwargs = dict(rest[0]) if rest else {}
                pending.append((i, Call(module, function, tuple(args), kwargs)))
        if pending:
            results = self._worker.call_many([c for _, c in pending])
            for (i, c), outcome in zip(pending, results, strict=True):
                outcomes[i] = self._remember(f"{c.module}.{c.function}", outcome)
        return outcomes

    def sibling(self) -> SubmissionProxy:
        """The submission in a second worker process (Worker.sibling): close() it."""
        return SubmissionProxy(self._worker.sibling(), self._staged)

    def close(self) -> None:
        self._worker.close()

    def trajectory(self, spec: dict, seconds: float) -> tuple[object, dict | None]:
        """The worker's own training of spec's runs (Worker.trajectory): the states
        it reports, or None and why (grader/experiments/verify.py)."""
        return self._worker.trajectory(spec, seconds)

    def interrupt(self) -> None:
        """End the training under way (Worker.interrupt), from another thread."""
        self._worker.interrupt()

    @property
    def hung(self) -> Any:
        """The functions that did not return in this grading (Worker.hung)."""
        return self._worker.hung

    @property
    def call_timeout(self) -> float:
        return self._worker.limits.call_timeout


class ModuleProxy:
    def __init__(self, parent: SubmissionProxy, module: str) -> None:
        self._parent = parent
        self._module = module

    def __getattr__(self, function: str) -> FunctionProxy:
        if function.startswith("_"):
            raise AttributeError(function)
        return FunctionProxy(self._parent, self._module, function)


class FunctionProxy:
    def __init__(self, parent: SubmissionProxy, module: str, function: str) -> None:
        self._parent = parent
        self.module = module
        self.function = function
        self.qualified = f"{module}.{function}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._outcome(Call(self.module, self.function, args, kwargs))

    def returning_args(self, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        """(result, the positional arguments as the function left them): the worker
        holds copies, so this is how a check sees an in-place modification."""
        return self._outcome(Call(self.module, self.function, args, kwargs, return_args=True))

    def returning_warnings(self, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
        """(result, the warnings the call raised, "RuntimeWarning: overflow ...") under
        numpy's default error settings. The worker reports them: the student's word."""
        return self._outcome(Call(self.module, self.function, args, kwargs, warnings=True))

    def _outcome(self, call: Call) -> Any:
        early = self._parent._missing(self.qualified)
        if early is not None:
            raise early
        (outcome,) = self._parent._worker.call_many([call])
        outcome = self._parent._remember(self.qualified, outcome)
        if isinstance(outcome, StudentCodeError):
            raise outcome
        return outcome

    def __repr__(self) -> str:
        return f"<student function {self.qualified}>"
