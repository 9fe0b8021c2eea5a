"""Batch input: layouts and ids (folders, files, Moodle, Canvas), the id mapping, shards.
Nothing here grades: these tests only read folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.assignment import find_assignment
from grader.batch.idmap import MappingError, apply_mapping, read_mapping
from grader.batch.layouts import LayoutError, materialize, scan, sort_key
from grader.batch.shards import Shard, shard_of

HERE = Path(__file__).parent
DEMO = find_assignment(str(HERE / "demo_assignment"))
DAY65 = find_assignment("day65")


def touch(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_id(found) -> dict:
    return {s.id: s for s in found.submissions}


def test_folders_and_files_per_student(tmp_path):
    touch(tmp_path / "alice" / "mathy.py")
    touch(tmp_path / "bob.zip")
    touch(tmp_path / "carol.ipynb")
    touch(tmp_path / "dave.py")
    touch(tmp_path / "Eve Smith" / "mathy.py")
    found = by_id(scan(tmp_path, DEMO))
    assert sorted(found) == ["Eve Smith", "alice", "bob", "carol", "dave"]
    assert found["alice"].path == tmp_path / "alice" and found["alice"].source == "alice/"
    assert found["bob"].path == tmp_path / "bob.zip"
    assert found["dave"].path is None  # a single .py is gathered as the module
    assert found["dave"].gather == ((tmp_path / "dave.py", "mathy.py"),)
    assert all(s.gradable and not s.lms for s in found.values())


def test_a_single_py_file_cannot_hold_several_modules(tmp_path):
    touch(tmp_path / "alice.py")
    (sub,) = scan(tmp_path, DAY65).submissions
    assert not sub.gradable and "activations.py" in sub.problem


def test_moodle_folders_and_flat_files(tmp_path):
    touch(tmp_path / "Wang Xiao Ming_123456_assignsubmission_file_" / "mathy.py")
    touch(tmp_path / "Li Hua_223344_assignsubmission_file_mathy.py")
    touch(tmp_path / "Li Hua_223344_assignsubmission_onlinetext_" / "onlinetext.html")
    touch(tmp_path / "Participant_998877_assignsubmission_file_" / "hw.zip")
    found = by_id(scan(tmp_path, DEMO))
    assert sorted(found) == ["123456", "223344", "998877"]
    wang = found["123456"]
    assert (wang.lms, wang.name) == ("moodle", "Wang Xiao Ming")
    assert wang.path == tmp_path / "Wang Xiao Ming_123456_assignsubmission_file_"
    li = found["223344"]
    assert li.gradable and li.gather == (
        (tmp_path / "Li Hua_223344_assignsubmission_file_mathy.py", "mathy.py"),)
    assert len(li.members) == 2  # the online text folder belongs to the student too
    # a folder holding only a zip is graded as the zip
    assert found["998877"].path.name == "hw.zip"


def test_canvas_files_late_resubmitted_and_grouped(tmp_path):
    touch(tmp_path / "wangxiaoming_345678_9012345_day65.ipynb")
    touch(tmp_path / "chenmei_LATE_456789_9012346_activations-1.py")
    touch(tmp_path / "chenmei_LATE_456789_9012346_regularization.py")
    touch(tmp_path / "chenmei_LATE_456789_9012346_minibatch (2).py")
    touch(tmp_path / "chenmei_LATE_456789_9012346_helpers-1.py")
    touch(tmp_path / "chenmei_LATE_456789_9012346_report.pdf")
    touch(tmp_path / "hank_678901_9012348_essay.pdf")
    found = by_id(scan(tmp_path, DAY65))
    assert found["345678"].path.name.endswith("day65.ipynb") and not found["345678"].late
    chen = found["456789"]
    assert chen.late and chen.name == "chenmei" and chen.lms == "canvas"
    assert sorted(name for _, name in chen.gather) == [
        "activations.py", "helpers-1.py", "minibatch.py", "regularization.py"]
    assert chen.extras == ("report.pdf",)
    assert not found["678901"].gradable and "essay.pdf" in found["678901"].problem


def test_gathered_files_are_copied_into_a_folder(tmp_path):
    subs = tmp_path / "subs"
    touch(subs / "x_1_2_activations.py", "A = 1\n")
    touch(subs / "x_1_2_regularization.py")
    touch(subs / "x_1_2_minibatch.py")
    (sub,) = scan(subs, DAY65).submissions
    staging = tmp_path / "staging"
    staging.mkdir()
    folder = materialize(sub, staging)
    assert sorted(os.listdir(folder)) == ["activations.py", "minibatch.py", "regularization.py"]
    assert (folder / "activations.py").read_text() == "A = 1\n"


def test_two_hand_ins_with_one_id_are_one_ungradable_submission(tmp_path):
    touch(tmp_path / "gina" / "mathy.py")
    touch(tmp_path / "gina.zip")
    (sub,) = scan(tmp_path, DEMO).submissions
    assert sub.id == "gina" and not sub.gradable
    assert "gina/" in sub.problem and "gina.zip" in sub.problem


def test_unrecognised_entries_are_listed_and_clutter_ignored(tmp_path):
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "grades.xlsx")
    touch(tmp_path / ".DS_Store")
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "out").mkdir()
    found = scan(tmp_path, DEMO, exclude=(tmp_path / "out",))
    assert found.submissions == []
    assert [name for name, _ in found.unrecognised] == ["grades.xlsx", "notes.txt"]
    assert all("not a submission" in why for _, why in found.unrecognised)
    assert found.ignored == [".DS_Store", "__MACOSX", "out (the output folder)"]


def test_non_utf8_names_become_readable_ids(tmp_path):
    name = os.fsdecode(b"fran\xe7ois")
    touch(tmp_path / name / "mathy.py")
    (sub,) = scan(tmp_path, DEMO).submissions
    assert sub.id == "fran\\xe7ois"
    sub.id.encode("utf-8")  # writable anywhere
    assert sub.path == tmp_path / name  # the real path is kept


def test_a_single_submission_given_as_the_batch_is_a_usage_error(tmp_path):
    touch(tmp_path / "mathy.py")
    with pytest.raises(LayoutError, match="hwgrade check"):
        scan(tmp_path, DEMO)


def test_natural_order():
    ids = ["student10", "student2", "Bob", "alice", "123456", "99"]
    assert sorted(ids, key=sort_key) == ["99", "123456", "alice", "Bob", "student2",
                                         "student10"]


def test_mapping_renames_merges_and_reports(tmp_path):
    touch(tmp_path / "subs" / "Wang Xiao Ming_123456_assignsubmission_file_" / "mathy.py")
    touch(tmp_path / "subs" / "wangxiaoming_777_888_mathy.py")
    touch(tmp_path / "subs" / "alice" / "mathy.py")
    touch(tmp_path / "subs" / "stranger" / "mathy.py")
    mapping_file = touch(tmp_path / "ids.csv", "\ufeffkey,student_id,email\n"
                         "123456,B11001,w@example.edu\n"
                         "alice,B11002,\n"
                         "777,B11001,\n"
                         "ghost,B11009,\n")
    mapping = read_mapping(mapping_file)
    mapped = apply_mapping(scan(tmp_path / "subs", DEMO), mapping)
    found = by_id(mapped.scan)
    assert sorted(found) == ["B11001", "B11002", "stranger"]
    assert not found["B11001"].gradable and "several submissions" in found["B11001"].problem
    assert found["B11002"].source == "alice/"
    assert mapped.unmapped == ["stranger"]
    assert mapped.absent == ["B11009"]


def test_bad_mapping_files(tmp_path):
    with pytest.raises(MappingError, match="header"):
        read_mapping(touch(tmp_path / "a.csv", "just one line\n"))
    with pytest.raises(MappingError, match="both"):
        read_mapping(touch(tmp_path / "b.csv", "k,id\nx,1\nx,2\n"))
    with pytest.raises(MappingError, match="line 2"):
        read_mapping(touch(tmp_path / "c.csv", "k,id\nx,\n"))


def test_shards_are_a_stable_partition():
    ids = [f"student{i}" for i in range(500)] + ["fran\\xe7ois", "陳小明", "=1+1"]
    for count in (1, 2, 3, 7):
        shards = [Shard(i, count) for i in range(1, count + 1)]
        assert all(sum(s.owns(x) for s in shards) == 1 for x in ids)
        if count > 1:  # roughly even
            sizes = [sum(s.owns(x) for x in ids) for s in shards]
            assert min(sizes) > len(ids) / count / 2
    # the same on every machine and Python (sha256, no hash randomisation): pinned
    assert [shard_of(x, 4) for x in ("alice", "bob", "123456", "陳小明")] == [4, 3, 3, 2]
    assert Shard.parse(" 2/4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "2", "a/b", "1/0"):
        with pytest.raises(ValueError):
            Shard.parse(bad)
