"""Which checks a run grades: `--only` and `--quick`.

An --only entry selects the checks it names in any of the ways a student thinks of
them: a check's name (`relu_values`, `exercise7_activation_500_epochs`), its name
without parameters, the function it is about (`relu_derivative` or
`activations.relu_derivative`), that function's module (`activations`), or a shell
pattern over any of these (`'relu*'`, `'exercise7_*'`). An entry that selects nothing
is refused, with the names it might have meant.

--quick leaves out the checks marked `long` (Day 65: the 500-epoch trainings) and
says so: what it left out, and the points that is.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class CheckKeys:
    """The names one check answers to."""

    name: str  # "relu_values", "regularized_update_l1[L1]"
    base: str  # the name without parameters
    function: str | None  # "activations.relu_derivative"

    def function_names(self) -> tuple[str, ...]:
        """"activations.relu", "relu", "activations"; none without a function marker."""
        if not self.function:
            return ()
        module, _, function = self.function.rpartition(".")
        return (self.function, function, *([module] if module else []))

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, self.base, *self.function_names())))

    def matches(self, entry: str) -> bool:
        # exact first: a parametrized name's "[L1]" is a character class to fnmatch
        return any(name == entry or fnmatchcase(name, entry) for name in self.names())


def selected(checks: Sequence[CheckKeys], only: Iterable[str]) -> tuple[list[bool], list[str]]:
    """Per check, whether some entry of `only` selects it (all, for no entries); and the
    entries that select nothing."""
    entries = list(dict.fromkeys(only))
    if not entries:
        return [True] * len(checks), []
    hits = [[check.matches(entry) for entry in entries] for check in checks]
    unknown = [entry for i, entry in enumerate(entries) if not any(row[i] for row in hits)]
    return [any(row) for row in hits], unknown


def suggestions(entry: str, checks: Sequence[CheckKeys], n: int = 4) -> list[str]:
    """Names close to a mistyped entry: functions and modules first, then checks."""
    short = list(dict.fromkeys(name for check in checks for name in check.function_names()
                               if name != check.function))  # "relu", not "activations.relu"
    full = list(dict.fromkeys(check.name for check in checks))
    close = difflib.get_close_matches(entry, short, n=n, cutoff=0.6)
    close += [name for name in difflib.get_close_matches(entry, full, n=n, cutoff=0.6)
              if name not in close]
    return close[:n]

