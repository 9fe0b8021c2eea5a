"""The batch's outputs, rendered from rows (rows.py) and written atomically.

OUTDIR/
  gradebook.csv     id, total, then per check: points, status, reason; then duration,
                    submission_sha256, and status, error, note, name, late, source, max_total.
                    UTF-8 with a BOM (Excel), every text cell safe against formula injection.
  results.jsonl     one row per line (rows.Row.to_dict, the full GradeResult included)
  feedback/ID.txt   what the student reads: the terminal report (grader.report.terminal)
  feedback/ID.html  the same as a page with the experiments' plots (feedback_html.py)
  summary.txt       score distribution, the most failed checks, errors, what was not graded
  batch.json        the manifest: assignment, grader, shard, unrecognised entries

A file is written to a temporary name, fsync'ed and renamed over the old one, so a
reader (or a crash) sees the old version or the new one, never half of one. The
renderings depend only on the rows and the manifest's listings, so a merge of shards
renders exactly what a single run would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.feedback_html import html_name, write_html_feedback
from grader.batch.journal import fsync_dir
from grader.batch.rows import STATUSES, Row
from grader.report import terminal
from grader.report.common import TEMPORARY, write_atomic_bytes

GRADEBOOK, RESULTS, SUMMARY, MANIFEST, FEEDBACK = (
    "gradebook.csv", "results.jsonl", "summary.txt", "batch.json", "feedback")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # OWASP's CSV injection list
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                               *(f"lpt{i}" for i in range(10))})


@dataclass
class Listing:
    """What the batch found besides the rows (the manifest's part that is rendered)."""

    assignment: str
    title: str = ""
    unrecognised: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


# --- cells -------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ tab or CR gets a ' in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def one_line(text: str | None, limit: int = 300) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def check_names(rows: list[Row]) -> list[str]:
    """Every check, in the order the results list them (first appearance by row)."""
    names: dict[str, None] = {}
    for row in rows:
        for check in (row.result.checks if row.result else ()):
            names.setdefault(check.name, None)
    return list(names)


# --- renderings --------------------------------------------------------------------------


def render_gradebook(rows: list[Row]) -> str:
    checks = check_names(rows)
    header = ["id", "total"]
    for name in checks:
        header += [f"{name} points", f"{name} status", f"{name} reason"]
    header += ["duration", "submission_sha256", "status", "error", "note", "name", "late",
               "source", "max_total"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        by_name = {c.name: c for c in (row.result.checks if row.result else ())}
        cells = [safe_cell(row.id), _num(row.total)]
        for name in checks:
            check = by_name.get(name)
            if check is None:
                cells += ["", "", ""]
            else:
                cells += [_num(check.points), check.status, safe_cell(one_line(check.message))]
        cells += ["" if row.seconds is None else f"{row.seconds:.1f}", row.submission_sha256,
                  row.status, safe_cell(one_line(row.error)), safe_cell(one_line(row.note)),
                  safe_cell(row.name), "yes" if row.late else "", safe_cell(row.source),
                  _num(row.max_total)]
        writer.writerow(cells)
    return out.getvalue()


def render_results(rows: list[Row]) -> str:
    return "".join(json.dumps(row.to_dict(), ensure_ascii=False, allow_nan=False,
                              sort_keys=True) + "\n" for row in rows)


def feedback_text(row: Row, assignment: str) -> str | None:
    """The student's feedback file, or None (nothing to say yet)."""
    if row.result is not None:
        return terminal.render(row.result, color=False) + "\n"
    head = f"hwgrade grade {assignment}: {row.source}\n\n"
    if row.status == "submission_error":
        return head + f"Your submission could not be graded: {row.error}\n"
    if row.status == "grader_error":
        return head + ("Your submission could not be graded automatically because of a "
                       "problem in the grader, not in your code. Your instructor will grade "
                       "it.\n")
    return None


def feedback_names(ids: list[str]) -> dict[str, str]:
    """A file name per id: the id itself where it is a safe name, else a cleaned
    name and a hash of the id; unique even on case-insensitive file systems."""
    names = {}
    for student in ids:
        clean = re.sub(r"[^\w.-]+", "_", student).strip("._")[:80] or "student"
        if clean != student or clean.lower().split(".")[0] in _WINDOWS_RESERVED:
            clean += "-" + _short_hash(student)
        names[student] = clean
    folded = Counter(n.casefold() for n in names.values())
    return {s: (n if folded[n.casefold()] == 1 or n != s else f"{n}-{_short_hash(s)}") + ".txt"
            for s, n in names.items()}


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def render_summary(rows: list[Row], listing: Listing) -> str:
    counts = Counter(row.status for row in rows)
    title = f" ({listing.title})" if listing.title else ""
    lines = [f"hwgrade grade {listing.assignment}{title}",
             f"{len(rows)} submission(s): " + ", ".join(
                 _count(counts[s], s) for s in STATUSES if counts[s] or s == "graded")]
    graded = [row for row in rows if row.status == "graded" and row.result is not None]
    perfect = sum(row.result.all_passed for row in graded)
    late = sum(row.late for row in rows)
    lines.append(f"all checks passed: {perfect}" + (f" · late: {late}" if late else ""))
    lines += _distribution(graded)
    lines += _most_failed(graded)
    problems = [row for row in rows if row.status in ("submission_error", "grader_error")]
    if problems:
        lines += ["", "Errors:"]
        width = min(max(len(r.id) for r in problems), 30)
        lines += [f"  {r.id:<{width}}  {r.status.replace('_', ' ')}: {one_line(r.error, 200)}"
                  for r in problems]
    noted = [row for row in rows if row.note]
    if noted:
        lines += ["", "Notes:"]
        lines += [f"  {r.id}: {one_line(r.note, 300)}" for r in noted]
    if listing.unrecognised:
        lines += ["", "Not graded, not recognised as submissions:"]
        lines += [f"  {name}: {why}" for name, why in listing.unrecognised]
    if listing.ignored:
        lines += ["", "Ignored: " + ", ".join(listing.ignored)]
    if listing.absent:
        lines += ["", "In the mapping file but without a submission: "
                  + ", ".join(listing.absent)]
    if listing.unmapped:
        lines += ["", "Not in the mapping file (graded under the id from their name): "
                  + ", ".join(listing.unmapped)]
    return "\n".join(lines) + "\n"


def _count(n: int, status: str) -> str:
    label = status.replace("_", " ")
    return f"{n} {label}s" if label.endswith("error") and n != 1 else f"{n} {label}"


def _distribution(graded: list[Row]) -> list[str]:
    if not graded:
        return ["", "No graded submissions."]
    full = Counter(row.max_total for row in graded).most_common(1)[0][0] or 0
    totals = [row.total or 0.0 for row in graded]
    bins = Counter()
    for row in graded:
        percent = 100 * (row.total or 0) / row.max_total if row.max_total else 0
        bins[10 if percent >= 100 else max(int(percent // 10), 0)] += 1
    peak = max(bins.values())
    lines = ["", f"Scores of graded submissions (percent of {full:g} points):"]
    for b in range(10, -1, -1):
        label = "100" if b == 10 else f"{10 * b}-{10 * b + 9}"
        bar = "#" * round(30 * bins[b] / peak) if bins[b] else ""
        lines.append(f"  {label:>6}  {bar:<30} {bins[b]}")
    lines.append(f"  mean {statistics.fmean(totals):.4g} · median "
                 f"{statistics.median(totals):.4g} · min {min(totals):g} · max {max(totals):g}")
    return lines


def _most_failed(graded: list[Row], top: int = 10) -> list[str]:
    failed: Counter = Counter()
    not_run: Counter = Counter()
    titles: dict[str, str] = {}
    for row in graded:
        for check in row.result.checks:
            titles.setdefault(check.name, check.title)
            if check.status in ("failed", "error"):
                failed[check.name] += 1
            elif check.status == "not_run":
                not_run[check.name] += 1
    ranked = sorted(set(failed) | set(not_run), key=lambda n: (-failed[n], -not_run[n], n))
    if not ranked:
        return []
    width = min(max(len(n) for n in ranked[:top]), 40)
    lines = ["", f"Most failed checks (failed / not run, of {len(graded)} graded):"]
    lines += [f"  {n:<{width}}  {failed[n]:>3} / {not_run[n]:<3} {one_line(titles[n], 60)}"
              for n in ranked[:top]]
    return lines


# --- files -------------------------------------------------------------------------------


def sweep_temporaries(outdir: Path) -> None:
    """Remove the half-written files of a run that was killed (SIGKILL, power loss) between
    creating a temporary and renaming it. Only the run holding OUTDIR's lock calls this,
    so no live writer owns them."""
    for folder in (outdir, outdir / FEEDBACK):
        for tmp in folder.glob(TEMPORARY):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)


def write_feedback(outdir: Path, row: Row, assignment: str, filename: str) -> None:
    text = feedback_text(row, assignment)
    if text is None:
        return
    folder = outdir / FEEDBACK
    folder.mkdir(exist_ok=True)
    path = folder / filename
    data = text.encode("utf-8")
    if not path.exists() or path.read_bytes() != data:
        write_atomic_bytes(path, data)
    write_html_feedback(folder / html_name(filename), row, assignment, text, write_atomic_bytes)


def write_outputs(outdir: Path, rows: list[Row], listing: Listing,
                  manifest: dict[str, Any]) -> str:
    """Every output of outdir, rewritten from rows; returns the summary text."""
    outdir.mkdir(parents=True, exist_ok=True)
    names = feedback_names([row.id for row in rows])
    for row in rows:
        write_feedback(outdir, row, listing.assignment, names[row.id])
    folder = outdir / FEEDBACK
    if folder.is_dir():  # feedback of students no longer in the batch
        keep = set(names.values()) | {html_name(n) for n in names.values()}
        for stale in [*folder.glob("*.txt"), *folder.glob("*.html")]:
            if stale.name not in keep:
                stale.unlink()
    summary = render_summary(rows, listing)
    write_atomic_bytes(outdir / GRADEBOOK, render_gradebook(rows).encode("utf-8-sig"))
    write_atomic_bytes(outdir / RESULTS, render_results(rows).encode("utf-8"))
    write_atomic_bytes(outdir / SUMMARY, summary.encode("utf-8"))
    write_atomic_bytes(outdir / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2)
                                     + "\n").encode("utf-8"))
    fsync_dir(outdir)
    return summary


def listing_of(manifest: dict[str, Any]) -> Listing:
    return Listing(assignment=manifest["assignment"]["name"],
                   title=manifest["assignment"].get("title", ""),
                   unrecognised=[tuple(u) for u in manifest.get("unrecognised", [])],
                   ignored=list(manifest.get("ignored", [])),
                   unmapped=list(manifest.get("unmapped", [])),
                   absent=list(manifest.get("absent", [])))


def read_rows(outdir: Path) -> list[Row]:
    path = outdir / RESULTS
    return [Row.from_dict(json.loads(line))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
