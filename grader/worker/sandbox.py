"""How the worker process is launched on this platform, and what that protects.

On Linux, when `unshare` works (as root, or with unprivileged user namespaces),
the worker runs in its own pid, network, IPC and mount namespaces, sees a
read-only file system without the machine's private places, and (as root) runs
as nobody without capabilities: see namespace.py. Processes are capped by a pids
cgroup (root, cgroup.py) or RLIMIT_NPROC (not root). Where none of this exists
(macOS, Windows, containers without namespaces) the worker is a plain subprocess
in its own session with resource limits where `resource` exists, and
`Protections.notes` says what is not protected. A missing protection is
recorded, never a reason to fail.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from grader.worker import namespace
from grader.worker.cgroup import WorkerCgroup, cpu_roots_exist, pids_roots

_LINUX = sys.platform.startswith("linux")
_WINDOWS = os.name == "nt"
_KEEPER = Path(__file__).with_name("keeper.py")
_KEEPER_SECONDS = 3.0  # for the keeper to empty and remove the cgroups before we do


@dataclass(frozen=True)
class Protections:
    """Which protections a launched worker has; `notes` explain what is missing."""

    own_session: bool = False  # its own session / process group, killed as a whole
    rlimits: bool = False  # address space, CPU, file size, open files, no core dumps
    no_network: bool = False  # empty network namespace
    pid_namespace: bool = False  # sees and signals only its own processes
    hidden_paths: bool = False  # course files, homes, temp dirs, sockets not visible
    read_only_files: bool = False  # can write nothing but its private working directory
    unprivileged_user: bool = False  # runs as nobody: owns no file, reads only public ones
    process_limit: bool = False  # fork bombs contained
    cpu_limit: bool = False  # the worker's processes share one CPU quota, all together
    dies_with_grader: bool = False  # its whole tree ends when the grader does, even by SIGKILL
    non_dumpable: bool = False  # the grader cannot be ptraced or read via /proc/PID/mem
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data

    def with_note(self, note: str, **changes: bool) -> Protections:
        return replace(self, notes=(*self.notes, note), **changes)


@functools.lru_cache(maxsize=1)
def make_grader_non_dumpable() -> bool:
    """PR_SET_DUMPABLE 0 for the grader process itself (Linux; once)."""
    if not _LINUX:
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def process_rlimit(max_processes: int) -> int | None:
    """RLIMIT_NPROC for a worker of a non-root user: the user's tasks now + the limit."""
    if not _LINUX or _is_root():
        return None  # root: not enforced (a cgroup is used); elsewhere: cannot count
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(entry.path).st_uid == uid:
                    count += len(os.listdir(os.path.join(entry.path, "task")))
            except OSError:
                continue
    return count + max_processes


@dataclass
class Sandboxed:
    """One launched worker: its process (the keeper, where there is one), its cgroup,
    the pipe it watches and what protects it."""

    process: subprocess.Popen
    protections: Protections
    cgroup: WorkerCgroup | None = None
    namespaced: bool = False  # the worker is its pid namespace's init: all dies with it
    watch: int | None = None  # our end of the pipe whose end of file stops the worker
    cpu_seconds: float | None = None  # CPU time of the worker, known once reaped
    _released: bool = field(default=False, repr=False)

    def alive(self) -> bool:
        return not _exited(self.process)

    def signal_all(self, sig: int) -> None:
        if _WINDOWS:
            self.process.kill()  # TerminateProcess: no process groups to speak of
            return
        if self.process.returncode is None:  # the zombie keeps the group id ours
            try:
                os.killpg(self.process.pid, sig)
            except OSError:
                pass

    def kill(self) -> None:
        """SIGKILL the worker's processes now, from any thread; release() still reaps."""
        if self.cgroup is not None:
            self.cgroup.kill_all()  # not the keeper: it cleans up and exits after them
        else:  # in a namespace `unshare` goes, and its child, the init, dies with it
            self.signal_all(getattr(signal, "SIGKILL", 9))

    def wait_exit(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the process to exit, without reaping it."""
        end = time.monotonic() + timeout
        while not _exited(self.process):
            if time.monotonic() >= end:
                return False
            time.sleep(0.005)
        return True

    def stop(self, grace: float) -> None:
        """SIGTERM to the whole group, `grace` seconds, then SIGKILL to everything.

        In a namespace SIGTERM would change nothing (`unshare --fork` ignores it and
        the namespace's init ignores signals it has no handler for): SIGKILL at once.
        """
        if self.alive() and not self.namespaced:
            self.signal_all(getattr(signal, "SIGTERM", 15))
            self.wait_exit(grace)
        self.release()

    def release(self) -> int:
        """Kill whatever is left, reap, remove the cgroup; return the exit status.

        Closing the watched pipe tells the keeper and the worker to end everything;
        the grader kills the cgroup too, not to wait for them, and takes over the
        keeper's part if the keeper has not finished in time."""
        if not self._released:
            self._released = True
            if self.watch is not None:
                os.close(self.watch)
                self.watch = None
            if self.cgroup is None:
                self.signal_all(getattr(signal, "SIGKILL", 9))
            else:
                self.cgroup.kill_all()
            before = _children_cpu()
            try:
                self.process.wait(timeout=_KEEPER_SECONDS if self.cgroup is not None else None)
            except subprocess.TimeoutExpired:
                self.signal_all(getattr(signal, "SIGKILL", 9))
                self.process.wait()
            after = _children_cpu()
            if before is not None and after is not None:
                self.cpu_seconds = after - before
            if self.cgroup is not None:
                self.cgroup.remove()
        return self.process.returncode


def _exited(process: subprocess.Popen) -> bool:
    if process.returncode is not None:
        return True
    if not hasattr(os, "waitid") or not hasattr(os, "WNOWAIT"):
        return process.poll() is not None
    try:  # WNOWAIT: leave the zombie, so that its pid (= our process group) stays ours
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _children_cpu() -> float | None:
    try:
        import resource
    except ImportError:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def launch(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    view: namespace.View,
    private_root: Path,
    pass_fds: Sequence[int] = (),
    max_processes: int,
    nproc_rlimit: bool,
    unprivileged: bool = True,
    cpus: float | None = 1.0,
) -> Sandboxed:
    """Start `argv` (the worker command) as protected as this platform allows.

    `view.keep` must list every path the worker reads (interpreter, packages,
    `private_root`, which holds its runtime, submission copy and working dir).
    `unprivileged=False` keeps uid 0 (without capabilities) even where nobody works.
    `cpus` caps the CPU of the worker's whole process tree where a cgroup can.
    The command gets `--watch FD` appended: the read end of a pipe only the grader
    holds open (Sandboxed.watch), whose end of file means "stop now".
    """
    mode, why_not = namespace.probe()
    cgroup = WorkerCgroup.create(max_processes, cpus) if _LINUX and _is_root() else None
    uid = namespace.NOBODY if mode is not None and mode.unprivileged and unprivileged else None
    watched, watch = os.pipe() if not _WINDOWS else (None, None)
    if watched is not None:  # the worker ends itself at its end of file (server.py)
        argv = [*argv, "--watch", str(watched)]
        pass_fds = (*pass_fds, watched)
    if mode is not None:
        if uid is not None:
            os.chown(private_root, uid, uid)  # 0700: only the worker (and root) enter
        hidden = (*view.hidden, *namespace.default_hidden())
        shell = namespace.script(replace(view, hidden=hidden), argv, mode, uid=uid)
        command = namespace.command(mode, shell)
    else:
        command = list(argv)
    if cgroup is not None:  # the keeper starts the worker inside the cgroups
        command = [os.path.realpath(sys.executable), "-I", "-S", str(_KEEPER), str(watched),
                   *map(str, cgroup.folders), "--", *command]
    kwargs: dict[str, object] = {}
    if _WINDOWS:
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs.update(start_new_session=True, pass_fds=tuple(pass_fds))
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE if _WINDOWS else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=view.work,
            close_fds=True, **kwargs,  # type: ignore[arg-type]
        )
    except OSError:
        if cgroup is not None:
            cgroup.remove()
        if watch is not None:
            os.close(watch)
        raise
    finally:
        if watched is not None:
            os.close(watched)
    if _LINUX:
        try:  # `unshare` re-raises the worker's fatal signal: no core file of it either
            import resource

            resource.prlimit(process.pid, resource.RLIMIT_CORE, (0, 0))
        except (OSError, AttributeError):
            pass
    protections = _protections(mode, why_not, cgroup is not None or nproc_rlimit,
                               uid is not None, cpu_limit=cgroup is not None and cgroup.cpu_limited)
    return Sandboxed(process, protections, cgroup, namespaced=mode is not None, watch=watch)


def planned_protections(max_processes: int) -> Protections:
    """What `launch` would give, without launching."""
    mode, why_not = namespace.probe()
    cpu_limit = False
    if _LINUX and _is_root():
        limited = bool(pids_roots())
        cpu_limit = cpu_roots_exist()
    else:
        limited = process_rlimit(max_processes) is not None
    return _protections(mode, why_not, limited, mode is not None and mode.unprivileged,
                        cpu_limit=cpu_limit)


def _protections(
    mode: namespace.Mode | None, why_not: str, process_limit: bool, unprivileged: bool,
    cpu_limit: bool = False,
) -> Protections:
    notes: list[str] = []
    rlimits = not _WINDOWS
    if not rlimits:
        notes.append("no resource limits on Windows: memory and CPU time are not capped, "
                     "and processes started by student code are not killed with it")
    if mode is None:
        notes.append(f"no sandbox namespaces ({why_not}): student code can use the network, "
                     "see and signal other processes of this user (the grader included), "
                     "read every file this user can read and write every file this user can "
                     "write; grade hidden checks on a Linux machine")
    else:
        if why_not:
            notes.append(why_not)
        if not unprivileged:
            notes.append("the worker runs as your own user (uid 0 without capabilities when "
                         "root): it can read files of that user outside the hidden places")
    if not process_limit:
        notes.append("no process limit: a fork bomb is stopped only by the call timeout")
    if process_limit and not cpu_limit:
        notes.append("no CPU quota for the worker's processes as a whole: each has its own "
                     "CPU time limit, so forked spinners slow the machine until the call "
                     "timeout")
    if mode is None and not _WINDOWS:
        notes.append("processes the student's code starts in a session of their own may "
                     "outlive the grading if the grader itself is killed")
    non_dumpable = make_grader_non_dumpable()
    if not non_dumpable and _LINUX:
        notes.append("the grader process could not be made non-dumpable")
    return Protections(
        own_session=True,
        rlimits=rlimits,
        no_network=mode is not None,
        pid_namespace=mode is not None,
        hidden_paths=mode is not None,
        read_only_files=mode is not None and mode.read_only,
        unprivileged_user=unprivileged,
        process_limit=process_limit,
        cpu_limit=cpu_limit,
        dies_with_grader=mode is not None,
        non_dumpable=non_dumpable,
        notes=tuple(notes),
    )
