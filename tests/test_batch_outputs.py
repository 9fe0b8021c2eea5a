"""Batch bookkeeping without grading: the journal, rows decided from it, the
gradebook's cells and files, merge's refusals."""

from __future__ import annotations

import csv
import json
import multiprocessing
from pathlib import Path

import pytest

from grader.assignment import find_assignment
from grader.batch import gradebook
from grader.batch.journal import JOURNAL, JournalError, Record, open_journal
from grader.batch.layouts import Submission
from grader.batch.merge import MergeError, merge_outdirs
from grader.batch.rows import Row, build_row, is_current
from grader.batch.run import grade_batch
from grader.results import CheckResult, GradeResult, SubmissionInfo

KEY = {"submission": "aaa", "assignment": "bbb", "assignment_version": "1",
       "grader": {"hwgrade": "0.1.0"}}


def result(score: float, *, message: str = "", error: str | None = None) -> dict:
    checks = [] if error else [
        CheckResult(name="square_values", title="square(x) is x * x", status="passed",
                    points=3, max_points=3),
        CheckResult(name="safe_div", title="safe_div(a, b)", status="failed" if score < 10
                    else "passed", points=score - 3, max_points=7, message=message)]
    return GradeResult(assignment="demo", score=score if not error else 0,
                       max_score=10 if not error else 0, checks=checks,
                       submission=SubmissionInfo(path="alice"), error=error).to_dict()


def sub(student: str = "alice", **changes) -> Submission:
    return Submission(id=student, source=f"{student}/", members=(Path(student),), **changes)


def record(res=None, failure=None, key=KEY, student="alice") -> Record:
    return Record(id=student, key=key, source=f"{student}/", seconds=1.5, result=res,
                  failure=failure)


# --- journal -------------------------------------------------------------------------


def test_journal_appends_durably_and_reads_back(tmp_path):
    with open_journal(tmp_path) as journal:
        assert journal.records == []
        journal.append(record(result(10)))
        journal.append(record(failure="the grader process was killed by SIGKILL"))
    lines = (tmp_path / JOURNAL).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line)["journal"] == 1 for line in lines)
    with open_journal(tmp_path) as journal:
        assert [r.result is not None for r in journal.records] == [True, False]
        assert journal.records[0].result["score"] == 10


def test_a_torn_last_line_is_cut_off_and_appending_goes_on(tmp_path):
    with open_journal(tmp_path) as journal:
        journal.append(record(result(10)))
    path = tmp_path / JOURNAL
    whole = path.read_bytes()
    path.write_bytes(whole + whole[: len(whole) // 2])  # killed in the middle of a write
    with open_journal(tmp_path) as journal:
        assert len(journal.records) == 1
        journal.append(record(result(7), student="bob"))
    with open_journal(tmp_path) as journal:
        assert [r.id for r in journal.records] == ["alice", "bob"]
        assert journal.skipped_lines == 0


def _hold_lock(outdir, ready, release):
    with open_journal(Path(outdir)):
        ready.set()
        release.wait(30)


def test_one_run_per_outdir_at_a_time(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(JournalError, match="another hwgrade grade"), open_journal(tmp_path):
            pass
    finally:
        release.set()
        holder.join(30)
    with open_journal(tmp_path):  # free again
        pass


# --- rows ----------------------------------------------------------------------------


def test_rows_from_the_latest_result():
    row = build_row(sub(), [record(result(5, message="wrong")), record(result(10))], KEY)
    assert (row.status, row.total, row.max_total, row.note) == ("graded", 10, 10, "")
    assert is_current(record(result(10)), KEY)
    assert not is_current(record(result(10)), {**KEY, "submission": "changed"})
    assert not is_current(record(failure="died"), KEY)


def test_a_failed_regrade_keeps_the_previous_score_and_says_so():
    history = [record(result(8, message="m")), record(failure="the grader process died")]
    row = build_row(sub(), history, KEY)
    assert row.status == "graded" and row.total == 8
    assert "latest grading failed (the grader process died)" in row.note
    assert "earlier grading" in row.note


def test_a_result_for_an_older_submission_says_it_is_stale():
    row = build_row(sub(), [record(result(10))], {**KEY, "submission": "new"})
    assert row.total == 10 and "submission changed" in row.note


def test_rows_without_a_result():
    failed = build_row(sub(), [record(failure="grading took longer than 300 s")], KEY)
    assert (failed.status, failed.total) == ("grader_error", None)
    assert "300 s" in failed.error
    pending = build_row(sub(), [], KEY)
    assert pending.status == "pending" and "run the same command again" in pending.error
    broken = build_row(sub(problem="no code handed in"), [], KEY)
    assert (broken.status, broken.total, broken.error) == ("submission_error", 0,
                                                           "no code handed in")
    syntax = build_row(sub(), [record(result(0, error="Syntax error at alice/mathy.py"))], KEY)
    assert (syntax.status, syntax.total, syntax.max_total) == ("submission_error", 0, None)


def test_rows_round_trip_through_results_jsonl():
    row = build_row(sub(late=True, name="Alice", extras=("report.pdf",)),
                    [record(result(5, message="wrong"))], KEY)
    again = Row.from_dict(json.loads(gradebook.render_results([row])))
    assert again == row


# --- gradebook ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1",
                                  "=cmd|' /C calc'!A0"])
def test_formula_cells_are_neutralised(text):
    assert gradebook.safe_cell(text) == "'" + text


def test_plain_cells_are_unchanged():
    for text in ["alice", "陳小明", "1+1", " =x", "", "'quoted"]:
        assert gradebook.safe_cell(text) == text


def test_gradebook_columns_and_injection(tmp_path):
    rows = [build_row(sub("=HYPERLINK(\"x\")", name="@evil"),
                      [record(result(5, message="=2+2 is not 4"), student="x")], KEY),
            build_row(sub("bob"), [record(failure="-died", student="bob")], KEY)]
    text = gradebook.render_gradebook(rows)
    table = list(csv.reader(text.splitlines()))
    assert table[0][:8] == ["id", "total", "square_values points", "square_values status",
                            "square_values reason", "safe_div points", "safe_div status",
                            "safe_div reason"]
    assert table[0][8:10] == ["duration", "submission_sha256"]
    first = dict(zip(table[0], table[1], strict=True))
    assert first["id"] == "'=HYPERLINK(\"x\")" and first["name"] == "'@evil"
    assert first["safe_div reason"] == "'=2+2 is not 4"
    assert (first["total"], first["safe_div points"], first["safe_div status"]) == (
        "5", "2", "failed")
    second = dict(zip(table[0], table[2], strict=True))
    assert (second["status"], second["total"], second["error"]) == ("grader_error", "", "'-died")
    for line in table[1:]:
        assert not any(cell.startswith(gradebook.FORMULA_START) for cell in line)


def test_feedback_names_are_safe_unique_and_stable():
    ids = ["alice", "Alice", "Eve Smith", "../etc/passwd", "con", "陳小明", "a" * 300, ".hidden"]
    names = gradebook.feedback_names(ids)
    assert len(set(n.casefold() for n in names.values())) == len(ids)
    assert names["陳小明"] == "陳小明.txt"
    assert all("/" not in n and not n.startswith(".") and len(n) < 100 for n in names.values())
    assert gradebook.feedback_names(["Eve Smith"]) == {"Eve Smith": names["Eve Smith"]}


def test_outputs_are_written_and_stale_feedback_removed(tmp_path):
    listing = gradebook.Listing(assignment="demo", unrecognised=[("notes.txt", "a .txt file")])
    rows = [build_row(sub("alice"), [record(result(10))], KEY),
            build_row(sub("bob"), [record(result(5, message="wrong"), student="bob")], KEY)]
    manifest = {"format": "hwgrade-batch", "assignment": {"name": "demo"}}
    summary = gradebook.write_outputs(tmp_path, rows, listing, manifest)
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == [
        "alice.html", "alice.txt", "bob.html", "bob.txt"]  # the text and the page
    assert "Score: 5/10" in (tmp_path / "feedback" / "bob.txt").read_text(encoding="utf-8")
    assert (tmp_path / "summary.txt").read_text(encoding="utf-8") == summary
    assert "safe_div" in summary and "notes.txt" in summary
    gradebook.write_outputs(tmp_path, rows[:1], listing, manifest)
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == ["alice.html",
                                                                       "alice.txt"]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left


def test_a_run_sweeps_the_temporaries_a_killed_run_left(tmp_path):
    """A run SIGKILLed between creating a temporary and renaming it leaves a dot-file;
    the next run (holding OUTDIR's lock, so no live writer owns one) removes them."""
    demo = find_assignment(str(Path(__file__).parent / "demo_assignment"))
    out, subs = tmp_path / "out", tmp_path / "subs"
    subs.mkdir()
    (out / "feedback").mkdir(parents=True)
    left = [out / ".gradebook.csv.k2j3h4.tmp", out / "feedback" / ".456789.html.a8b9c0.tmp"]
    for path in left:
        path.write_text("half written")
    kept = out / "feedback" / "notes.tmp"  # not a temporary of ours
    kept.write_text("an instructor's file")
    grade_batch(demo, subs, out, jobs=1)
    assert not any(path.exists() for path in left)
    assert kept.exists()


# --- merge -------------------------------------------------------------------------------


def shard_output(folder: Path, shard: str | None, rows: list[Row], sha="h") -> Path:
    manifest = {"format": "hwgrade-batch", "version": 1, "shard": shard,
                "assignment": {"name": "demo", "title": "", "version": "1", "sha256": sha},
                "grader": {"hwgrade": "0.1.0"}, "unrecognised": [["notes.txt", "why"]]}
    gradebook.write_outputs(folder, rows, gradebook.listing_of(manifest), manifest)
    return folder


def test_merge_refuses_missing_shards_and_different_assignments(tmp_path):
    a = shard_output(tmp_path / "a", "1/3", [])
    b = shard_output(tmp_path / "b", "2/3", [])
    with pytest.raises(MergeError, match="3/3 missing"):
        merge_outdirs([a, b], tmp_path / "out")
    with pytest.raises(MergeError, match="given twice"):
        merge_outdirs([a, a, b], tmp_path / "out")
    c = shard_output(tmp_path / "c", "3/3", [], sha="other")
    with pytest.raises(MergeError, match="different assignment"):
        merge_outdirs([a, b, c], tmp_path / "out")
    with pytest.raises(MergeError, match="not the output"):
        merge_outdirs([tmp_path], tmp_path / "out")


def test_merge_combines_rows_in_id_order(tmp_path):
    alice = build_row(sub("alice"), [record(result(10))], KEY)
    bob = build_row(sub("bob"), [record(result(5, message="m"), student="bob")], KEY)
    a = shard_output(tmp_path / "a", "1/2", [bob])
    b = shard_output(tmp_path / "b", "2/2", [alice])
    rows, summary = merge_outdirs([a, b], tmp_path / "out")
    assert [r.id for r in rows] == ["alice", "bob"]
    assert summary.count("notes.txt") == 1
    single = shard_output(tmp_path / "single", None, [alice, bob])
    for name in ("gradebook.csv", "results.jsonl", "summary.txt"):
        assert (single / name).read_bytes() == (tmp_path / "out" / name).read_bytes()
