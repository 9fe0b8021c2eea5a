"""A per-worker pids cgroup (Linux, root): caps the worker's processes, kills them all.

As root RLIMIT_NPROC is not enforced, so a fork bomb is contained here instead:
pids.max caps the number of tasks, and at the end every task in the cgroup is
killed (even those that left the worker's session) before the cgroup is removed.
cgroup v2 is used when /sys/fs/cgroup offers the pids controller, else v1.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path


class PidsCgroup:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        """A new cgroup with pids.max = limit, or None where that is not possible."""
        name = f"hwgrade-{os.getpid()}-{secrets.token_hex(4)}"
        for base in pids_roots():
            path = base / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(f"{limit}\n")
                return cls(path)
            except OSError:
                _rmdir(path)
        return None

    @property
    def procs_file(self) -> Path:
        return self.path / "cgroup.procs"

    def add(self, pid: int) -> None:
        self.procs_file.write_text(f"{pid}\n")

    def pids(self) -> list[int]:
        try:
            return [int(line) for line in self.procs_file.read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        for name, value in (("pids.max", "0"), ("cgroup.kill", "1")):  # no more forks; v2 kill
            try:
                (self.path / name).write_text(value)
            except OSError:
                pass
        for _ in range(200):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        self.kill_all()
        _rmdir(self.path)


def _rmdir(path: Path) -> None:
    for _ in range(200):  # EBUSY until the last killed task is released
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.005)


def pids_roots() -> list[Path]:
    """Where a pids cgroup can be made here: v2 first, then v1; [] if not root on Linux."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return []
    roots = []
    v2 = Path("/sys/fs/cgroup")
    try:
        if "pids" in (v2 / "cgroup.controllers").read_text().split() and os.access(v2, os.W_OK):
            roots.append(v2)
    except OSError:
        pass
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "cgroup.procs").exists() and os.access(v1, os.W_OK):
        roots.append(v1)
    return roots
