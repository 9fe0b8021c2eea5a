"""The worker's keeper (Linux, as root): nothing of a worker outlives its grader.

    python -I -S keeper.py WATCH_FD CGROUP_DIR [CGROUP_DIR...] -- unshare ... server.py ...

The keeper is the parent of `unshare`, outside the worker's namespaces and
cgroups, and runs only the grader's code. It starts the command inside the cgroups, then waits for
whichever comes first:

- the command exits (the worker ended, crashed or was killed);
- WATCH_FD, the read end of a pipe whose write end only the grader holds, reaches
  end of file: the grader closed it, or died, SIGKILL included (the kernel closes
  a dead process's files, which no signal handler could do).

It also stops the worker once its processes stay at their limit with forks
refused (the pids cgroup counts them) for two checks in a row: a correct
submission never gets there, and a fork bomb would spin there, all 64 of its
processes, until the call's time ran out; it then exits with FORK_LIMIT_EXIT.

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
FORK_CHECK_MS = 50  # how often the pids limit's refusals are looked at
FORK_LIMIT_EXIT = 86  # our exit status when we stopped a worker at its process limit


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


def _at_limit(folder):
    """Whether `folder`'s processes are at their limit now, with forks refused."""
    try:
        with open(os.path.join(folder, "pids.events")) as f:
            refused = dict(line.split() for line in f if line.strip()).get("max", "0")
        with open(os.path.join(folder, "pids.current")) as f:
            current = int(f.read())
        with open(os.path.join(folder, "pids.max")) as f:
            limit = int(f.read())
    except (OSError, ValueError):  # "max": no limit
        return False
    return int(refused) > 0 and current >= limit - 1


def _wait_for_either(pid, watch, pids_folder):
    """Block until the child exits, the watched pipe ends (or a SIGTERM), or the
    worker's processes run into their limit: True for the last (a fork bomb, which
    would otherwise spin at the limit until the call's time runs out)."""
    poller = select.poll()
    poller.register(watch, select.POLLIN | select.POLLHUP | select.POLLERR)
    try:
        child = os.pidfd_open(pid)
    except (AttributeError, OSError):  # kernel < 5.3: look at the child now and then
        child = None
    else:
        poller.register(child, select.POLLIN)
    strikes = 0  # a call that met the limit and returned at once has its strays ended
    while True:
        if poller.poll(FORK_CHECK_MS):
            return False
        if child is None and os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
        strikes = strikes + 1 if pids_folder is not None and _at_limit(pids_folder) else 0
        if strikes >= 2:  # still at the limit a check later: a fork bomb
            return True


def main(argv):
    split = argv.index("--")
    watch, folders, command = int(argv[0]), argv[1:split], argv[split + 1:]
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides; its pipe tells us
    try:  # the worker's fatal signal is re-raised by `unshare` and by us: no core files
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, OSError, ValueError):
        pass
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
    at_limit = False
    try:
        at_limit = _wait_for_either(pid, watch, folders[0] if folders else None)
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
    if at_limit:
        os._exit(FORK_LIMIT_EXIT)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
