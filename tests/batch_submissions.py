"""A class of demo-assignment submissions for the batch tests: correct ones in every
layout (folder, zip, notebook, single .py, Moodle, Canvas), wrong ones, hostile ones,
broken files, an empty folder, names with spaces, non-UTF-8 bytes and formula
characters, plus clutter that is not a submission.

    expected = make_batch(tmp_path / "subs")   # {student id: (status, total or None)}
"""

from __future__ import annotations

import json
import os
import textwrap
import zipfile
from pathlib import Path

import nbformat

HERE = Path(__file__).parent
DEMO = HERE / "demo_assignment"
CORRECT = (HERE / "demo_solution" / "mathy.py").read_text(encoding="utf-8")
SQUARE = CORRECT.split("def safe_div")[0]


def with_safe_div(body: str, prelude: str = "") -> str:
    return textwrap.dedent(prelude) + SQUARE + "\n\ndef safe_div(a, b):\n" + textwrap.indent(
        textwrap.dedent(body), "    ")


WRONG_SQUARE = CORRECT.replace("return x * x", "return x + x")
IN_PLACE = CORRECT.replace("    x = np.asarray(x, dtype=np.float64)\n    return x * x",
                           "    x *= x\n    return x.copy()")
HOSTILE_CALLS = {  # safe_div misbehaves: square's 5 points stay
    "loops": "while True:\n    pass\n",
    "exits": "import os\nos._exit(0)\n",
    "floods": "import sys\nsys.stdout.write('x' * 100_000_000)\n"
              "sys.stderr.write('y' * 100_000_000)\nreturn np.zeros(np.shape(a))\n",
    "segfaults": "import ctypes\nctypes.string_at(0)\n",
    "eats memory": "x = np.ones(10 * 2**30 // 8)\nreturn x\n",
    "no zero check": "return np.asarray(a, dtype=float) / np.asarray(b, dtype=float)\n",
}
HOSTILE_IMPORTS = {"import loop": "while True:\n    pass\n",
                   "import exit": "import sys\nsys.exit(0)\n"}


def _folder(root: Path, name: str | bytes, files: dict[str, str | bytes]) -> Path:
    folder = root / (os.fsdecode(name) if isinstance(name, bytes) else name)
    folder.mkdir()
    for file, text in files.items():
        data = text.encode() if isinstance(text, str) else text
        (folder / file).write_bytes(data)
    return folder


def _notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 作業 Day 65"),
                nbformat.v4.new_code_cell(source),
                nbformat.v4.new_code_cell("print(square(np.arange(3.0)))")]
    nbformat.write(nb, path)


def _zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def make_batch(root: Path) -> dict[str, tuple[str, float | None]]:
    """Write the class into root; returns {id: (status, total)} as expected."""
    root.mkdir(parents=True)
    expected: dict[str, tuple[str, float | None]] = {}

    def graded(student: str, total: float) -> None:
        expected[student] = ("graded", total)

    def broken(student: str) -> None:
        expected[student] = ("submission_error", 0.0)

    # correct, in every layout
    _folder(root, "alice", {"mathy.py": CORRECT})
    graded("alice", 10)
    _zip(root / "bob.zip", {"mathy.py": CORRECT})
    graded("bob", 10)
    _notebook(root / "carol.ipynb", CORRECT)
    graded("carol", 10)
    (root / "dave.py").write_text(CORRECT, encoding="utf-8")
    graded("dave", 10)
    _folder(root, "Eve Smith", {"mathy.py": CORRECT})
    graded("Eve Smith", 10)
    _folder(root, b"fran\xe7ois", {"mathy.py": CORRECT})  # Latin-1 bytes: not UTF-8
    graded("fran\\xe7ois", 10)
    _folder(root, "陳小明", {"mathy.py": CORRECT})
    graded("陳小明", 10)
    ivan = _folder(root, "ivan", {})
    _zip(ivan / "homework.zip", {"hw/mathy.py": CORRECT})  # an LMS folder with one zip
    graded("ivan", 10)
    (root / "judy" / "wrapper").mkdir(parents=True)  # one folder inside the student's
    (root / "judy" / "wrapper" / "mathy.py").write_text(CORRECT, encoding="utf-8")
    graded("judy", 10)
    # Moodle: a folder per participant, and flat files
    _folder(root, "Wang Xiao Ming_123456_assignsubmission_file_", {"mathy.py": CORRECT})
    graded("123456", 10)
    (root / "Li Hua_223344_assignsubmission_file_mathy.py").write_text(WRONG_SQUARE)
    graded("223344", 5)
    _folder(root, "Li Hua_223344_assignsubmission_onlinetext_", {"onlinetext.html": "<p>hi</p>"})
    # Canvas: name_[LATE_]userid_submissionid_file, re-uploads get -1
    _notebook(root / "wangxiaoming_345678_9012345_day65.ipynb", CORRECT)
    graded("345678", 10)
    (root / "chenmei_LATE_456789_9012346_mathy-1.py").write_text(CORRECT, encoding="utf-8")
    (root / "chenmei_LATE_456789_9012346_report.pdf").write_bytes(b"%PDF-1.4\n")
    graded("456789", 10)
    _zip(root / "linwei_567890_9012347_hw.zip", {"mathy.py": IN_PLACE})
    graded("567890", 8)
    (root / "hank_678901_9012348_essay.pdf").write_bytes(b"%PDF-1.4\n")
    broken("678901")
    # wrong
    _folder(root, "kim", {"mathy.py": WRONG_SQUARE})
    graded("kim", 5)
    _folder(root, "leo", {"mathy.py": SQUARE})  # safe_div missing
    graded("leo", 5)
    # hostile
    for n, (name, body) in enumerate(sorted(HOSTILE_CALLS.items())):
        _folder(root, f"hostile {n} {name}", {"mathy.py": with_safe_div(body)})
        graded(f"hostile {n} {name}", 5)
    for n, (name, prelude) in enumerate(sorted(HOSTILE_IMPORTS.items())):
        _folder(root, f"hostile {n} {name}", {"mathy.py": prelude + CORRECT})
        graded(f"hostile {n} {name}", 0)
    # broken
    _folder(root, "mia", {"mathy.py": "def square(x):\n    return x *\n"})
    broken("mia")
    _folder(root, "empty", {})
    broken("empty")
    (root / "nick.zip").write_bytes(b"this is not a zip file")
    broken("nick")
    (root / "olga.ipynb").write_text("{not json", encoding="utf-8")
    broken("olga")
    _folder(root, "pat", {"README.txt": "I did it on paper"})
    broken("pat")
    _folder(root, "gina", {"mathy.py": CORRECT})  # two hand-ins for one id
    _zip(root / "gina.zip", {"mathy.py": WRONG_SQUARE})
    broken("gina")
    # spreadsheet formula injection in names
    _folder(root, "=cmd|' -C calc'!A0", {"mathy.py": CORRECT})
    graded("=cmd|' -C calc'!A0", 10)
    _folder(root, "@SUM(1+1)", {"mathy.py": WRONG_SQUARE})
    graded("@SUM(1+1)", 5)
    _folder(root, "-2+3", {"mathy.py": CORRECT})
    graded("-2+3", 10)
    # clutter
    (root / "notes.txt").write_text("grading notes", encoding="utf-8")
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "__MACOSX").mkdir()
    return expected


UNRECOGNISED = {"notes.txt"}


def comparable_results(path: Path) -> list[dict]:
    """results.jsonl without what differs between two gradings (times)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("seconds")
        if row["result"]:
            row["result"].pop("timings")
            for check in row["result"]["checks"]:
                check.pop("duration")
        rows.append(row)
    return rows


def comparable_gradebook(path: Path) -> list[list[str]]:
    """gradebook.csv without its duration column."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as file:
        table = list(csv.reader(file))
    drop = table[0].index("duration")
    return [row[:drop] + row[drop + 1:] for row in table]
