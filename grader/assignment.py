"""Assignments: a folder with assignment.toml, public checks and (for the
course, never for students) hidden checks; found by name or by path."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MANIFEST = "assignment.toml"
ENV_PATH = "HWGRADE_ASSIGNMENTS"  # extra folders holding assignments, os.pathsep-separated


class AssignmentError(Exception):
    """An assignment cannot be found or its manifest is wrong (usage error, exit 2)."""


@dataclass(frozen=True)
class GradingLimits:
    call_timeout: float = 10.0  # one call of a student's function
    import_timeout: float = 20.0
    check_time_limit: float = 60.0  # all student calls of one check
    submission_budget: float = 300.0  # all student calls of one submission
    memory_mib: int = 1024


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    root: Path
    version: str
    modules: Mapping[str, tuple[str, ...]]  # the functions students write, per module
    total_points: float
    hidden_points: float
    limits: GradingLimits = GradingLimits()
    max_examples: int = 50  # hypothesis examples per property check
    settings: Mapping[str, Any] = field(default_factory=dict)  # assignment-specific tables

    @property
    def public_checks(self) -> Path:
        return self.root / "checks"

    @property
    def hidden_checks(self) -> Path:
        return self.root / "hidden"

    @property
    def has_hidden_checks(self) -> bool:
        return self.hidden_checks.is_dir() and any(self.hidden_checks.glob("test_*.py"))

    def private_paths(self) -> tuple[Path, ...]:
        """What a student's worker must not see: the assignment itself (hidden
        checks, reference data) and the course's solutions."""
        paths = [self.root.resolve()]
        for parent in self.root.resolve().parents:
            if (parent / "solutions").is_dir():
                paths.append(parent / "solutions")
                break
        return tuple(paths)


def load_assignment(folder: Path) -> Assignment:
    manifest = folder / MANIFEST
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssignmentError(f"{folder} has no {MANIFEST}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AssignmentError(f"{manifest} is not valid TOML: {error}") from None
    try:
        meta = data["assignment"]
        modules = {m: tuple(fs) for m, fs in data["submission"]["modules"].items()}
        points = data.get("points", {})
        limits = GradingLimits(**data.get("limits", {}))
        return Assignment(
            name=str(meta["name"]),
            title=str(meta.get("title", meta["name"])),
            root=folder,
            version=str(meta.get("version", "1")),
            modules=modules,
            total_points=float(points.get("total", 0)),
            hidden_points=float(points.get("hidden", 0)),
            limits=limits,
            max_examples=int(data.get("hypothesis", {}).get("max_examples", 50)),
            settings={k: v for k, v in data.items()
                      if k not in ("assignment", "submission", "points", "limits", "hypothesis")},
        )
    except (KeyError, TypeError, ValueError) as error:
        raise AssignmentError(f"{manifest} is incomplete or wrong: {error!r}") from None


def _search_roots() -> Iterator[Path]:
    for entry in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if entry:
            yield Path(entry)
    try:
        import assignments  # the course's bundled assignments

        yield from (Path(p) for p in assignments.__path__)
    except ImportError:  # pragma: no cover - a broken install
        return


def list_assignments() -> list[Assignment]:
    found: dict[str, Assignment] = {}
    for root in _search_roots():
        for manifest in sorted(root.glob(f"*/{MANIFEST}")):
            assignment = load_assignment(manifest.parent)
            found.setdefault(assignment.name, assignment)
    return sorted(found.values(), key=lambda a: a.name)


def find_assignment(name_or_path: str) -> Assignment:
    """An assignment by name (day65) or by the path of its folder."""
    path = Path(name_or_path)
    if (path / MANIFEST).is_file():
        return load_assignment(path)
    for assignment in list_assignments():
        if assignment.name == name_or_path:
            return assignment
    from grader.i18n import GRADER, joined

    names = [a.name for a in list_assignments()]
    raise AssignmentError(GRADER("cli.no_assignment", name=name_or_path,
                                 available=joined(names) if names
                                 else GRADER("cli.none_installed")))
