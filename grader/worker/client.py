"""The grader's side of the student worker: start it, call into it, judge what comes back.

    with Worker(staged_dir, ["activations"]) as worker:
        y = worker.call("activations", "sigmoid", x)          # value, or raises
        outcomes = worker.call_many([Call("activations", "relu", (x,)), ...])
        with worker.deadline(5.0):                             # per-check time limit
            ...

Every failure of the student's code is a StudentCodeError (errors.py). The
worker is started lazily, restarted after it dies or is killed, and imports
each module once per start; a module whose import failed fails every later
call the same way, without paying its timeout again. Everything the worker
sends is plain data (protocol.decode), checked here field by field: nothing
is evaluated or unpickled. Not thread-safe: one Worker per thread.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.worker import lane, namespace, outcomes, protocol, sandbox
from grader.worker.errors import (
    BudgetExhausted,
    Interrupted,
    StudentCodeError,
    WorkerStartError,
)
from grader.worker.hung import HungFunctions
from grader.worker.keeper import FORK_LIMIT_EXIT
from grader.worker.outcomes import Lost
from grader.worker.sandbox import Protections

_HERE = Path(__file__).resolve().parent
_WHERE_SECONDS = 1.0  # for a worker that ran out of time to say where it is
_WINDOWS = os.name == "nt"

Outcome = Any  # the returned value, or the StudentCodeError instance (not raised)


@dataclass(frozen=True)
class WorkerLimits:
    call_timeout: float = 10.0  # s per call (a batch of n calls gets n times this)
    import_timeout: float = 20.0  # s per module import
    submission_budget: float = 300.0  # s of wall clock for everything this worker does
    memory_mib: int = 1024  # address space
    cpu_seconds: int = 120  # per worker process
    max_processes: int = 64
    cpus: float = 1.0  # CPUs the worker's whole process tree shares (a cgroup quota)
    max_file_mib: int = 16
    max_open_files: int = 64
    allowed_packages: tuple[str, ...] = ("numpy",)
    max_message_bytes: int = protocol.DEFAULT_LIMITS.max_message_bytes
    kill_grace: float = 0.5  # s between SIGTERM and SIGKILL
    lane_mib: int = 16  # each of the lane's request and reply areas (0: no lane)

    def protocol_limits(self) -> protocol.Limits:
        return protocol.Limits(max_message_bytes=self.max_message_bytes)


@dataclass(frozen=True)
class Call:
    """One call into the submission. With return_args=True the outcome is
    (result, [the positional arguments as the function left them]): the worker holds
    copies, so this is how the grader sees an in-place modification. With
    warnings=True it is (result, [the warnings the call raised, as text]): the
    student's word (the worker saw them), which is all a check of warnings can have."""

    module: str
    function: str
    args: Sequence[object] = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)
    return_args: bool = False
    warnings: bool = False

    def __post_init__(self) -> None:
        if self.return_args and self.warnings:
            raise ValueError("a call returns its arguments or its warnings, not both")

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.function}"


@dataclass(frozen=True)
class WorkerStats:
    round_trips: int = 0
    wait_seconds: float = 0.0  # waiting on the worker: starts, imports, calls
    restarts: int = 0


@dataclass
class _Lane:
    """The session's shared-memory lane (lane.py) and its doorbell."""

    area: lane.Area
    doorbell: socket.socket
    seq: int = 0
    open: bool = False  # the worker serves the lane (not the socket) right now

    def close(self) -> None:
        self.doorbell.close()
        self.area.close()


@dataclass
class _Session:
    sandboxed: sandbox.Sandboxed
    sock: socket.socket
    lane: _Lane | None = None
    where: socket.socket | None = None  # asks which function the worker is in
    next_id: int = 1
    disabled: set[str] = field(default_factory=set)  # hung functions it has disabled

    def end(self, grace: float) -> None:
        self.sandboxed.stop(grace)
        self.sock.close()
        if self.where is not None:
            self.where.close()
        if self.lane is not None:
            self.lane.close()


class _Resources:
    """What must be released even if the Worker is never closed (weakref.finalize)."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.session: _Session | None = None

    def end_session(self, grace: float) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.end(grace)

    def close(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            try:
                session.sock.settimeout(0.5)
                protocol.send_message(session.sock, {"op": "bye"})
            except (OSError, protocol.ProtocolError):
                pass
            session.sandboxed.wait_exit(0.5)
            session.end(0.0)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


class Worker:
    """A student worker process for one staged submission (see module doc)."""

    def __init__(
        self,
        staged_dir: Path,
        modules: Sequence[str],
        *,
        limits: WorkerLimits = WorkerLimits(),  # noqa: B008 (frozen)
        hidden_paths: Sequence[Path] = (),
        python: str = sys.executable,
        hung: HungFunctions | None = None,
    ) -> None:
        self.staged_dir = Path(staged_dir).resolve()
        self.hung = hung if hung is not None else HungFunctions()  # shared with siblings
        self.modules = tuple(modules)
        self.limits = limits
        self.hidden_paths = tuple(Path(p) for p in hidden_paths)
        self.python = python
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.close)
        self._failed: dict[str, dict[str, object]] = {}  # module -> reason {code, params}
        self._deadlines: list[tuple[float, float]] = []
        self._budget_left = limits.submission_budget
        self._stats = WorkerStats()
        self._launches = 0
        self._protections: Protections | None = None
        self._unprivileged = True  # run as nobody where possible; off if that cannot start
        self._closed = False
        self._lane_wanted = 0  # depth of `with worker.fast_lane()` blocks
        self._training = False  # a trajectory() is under way (interrupt() may end it)
        self._interrupted = False
        self.last_stdout = ""  # what the student's code printed in the last round trip

    # --- public ---------------------------------------------------------------------------

    def call(self, module: str, function: str, /, *args: object, **kwargs: object) -> object:
        (outcome,) = self.call_many([Call(module, function, args, kwargs)])
        if isinstance(outcome, StudentCodeError):
            raise outcome
        return outcome

    def call_many(self, calls: Sequence[Call]) -> list[Outcome]:
        """Run the calls in order in one round trip; each outcome is a value or an error."""
        calls = list(calls)
        for c in calls:
            if c.module not in self.modules:
                raise ValueError(f"module {c.module!r} is not one of this worker's {self.modules}")
        if not calls:
            return []
        results: list[Outcome] = [None] * len(calls)
        # A hung function fails before any worker is started for it: "at once" must
        # not wait for the restart that follows the kill of the hung worker
        asked = []
        for i, c in enumerate(calls):
            if (why := self.hung.why(c.qualname)) is not None:
                results[i] = outcomes.hung_error(c, c.qualname, why)
            else:
                asked.append(i)
        if not asked:
            return results
        try:
            self._ensure_session()
        except BudgetExhausted as exc:
            for i in asked:
                results[i] = outcomes.error(BudgetExhausted, "budget", calls[i], [calls[i]],
                                            **exc.params)
            return results
        pending = []
        for i in asked:
            c = calls[i]
            if c.module in self._failed:
                results[i] = outcomes.import_error(c, self._failed[c.module])
            else:
                pending.append(i)
        if pending:
            self._disable_hung()
            flight = [calls[i] for i in pending]
            for i, outcome in zip(pending, self._run(flight), strict=True):
                results[i] = outcome
        return results

    def sibling(self) -> Worker:
        """Another worker for the same submission, with the same limits and the budget
        this one has left: for work that runs beside this worker's (its calls then
        happen in a process of their own, in their own order)."""
        limits = replace(self.limits, submission_budget=max(self._budget_left, 0.0))
        return Worker(self.staged_dir, self.modules, limits=limits,
                      hidden_paths=self.hidden_paths, python=self.python, hung=self.hung)

    def trajectory(self, spec: dict, seconds: float) -> tuple[object, dict | None]:
        """The worker's own training of spec's runs with the student's functions
        (server.py's "trajectory" op), waited for at most `seconds`: (its value,
        None), or (None, why there is none: a reason.* message {code, params}).
        Raises Interrupted when interrupt() ended it: ask again."""
        self._interrupted = False
        session = self._res.session
        if session is not None and not session.sandboxed.alive():  # killed between calls
            self._res.end_session(0.0)
        self._close_lane()  # the op goes over the socket
        try:
            self._ensure_session()
        except BudgetExhausted:
            return None, outcomes.import_reason_for_loss(
                Lost("budget", seconds=self.limits.submission_budget), self.limits)
        except WorkerStartError as exc:
            return None, {"code": "reason.protocol", "params": {"detail": str(exc)[:300]}}
        if self._res.session is None:  # no module imported: the calls say why
            return None, {"code": "reason.protocol", "params": {"detail": "no worker"}}
        try:
            self._disable_hung()
            self._training = True
            reply = self._exchange({"op": "trajectory", **spec}, 1, seconds, "timeout")
        except Lost as lost:
            if lost.how == "timeout" and lost.info.get("inside") and self.hung.record(
                    str(lost.info["inside"]), self._timed_out):
                raise Interrupted from None  # again, with the function disabled
            if self._interrupted:
                raise Interrupted from None
            return None, outcomes.import_reason_for_loss(lost, self.limits)
        finally:
            self._training = False
        if self._interrupted:
            raise Interrupted
        (result,) = reply["results"]
        if "error" in result:
            return None, outcomes.import_reason_for_report(result["error"], "", self.limits,
                                                           self.hung)
        return result["ok"], None

    def interrupt(self) -> None:
        """From another thread: end the training under way in this worker, if one is
        (its processes are killed; the owning thread's trajectory() raises
        Interrupted). For a function found hung meanwhile, which the next try
        disables at once."""
        session = self._res.session
        if self._training and session is not None:
            self._interrupted = True
            session.sandboxed.kill()

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Cap every call inside the block: each gets min(call_timeout, time left)."""
        entry = (time.monotonic() + seconds, float(seconds))
        self._deadlines.append(entry)
        try:
            yield
        finally:
            self._deadlines.remove(entry)

    @contextmanager
    def fast_lane(self) -> Iterator[None]:
        """Inside the block, calls without keyword arguments go through shared
        memory (lane.py) where the platform has it: for the thousands of small
        round trips of a training. The same outcomes as without it; nothing the
        student's code prints is kept."""
        self._lane_wanted += 1
        try:
            yield
        finally:
            self._lane_wanted -= 1
            if not self._lane_wanted:
                self._close_lane()

    @property
    def protections(self) -> Protections:
        if self._protections is None:
            return sandbox.planned_protections(self.limits.max_processes)
        return self._protections

    @property
    def stats(self) -> WorkerStats:
        return self._stats

    def close(self) -> None:
        self._closed = True
        self._finalizer()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- starting -------------------------------------------------------------------------

    def _ensure_session(self) -> None:
        if self._closed:
            raise RuntimeError("this Worker is closed")
        while self._res.session is None and any(m not in self._failed for m in self.modules):
            self._launch()
            for module in self.modules:
                if module in self._failed:
                    continue
                if not self._module_exists(module):
                    self._failed[module] = {"code": "reason.not_found", "params": {}}
                    continue
                try:
                    reply = self._exchange({"op": "import", "modules": [module]}, 1,
                                           self.limits.import_timeout, "timeout")
                except Lost as lost:
                    if lost.how == "budget":
                        raise outcomes.budget_error(self.limits) from None
                    self._failed[module] = outcomes.import_reason_for_loss(lost, self.limits)
                    break  # the worker is gone: start another for the remaining modules
                (result,) = reply["results"]
                if "error" in result:
                    self._failed[module] = outcomes.import_reason_for_report(
                        result["error"], module, self.limits)

    def _module_exists(self, module: str) -> bool:
        return (self.staged_dir / f"{module}.py").is_file() or (
            self.staged_dir / module / "__init__.py"
        ).is_file()

    def _launch(self) -> None:
        if self._budget_left <= 0:
            raise outcomes.budget_error(self.limits)
        try:
            protections, failed = self._start()
        except WorkerStartError:
            if not (self._unprivileged and self.protections.unprivileged_user):
                raise
            self._unprivileged = False  # e.g. the interpreter is not readable by nobody
            protections, failed = self._start()
            protections = protections.with_note(
                "the worker could not start as nobody, so it runs as uid 0 without capabilities")
        if failed:
            protections = protections.with_note(
                f"could not apply resource limits {', '.join(failed)}", rlimits=False)
        self._protections = protections
        self._launches += 1
        self._stats = replace(self._stats, restarts=max(0, self._launches - 1))

    def _start(self) -> tuple[Protections, list[str]]:
        """Start a worker and wait for its greeting: (protections, rlimits it failed to set)."""
        root = self._prepare_root()
        work, staged = root / "work", root / "staged"
        for fresh in (work, staged):  # a restart starts from a clean copy
            shutil.rmtree(fresh, ignore_errors=True)
        work.mkdir(mode=0o755)
        _copy_files(self.staged_dir, staged)
        nproc = sandbox.process_rlimit(self.limits.max_processes)
        parent, child = socket.socketpair()
        argv = [os.path.realpath(self.python), "-s", "-S", str(root / "runtime" / "server.py"),
                "--staged", str(staged), "--pkgs", str(root / "pkgs"),
                "--work", str(work), "--limits", json.dumps(self._limits_json(nproc))]
        pass_fds = [] if _WINDOWS else [child.fileno()]
        if not _WINDOWS:
            argv[4:4] = ["--fd", str(child.fileno())]
        where = theirs = None
        if not _WINDOWS:
            where, theirs = socket.socketpair()
            argv[4:4] = ["--where", str(theirs.fileno())]
            pass_fds.append(theirs.fileno())
        fast = self._new_lane()
        if fast is not None:
            worker_bell = fast.pop()
            argv[4:4] = ["--lane", str(fast[0].area.fd), "--doorbell", str(worker_bell.fileno())]
            pass_fds += [fast[0].area.fd, worker_bell.fileno()]
        view = namespace.View(work=work, dev=root / "dev", hidden=self.hidden_paths,
                              keep=self._needed(root), work_mib=4 * self.limits.max_file_mib)
        started = time.monotonic()
        try:
            launched = sandbox.launch(argv, env=self._env(work), view=view, private_root=root,
                                      pass_fds=tuple(pass_fds),
                                      max_processes=self.limits.max_processes,
                                      nproc_rlimit=nproc is not None,
                                      unprivileged=self._unprivileged,
                                      cpus=self.limits.cpus)
            if _WINDOWS:  # no fd inheritance: hand the socket over through stdin
                launched.process.stdin.write(child.share(launched.process.pid))
                launched.process.stdin.close()
        except OSError as exc:
            parent.close()
            if where is not None:
                where.close()
            if fast is not None:
                fast[0].close()
            raise WorkerStartError(f"cannot start the worker: {exc}") from exc
        finally:
            child.close()
            if theirs is not None:
                theirs.close()
            if fast is not None:
                worker_bell.close()
        session = _Session(launched, parent, fast[0] if fast is not None else None, where)
        self._res.session = session
        limit = min(self.limits.import_timeout, self._budget_left)
        try:
            hello = protocol.recv_message(parent, limits=self.limits.protocol_limits(),
                                          deadline=started + limit)
            ready = type(hello) is dict and hello.get("op") == "ready"
            failed = hello.get("failed") if ready else None  # type: ignore[union-attr]
            if type(failed) is not list or not all(type(x) is str for x in failed):
                raise protocol.ProtocolError(f"unexpected greeting {hello!r:.200}")
        except protocol.ProtocolError as exc:
            self._res.end_session(0.0)
            status = session.sandboxed.process.returncode
            raise WorkerStartError(f"the worker did not start ({exc}; exit status {status})"
                                   ) from None
        finally:
            self._spent(started, round_trip=False)
        return launched.protections, failed

    def _new_lane(self) -> list | None:
        """[_Lane, the worker's end of the doorbell], or None without a lane."""
        if not (self.limits.lane_mib and lane.supported()):
            return None
        area = lane.Area.create(self.limits.lane_mib * 2**20)
        os.set_inheritable(area.fd, True)
        mine, theirs = socket.socketpair()
        mine.setblocking(False)
        theirs.set_inheritable(True)
        return [_Lane(area, mine), theirs]

    def _prepare_root(self) -> Path:
        if self._res.root is not None:
            return self._res.root
        root = Path(tempfile.mkdtemp(prefix="hwgrade-worker-"))  # 0700: private
        self._res.root = root
        for name in ("runtime", "pkgs", "dev"):
            (root / name).mkdir(mode=0o755)
            os.chmod(root / name, 0o755)  # whatever the umask: the worker may be nobody
        for name in ("server.py", "protocol.py", "lane.py"):
            shutil.copyfile(_HERE / name, root / "runtime" / name)
            os.chmod(root / "runtime" / name, 0o644)
        # The training engine, for the "trajectory" op: the grader's own code, as a package
        # grader.playground (with an empty grader/__init__.py: nothing else of hwgrade).
        engine = root / "runtime" / "grader" / "playground"
        engine.mkdir(parents=True, mode=0o755)
        (engine.parent / "__init__.py").write_text("")
        for source in sorted((_HERE.parent / "playground").glob("*.py")):
            shutil.copyfile(source, engine / source.name)
        for path in (engine.parent, engine, *engine.parent.rglob("*")):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        for source in _package_paths(self.limits.allowed_packages):
            target = root / "pkgs" / source.name
            try:
                target.symlink_to(source, target_is_directory=source.is_dir())
            except OSError:  # Windows without symlink rights
                if source.is_dir():
                    shutil.copytree(source, target)
                else:
                    shutil.copy2(source, target)
        return root

    def _needed(self, root: Path) -> tuple[Path, ...]:
        """What the worker reads: kept visible inside hidden places (namespace.py)."""
        python_home = Path(os.path.realpath(self.python)).parent.parent
        packages = _package_paths(self.limits.allowed_packages)
        return (root, python_home, Path(sys.base_prefix), *packages)

    def _limits_json(self, nproc: int | None) -> dict[str, object]:
        lim = self.limits
        mib = 2**20
        rlimits = {
            "RLIMIT_AS": [lim.memory_mib * mib] * 2,
            "RLIMIT_CPU": [lim.cpu_seconds, lim.cpu_seconds + 1],  # SIGXCPU, then SIGKILL
            "RLIMIT_FSIZE": [lim.max_file_mib * mib] * 2,
            "RLIMIT_NOFILE": [lim.max_open_files] * 2,
            "RLIMIT_CORE": [0, 0],
        }
        if nproc is not None:
            rlimits["RLIMIT_NPROC"] = [nproc, nproc]
        return {"rlimits": rlimits, "protocol": {"max_message_bytes": lim.max_message_bytes},
                "lane_capacity": lim.lane_mib * 2**20}

    def _env(self, work: Path) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work),
               "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # some CPUs need them to be right
            if name in os.environ:
                env[name] = os.environ[name]
        if _WINDOWS:
            env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return env

    # --- round trips ----------------------------------------------------------------------

    def _run(self, calls: list[Call]) -> list[Outcome]:
        seconds, how, shown = self._allowance(len(calls))
        if seconds <= 0:  # nothing left: do not even send
            lost = Lost(how, seconds=shown)
            return [outcomes.for_loss(lost, c, calls, self.limits) for c in calls]
        session = self._res.session
        fast = session.lane if session is not None else None
        if fast is not None and self._lane_wanted and not any(
                c.kwargs or c.return_args or c.warnings for c in calls):
            try:
                return self._run_lane(fast, calls, seconds, how, shown)
            except lane.FrameTooBig:
                pass  # too big for the shared memory: this one goes over the socket
            except Lost as lost:
                return self._lost_outcomes(lost, calls)
        self._close_lane()
        if self._res.session is None:  # lost while leaving the lane
            lost = Lost("protocol", detail="the worker did not leave the fast lane")
            return [outcomes.for_loss(lost, c, calls, self.limits) for c in calls]
        request = {"op": "call", "calls": [
            {"module": c.module, "function": c.function, "args": list(c.args),
             "kwargs": dict(c.kwargs), "return_args": c.return_args,
             "warnings": c.warnings} for c in calls]}
        try:
            reply = self._exchange(request, len(calls), seconds, how, shown=shown)
        except Lost as lost:
            return self._lost_outcomes(lost, calls)
        self.last_stdout = reply["stdout"]
        return [outcomes.for_result(result, c, self.limits, self.hung)
                for c, result in zip(calls, reply["results"], strict=True)]

    def _lost_outcomes(self, lost: Lost, calls: list[Call]) -> list[Outcome]:
        """The calls' errors. A call that ran out of its own time limit is remembered
        as hung: the function the worker was in, or the one called when it cannot
        tell; one the keeper stopped at the process limit, when it was alone in flight."""
        culprit, why = None, None
        called = {c.qualname for c in calls}
        if lost.how == "timeout":
            inside = lost.info.get("inside")
            culprit = inside if inside is not None else (
                next(iter(called)) if len(called) == 1 else None)
            why = self._timed_out
        elif lost.how == "died" and lost.info.get("status") == FORK_LIMIT_EXIT and (
                len(called) == 1):
            culprit, why = next(iter(called)), {"code": "processes",
                                                "limit": self.limits.max_processes}
        if culprit is not None and why is not None:
            self.hung.record(culprit, why)
        return [outcomes.hung_error(c, culprit, why, calls)
                if culprit is not None and why is not None and culprit != c.qualname
                else outcomes.for_loss(lost, c, calls, self.limits) for c in calls]

    @property
    def _timed_out(self) -> dict:
        return {"code": "timeout", "seconds": self.limits.call_timeout}

    def _disable_hung(self) -> None:
        """Have the worker disable the functions known to hang that it has not yet."""
        session = self._res.session
        if session is None or len(self.hung) == len(session.disabled):
            return
        todo = [name for name in self.hung.names() if name not in session.disabled]
        session.disabled.update(todo)
        functions = [name.split(".", 1) for name in todo
                     if name.split(".", 1)[0] in self.modules]
        if not functions:
            return
        self._close_lane()
        if self._res.session is None:
            return
        try:
            self._exchange({"op": "disable", "functions": functions}, len(functions),
                           self.limits.call_timeout, "timeout")
        except Lost:
            pass  # the worker is gone: the next one disables them at its start

    def _inside(self, min_seconds: float = 0.0) -> str | None:
        """The innermost function of the submission the worker is running now (asked
        of its watching thread, server.py), if it answers at once and the call into the
        submission under way began at least min_seconds ago."""
        session = self._res.session
        if session is None or session.where is None:
            return None
        try:
            session.where.settimeout(_WHERE_SECONDS)
            session.where.sendall(b"?")
            data = b""
            while not data.endswith(b"\n") and len(data) < 8192:
                chunk = session.where.recv(8192)
                if not chunk:
                    return None
                data += chunk
            answer = json.loads(data)
        except (OSError, ValueError):
            return None
        frames = answer.get("frames") if type(answer) is dict else None
        in_call = answer.get("in_call") if type(answer) is dict else None
        if type(frames) is not list or type(in_call) not in (int, float) or (
                in_call < min_seconds):
            return None
        for frame in frames:
            if (type(frame) is list and len(frame) == 2 and all(type(x) is str for x in frame)
                    and frame[0] in self.modules and frame[1].isidentifier()):
                return f"{frame[0]}.{frame[1]}"
        return None

    def _allowance(self, n: int) -> tuple[float, str, float]:
        """(seconds, what runs out, seconds to show) for a round trip of n calls."""
        now = time.monotonic()
        options = [(self.limits.call_timeout * n, "timeout", self.limits.call_timeout * n)]
        if self._deadlines:
            end, total = min(self._deadlines)
            options.append((end - now, "check_time", total))
        options.append((self._budget_left, "budget", self.limits.submission_budget))
        return min(options, key=lambda option: option[0])

    def _exchange(self, request: dict, n: int, seconds: float, how: str,
                  shown: float | None = None) -> dict:
        steps = self._exchange_steps(request, n, seconds, how, shown)
        next(steps)  # sent
        try:
            next(steps)
        except StopIteration as received:
            return received.value
        raise AssertionError("_exchange_steps yields once")

    def _exchange_steps(self, request: dict, n: int, seconds: float, how: str,
                        shown: float | None = None) -> Iterator[None]:
        """A round trip over the socket as a generator: it yields once the request is
        sent, and returns the checked reply (raising Lost) when resumed."""
        session = self._res.session
        assert session is not None
        request["id"] = rid = session.next_id
        session.next_id += 1
        limits = self.limits.protocol_limits()
        started = time.monotonic()
        deadline = started + min(seconds, self._budget_left)
        if self._budget_left < seconds:
            how, shown = "budget", self.limits.submission_budget
        waited = None
        try:
            session.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            protocol.send_message(session.sock, request, limits=limits)
            yield
            waited = time.monotonic()
            session.sock.settimeout(max(deadline - waited, 0.001))
            reply = protocol.recv_message(session.sock, limits=limits, deadline=deadline)
            results = outcomes.check_reply(reply, rid, n)
        except protocol.EncodeError:  # the grader's arguments cannot be sent: its own mistake
            raise
        except (protocol.ProtocolTimeout, TimeoutError):
            # A training makes thousands of calls: only one that has run for half the
            # call limit when the time is up counts as hanging
            inside = self._inside(self.limits.call_timeout / 2 if request["op"] == "trajectory"
                                  else 0.0) if how == "timeout" else None
            self._res.end_session(self.limits.kill_grace)
            raise Lost(how, seconds=seconds if shown is None else shown, inside=inside
                       ) from None
        except protocol.ConnectionClosed as exc:
            raise self._lost_connection(str(exc), expect_death=True) from None
        except protocol.ProtocolError as exc:
            raise self._lost_connection(str(exc), expect_death="truncated" in str(exc)) from None
        except ValueError as exc:  # a well-formed message with the wrong content
            raise self._lost_connection(str(exc), expect_death=False) from None
        finally:
            # The budget pays from the moment the request left (the worker may have
            # worked all along); the statistics count only the time spent waiting.
            self._spent(started, waited=None if waited is None else time.monotonic() - waited)
        return {"id": rid, "results": results, "stdout": reply["stdout"]}

    def _run_lane(self, fast: _Lane, calls: list[Call], seconds: float, how: str,
                  shown: float) -> list[Outcome]:
        if not fast.open:
            self._exchange({"op": "lane"}, 0, seconds, how, shown=shown)
            fast.open = True
        length = lane.write_request(fast.area.request, [(c.qualname, c.args) for c in calls])
        reply = self._lane_exchange(fast, length, len(calls), seconds, how, shown)
        results = [{"ok": value} if kind == "ok" else {"error": value}
                   for kind, value in reply]
        try:
            results = outcomes.check_reply({"id": 0, "results": results, "stdout": ""}, 0,
                                           len(calls))
        except ValueError as exc:
            raise self._lost_connection(str(exc), expect_death=False) from None
        self.last_stdout = ""
        return [outcomes.for_result(result, c, self.limits, self.hung)
                for c, result in zip(calls, results, strict=True)]

    def _lane_exchange(self, fast: _Lane, length: int, n: int, seconds: float, how: str,
                       shown: float | None) -> list:
        slots = fast.area.slots
        started = time.monotonic()
        deadline = started + min(seconds, self._budget_left)
        if self._budget_left < seconds:
            how, shown = "budget", self.limits.submission_budget
        fast.seq += 1
        slots[lane.REQUEST_LEN] = length
        slots[lane.REQUEST_SEQ] = fast.seq  # after the frame: x86 keeps the order
        lane.ring(slots, lane.WORKER_ASLEEP, fast.doorbell)
        try:
            got = lane.wait_for(slots, lane.REPLY_SEQ, fast.seq - 1, lane.GRADER_ASLEEP,
                                fast.doorbell, deadline)
            if got != fast.seq:
                raise lane.LaneError(f"reply {got} to request {fast.seq}")
            return lane.read_reply(fast.area.reply, slots[lane.REPLY_LEN], n,
                                   self.limits.protocol_limits())
        except TimeoutError:
            inside = self._inside() if how == "timeout" else None
            self._res.end_session(self.limits.kill_grace)
            raise Lost(how, seconds=seconds if shown is None else shown, inside=inside
                       ) from None
        except EOFError:
            raise self._lost_connection("the worker closed the lane", expect_death=True
                                        ) from None
        except lane.LaneError as exc:
            raise self._lost_connection(str(exc), expect_death=False) from None
        finally:
            self._spent(started)

    def _close_lane(self) -> None:
        """Send the worker back to the socket (a worker that does not come back is ended)."""
        session = self._res.session
        if session is None or session.lane is None or not session.lane.open:
            return
        session.lane.open = False
        length = lane.write_end(session.lane.area.request)
        try:
            self._lane_exchange(session.lane, length, 0, self.limits.call_timeout, "timeout",
                                None)
        except Lost:
            self._res.end_session(0.0)

    def _lost_connection(self, detail: str, expect_death: bool) -> Lost:
        session = self._res.session
        assert session is not None
        if expect_death and session.sandboxed.wait_exit(1.0):
            self._res.end_session(0.0)
            return Lost("died", status=session.sandboxed.process.returncode,
                         cpu=session.sandboxed.cpu_seconds)
        self._res.end_session(0.0)
        return Lost("protocol", detail=detail[:300])

    def _spent(self, started: float, round_trip: bool = True,
               waited: float | None = None) -> None:
        elapsed = time.monotonic() - started
        self._budget_left -= elapsed
        s = self._stats
        self._stats = replace(s, round_trips=s.round_trips + round_trip,
                              wait_seconds=s.wait_seconds + (
                                  elapsed if waited is None else waited))

def _copy_files(source: Path, target: Path) -> None:
    """Copy the regular files and folders of `source`; never follow a symbolic link."""
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    for entry in os.scandir(source):
        if entry.is_dir(follow_symlinks=False):
            _copy_files(Path(entry.path), target / entry.name)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, target / entry.name, follow_symlinks=False)
            os.chmod(target / entry.name, 0o644)


def _package_paths(names: Sequence[str]) -> list[Path]:
    """The allowed packages' directories, with their .libs and dist-info siblings."""
    paths: list[Path] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ValueError(f"allowed package {name!r} is not installed for the grader")
        if spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations)))
        else:
            source = Path(str(spec.origin))
        paths.append(source)
        parent = source.parent
        paths += [p for p in [parent / f"{name}.libs"] if p.exists()]
        paths += sorted(parent.glob(f"{name}-*.dist-info"))
    return paths
