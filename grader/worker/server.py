"""The student worker: imports the submission and answers calls over one socket.

Runs INSIDE the student process, from a private runtime directory that holds a
copy of this file, protocol.py, lane.py and the training engine (grader/playground,
for "trajectory"); it imports only the standard library, numpy and those. Launched as

    python -s -S server.py --fd N [--lane FD --doorbell FD] --staged DIR --pkgs DIR
                           --work DIR --limits JSON

(on Windows, without --fd: the socket arrives on stdin as a socket.share() blob).
Before any student code runs it
sets sys.path, applies the resource limits, silences stdout/stderr and moves
into the empty working directory; then it says "ready" and serves requests:

    {"op": "import", "id": n, "modules": [...]}  -> {"id", "results", "stdout"}
    {"op": "call", "id": n, "calls": [{"module", "function", "args", "kwargs"}]}
    {"op": "lane", "id": n}                      -> reply, then calls through the
                                                    shared-memory lane (lane.py) until END
    {"op": "trajectory", "id": n, "runs": [...], "reference": [...]}
        -> one result: the states at every epoch boundary of a training of the runs
           with the student's functions, run here (grader/playground/calls.py); the
           grader recomputes every transition before it believes any of them
           (grader/experiments/verify.py)
    {"op": "disable", "id": n, "functions": [[module, name], ...]}
        -> the functions, which did not return earlier in this grading, raise at once
           when called (from the grader or from another function of the submission)
    {"op": "bye"}                                -> exit

Two more descriptors, each watched by a thread: --watch (a pipe: its end of file,
the grader gone, ends the process and its namespace) and --where (a socket: each
byte the grader sends is answered with the submission's functions on the main
thread's stack, innermost first, and how long ago the grader's call into the
submission under way began: which function a call that did not return is in).

Each result is {"ok": value} or {"error": {"kind", "type", "message", "frames",
"detail"}}. Nothing here is trusted by the grader: it only computes.
"""

import builtins
import importlib
import io
import json
import os
import re
import socket
import sys
import time
import traceback

TEXT_CAP = 2048  # characters of an exception message
STDOUT_CAP = 8192  # characters of printed output kept per request
_UNSENDABLE = re.compile(r"cannot send a value of type (\w+);")
_BUILTINS = dict(builtins.__dict__)  # taken before any student code runs
_CALL_STARTED = [None]  # when the student's function running now was called (monotonic)


class _Hung(BaseException):
    """Raised by a disabled function: not an Exception, so `except Exception` in the
    submission does not turn it into a value."""


def _disabled(module_name, name):
    def hung(*args, **kwargs):
        raise _Hung(f"{module_name}.{name}")

    hung.__name__ = hung.__qualname__ = name
    return hung


def _disable(request, modules):
    results = []
    for module_name, name in request["functions"]:
        module = modules.get(module_name)
        if module is not None and callable(getattr(module, name, None)):
            setattr(module, name, _disabled(module_name, name))
        results.append({"ok": None})
    return results


def _restore_builtins():
    """Undo what the submission did to builtins (isinstance = lambda *a: True...):
    the worker's own code (and the standard library it uses) needs the real ones."""
    current = builtins.__dict__
    for name, value in _BUILTINS.items():
        if current.get(name) is not value:
            current[name] = value


def _text(value, cap=TEXT_CAP):
    try:
        text = str(value)
    except BaseException:  # a student __str__ may raise anything
        text = "<str() failed>"
    return text[:cap].encode("utf-8", "replace").decode("utf-8")  # exact str, no surrogates


class Capture(io.TextIOBase):
    """sys.stdout/sys.stderr: keeps the first STDOUT_CAP characters, drops the rest cheaply."""

    encoding = "utf-8"

    def __init__(self, kept):
        self._kept = kept

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        room = STDOUT_CAP - self._kept[1]
        if room > 0:
            self._kept[0].append(s[:room])
            self._kept[1] += min(len(s), room)
        return len(s)


def _bootstrap(args):
    """Everything that must happen before the first line of student code."""
    runtime = os.path.dirname(os.path.abspath(__file__))
    stdlib = [p for p in sys.path if p and os.path.abspath(p) != runtime]
    sys.path[:] = [runtime, args["pkgs"], *stdlib]
    sys.dont_write_bytecode = True
    import protocol  # noqa: F401  (and numpy through it), before the submission is on the path

    if args["lane"] is not None:
        import lane  # noqa: F401  (likewise)
    if os.path.isdir(os.path.join(runtime, "grader")):
        # the engine's copy, for "trajectory" (likewise: no grader.py of a submission shadows it)
        import grader.playground.calls  # noqa: F401

    failed = _apply_limits(args["limits"].get("rlimits", {}))
    if hasattr(os, "setsid"):
        try:  # leave the launcher's process group: kill(0, ...) then reaches only our own
            os.setsid()
        except OSError:
            pass  # already a session leader (launched directly with start_new_session)
    _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS
    _prctl(4, 0)  # PR_SET_DUMPABLE 0: no core dumps, no ptrace by same-user processes
    kept = [[], 0]
    sys.stdout = sys.stderr = Capture(kept)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
    except OSError:
        pass  # fds 1 and 2 are already /dev/null (the grader passes DEVNULL)
    os.chdir(args["work"])
    sys.path.insert(0, args["staged"])
    return kept, failed


def _apply_limits(rlimits):
    failed = []
    if os.name != "posix":
        return sorted(rlimits)
    import resource

    for name, (soft, hard) in sorted(rlimits.items()):
        try:
            which = getattr(resource, name)
            _, current_hard = resource.getrlimit(which)
            if current_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, current_hard), min(hard, current_hard)
            resource.setrlimit(which, (soft, hard))
        except (AttributeError, ValueError, OSError):
            failed.append(name)
    return failed


def _prctl(option, value):
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # best effort


def _in_staged(path, staged):
    return os.path.abspath(path).startswith(staged + os.sep)


def _report(exc, staged):
    """A plain description of `exc`: kind, type, message and the submission's frames."""
    try:
        frames = []
        for frame, line in traceback.walk_tb(exc.__traceback__):
            path = frame.f_code.co_filename
            if _in_staged(path, staged):
                frames.append([_text(os.path.relpath(path, staged)), line,
                               _text(frame.f_code.co_name)])
        if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
            if _in_staged(exc.filename, staged):
                frames.append([_text(os.path.relpath(exc.filename, staged)), exc.lineno,
                               "<module>"])
        kind, detail = "exception", ""
        if isinstance(exc, _Hung):
            kind, detail = "hung", _text(exc.args[0] if exc.args else "", 200)
        elif isinstance(exc, MemoryError):
            kind = "memory"
        elif isinstance(exc, SystemExit):
            kind, detail = "exit", _text(repr(exc.code) if exc.code is not None else "", 200)
        elif isinstance(exc, KeyboardInterrupt):
            kind = "interrupt"
        return {"kind": kind, "type": _text(type(exc).__name__, 200),
                "message": _text(exc), "frames": frames[-50:], "detail": detail}
    except BaseException:
        return {"kind": "exception", "type": "Exception", "message": "<unreadable exception>",
                "frames": [], "detail": ""}
    finally:
        try:
            exc.__traceback__ = None  # drop the frames (and any huge locals) now
        except BaseException:
            pass


def _missing(message):
    return {"kind": "missing", "type": "MissingFunction", "message": message, "frames": [],
            "detail": ""}


def _import(name, staged, modules):
    try:
        module = importlib.import_module(name)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, MemoryError: all reported
        _restore_builtins()
        return {"error": _report(exc, staged)}
    _restore_builtins()
    try:
        where = os.path.abspath(getattr(module, "__file__", None) or "/")
        if os.path.relpath(where, staged) not in (f"{name}.py", os.path.join(name, "__init__.py")):
            return {"error": _missing(f"{name} is not a file of the submission")}
        modules[name] = module
        return {"ok": None}
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, MemoryError: all reported
        return {"error": _report(exc, staged)}


def _rng_or_value(value):
    """A Generator cannot cross the wire: {"__rng__": "pcg64", "seed": n} stands for
    numpy.random.default_rng(n), built here for the student's function."""
    if type(value) is dict and set(value) == {"__rng__", "seed"} and value["__rng__"] == "pcg64":
        import numpy

        return numpy.random.default_rng(value["seed"])
    return value


def _call(spec, staged, modules):
    caught = None
    if spec.get("warnings"):
        outcome, value, caught = _invoke_watching(spec, staged, modules)
    else:
        outcome, value = _invoke(spec["module"], spec["function"], spec["args"],
                                 spec["kwargs"], staged, modules)
    _restore_builtins()
    if outcome == "error":
        return {"error": value}
    if caught is not None:
        return {"ok": [value, caught]}
    return {"ok": [value, spec["args"]] if spec.get("return_args") else value}


_MAX_WARNINGS = 10  # as many as the grader keeps (outcomes.MAX_WARNINGS)


def _invoke_watching(spec, staged, modules):
    """_invoke, and the warnings the call raised ("RuntimeWarning: overflow encountered
    in exp"), under numpy's default error settings: a contract's "no overflow
    warning" is about the function, not about a global numpy.seterr elsewhere."""
    import warnings

    import numpy

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with numpy.errstate(over="warn", divide="warn", invalid="warn"):
            outcome, value = _invoke(spec["module"], spec["function"], spec["args"],
                                     spec["kwargs"], staged, modules)
    texts = [_text(getattr(w.category, "__name__", "Warning")) + ": " + _text(w.message)
             for w in caught[:_MAX_WARNINGS]]
    return outcome, value, texts


def _invoke(module_name, function_name, args, kwargs, staged, modules):
    """("ok", value) or ("error", report). The caller restores builtins afterwards."""
    try:
        module = modules.get(module_name)
        function = getattr(module, function_name, None) if module is not None else None
        if not callable(function):
            return "error", _missing(f"{module_name}.{function_name} is not a function")
        args = [_rng_or_value(a) for a in args]
        kwargs = {k: _rng_or_value(v) for k, v in kwargs.items()}
        _CALL_STARTED[0] = time.monotonic()
        return "ok", function(*args, **kwargs)
    except BaseException as exc:
        _restore_builtins()
        return "error", _report(exc, staged)
    finally:
        _CALL_STARTED[0] = None
        _end_strays()


def _trajectory(request, staged, modules, problems):
    """Train the grader's stack of runs with the student's functions, here, with no
    round trip per step; the states at every epoch boundary go back, for the grader
    to recompute and compare (it takes no number from here unverified)."""
    try:
        import warnings

        import numpy

        from grader.playground import calls

        # The engine ignores floating-point errors, and that setting is still on while
        # a student's function runs. It changes no value; it changes what happens only
        # for a submission that made such errors raise (numpy.seterr, a warnings
        # filter): its functions then run under its own setting, as across the socket.
        own = numpy.geterr()
        exact = all(v in ("ignore", "warn") for v in own.values()) and not any(
            f[0] == "error" and issubclass(RuntimeWarning, f[2]) for f in warnings.filters)

        def call(module_name, function_name, args):
            function = getattr(modules.get(module_name), function_name, None)
            _CALL_STARTED[0] = time.monotonic()
            try:
                if not callable(function):
                    raise TypeError(f"{module_name}.{function_name} is not a function")
                if exact:
                    return function(*args)
                with numpy.errstate(**own):
                    return function(*args)
            except BaseException:
                _restore_builtins()
                raise calls.Failed from None
            finally:
                _CALL_STARTED[0] = None
                _end_strays()

        return {"ok": calls.record_trajectory(request, call, problems)}
    except BaseException as exc:
        _restore_builtins()
        return {"error": _report(exc, staged)}


def _unsendable(value, exc):
    if isinstance(exc, MemoryError):
        return {"kind": "memory", "type": "MemoryError", "message": "while sending the value",
                "frames": [], "detail": ""}
    match = _UNSENDABLE.match(str(exc))
    return {"kind": "encode", "type": "EncodeError", "message": _text(exc),
            "frames": [], "detail": match.group(1) if match else ""}


def _send_reply(sock, reply, limits):
    import protocol

    refused = (protocol.EncodeError, MemoryError, RecursionError)
    try:
        return protocol.send_message(sock, reply, limits=limits)
    except refused:
        pass
    results = reply["results"]
    for i, result in enumerate(results):  # find the values that cannot be sent
        if "ok" in result:
            try:
                protocol.encode(result["ok"], limits=limits)
            except refused as exc:
                results[i] = {"error": _unsendable(result["ok"], exc)}
    try:
        return protocol.send_message(sock, reply, limits=limits)
    except refused as exc:  # each fits, not all together
        for i, result in enumerate(results):
            if "ok" in result:
                results[i] = {"error": _unsendable(result["ok"], exc)}
        return protocol.send_message(sock, reply, limits=limits)


def _end_strays():
    """Kill every other process of the pid namespace: a call is a computation, and
    nothing it started outlives it (no spinner left to slow the next calls, no
    daemon holding a slot of the process limit). Only as the namespace's init,
    where kill(-1) reaches the namespace alone (a forked child passing here is not)."""
    if os.getpid() != 1:
        return
    try:
        os.kill(-1, 9)
    except OSError:
        return  # none there (the usual case: one failed system call)
    while True:  # as init we reap them all, orphans included: zombies hold pids too
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except OSError:
            continue


def serve_lane(lane_area, doorbell, staged, modules, kept, limits, me, last):
    """Answer calls through the shared-memory lane until the grader says END
    (True: back to the socket) or is gone (False). `last` is the request number
    read before saying yes to the lane: the grader writes the next one after."""
    import lane

    slots = lane_area.slots
    while True:
        try:
            last = lane.wait_for(slots, lane.REQUEST_SEQ, last, lane.WORKER_ASLEEP, doorbell)
            calls = lane.read_request(lane_area.request, slots[lane.REQUEST_LEN], limits)
        except (EOFError, OSError, lane.LaneError):
            return False
        outcomes = []
        if calls is not None:
            for module_name, function_name, args in calls:
                outcomes.append(_invoke(module_name, function_name, args, {}, staged, modules))
            _restore_builtins()
            if os.getpid() != me:  # a forked child of the submission: not ours to reply
                os._exit(0)
            kept[0].clear()  # nothing printed during a lane call reaches the grader
            kept[1] = 0
        slots[lane.REPLY_LEN] = lane.write_reply(lane_area.reply, outcomes, _unsendable)
        slots[lane.REPLY_SEQ] = last
        lane.ring(slots, lane.GRADER_ASLEEP, doorbell)
        del outcomes
        if calls is None:
            return True


def serve(sock, staged, kept, limits, lane_area=None, doorbell=None):
    import protocol

    modules = {}
    problems = {}  # the training's data, kept between its blocks
    me = os.getpid()
    while True:
        try:
            request = protocol.recv_message(sock, limits=limits)
        except protocol.ProtocolError:  # the grader is gone (or confused): stop
            return
        op = request.get("op") if isinstance(request, dict) else None
        if op == "import":
            results = [_import(name, staged, modules) for name in request["modules"]]
            _end_strays()
        elif op == "call":
            results = [_call(spec, staged, modules) for spec in request["calls"]]
        elif op == "disable":
            results = _disable(request, modules)
        elif op == "trajectory":
            results = [_trajectory(request, staged, modules, problems)]
            _restore_builtins()
        elif op == "lane" and lane_area is not None:
            import lane

            results = []
            last_request = lane_area.slots[lane.REQUEST_SEQ]  # before the reply goes out
        else:
            return
        if os.getpid() != me:  # a child the submission forked came back here: not ours to reply
            os._exit(0)
        text = _text("".join(kept[0]), STDOUT_CAP)
        kept[0].clear()
        kept[1] = 0
        try:
            _send_reply(sock, {"id": request["id"], "results": results, "stdout": text}, limits)
        except protocol.ProtocolError:
            return
        del results
        if op == "lane" and not serve_lane(lane_area, doorbell, staged, modules, kept,
                                           limits, me, last_request):
            return


def _parse(argv):
    args = dict(zip(argv[0::2], argv[1::2], strict=True))
    return {"fd": args.get("--fd"), "lane": args.get("--lane"),
            "doorbell": args.get("--doorbell"), "staged": os.path.abspath(args["--staged"]),
            "pkgs": args["--pkgs"], "work": args["--work"], "limits": json.loads(args["--limits"]),
            "watch": args.get("--watch"), "where": args.get("--where")}


def _watch(watch, where, staged):
    """The watching thread (see the module doc). As its pid namespace's init this process
    takes every process of the namespace with it when it exits (the kernel kills
    them); elsewhere it kills its own session's process group. As init it also dies
    with `unshare`: a parent-death signal set here, after setpriv's credential
    change, which clears the one `--kill-child` set."""
    import select
    import signal
    import threading

    if os.getpid() == 1:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    asker = socket.socket(fileno=where) if where is not None else None
    main = threading.main_thread().ident

    def end():
        if os.getpid() != 1:
            try:
                os.killpg(0, signal.SIGKILL)  # ourselves included
            except OSError:
                pass
        os._exit(75)

    def run():
        fds = [fd for fd in (watch, where) if fd is not None]
        try:
            while True:
                ready, _, _ = select.select(fds, [], [])
                if watch in ready and not os.read(watch, 1):
                    end()  # nobody writes; end of file: the grader is gone
                if where in ready:
                    if not asker.recv(16):
                        fds.remove(where)
                        continue
                    started = _CALL_STARTED[0]
                    answer = {"frames": _where(main, staged),
                              "in_call": None if started is None else time.monotonic() - started}
                    asker.sendall(json.dumps(answer).encode() + b"\n")
        except BaseException:  # a descriptor closed or replaced under us: stop
            end()

    threading.Thread(target=run, name="hwgrade-watch", daemon=True).start()


def _where(thread_id, staged):
    """[[module, function], ...]: the submission's module-level functions on the
    stack of thread `thread_id`, innermost first."""
    frame = sys._current_frames().get(thread_id)
    found = []
    while frame is not None and len(found) < 16:
        code = frame.f_code
        if _in_staged(code.co_filename, staged):
            name = os.path.relpath(code.co_filename, staged)
            module = name[:-3] if name.endswith(".py") and os.sep not in name else None
            if module is not None:
                function = getattr(sys.modules.get(module), code.co_name, None)
                if getattr(function, "__code__", None) is code:
                    found.append([module, code.co_name])
        frame = frame.f_back
    return found


def _open_channel(args):
    if args["fd"] is not None:
        return socket.socket(fileno=int(args["fd"]))
    blob = sys.stdin.buffer.read()  # Windows: a socket.share() blob from the grader
    return socket.fromshare(blob)


def main(argv):
    args = _parse(argv)
    if args["watch"] is not None or args["where"] is not None:
        _watch(*(int(args[k]) if args[k] is not None else None for k in ("watch", "where")),
               args["staged"])
    sock = _open_channel(args)
    kept, failed = _bootstrap(args)
    import protocol

    limits = protocol.Limits(**args["limits"].get("protocol", {}))
    lane_area = doorbell = None
    if args["lane"] is not None:
        import lane

        lane_area = lane.Area(int(args["lane"]), args["limits"]["lane_capacity"])
        doorbell = socket.socket(fileno=int(args["doorbell"]))
    protocol.send_message(sock, {"op": "ready", "failed": failed}, limits=limits)
    serve(sock, args["staged"], kept, limits, lane_area, doorbell)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BaseException:
        os._exit(70)
    os._exit(0)  # skip atexit handlers and thread joins the submission may have set up
