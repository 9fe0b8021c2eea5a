"""A per-worker cgroup (Linux, root): caps the worker tree's processes and CPU, kills it all.

As root RLIMIT_NPROC is not enforced, so a fork bomb is contained here instead:
pids.max caps the number of tasks. RLIMIT_CPU is per process, so 64 forked
spinners would each get their own CPU time; the cpu controller's quota makes the
whole tree share `cpus` CPUs instead, and the rest of the machine (the grader,
other gradings) keeps its share. At the end every task in the cgroup is killed
(even those that left the worker's session) and the folders are removed, by the
worker's keeper (keeper.py) and, as a second line, by the grader itself.

cgroup v2 is used when /sys/fs/cgroup offers the pids controller (one folder,
with the cpu controller where the root delegates it), else v1 (a folder in the
pids hierarchy and one in the cpu hierarchy). Folders are named
hwgrade-GRADERPID-RANDOM; one whose grader is gone and which holds no process
is removed by the next grading (its keeper was killed too, with SIGKILL).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

from grader.worker.keeper import kill_cgroups, remove_cgroups

PERIOD_US = 100_000
_NAME = re.compile(r"hwgrade-(\d+)-[0-9a-f]{8}")


class WorkerCgroup:
    def __init__(self, folders: list[Path], cpu_limited: bool) -> None:
        self.folders = folders  # one per hierarchy: every process of the worker is in each
        self.cpu_limited = cpu_limited

    @classmethod
    def create(cls, max_processes: int, cpus: float | None = None) -> WorkerCgroup | None:
        """New cgroup folders with pids.max = max_processes and, where the cpu
        controller exists, a quota of `cpus` CPUs; None where there is no pids cgroup."""
        name = f"hwgrade-{os.getpid()}-{secrets.token_hex(4)}"
        roots = _roots()
        if "pids" not in roots:
            return None
        _sweep(roots.values())
        pids = _make(roots["pids"] / name, {"pids.max": f"{max_processes}\n"})
        if pids is None:
            return None
        folders, cpu_limited = [pids], False
        if cpus is not None and "cpu" in roots:
            quota = f"{max(int(cpus * PERIOD_US), 1000)}"
            if roots["cpu"] == roots["pids"]:  # v2: one folder, cpu.max "QUOTA PERIOD"
                cpu_limited = _set(pids / "cpu.max", f"{quota} {PERIOD_US}\n")
            else:
                cpu = _make(roots["cpu"] / name, {"cpu.cfs_period_us": f"{PERIOD_US}\n",
                                                  "cpu.cfs_quota_us": f"{quota}\n"})
                if cpu is not None:
                    folders.append(cpu)
                    cpu_limited = True
        return cls(folders, cpu_limited)

    def kill_all(self) -> None:
        kill_cgroups([str(f) for f in self.folders])

    def remove(self) -> None:
        self.kill_all()
        remove_cgroups([str(f) for f in self.folders])


def _make(path: Path, settings: dict[str, str]) -> Path | None:
    try:
        path.mkdir()
    except OSError:
        return None
    if all(_set(path / key, value) for key, value in settings.items()):
        return path
    remove_cgroups([str(path)])
    return None


def _set(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _roots() -> dict[str, Path]:
    """{"pids": folder, "cpu": folder} where worker cgroups can be made; {} unless root."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return {}
    v2 = Path("/sys/fs/cgroup")
    try:
        controllers = (v2 / "cgroup.controllers").read_text().split()
    except OSError:
        controllers = []
    if "pids" in controllers and os.access(v2, os.W_OK):
        wanted = [c for c in ("pids", "cpu") if c in controllers]
        _set(v2 / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted) + "\n")
        try:
            delegated = (v2 / "cgroup.subtree_control").read_text().split()
        except OSError:
            delegated = []
        return {c: v2 for c in wanted if c in delegated}
    roots = {}
    for controller, names in (("pids", ("pids",)), ("cpu", ("cpu", "cpu,cpuacct"))):
        for folder in names:
            v1 = v2 / folder
            if (v1 / "cgroup.procs").exists() and os.access(v1, os.W_OK):
                roots[controller] = v1
                break
    return roots


def pids_roots() -> list[Path]:
    """Where a worker's pids cgroup can be made here ([] if not root on Linux)."""
    root = _roots().get("pids")
    return [root] if root is not None else []


def cpu_roots_exist() -> bool:
    return "cpu" in _roots()


def _sweep(roots) -> None:
    """Remove the empty folders of graders that are gone (killed with their keepers)."""
    for root in set(roots):
        try:
            entries = list(os.scandir(root))
        except OSError:
            continue
        for entry in entries:
            match = _NAME.fullmatch(entry.name)
            if match is None or _alive(int(match.group(1))):
                continue
            folder = Path(entry.path)
            try:
                if not (folder / "cgroup.procs").read_text().split():
                    folder.rmdir()
            except OSError:
                continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
