"""Judging what came back from the worker: a value, or the StudentCodeError to report.

Two sources: the worker's reply (checked field by field by `check_reply`, then
each error report mapped by `for_report`), or the way the worker was lost
(`Lost`: timed out, died with a status, broke the protocol; mapped by
`for_loss`). Import failures become a *reason* (a nested message) remembered per
module, so that every later call into the module fails the same way.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

from grader.i18n import GRADER
from grader.worker.errors import (
    BadReturn,
    BudgetExhausted,
    ImportFailed,
    MissingFunction,
    ProtocolViolation,
    StudentCodeError,
    StudentCrash,
    StudentException,
    StudentExit,
    StudentMemoryError,
    StudentTimeout,
)
from grader.worker.keeper import FORK_LIMIT_EXIT

if TYPE_CHECKING:
    from grader.worker.client import Call, WorkerLimits
    from grader.worker.hung import HungFunctions

REPORT_KEYS = frozenset({"kind", "type", "message", "frames", "detail"})
KINDS = frozenset({"exception", "memory", "exit", "interrupt", "missing", "encode", "hung"})
STDOUT_CAP = 65536  # characters; the worker keeps 8 KiB, anything far beyond is malformed


class Lost(Exception):
    """The worker was lost during a round trip.

    how: "timeout" | "check_time" | "budget" (info: seconds), "died" (status, cpu),
    "protocol" (detail).
    """

    def __init__(self, how: str, **info: object) -> None:
        super().__init__(how)
        self.how = how
        self.info = info


def secs(seconds: object) -> str:
    return f"{round(float(seconds), 2):g}"  # type: ignore[arg-type]


def error(cls: type[StudentCodeError], code: str, call: Call, flight: Sequence[Call],
          **params: object) -> StudentCodeError:
    """An error of `call`; the message names every function of `flight` (the calls in flight)."""
    names = list(dict.fromkeys(c.function for c in flight))
    return cls(code, function=call.qualname, names=names, **params)


def hung_error(call: Call, hung: str, why: dict, flight: Sequence[Call] = ()
               ) -> StudentCodeError:
    """`call` failed at once: `hung` ("module.function", the call's own function or
    one it calls) was stopped earlier in this grading, `why` (HungFunctions.why)."""
    if why.get("code") == "processes":
        cls, same, callee, params = StudentCrash, "processes_again", "processes_callee", {
            "limit": why.get("limit")}
    else:
        cls, same, callee, params = StudentTimeout, "hung", "hung_callee", {
            "seconds": secs(why.get("seconds", 0))}
    if hung == call.qualname:
        return error(cls, same, call, [call], **params)
    return error(cls, callee, call, flight or [call], hung=hung.split(".", 1)[-1], **params)


def budget_error(limits: WorkerLimits) -> BudgetExhausted:
    return BudgetExhausted("budget", seconds=secs(limits.submission_budget))


def for_loss(lost: Lost, call: Call, flight: Sequence[Call], limits: WorkerLimits
             ) -> StudentCodeError:
    info = lost.info
    if lost.how in ("timeout", "check_time"):
        return error(StudentTimeout, lost.how, call, flight, seconds=secs(info["seconds"]))
    if lost.how == "budget":
        return error(BudgetExhausted, "budget", call, flight,
                     seconds=secs(limits.submission_budget))
    if lost.how == "protocol":
        return error(ProtocolViolation, "protocol", call, flight, detail=info["detail"])
    cls, code, params = death(info["status"], info["cpu"], limits)  # type: ignore[arg-type]
    return error(cls, code, call, flight, **params)


def signal_description(sig: int) -> str:
    """"segmentation fault": from the catalog for the usual signals (so that it is
    translated, and the same words on every platform), else the system's own."""
    try:
        key = f"worker.signal.{signal.Signals(sig).name}"
    except ValueError:
        key = ""
    if key and GRADER.has(key):
        return GRADER(key)
    description = signal.strsignal(sig) or f"signal {sig}"
    return description[:1].lower() + description[1:]


def death(status: int | None, cpu: float | None, limits: WorkerLimits
          ) -> tuple[type[StudentCodeError], str, dict[str, object]]:
    """Why the worker died, from its exit status and the CPU time it used."""
    # By the CPU time first: `unshare` cannot re-raise the SIGKILL of the hard limit
    # (it exits 1 instead), and nothing outlives its CPU limit by much anyway.
    if cpu is not None and cpu >= 0.95 * limits.cpu_seconds:
        return StudentCrash, "cpu", {"seconds": limits.cpu_seconds}
    if status == FORK_LIMIT_EXIT:  # the keeper stopped it (the worker's own word at worst)
        return StudentCrash, "processes", {"limit": limits.max_processes}
    if status is not None and status < 0:
        sig = -status
        return StudentCrash, "crash", {"signal_description": signal_description(sig),
                                       "signal": sig}
    return StudentExit, "exit", {"exit_code": status}


def for_result(result: dict, call: Call, limits: WorkerLimits,
               hung: HungFunctions | None = None) -> object:
    """The outcome of one checked result: the value (or (value, args), or (value,
    warnings)), or the error."""
    if "error" in result:
        return for_report(result["error"], call, limits, hung)
    value = result["ok"]
    if call.warnings:
        if type(value) is not list or len(value) != 2 or type(value[1]) is not list or any(
                type(w) is not str for w in value[1]):
            return error(ProtocolViolation, "protocol", call, [call],
                         detail="a result with warnings is not [value, [text, ...]]")
        return value[0], [w[:WARNING_CHARS] for w in value[1][:MAX_WARNINGS]]
    if not call.return_args:
        return value
    if type(value) is not list or len(value) != 2 or type(value[1]) is not list:
        return error(ProtocolViolation, "protocol", call, [call],
                     detail="a result with arguments is not [value, args]")
    return value[0], value[1]


def for_report(report: dict, call: Call, limits: WorkerLimits,
               hung: HungFunctions | None = None) -> StudentCodeError:
    """The error for a report the worker sent (already checked by check_reply)."""
    kind, flight = report["kind"], [call]
    if kind == "hung":  # a disabled function was called: believed if we disabled it
        why = hung.why(report["detail"]) if hung is not None else None
        if why is not None:
            return hung_error(call, report["detail"], why)
        return error(StudentException, "exception", call, flight, exc_type=report["type"],
                     exc_message=report["message"])
    if kind == "memory":
        return error(StudentMemoryError, "memory", call, flight, limit_mib=limits.memory_mib)
    if kind == "exit":
        return error(StudentExit, "sys_exit", call, flight, exit_code=report["detail"])
    if kind == "interrupt":
        return error(StudentExit, "interrupt", call, flight)
    if kind == "missing":
        return error(MissingFunction, "missing_function", call, flight, module=call.module,
                     function_name=call.function)
    if kind == "encode":
        if report["detail"]:
            return error(BadReturn, "bad_return", call, flight, type_name=report["detail"])
        return error(BadReturn, "bad_return_limit", call, flight, reason=report["message"])
    params: dict[str, object] = {"exc_type": report["type"], "exc_message": report["message"]}
    # A bare `raise NotImplementedError` (every starter's body) has no message to quote.
    bare = "" if report["message"] else "_bare"
    if report["frames"]:
        file, line, _ = report["frames"][-1]
        return error(StudentException, f"exception_at{bare}", call, flight, file=file,
                     line=line, **params)
    return error(StudentException, f"exception{bare}", call, flight, **params)


def import_reason_for_loss(lost: Lost, limits: WorkerLimits) -> dict[str, object]:
    if lost.how == "budget":
        return {"code": "reason.budget", "params": {"seconds": secs(limits.submission_budget)}}
    if lost.how in ("timeout", "check_time"):
        return {"code": "reason.timeout", "params": {"seconds": secs(lost.info["seconds"])}}
    if lost.how == "protocol":
        return {"code": "reason.protocol", "params": {"detail": lost.info["detail"]}}
    _, code, params = death(lost.info["status"], lost.info["cpu"], limits)  # type: ignore
    return {"code": f"reason.{code}", "params": params}


MAX_WARNINGS = 10  # warnings kept per call (the worker sends no more; it is not trusted)
WARNING_CHARS = 300

_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def import_reason_for_report(report: dict, module: str, limits: WorkerLimits,
                             hung: HungFunctions | None = None) -> dict[str, object]:
    kind = report["kind"]
    if kind == "hung" and hung is not None and (why := hung.why(report["detail"])):
        name = report["detail"].split(".", 1)[-1]
        if why.get("code") == "processes":
            return {"code": "reason.processes_again",
                    "params": {"hung": name, "limit": why.get("limit")}}
        return {"code": "reason.hung", "params": {"hung": name,
                                                  "seconds": secs(why.get("seconds", 0))}}
    if kind == "exception":
        params: dict[str, object] = {"exc_type": report["type"],
                                     "exc_message": report["message"]}
        if not report["frames"]:
            return {"code": "reason.exception", "params": params}
        file, line, _ = report["frames"][-1]
        absent = _NO_MODULE.match(report["message"])
        if report["type"] == "ModuleNotFoundError" and absent:  # matplotlib, say
            return {"code": "reason.no_module",
                    "params": {"absent": absent.group(1), "file": file, "line": line}}
        params.update(file=file, line=line)
        code = "reason.exception_line" if file == f"{module}.py" else "reason.exception_at"
        return {"code": code, "params": params}
    codes = {"memory": "reason.memory", "exit": "reason.sys_exit",
             "interrupt": "reason.interrupt", "missing": "reason.not_found"}
    if kind not in codes:
        return {"code": "reason.protocol", "params": {"detail": f"unexpected {kind} report"}}
    params = {"limit_mib": limits.memory_mib, "exit_code": report["detail"]}
    return {"code": codes[kind], "params": params}


def import_error(call: Call, reason: dict[str, object]) -> ImportFailed:
    return ImportFailed("import_failed", function=call.qualname, names=[call.function],
                        module=call.module, reason=reason)


def check_reply(reply: object, rid: int, n: int) -> list[dict]:
    """The results of a well-formed reply to request `rid` of n items; ValueError otherwise."""
    if type(reply) is not dict or set(reply) != {"id", "results", "stdout"}:
        raise ValueError("the reply is not {id, results, stdout}")
    if type(reply["id"]) is not int or reply["id"] != rid:
        raise ValueError(f"a reply to request {reply['id']!r:.40}, expected {rid}")
    results = reply["results"]
    if type(results) is not list or len(results) != n:
        raise ValueError(f"the reply does not hold {n} results")
    if type(reply["stdout"]) is not str or len(reply["stdout"]) > STDOUT_CAP:
        raise ValueError("the reply's printed output is malformed")
    for result in results:
        if type(result) is not dict or len(result) != 1 or not ({"ok", "error"} & set(result)):
            raise ValueError("a result is neither {ok} nor {error}")
        if "error" in result:
            _check_report(result["error"])
    return results


def _check_report(report: object) -> None:
    if type(report) is not dict or set(report) != REPORT_KEYS:
        raise ValueError("an error report has the wrong fields")
    if report["kind"] not in KINDS:
        raise ValueError("an error report has an unknown kind")
    for key, cap in (("type", 256), ("message", 4096), ("detail", 256)):
        if type(report[key]) is not str or len(report[key]) > cap:
            raise ValueError(f"an error report's {key} is malformed")
    frames = report["frames"]
    if type(frames) is not list or len(frames) > 64:
        raise ValueError("an error report's frames are malformed")
    for frame in frames:
        if (type(frame) is not list or len(frame) != 3 or type(frame[1]) is not int
                or any(type(x) is not str or len(x) > 256 for x in (frame[0], frame[2]))):
            raise ValueError("an error report's frame is malformed")
