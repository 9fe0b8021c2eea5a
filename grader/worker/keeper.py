"""The worker's keeper (Linux, as root): nothing of a worker outlives its grader.

    python -I -S keeper.py WATCH_FD CGROUP_DIR [CGROUP_DIR...] -- unshare ... server.py ...

The keeper is the parent of `unshare`, outside the worker's namespaces and
cgroups, and runs only the grader's code. It starts the command inside the cgroups, then waits for
whichever comes first:

- the command exits (the worker ended, crashed or was killed);
- WATCH_FD, the read end of a pipe whose write end only the grader holds, reaches
  end of file: the grader closed it, or died, SIGKILL included (the kernel closes
  a dead process's files, which no signal handler could do).

Then it kills every process in the worker's cgroups (forked, setsid'd and
daemonized descendants included: none can leave a cgroup, and a fork bomb is
frozen at its pids limit first), removes the cgroup folders and exits with the
command's status (re-raising the signal that ended it), so that the grader reads
the worker's fate from the keeper as it would from `unshare`.

Standard library only, imported with -I -S: it runs before, and apart from,
anything of the submission.
"""

import os
import select
import signal
import sys
import time

KILL_SECONDS = 5.0  # a fork bomb at its pids limit is emptied well within this


class _Stop(Exception):
    pass


def _stop(signum, frame):
    raise _Stop


def _write(path, value):
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError:
        pass


def _pids(folder):
    try:
        with open(os.path.join(folder, "cgroup.procs")) as f:
            return [int(line) for line in f.read().split()]
    except (OSError, ValueError):
        return []


def kill_cgroups(folders, seconds=KILL_SECONDS):
    """SIGKILL everything in `folders` until they are empty: True when they are."""
    for folder in folders:
        _write(os.path.join(folder, "pids.max"), "0")  # no more forks while we kill
        _write(os.path.join(folder, "cgroup.kill"), "1")  # cgroup v2: the kernel does it all
    end = time.monotonic() + seconds
    while True:
        left = [pid for folder in folders for pid in _pids(folder)]
        if not left:
            return True
        if time.monotonic() > end:
            return False
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002)


def remove_cgroups(folders, seconds=2.0):
    end = time.monotonic() + seconds
    for folder in folders:
        while True:
            try:
                os.rmdir(folder)
                break
            except FileNotFoundError:
                break
            except OSError:  # EBUSY until the last killed task is released
                if time.monotonic() > end:
                    break
                time.sleep(0.002)


def _wait_for_either(pid, watch):
    """Block until the child exits or the watched pipe ends (or a SIGTERM)."""
    poller = select.poll()
    poller.register(watch, select.POLLIN | select.POLLHUP | select.POLLERR)
    try:
        child = os.pidfd_open(pid)
    except (AttributeError, OSError):  # kernel < 5.3: look at the child now and then
        child = None
    else:
        poller.register(child, select.POLLIN)
    while True:
        if poller.poll(None if child is not None else 100):
            return
        if child is None and os.waitpid(pid, os.WNOHANG) != (0, 0):
            return


def main(argv):
    split = argv.index("--")
    watch, folders, command = int(argv[0]), argv[1:split], argv[split + 1:]
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides; its pipe tells us
    pid = os.fork()
    if pid == 0:
        try:  # the watched pipe stays open: the worker watches it too
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            for folder in folders:  # before any student code: all it starts is inside
                with open(os.path.join(folder, "cgroup.procs"), "w") as f:
                    f.write("0")
            os.execv(command[0], command)
        finally:
            os._exit(127)
    status = None
    try:
        _wait_for_either(pid, watch)
    except _Stop:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the cleanup is not interrupted
    kill_cgroups(folders)
    try:
        os.kill(pid, signal.SIGKILL)  # `unshare` (its child, the worker, dies with it)
    except OSError:
        pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 0
    kill_cgroups(folders, 1.0)  # anything that raced the first sweep
    remove_cgroups(folders)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
