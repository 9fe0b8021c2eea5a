"""The functions of a submission that did not return, remembered for the whole grading.

A call that runs out of its time limit (or that the keeper stopped at the process
limit: a fork bomb) costs that once: the Worker that saw
it records the function here (the innermost function of the submission on the
worker's stack when time ran out, so that `sigmoid_derivative` calling a sleeping
`sigmoid` blames `sigmoid`), and from then on every worker of the grading (a
Worker and its siblings share one registry) fails calls of it at once, and has
its worker disable it, so that other functions calling it fail at once too.
Listeners (a training under way in a sibling) hear of each new entry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class HungFunctions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # "module.function" -> why: {"code": "timeout", "seconds": s} | {"code": "processes",
        # "limit": n}
        self._why: dict[str, dict] = {}
        self._listeners: list[Callable[[str], None]] = []

    def record(self, qualname: str, why: dict) -> bool:
        """Remember qualname as hung, and why; False if it already was."""
        with self._lock:
            if qualname in self._why:
                return False
            self._why[qualname] = dict(why)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(qualname)
        return True

    def why(self, qualname: str) -> dict | None:
        """Why `qualname` was stopped, or None if it has not been."""
        with self._lock:
            return self._why.get(qualname)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._why)

    def __len__(self) -> int:
        with self._lock:
            return len(self._why)

    def listen(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call listener(qualname) on each new entry (from the recording thread);
        returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop
