"""Where the HTML report goes: `hwgrade check --format html` (CliRunner and a real
subprocess on the demo assignment) and the batch's feedback/ID.html per student."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from html_page import Page, assert_self_contained
from html_result import day65_result

from grader.batch import feedback_html, gradebook
from grader.batch.rows import Row
from grader.cli import main
from grader.report import html

HERE = Path(__file__).parent
DEMO = HERE / "demo_assignment"
SOLUTION = HERE / "demo_solution"
WRONG = (SOLUTION / "mathy.py").read_text(encoding="utf-8").replace(
    "return x * x", "return x + x  # <script>alert(1)</script>")


def check(*args: str):
    return CliRunner().invoke(main, ["check", str(DEMO), *args], catch_exceptions=False)


def test_check_prints_the_page_to_stdout_without_output():
    result = check(str(SOLUTION), "--format", "html")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<!DOCTYPE html>") and result.output.endswith("</html>\n")
    assert_self_contained(result.output)
    page = Page(result.output)
    assert "Score 10/10" in page.plain and "hidden" in page.plain
    assert page.all("img") == []  # the demo has no experiments: no plots, no matplotlib


def test_check_writes_the_page_and_says_only_the_summary(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mathy.py").write_text(WRONG, encoding="utf-8")
    target = tmp_path / "feedback.html"
    result = check(str(folder), "--format", "html", "--output", str(target))
    assert result.exit_code == 1
    assert result.output == (f"hwgrade check demo: 5/10 (4 checks: 2 passed, 1 failed, "
                             f"1 not run) -> {target}\n")
    text = target.read_text(encoding="utf-8")
    assert_self_contained(text)
    assert "Score 5/10" in Page(text).plain and "x * x" in text


def test_a_real_subprocess_writes_the_page(tmp_path):
    target = tmp_path / "feedback.html"
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(DEMO), str(SOLUTION),
                           "--format", "html", "-o", str(target)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"hwgrade check demo: 10/10 (4 checks: 4 passed) -> {target}\n"
    assert proc.stderr == ""
    text = target.read_text(encoding="utf-8")
    assert_self_contained(text)
    assert len(Page(text).all("tr")) == 1 + 4  # the header and one row per check


# --- the batch's feedback/ID.html ------------------------------------------------------------

KEY = {"submission": "aaa", "assignment": "bbb", "assignment_version": "1",
       "grader": {"hwgrade": "0.1.0"}}
MANIFEST = {"format": "hwgrade-batch", "assignment": {"name": "day65"}}


def rows(result=None) -> list[Row]:
    result = result or day65_result()
    return [Row(id="alice", status="graded", source="alice/", total=result.score,
                max_total=result.max_score, result=result),
            Row(id="bob smith", status="submission_error", source="bob.zip",
                error="Syntax error in activations.py, line 3 <b>"),
            Row(id="carol", status="pending", source="carol/")]


def write(outdir: Path, batch_rows: list[Row]) -> None:
    gradebook.write_outputs(outdir, batch_rows, gradebook.Listing(assignment="day65"),
                            MANIFEST)


def test_one_page_per_student_beside_the_text_feedback(tmp_path):
    write(tmp_path, rows())
    names = gradebook.feedback_names(["alice", "bob smith", "carol"])
    files = sorted(p.name for p in (tmp_path / "feedback").iterdir())
    expected = [names["alice"], names["bob smith"]]  # carol is pending: nothing to say yet
    assert files == sorted(expected + [feedback_html.html_name(n) for n in expected])
    alice = (tmp_path / "feedback" / "alice.html").read_text(encoding="utf-8")
    assert_self_contained(alice)
    assert "Score 15/23" in Page(alice).plain and len(Page(alice).all("img")) == 23 + 4
    bob = (tmp_path / "feedback" / feedback_html.html_name(names["bob smith"])).read_text(
        encoding="utf-8")
    assert_self_contained(bob)
    assert "Syntax error in activations.py, line 3 <b>" in Page(bob).plain
    assert not list((tmp_path / "feedback").glob(".*"))  # no temporary file left


def test_pages_are_drawn_again_only_when_their_result_changes(tmp_path, monkeypatch):
    write(tmp_path, rows())
    page = tmp_path / "feedback" / "alice.html"
    before = page.read_bytes()

    def must_not_draw(*args, **kwargs):
        raise AssertionError("an unchanged page was drawn again")

    monkeypatch.setattr(html, "render", must_not_draw)
    monkeypatch.setattr(html, "render_text", must_not_draw)
    write(tmp_path, rows())  # resumed with nothing new: nothing drawn
    assert page.read_bytes() == before
    monkeypatch.undo()
    slower = day65_result()
    slower.timings = {"total": 99.0}  # timings are not on the page
    monkeypatch.setattr(html, "render", must_not_draw)
    write(tmp_path, rows(slower))
    monkeypatch.undo()
    changed = day65_result()
    changed.checks[0].message = "changed"
    changed.score = 1
    write(tmp_path, rows(changed))
    assert "Score 1/23" in Page(page.read_text(encoding="utf-8")).plain


def test_stale_pages_are_removed_with_their_text(tmp_path):
    write(tmp_path, rows())
    write(tmp_path, rows()[1:])
    assert not (tmp_path / "feedback" / "alice.html").exists()
    assert not (tmp_path / "feedback" / "alice.txt").exists()
    assert len(list((tmp_path / "feedback").glob("*.html"))) == 1


def test_a_renderer_failure_costs_the_plots_not_the_batch(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("matplotlib exploded")

    monkeypatch.setattr(html, "render", broken)
    write(tmp_path, rows())
    page = (tmp_path / "feedback" / "alice.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    plain = Page(page).plain
    assert "Score: 15/23" in plain  # the text feedback, in a page
    assert "RuntimeError: matplotlib exploded" in plain and "not in your code" in plain
    assert (tmp_path / "gradebook.csv").exists()
    monkeypatch.undo()
    write(tmp_path, rows())  # the failed page recorded no source: drawn again next time
    redrawn = Page((tmp_path / "feedback" / "alice.html").read_text("utf-8"))
    assert len(redrawn.all("img")) == 23 + 4  # a panel per setting, a heat map per exercise


def test_the_page_key_ignores_timings_but_not_the_renderer():
    row = rows()[0]
    renderer = feedback_html._renderer_key()
    key = feedback_html.source_key(row, "", renderer)
    other = copy.deepcopy(row)
    other.result.timings = {"total": 1.0}
    assert feedback_html.source_key(other, "", renderer) == key
    assert feedback_html.source_key(row, "", renderer + b"x") != key


@pytest.mark.slow
def test_the_batch_grader_writes_one_page_per_student(tmp_path):
    subs = tmp_path / "subs"
    for student, source in (("alice", WRONG.replace("x + x", "x * x")), ("bob", WRONG)):
        (subs / student).mkdir(parents=True)
        (subs / student / "mathy.py").write_text(source, encoding="utf-8")
    (subs / "carol").mkdir()
    (subs / "carol" / "mathy.py").write_text("def square(x):\n    return x *\n", "utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(DEMO), str(subs),
                           "-o", str(out), "--jobs", "2", "--quiet"], capture_output=True,
                          text=True, timeout=600, cwd=HERE.parent,
                          env={**os.environ, "HWGRADE_DEBUG": "1"})
    assert proc.returncode == 0, proc.stderr
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (out / "feedback").glob("*.html")}
    assert sorted(pages) == ["alice", "bob", "carol"]
    for text in pages.values():
        assert_self_contained(text)
    assert "Score 10/10" in Page(pages["alice"]).plain
    assert "Score 5/10" in Page(pages["bob"]).plain
    assert "could not be graded" in Page(pages["carol"]).plain
