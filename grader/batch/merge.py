"""`hwgrade merge OUTDIR... -o OUTDIR`: shard outputs combined into one batch.

Reads each OUTDIR's batch.json and results.jsonl, checks that they graded the same
assignment with the same grader and that shards I/N are all there once, and renders
the rows with the same code as a single run (gradebook.py): the merged gradebook is
the one a single run would have written. The journals are concatenated too, so a
later `hwgrade grade` into the merged OUTDIR resumes instead of starting over.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.batch import gradebook
from grader.batch.journal import JOURNAL, read_records
from grader.batch.layouts import sort_key
from grader.batch.rows import Row
from grader.report.common import write_atomic_bytes


class MergeError(Exception):
    """The outputs cannot be merged (usage error)."""


def merge_outdirs(sources: list[Path], outdir: Path) -> tuple[list[Row], str]:
    """Merge sources into outdir; returns the rows and the summary text."""
    manifests = [_manifest(src) for src in sources]
    first = manifests[0]
    for src, manifest in zip(sources, manifests, strict=True):
        if manifest["assignment"]["sha256"] != first["assignment"]["sha256"]:
            raise MergeError(f"{src} graded a different assignment (or another version of "
                             f"it) than {sources[0]}")
        if manifest["grader"] != first["grader"]:
            raise MergeError(f"{src} was graded with a different hwgrade or library version "
                             f"than {sources[0]}: {manifest['grader']} vs {first['grader']}")
        if manifest.get("lang", "en") != first.get("lang", "en"):  # en: from before --lang
            raise MergeError(f"{src} was graded in another language ({manifest.get('lang')}) "
                             f"than {sources[0]} ({first.get('lang')}): use the same --lang")
    _check_shards(sources, manifests)
    rows: dict[str, Row] = {}
    for src in sources:
        for row in gradebook.read_rows(src):
            if row.id in rows and _comparable(rows[row.id]) != _comparable(row):
                raise MergeError(f"student {row.id!r} is in several outputs with different "
                                 f"results ({src} and another)")
            rows[row.id] = row
    ordered = sorted(rows.values(), key=lambda r: sort_key(r.id))
    manifest = dict(first, shard=None, merged_from=[str(s) for s in sources],
                    ids=[r.id for r in ordered])
    for field in ("ignored", "unmapped", "absent"):
        manifest[field] = _union(m.get(field, []) for m in manifests)
    manifest["unrecognised"] = [list(u) for u in _union(
        (tuple(u) for u in m.get("unrecognised", [])) for m in manifests)]
    if manifest["absent"]:
        present = {r.id for r in ordered}
        manifest["absent"] = [a for a in manifest["absent"] if a not in present]
    outdir.mkdir(parents=True, exist_ok=True)
    journal = "".join(record.to_json() + "\n" for src in sources
                      for record in read_records(src))  # read in full before writing
    if journal:
        write_atomic_bytes(outdir / JOURNAL, journal.encode("utf-8"))
    summary = gradebook.write_outputs(outdir, ordered, gradebook.listing_of(manifest), manifest)
    return ordered, summary


def _manifest(src: Path) -> dict:
    path = src / gradebook.MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(f"{src} has no {gradebook.MANIFEST}: not the output of "
                         "`hwgrade grade` (or its run has not finished)") from None
    except (OSError, ValueError) as error:
        raise MergeError(f"cannot read {path}: {error}") from None
    if manifest.get("format") != "hwgrade-batch" or not (src / gradebook.RESULTS).exists():
        raise MergeError(f"{src} is not the output of `hwgrade grade`")
    return manifest


def _check_shards(sources: list[Path], manifests: list[dict]) -> None:
    shards = [m.get("shard") for m in manifests]
    if not any(shards):
        return
    if not all(shards):
        raise MergeError("mixing shard outputs with unsharded ones: " + ", ".join(
            f"{s} ({sh or 'all'})" for s, sh in zip(sources, shards, strict=True)))
    counts = {int(s.split("/")[1]) for s in shards}
    if len(counts) != 1:
        raise MergeError(f"the outputs are shards of different splits: {', '.join(shards)}")
    count = counts.pop()
    seen = [int(s.split("/")[0]) for s in shards]
    duplicated = sorted({i for i in seen if seen.count(i) > 1})
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if duplicated or missing:
        problems = ([f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing"]
                    if missing else []) + (
            [f"shard(s) {', '.join(f'{i}/{count}' for i in duplicated)} given twice"]
            if duplicated else [])
        raise MergeError("; ".join(problems))


def _comparable(row: Row) -> dict:
    data = row.to_dict()
    data.pop("seconds")
    if data["result"]:
        data["result"].pop("timings", None)
        for check in data["result"]["checks"]:
            check.pop("duration", None)
    return data


def _union(lists) -> list:
    seen: dict = {}
    for items in lists:
        for item in items:
            seen.setdefault(item, None)
    return list(seen)
