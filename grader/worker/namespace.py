"""The Linux namespace launch: a root shell prepares the worker's view, then drops privileges.

    unshare --fork --pid --kill-child --mount-proc --net --ipc --mount [--user --map-root-user]
        -- /bin/sh -c SCRIPT

SCRIPT, run as root inside the new namespaces (and the worker's cgroups, which
its keeper joined before it started `unshare`: keeper.py), before any student code:
  1. remounts every mount read-only, nosuid, nodev;
  2. builds a minimal /dev (null, zero, full, random, urandom): no disks, no terminals;
  3. covers each hidden path with an empty read-only tmpfs, then puts back (bind
     mounts) the paths the worker needs that lie inside it: the interpreter, the
     allowed packages, the worker's private directory. Hidden by default: homes,
     temporary directories (other workers' files), /run (unix sockets), /mnt...;
  4. mounts a fresh tmpfs as the working directory, the only writable place;
  5. `setpriv` to uid/gid 65534 (nobody) when root, with no capabilities and
     no_new_privs, and execs Python. Without capabilities the student code cannot
     umount the tmpfs over hidden files; as nobody it owns no file of the machine.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534
DEVICES = ("null", "zero", "full", "random", "urandom")
_PROBE_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
_READ_ONLY_LOOP = (
    'while read -r _ _ _ _ mp opts _; do mp=$(printf %b "$mp"); '
    'mount -n -o "remount,bind,$opts,ro,nosuid,nodev" "$mp"; done < /proc/self/mountinfo'
)


@dataclass(frozen=True)
class Mode:
    """How the namespaces can be entered on this machine (see probe())."""

    unshare: str
    setpriv: str
    user_ns: bool  # not root: unshare --user --map-root-user
    read_only: bool  # every mount could be remounted read-only
    unprivileged: bool  # the worker can run as nobody (root only)


@dataclass(frozen=True)
class View:
    """What the worker sees: an empty working dir, hidden paths, paths to keep visible."""

    work: Path  # becomes a fresh tmpfs
    dev: Path  # an empty directory where the new /dev is assembled
    hidden: tuple[Path, ...] = ()
    keep: tuple[Path, ...] = ()
    work_mib: int = 64


def default_hidden() -> tuple[Path, ...]:
    """Private places of the machine: homes, temporary files, sockets, mounted media."""
    paths = ["/home", "/root", str(Path.home()), tempfile.gettempdir(), "/tmp", "/var/tmp",
             "/run", "/var/run", "/mnt", "/media", "/srv"]
    return tuple(Path(p) for p in paths)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _inside(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def hiding_plan(hidden: Sequence[Path], keep: Sequence[Path]) -> list[tuple[Path, list[Path]]]:
    """[(hidden path, kept paths to put back inside it)], shallowest first.

    A hidden path inside another is dropped (already invisible) unless it lies in a
    kept path; a kept path goes back into the deepest hidden path that holds it.
    """
    keeps = sorted({_real(k) for k in keep if os.path.exists(k)}, key=lambda p: len(p.parts))
    keeps = [k for i, k in enumerate(keeps) if not any(_inside(k, o) for o in keeps[:i])]
    plan: list[tuple[Path, list[Path]]] = []
    for h in sorted({_real(h) for h in hidden if os.path.exists(h)}, key=lambda p: len(p.parts)):
        covered = [p for p, _ in plan if _inside(h, p)]
        if covered and not any(_inside(h, k) and _inside(k, covered[-1]) for k in keeps):
            continue
        plan.append((h, []))
    for k in keeps:
        holders = [(h, kept) for h, kept in plan if _inside(k, h) and h.is_dir()]
        if holders:
            holders[-1][1].append(k)
    return plan


def script(view: View, argv: Sequence[str], mode: Mode, *, uid: int | None) -> str:
    """The root shell script described in the module docstring."""
    q = shlex.quote
    dev = str(view.dev)
    lines = ["set -e"]
    if mode.read_only:
        lines.append(_READ_ONLY_LOOP)
    lines.append(f"mount -n -t tmpfs -o size=1m,mode=0755 hwgrade-dev {q(dev)}")
    for name in DEVICES:  # device nodes must stay usable: `dev` (refused in a user namespace)
        node = q(f"{dev}/{name}")
        lines.append(f": > {node}; mount -n --bind /dev/{name} {node}; "
                     f"mount -n -o remount,bind,ro,nosuid,dev {node} || true")
    plan = hiding_plan(view.hidden, view.keep)
    slots: dict[Path, str] = {}
    for _, kept in plan:
        for k in kept:
            slots[k] = f".keep/{len(slots)}"
            slot = q(f"{dev}/{slots[k]}")
            make = "mkdir -p" if k.is_dir() else f"mkdir -p {q(dev + '/.keep')}; : >"
            lines.append(f"{make} {slot}; mount -n --bind {q(str(k))} {slot}")
    lines.append(f"mount -n --move {q(dev)} /dev")
    for h, kept in plan:
        if not h.is_dir():
            lines.append(f"mount -n --bind /dev/null {q(str(h))}")
            continue
        lines.append(f"mount -n -t tmpfs -o size=1m,mode=0755 hwgrade-hidden {q(str(h))}")
        for k in kept:
            make = f"mkdir -p {q(str(k))}" if k.is_dir() else (
                f"mkdir -p {q(str(k.parent))}; : > {q(str(k))}")
            lines.append(f"{make}; mount -n --move {q('/dev/' + slots[k])} {q(str(k))}")
        lines.append(f"mount -n -o remount,bind,ro,nosuid,nodev {q(str(h))}")
    if slots:
        lines.append("rm -rf /dev/.keep")
    lines.append("mount -n -o remount,bind,ro,nosuid,nodev /dev")
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    lines.append(f"mount -n -t tmpfs -o size={view.work_mib}m,mode=0700{owner} hwgrade-work "
                 f"{q(str(view.work))}")
    drop = [mode.setpriv]
    if uid is not None:
        drop += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    drop += ["--no-new-privs", "--bounding-set=-all", "--inh-caps=-all", "--"]
    lines.append("exec " + " ".join(q(a) for a in [*drop, *argv]))
    return "\n".join(lines)


def command(mode: Mode, shell_script: str) -> list[str]:
    argv = [mode.unshare, "--fork", "--pid", "--kill-child", "--mount-proc", "--net", "--ipc",
            "--mount"]
    if mode.user_ns:
        argv += ["--user", "--map-root-user"]
    return [*argv, "--", "/bin/sh", "-c", shell_script]


@functools.lru_cache(maxsize=1)
def probe() -> tuple[Mode | None, str]:
    """Whether (and how) the namespace launch works here, tried once: (mode, why not)."""
    if not sys.platform.startswith("linux"):
        return None, f"no Linux namespaces on {sys.platform}"
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    if not unshare or not setpriv:
        return None, "util-linux `unshare` and `setpriv` are not installed"
    root = os.geteuid() == 0
    why = "unshare failed"
    for read_only, unprivileged in ((True, root), (True, False), (False, False)):
        if (read_only, unprivileged) == (True, False) and not root:
            continue  # same as the first attempt
        mode = Mode(unshare, setpriv, not root, read_only, unprivileged)
        ok, why = _try(mode)
        if ok:
            notes = []
            if not read_only:
                notes.append(f"could not remount the file system read-only ({why})")
            if root and not unprivileged:
                notes.append("could not run the worker as an unprivileged user")
            return mode, "; ".join(notes)
    return None, f"namespaces are not available ({why})"


def _try(mode: Mode) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="hwgrade-probe-") as tmp:
        base = Path(tmp)
        view = View(base / "work", base / "dev", hidden=default_hidden(), keep=(base,))
        view.work.mkdir()
        view.dev.mkdir()
        if mode.unprivileged:
            os.chown(base, NOBODY, NOBODY)
        uid = NOBODY if mode.unprivileged else None
        argv = command(mode, script(view, ["/bin/true"], mode, uid=uid))
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=15, cwd=tmp, env=_PROBE_ENV)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"unshare could not run: {exc}"
    if done.returncode == 0:
        return True, ""
    return False, done.stderr.decode("utf-8", "replace").strip()[-300:] or f"exit {done.returncode}"
