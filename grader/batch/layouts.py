"""What is in a SUBMISSIONS folder: one Submission per student, and everything else listed.

Layouts recognised at the top of the folder (each entry on its own; they can mix):
- a folder per student: the id is the folder's name;
- a file per student: `alice.zip`, `alice.ipynb` or, for an assignment of one
  module, `alice.py`; the id is the name without its extension;
- Moodle's "download all submissions": folders `Full Name_123456_assignsubmission_file_`
  (or flat files `Full Name_123456_assignsubmission_file_activations.py`); the id is
  the participant number 123456, the name is kept;
- Canvas's "download submissions": flat files `wangxiaoming_123456_7890123_day65.ipynb`,
  `wangxiaoming_LATE_123456_7890123_...` (user id 123456, submission id 7890123, then
  the student's own file name; a re-uploaded file gets `-1`, `-2` before its extension).
  A student's files are graded together (several .py files become one folder).

A folder holding nothing but one .zip or .ipynb is graded as that file. Files and
folders that are none of these are listed in `Scan.unrecognised`, with the reason;
system clutter (dot-files, __MACOSX) in `Scan.ignored`. Two entries that come out as
the same id (alice/ and alice.zip) make one submission that cannot be graded, with
both named. Nothing here reads a submission's contents.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.assignment import Assignment

CODE_SUFFIXES = (".zip", ".ipynb", ".py")
MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$",
                    re.S)
CANVAS = re.compile(r"^(?P<name>[^_]*)_(?P<late>LATE_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<rest>.+)$",
                    re.S)
RESUBMITTED = re.compile(r"(?:-\d+| \(\d+\))(?=\.py$)")  # Canvas's activations-1.py
_CLUTTER = frozenset({"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"})


class LayoutError(Exception):
    """SUBMISSIONS cannot be read as a batch (usage error)."""


@dataclass(frozen=True)
class Submission:
    """One student's hand-in, as found; `problem` says why it cannot be graded at all."""

    id: str
    source: str  # what it came from, for people: "alice/", "wang_1_2_day65.ipynb + ..."
    members: tuple[Path, ...]  # the files and folders under SUBMISSIONS that make it up
    name: str = ""  # the student's name, where the LMS gives it
    late: bool = False
    lms: str = ""  # moodle, canvas or "" (plain folder or file)
    lms_id: str = ""
    problem: str | None = None
    extras: tuple[str, ...] = ()  # handed-in files that are not graded (report.pdf)
    # how to grade it: one path as is, or these (file, name) pairs gathered in a folder
    path: Path | None = None
    gather: tuple[tuple[Path, str], ...] = ()

    @property
    def gradable(self) -> bool:
        return self.problem is None


@dataclass
class Scan:
    submissions: list[Submission]
    unrecognised: list[tuple[str, str]] = field(default_factory=list)  # (entry, why)
    ignored: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    path: Path
    display: str
    is_dir: bool
    lms: str = ""
    lms_id: str = ""
    name: str = ""
    late: bool = False
    rest: str = ""  # the student's own file name inside an LMS name
    plugin: str = ""


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 shown as \\xNN (never lost)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def scan(root: Path, assignment: Assignment, *, exclude: tuple[Path, ...] = ()) -> Scan:
    """Every submission at the top of root, in id order; exclude: e.g. OUTDIR."""
    try:
        names = sorted(os.listdir(root), key=os.fsencode)
    except OSError as error:
        raise LayoutError(f"cannot read {root}: {error.strerror}") from None
    modules = {f"{m}.py" for m in assignment.modules}
    found = sorted(modules & set(names))
    if found:
        raise LayoutError(f"{root} holds {', '.join(found)}: it looks like one student's "
                          "submission. Grade it with `hwgrade check`, or give each student "
                          "a folder or file of their own.")
    excluded = {p.resolve() for p in exclude}
    result = Scan(submissions=[])
    groups: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
    for name in names:
        path = root / name
        shown = display_name(name)
        if name.startswith(".") or name in _CLUTTER:
            result.ignored.append(shown)
            continue
        if path.resolve() in excluded:
            result.ignored.append(f"{shown} (the output folder)")
            continue
        entry = _classify(path, shown)
        if entry is None:
            result.unrecognised.append((shown, _why_unrecognised(path)))
            continue
        groups[(entry.lms, entry.lms_id or _plain_id(entry))].append(entry)
    for (lms, key), entries in groups.items():
        result.submissions.append(_submission(lms, key, entries, assignment))
    result.submissions.sort(key=lambda s: sort_key(s.id))
    return result


def sort_key(text: str) -> tuple:
    """Natural order: student2 before student10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
                 for p in re.split(r"(\d+)", text) if p) + ((2, 0, text),)


def _classify(path: Path, shown: str) -> _Entry | None:
    is_dir = path.is_dir()
    moodle = MOODLE.match(shown)
    if moodle:
        return _Entry(path, shown, is_dir, "moodle", moodle["id"], moodle["name"].strip(),
                      rest=moodle["rest"], plugin=moodle["plugin"])
    canvas = None if is_dir else CANVAS.match(shown)
    if canvas:
        return _Entry(path, shown, is_dir, "canvas", canvas["id"], canvas["name"],
                      late=bool(canvas["late"]), rest=canvas["rest"])
    if is_dir or (path.is_file() and path.suffix.lower() in CODE_SUFFIXES):
        return _Entry(path, shown, is_dir)
    return None


def _why_unrecognised(path: Path) -> str:
    if path.is_file():
        kind = f"a {path.suffix} file" if path.suffix else "a file without extension"
        return (f"{kind}, not a submission (a folder, .zip, .ipynb or .py per student, "
                "or an LMS download)")
    return "neither a folder nor a regular file"


def _plain_id(entry: _Entry) -> str:
    return entry.display if entry.is_dir else entry.display[: -len(entry.path.suffix)] \
        or entry.display


def _submission(lms: str, key: str, entries: list[_Entry], assignment: Assignment) -> Submission:
    entries.sort(key=lambda e: os.fsencode(e.path.name))
    first = entries[0]
    base = Submission(
        id=key, source=" + ".join(e.display + ("/" if e.is_dir else "") for e in entries),
        members=tuple(e.path for e in entries), name=first.name,
        late=any(e.late for e in entries), lms=lms, lms_id=first.lms_id)
    if not lms:
        if len(entries) > 1:
            return replace(base, problem="several submissions for one student: "
                           f"{base.source}; keep one")
        return _single(base, first, assignment)
    code = [e for e in entries if e.is_dir or Path(e.rest).suffix.lower() in CODE_SUFFIXES]
    extras = tuple(e.rest or e.display for e in entries if e not in code)
    base = replace(base, extras=extras)
    if lms == "moodle":  # online text folders hold no code
        code = [e for e in code if not (e.is_dir and e.plugin == "onlinetext")]
    if not code:
        handed = ", ".join(extras) or "nothing"
        return replace(base, problem=f"no code handed in (only {handed}); hand in a folder, "
                       ".zip or .ipynb")
    if len(code) == 1:
        return _single(base, code[0], assignment)
    if any(e.is_dir or not e.rest.lower().endswith((".py", ".ipynb")) for e in code):
        return replace(base, problem="several submissions for one student: "
                       + ", ".join(e.display for e in code) + "; keep one")
    return _gathered(base, code, assignment)


def _single(base: Submission, entry: _Entry, assignment: Assignment) -> Submission:
    if entry.is_dir:
        return replace(base, path=_unwrap(entry.path))
    own = entry.rest or entry.display
    if own.lower().endswith(".py"):
        return _gathered(base, [entry], assignment)
    return replace(base, path=entry.path)


def _unwrap(folder: Path) -> Path:
    """A folder holding only one .zip or .ipynb (an LMS's folder per student) is that file."""
    try:
        names = [n for n in os.listdir(folder) if not n.startswith(".") and n not in _CLUTTER]
    except OSError:
        return folder  # staging will say what is wrong
    if len(names) == 1 and names[0].lower().endswith((".zip", ".ipynb")) \
            and (folder / names[0]).is_file():
        return folder / names[0]
    return folder


def _gathered(base: Submission, entries: list[_Entry], assignment: Assignment) -> Submission:
    """Loose files (Canvas, Moodle flat, alice.py) graded together as one folder."""
    modules = {f"{m}.py" for m in assignment.modules}
    own = [e.rest or e.display for e in entries]
    py = [n for n in own if n.lower().endswith(".py")]
    if len(assignment.modules) == 1 and len(py) == 1 and py[0] not in modules:
        own = [next(iter(modules)) if n == py[0] else n for n in own]  # alice.py -> mathy.py
    elif len(py) == 1 and len(entries) == 1 and len(modules) > 1:
        return replace(base, problem=f"one .py file cannot hold the modules "
                       f"{', '.join(sorted(modules))}; hand in a folder, .zip or .ipynb")
    targets: list[str] = []
    for name in own:
        plain = RESUBMITTED.sub("", name)
        targets.append(plain if plain in modules and plain not in own else name)
    if len(set(targets)) < len(targets):
        return replace(base, problem="two files with the same name: "
                       + ", ".join(e.display for e in entries) + "; keep one")
    return replace(base, gather=tuple(zip((e.path for e in entries), targets, strict=True)))


def materialize(submission: Submission, staging: Path) -> Path:
    """The path to grade: the submission's own, or a folder under staging gathering its files."""
    if submission.path is not None:
        return submission.path
    folder = staging / f"{len(os.listdir(staging)):05d}"
    folder.mkdir()
    for path, name in submission.gather:
        shutil.copyfile(path, folder / name)
    return folder
