"""`--shard I/N`: a deterministic share of the students, the same on every machine.

A student belongs to shard 1 + (the first 8 bytes of sha256(id) as a number) mod N:
it depends on nothing but the id (not on the order of files, the machine or Python's
hash seed), so N jobs that each grade their shard grade every student exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ValueError(f"{text!r} is not a shard: use I/N with 1 <= I <= N, e.g. 2/4")
        return cls(int(match[1]), int(match[2]))

    def owns(self, student_id: str) -> bool:
        return shard_of(student_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(student_id: str, count: int) -> int:
    digest = hashlib.sha256(student_id.encode("utf-8", "surrogateescape")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count
