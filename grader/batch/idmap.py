"""`--ids MAPPING.csv`: the student ids the gradebook uses, from the names an LMS gives.

The file has a header row; its first column is matched against each submission's
folder or file name, then its LMS number (Moodle participant, Canvas user id), then
its id; the second column is the student id to use. Further columns are ignored
(a roster with names and emails can be used as is). Excel's UTF-8 BOM is accepted.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.batch.layouts import Scan, Submission, display_name, sort_key


class MappingError(Exception):
    """The mapping file cannot be used (usage error)."""


@dataclass
class Mapped:
    scan: Scan
    unmapped: list[str] = field(default_factory=list)  # submissions the file does not name
    absent: list[str] = field(default_factory=list)  # ids in the file without a submission


def read_mapping(path: Path) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            rows = list(csv.reader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise MappingError(f"cannot read the mapping file {path}: {error}") from None
    if len(rows) < 2 or len(rows[0]) < 2:
        raise MappingError(f"{path}: expected a header row, then rows of at least two "
                           "columns: the submission's name or LMS id, the student id")
    mapping: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise MappingError(f"{path}, line {number}: needs a key and a student id")
        key, student = row[0].strip(), row[1].strip()
        if mapping.setdefault(key, student) != student:
            raise MappingError(f"{path}, line {number}: {key!r} is mapped to both "
                               f"{mapping[key]!r} and {student!r}")
    return mapping


def apply_mapping(scan: Scan, mapping: dict[str, str]) -> Mapped:
    """The scan with mapped ids; submissions that end up with one id become one
    submission that cannot be graded, naming all of them."""
    used: set[str] = set()
    unmapped: list[str] = []
    by_id: dict[str, list[Submission]] = defaultdict(list)
    for sub in scan.submissions:
        keys = [display_name(m.name) for m in sub.members] + [sub.lms_id, sub.id]
        match = next((k for k in keys if k and k in mapping), None)
        if match is None:
            unmapped.append(sub.id)
            by_id[sub.id].append(sub)
        else:
            used.add(match)
            by_id[mapping[match]].append(replace(sub, id=mapping[match]))
    merged = []
    for student, subs in by_id.items():
        if len(subs) == 1:
            merged.append(subs[0])
            continue
        source = " + ".join(s.source for s in subs)
        merged.append(Submission(
            id=student, source=source, members=tuple(m for s in subs for m in s.members),
            name=subs[0].name, late=any(s.late for s in subs), lms=subs[0].lms,
            lms_id=subs[0].lms_id,
            problem=f"several submissions for one student: {source}; keep one"))
    merged.sort(key=lambda s: sort_key(s.id))
    mapped_ids = {s.id for s in merged}
    absent = sorted({v for k, v in mapping.items() if k not in used} - mapped_ids, key=sort_key)
    return Mapped(replace(scan, submissions=merged), unmapped=unmapped, absent=absent)
