"""`hwgrade grade` and `hwgrade merge` end to end, on a class of 34 demo submissions
(tests/batch_submissions.py): one row each with the expected status, a run killed
with SIGKILL and resumed, Ctrl-C, shards merged, resume counting, usage errors."""

from __future__ import annotations

import csv
import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from batch_submissions import (
    CORRECT,
    DEMO,
    UNRECOGNISED,
    WRONG_SQUARE,
    comparable_gradebook,
    comparable_results,
    make_batch,
    with_safe_div,
)
from click.testing import CliRunner

from grader.assignment import find_assignment
from grader.batch import gradebook
from grader.batch.journal import JOURNAL
from grader.batch.progress import Progress
from grader.batch.rows import Row
from grader.batch.run import grade_batch
from grader.cli import main

ROOT = Path(__file__).parents[1]


def hwgrade(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def journal_lines(outdir: Path) -> int:
    path = outdir / JOURNAL
    return path.read_bytes().count(b"\n") if path.exists() else 0


def tagged_processes(tag: str) -> list[int]:
    """Processes whose environment carries tag (the batch's grader processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as file:
                    if tag.encode() in file.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def wait_gone(tag: str, seconds: float = 30) -> list[int]:
    end = time.monotonic() + seconds
    while (left := tagged_processes(tag)) and time.monotonic() < end:
        time.sleep(0.2)
    return left


def assert_same_outputs(a: Path, b: Path) -> None:
    """Two OUTDIRs hold the same grades (durations aside)."""
    assert comparable_gradebook(a / "gradebook.csv") == comparable_gradebook(b / "gradebook.csv")
    assert comparable_results(a / "results.jsonl") == comparable_results(b / "results.jsonl")
    assert (a / "summary.txt").read_text("utf-8") == (b / "summary.txt").read_text("utf-8")
    feedback = filecmp.dircmp(a / "feedback", b / "feedback")
    assert not (feedback.left_only or feedback.right_only or feedback.diff_files)
    assert not filecmp.cmpfiles(a / "feedback", b / "feedback", os.listdir(a / "feedback"),
                                shallow=False)[1]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The class, graded once without interruption (the reference for the others)."""
    root = tmp_path_factory.mktemp("batch")
    expected = make_batch(root / "subs")
    start = time.monotonic()
    code, out, err = finish(hwgrade("grade", str(DEMO), str(root / "subs"), "-o",
                                    str(root / "single"), "--jobs", "2"))
    return {"root": root, "subs": root / "subs", "out": root / "single", "expected": expected,
            "code": code, "stdout": out, "stderr": err, "seconds": time.monotonic() - start}


@pytest.mark.slow
def test_every_submission_gets_one_row_with_the_expected_status(batch):
    assert batch["code"] == 0, batch["stderr"][-3000:]
    out, expected = batch["out"], batch["expected"]
    assert len(expected) >= 30
    with open(out / "gradebook.csv", encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    ids = [gradebook_id(r["id"]) for r in rows]
    assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids))
    got = {gradebook_id(r["id"]): (r["status"], float(r["total"])) for r in rows}
    assert got == {k: (status, total) for k, (status, total) in expected.items()}
    for row in rows:  # every submission error says why; hostile code costs only points
        assert bool(row["error"]) == (row["status"] != "graded"), row
    results = gradebook.read_rows(out)
    assert [r.id for r in results] == [gradebook_id(r["id"]) for r in rows]
    by_id = {r.id: r for r in results}
    loops = {c.name: c for c in by_id["hostile 3 loops"].result.checks}
    assert "did not return within" in loops["safe_div"].message
    assert by_id["456789"].late and by_id["456789"].extras == ("report.pdf",)
    assert by_id["123456"].name == "Wang Xiao Ming"
    # one feedback file each, the student's report, as text and as a page
    assert len(list((out / "feedback").glob("*.txt"))) == len(expected)
    assert len(list((out / "feedback").glob("*.html"))) == len(expected)
    names = gradebook.feedback_names(sorted(expected))
    kim = (out / "feedback" / names["kim"]).read_text("utf-8")
    assert "Score: 5/10" in kim and "x * x" in kim
    kim_page = (out / "feedback" / names["kim"].replace(".txt", ".html")).read_text("utf-8")
    assert "Score 5/10" in kim_page and "x * x" in kim_page
    assert "could not be graded" in (out / "feedback" / names["nick"]).read_text("utf-8")
    # the summary: printed and written; what was not graded is listed
    summary = (out / "summary.txt").read_text("utf-8")
    assert summary in batch["stdout"]
    assert "27 graded, 7 submission errors" in summary
    assert all(name in summary for name in UNRECOGNISED)
    assert "Most failed checks" in summary and "safe_div" in summary
    graded = len(expected) - 2  # two are never handed to a grader (a pdf, two hand-ins)
    assert f"[{graded}/{graded}]" in batch["stderr"]


def gradebook_id(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


@pytest.mark.slow
def test_formula_injection_is_neutralised_in_every_cell(batch):
    with open(batch["out"] / "gradebook.csv", encoding="utf-8-sig", newline="") as file:
        table = list(csv.reader(file))
    for row in table[1:]:
        for cell in row:
            assert not cell.startswith(gradebook.FORMULA_START), cell
    ids = {row[0] for row in table[1:]}
    assert {"'=cmd|' -C calc'!A0", "'@SUM(1+1)", "'-2+3"} <= ids


@pytest.mark.slow
def test_killed_with_sigkill_midway_then_resumed_equals_an_uninterrupted_run(batch, tmp_path):
    tag = uuid.uuid4().hex
    env = dict(os.environ, HWGRADE_TEST_TAG=tag)
    out = tmp_path / "killed"
    proc = hwgrade("grade", str(DEMO), str(batch["subs"]), "-o", str(out), "--jobs", "2",
                   env=env)
    deadline = time.monotonic() + 300
    while journal_lines(out) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()  # SIGKILL: no cleanup, no outputs written
    proc.communicate()
    before = journal_lines(out)
    gradable = len(batch["expected"]) - 2  # gina (two hand-ins), 678901 (a pdf): not graded
    assert 4 <= before < gradable, "the run was not killed midway"
    assert not (out / "gradebook.csv").exists()
    # the grader processes notice that their parent is gone and stop
    if os.path.isdir("/proc"):
        assert wait_gone(tag) == []
    code, _, err = finish(hwgrade("grade", str(DEMO), str(batch["subs"]), "-o", str(out),
                                  "--jobs", "2"))
    assert code == 0, err[-3000:]
    after = journal_lines(out)
    assert after - before == gradable - before  # nothing journaled was graded again
    assert f"{before} unchanged since the last run" in err
    assert_same_outputs(batch["out"], out)


@pytest.mark.slow
def test_shards_merged_equal_the_single_run(batch, tmp_path):
    shards = [hwgrade("grade", str(DEMO), str(batch["subs"]), "-o", str(tmp_path / f"s{i}"),
                      "--jobs", "1", "--shard", f"{i}/2", "--quiet") for i in (1, 2)]
    for proc in shards:
        code, out, err = finish(proc)
        assert code == 0 and out == "", err[-3000:]
    ids = [{row.id for row in gradebook.read_rows(tmp_path / f"s{i}")} for i in (1, 2)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == set(batch["expected"])
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "s2"), str(tmp_path / "s1"),
                                       "-o", str(tmp_path / "merged")])
    assert result.exit_code == 0, result.output
    assert_same_outputs(batch["out"], tmp_path / "merged")
    # the merged journal lets a later run there resume instead of starting over
    report = grade_batch(find_assignment(str(DEMO)), batch["subs"], tmp_path / "merged",
                         jobs=2)
    assert report.graded_now == 0 and report.unchanged == len(batch["expected"]) - 2


@pytest.mark.slow
def test_resume_regrades_only_what_changed(tmp_path):
    demo = find_assignment(str(DEMO))
    subs = tmp_path / "subs"
    for name, source in [("alice", CORRECT), ("bob", WRONG_SQUARE), ("carol", CORRECT)]:
        (subs / name).mkdir(parents=True)
        (subs / name / "mathy.py").write_text(source, encoding="utf-8")
    out = tmp_path / "out"
    first = grade_batch(demo, subs, out, jobs=2)
    assert (first.graded_now, first.unchanged, journal_lines(out)) == (3, 0, 3)
    again = grade_batch(demo, subs, out, jobs=2)
    assert (again.graded_now, again.unchanged, journal_lines(out)) == (0, 3, 3)
    (subs / "bob" / "mathy.py").write_text(CORRECT, encoding="utf-8")  # bob fixed his bug
    fixed = grade_batch(demo, subs, out, jobs=2)
    assert (fixed.graded_now, fixed.unchanged, journal_lines(out)) == (1, 2, 4)
    assert {r.id: r.total for r in fixed.rows} == {"alice": 10, "bob": 10, "carol": 10}
    forced = grade_batch(demo, subs, out, jobs=2, force=True)
    assert (forced.graded_now, journal_lines(out)) == (3, 7)
    # a changed assignment (here: its manifest) invalidates every grade
    changed = tmp_path / "demo"
    shutil.copytree(DEMO, changed)
    with open(changed / "assignment.toml", "a", encoding="utf-8") as file:
        file.write("\n# a comment is a change too\n")
    regraded = grade_batch(find_assignment(str(changed)), subs, out, jobs=2)
    assert regraded.graded_now == 3


@pytest.mark.slow
def test_an_interrupt_just_after_a_record_is_written_keeps_it_in_the_outputs(
        tmp_path, monkeypatch):
    """Ctrl-C between a result's durable write to the journal and the run's own
    bookkeeping of it: the gradebook still shows it, as the journal does."""
    from grader.batch.journal import Journal

    write = Journal.append

    def append_then_interrupt(self, record):
        write(self, record)
        raise KeyboardInterrupt

    monkeypatch.setattr(Journal, "append", append_then_interrupt)
    subs = tmp_path / "subs"
    for name in ("alice", "bob"):
        (subs / name).mkdir(parents=True)
        (subs / name / "mathy.py").write_text(CORRECT, encoding="utf-8")
    out = tmp_path / "out"
    report = grade_batch(find_assignment(str(DEMO)), subs, out, jobs=1)
    assert report.interrupted and journal_lines(out) == 1
    rows = gradebook.read_rows(out)
    assert sorted(r.status for r in rows) == ["graded", "pending"]


@pytest.mark.parametrize("stop_after", [1, 3])
def test_a_ctrl_c_python_swallowed_still_stops_the_run(tmp_path, stop_after):
    """Python drops an exception raised inside a weakref callback or a __del__
    ("Exception ignored in ..."; CI saw Ctrl-C lost that way during an import). The
    signal handler also sets the run's stop flag, which ends the run by itself: after
    the submission in hand, or as interrupted when it was the last one."""
    subs = tmp_path / "subs"
    for name in ("alice", "bob", "carol"):
        (subs / name).mkdir(parents=True)
        (subs / name / "mathy.py").write_text(CORRECT, encoding="utf-8")
    stop = threading.Event()

    class SetsTheFlagOnly:
        graded_count = 0

        def started(self, **counts):
            pass

        def graded(self, row, *, failed):
            self.graded_count += 1
            if self.graded_count == stop_after:
                stop.set()

    out = tmp_path / "out"
    report = grade_batch(find_assignment(str(DEMO)), subs, out, jobs=1,
                         events=SetsTheFlagOnly(), stop=stop)
    assert report.interrupted and report.graded_now == stop_after
    rows = gradebook.read_rows(out)
    assert sum(r.status == "graded" for r in rows) == journal_lines(out) == stop_after


@pytest.mark.slow
def test_a_failed_regrade_never_silently_replaces_a_score(tmp_path):
    demo = find_assignment(str(DEMO))
    subs = tmp_path / "subs"
    for name, source in [("alice", CORRECT), ("bob", WRONG_SQUARE)]:
        (subs / name).mkdir(parents=True)
        (subs / name / "mathy.py").write_text(source, encoding="utf-8")
    out = tmp_path / "out"
    assert grade_batch(demo, subs, out, jobs=2).grader_errors == 0
    # every grader hangs past its time limit this time
    failed = grade_batch(demo, subs, out, jobs=2, force=True, timeout=0.2)
    assert failed.failed_now == 2 and failed.grader_errors == 2
    rows = {r.id: r for r in gradebook.read_rows(out)}
    assert (rows["alice"].status, rows["alice"].total) == ("graded", 10)
    assert (rows["bob"].status, rows["bob"].total) == ("graded", 5)
    for row in rows.values():
        assert "latest grading failed (grading took longer than 0.2 s" in row.note
    with open(out / "gradebook.csv", encoding="utf-8-sig", newline="") as file:
        assert all("latest grading failed" in r["note"] for r in csv.DictReader(file))
    assert "latest grading failed" in (out / "summary.txt").read_text("utf-8")
    # the failures are retried by the next run, which clears the notes
    again = grade_batch(demo, subs, out, jobs=2)
    assert again.graded_now == 2 and again.grader_errors == 0
    assert all(not r.note for r in again.rows)


@pytest.mark.slow
def test_ctrl_c_stops_the_graders_and_writes_what_is_done(tmp_path):
    subs = tmp_path / "subs"
    for n in range(6):
        (subs / f"s{n}").mkdir(parents=True)
        (subs / f"s{n}" / "mathy.py").write_text(CORRECT, encoding="utf-8")
    tag = uuid.uuid4().hex
    out = tmp_path / "out"
    proc = hwgrade("grade", str(DEMO), str(subs), "-o", str(out), "--jobs", "1",
                   env=dict(os.environ, HWGRADE_TEST_TAG=tag))
    while journal_lines(out) < 1 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc, timeout=60)
    assert code == 130, err[-2000:]
    assert "run the same command again" in err
    rows = gradebook.read_rows(out)
    assert len(rows) == 6 and {r.status for r in rows} <= {"graded", "pending"}
    assert sum(r.status == "graded" for r in rows) == journal_lines(out) >= 1
    if os.path.isdir("/proc"):
        assert wait_gone(tag, 10) == []


def test_usage_errors(tmp_path):
    runner = CliRunner()
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "mathy.py").write_text(CORRECT, encoding="utf-8")
    cases = [
        (["grade", str(DEMO), str(tmp_path / "subs")], "Missing option"),
        (["grade", str(DEMO), str(tmp_path / "subs"), "-o", str(tmp_path / "o"),
          "--shard", "3/2"], "not a shard"),
        (["grade", str(DEMO), str(tmp_path / "subs"), "-o", str(tmp_path / "o")],
         "one student's submission"),
        (["grade", "nosuch", str(tmp_path / "subs"), "-o", str(tmp_path / "o")],
         "no assignment"),
        (["merge", str(tmp_path / "subs"), "-o", str(tmp_path / "m")], "not the output"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_progress_bar_with_eta_and_running_counts():
    from grader.results import CheckResult, GradeResult, SubmissionInfo

    terminal = _Terminal()
    progress = Progress(label="hwgrade grade demo", file=terminal, jobs=2)
    progress.started(to_grade=3, unchanged=1, total=4)

    def row(score, error=None):
        checks = [CheckResult("a", "a", "passed" if score == 10 else "failed", score, 10)]
        res = GradeResult("demo", score, 10, checks, SubmissionInfo("x"), error=error)
        return Row(id="x", status="graded", source="x", result=res, total=score, max_total=10)

    progress.graded(row(10), failed=False)
    progress.graded(row(5), failed=False)
    progress.graded(Row(id="y", status="grader_error", source="y"), failed=True)
    progress.close()
    assert "1 unchanged since the last run" in terminal.text
    assert "2 graded, 1 with failed checks, 1 error" in terminal.text
    assert "3/3" in terminal.text
    quiet = _Terminal()
    silent = Progress(label="x", file=quiet, quiet=True)
    silent.started(to_grade=1, unchanged=0, total=1)
    silent.graded(row(10), failed=False)
    silent.close()
    assert quiet.text == ""


@pytest.mark.slow
def test_a_student_cannot_read_other_submissions_or_the_outputs():
    # SUBMISSIONS and OUTDIR in a place the worker does not hide by default (not a
    # home or a temporary folder): the batch hides them itself.
    (ROOT / "build").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="batch-leak-", dir=ROOT / "build"))
    base.chmod(0o755)  # readable by everyone, as an unzipped download usually is
    try:
        subs, out = base / "subs", base / "out"
        (subs / "alice").mkdir(parents=True)
        (subs / "alice" / "mathy.py").write_text(CORRECT + "# alice-secret-7c1e\n")
        (subs / "mallory").mkdir()
        steal = (f"for p in ({str(subs / 'alice' / 'mathy.py')!r}, "
                 f"{str(out / JOURNAL)!r}):\n"
                 "    try:\n        raise RuntimeError(open(p).read())\n"
                 "    except OSError:\n        pass\n"
                 "raise RuntimeError('nothing to read')\n")
        (subs / "mallory" / "mathy.py").write_text(with_safe_div(steal))
        report = grade_batch(find_assignment(str(DEMO)), subs, out, jobs=1)
        mallory = next(r for r in report.rows if r.id == "mallory")
        assert mallory.result.protections.get("hidden_paths"), "no namespaces here"
        checks = {c.name: c for c in mallory.result.checks}
        assert checks["safe_div"].status == "failed"
        assert "nothing to read" in json.dumps(mallory.to_dict())
        assert "alice-secret-7c1e" not in json.dumps(mallory.to_dict())
        assert "alice-secret" not in (out / "feedback" / "mallory.txt").read_text("utf-8")
    finally:
        shutil.rmtree(base)
