"""The commands the guides show, and the shape of the output they show beside them.

A guide's ```console block holds commands (lines starting with "$ ") each followed by
the output it shows. A comment right before the block sets how to run it:

    <!-- run: cwd=solutions/day65 lang=zh_TW.UTF-8 exit=1 slow -->

cwd (from the repository's root; default the root), the locale (default C.UTF-8),
the expected exit code (default 0), and slow (a long command: the slow tests). The
output is compared by its shape: numbers become "#", runs of spaces one space, and a
line "..." stands for any lines. ```sh blocks (installing, say) are not run.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_BLOCK = re.compile(r"(?:<!--\s*run:(?P<options>[^>]*)-->\s*\n)?^```console\n(?P<body>.*?)^```",
                    re.S | re.M)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


@dataclass
class Shown:
    """One command of a guide and what the guide shows it print."""

    guide: Path
    line: int
    command: str
    output: list[str]
    cwd: Path = ROOT
    lang: str = "C.UTF-8"
    exit_code: int = 0
    slow: bool = False
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.guide.relative_to(ROOT)}:{self.line}"

    def argv(self) -> list[str]:
        """hwgrade through this interpreter (the console script may not be on PATH)."""
        words = shlex.split(self.command)
        if words[0] != "hwgrade":
            raise ValueError(f"{self.id}: only hwgrade commands are run, not {words[0]!r}")
        return [sys.executable, "-m", "grader", *words[1:]]


def shown_commands(guides=GUIDES) -> list[Shown]:
    found = []
    for guide in guides:
        text = guide.read_text(encoding="utf-8")
        for block in _BLOCK.finditer(text):
            options = dict(o.split("=", 1) if "=" in o else (o, "")
                           for o in (block["options"] or "").split())
            first = text.count("\n", 0, block.start("body")) + 1
            current: Shown | None = None
            for offset, line in enumerate(block["body"].splitlines()):
                if line.startswith("$ "):
                    current = Shown(
                        guide, first + offset, line[2:], [],
                        cwd=ROOT / options.get("cwd", "."),
                        lang=options.get("lang", "C.UTF-8"),
                        exit_code=int(options.get("exit", 0)), slow="slow" in options,
                        options=options)
                    found.append(current)
                elif current is None:
                    raise ValueError(f"{guide}:{first + offset}: output before any command")
                else:
                    current.output.append(line)
    return found


def shape(line: str) -> str:
    return " ".join(_NUMBER.sub("#", line).split())


def same_shape(shown: list[str], printed: list[str]) -> str | None:
    """None when the printed lines have the shown lines' shape, else the first
    shown line not found (in order; "..." skips any lines)."""
    want = [shape(line) for line in shown]
    got = [shape(line) for line in printed]
    at = 0
    skipping = False
    for line in want:
        if line == "...":
            skipping = True
            continue
        if skipping:
            try:
                at = got.index(line, at) + 1
            except ValueError:
                return line
            skipping = False
        elif at < len(got) and got[at] == line:
            at += 1
        else:
            return line
    return None if skipping or at == len(got) else f"(more output: {printed[at]!r})"
