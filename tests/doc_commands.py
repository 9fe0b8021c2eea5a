"""The commands the guides show, and the shape of the output they show beside them.

A guide's ```console block holds commands (lines starting with "$ ") each followed by
the output it shows. A comment right before the block sets how to run it:

    <!-- run: cwd=solutions/day65 lang=zh_TW.UTF-8 exit=1 -->

cwd (from the repository's root; default the root; cwd=tmp: a fresh empty folder with
links to the checkout's solutions/, assignments/, tests/ and docs/, for a command that
writes files), the locale (default C.UTF-8) and the expected exit code (default 0). The
output is compared by its shape: numbers become "#", runs of spaces one space, and a
line "..." stands for any lines. ```sh blocks (installing, say) are not run.
"""

from __future__ import annotations

import functools
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_BLOCK = re.compile(r"(?:^[ ]*<!--\s*run:(?P<options>[^>]*)-->[ ]*\n)?"
                    r"^(?P<indent>[ ]*)```console\n(?P<body>.*?)^(?P=indent)```", re.S | re.M)
_SPARKS = re.compile("[\u2581-\u2588]+")  # a sparkline: its heights are numbers too
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


@dataclass
class Shown:
    """One command of a guide and what the guide shows it print."""

    guide: Path
    line: int
    command: str
    output: list[str]
    cwd: Path | None = ROOT  # None: a fresh folder (cwd=tmp)
    lang: str = "C.UTF-8"
    exit_code: int = 0
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
            indent = len(block["indent"])  # a block inside a list item
            for offset, line in enumerate(line[indent:] for line in block["body"].splitlines()):
                if line.startswith("$ "):
                    current = Shown(
                        guide, first + offset, line[2:], [],
                        cwd=None if options.get("cwd") == "tmp"
                        else ROOT / options.get("cwd", "."),
                        lang=options.get("lang", "C.UTF-8"),
                        exit_code=int(options.get("exit", 0)), options=options)
                    found.append(current)
                elif current is None:
                    raise ValueError(f"{guide}:{first + offset}: output before any command")
                else:
                    current.output.append(line)
    return found


def shape(line: str) -> str:
    return " ".join(_NUMBER.sub("#", _SPARKS.sub("▁", line)).split())


def same_shape(shown: list[str], printed: list[str]) -> str | None:
    """None when the printed lines have the shown lines' shape ("..." stands for any
    lines), else what differs: a shown line printed nowhere, or the order."""

    want = [shape(line) for line in shown]
    got = [shape(line) for line in printed]

    @functools.cache
    def matches(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == "...":
            return any(matches(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and got[j] == want[i] and matches(i + 1, j + 1)

    if matches(0, 0):
        return None
    missing = [line for line in want if line != "..." and line not in got]
    return missing[0] if missing else "(the lines are there, but in another order or " \
        "with more lines between them than the guide shows)"
