"""`hwgrade release`: the student repository it writes, what it never holds (hidden
checks, solutions), and that what it writes grades as the contract says."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader import release as releasemod
from grader.assignment import find_assignment
from grader.cli import main

ROOT = Path(__file__).parents[1]
DAY65 = ROOT / "assignments" / "day65"
SOLUTIONS = ROOT / "solutions" / "day65"
MODULES = ("activations.py", "regularization.py", "minibatch.py")
TREE = {*MODULES, "day65.ipynb", "README.md", ".gitignore", ".github/workflows/hwgrade.yml"}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def build_notebook(**kwargs) -> nbformat.NotebookNode:
    builder = DAY65 / "make_notebook.py"
    spec = importlib.util.spec_from_file_location("_day65_make_notebook", builder)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_notebook(**kwargs)


def grade(*args: str) -> tuple[int, dict]:
    result = run("check", "day65", *args, "--format", "json")
    return result.exit_code, json.loads(result.output)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("release") / "day65-student"
    result = run("release", "day65", str(dest))
    assert result.exit_code == 0, result.output
    return dest


def test_release_writes_the_student_repository(released):
    assert files_under(released) == TREE
    for module in MODULES:
        assert (released / module).read_bytes() == (DAY65 / "starter" / module).read_bytes()
    ignored = (released / ".gitignore").read_text(encoding="utf-8").splitlines()
    for pattern in ("__pycache__/", ".ipynb_checkpoints/", ".venv/", "venv/", ".hypothesis/"):
        assert pattern in ignored


def test_readme_is_the_instructions_zh_tw_first_and_says_where_the_checks_are(released):
    readme = (released / "README.md").read_text(encoding="utf-8")
    zh = readme.index("# 第 65 天作業")
    en = readme.index("# Day 65 homework")
    assert zh < en
    assert "## 要繳交什麼" in readme[zh:en] and "## What to hand in" in readme[en:]
    assert "instructions.en.md" not in readme and "instructions.zh-TW.md" not in readme
    assert "The public checks ship inside the hwgrade package" in readme
    assert "hwgrade check day65" in readme and "python -m pip install hwgrade" in readme
    # the quick check comes before the whole one, in the note and in both instructions
    for part in (readme[:zh], readme[zh:en], readme[en:]):
        first = part.index("hwgrade check day65")
        assert part[first:].startswith("hwgrade check day65 --quick"), part[first - 200:first]


def test_the_released_notebook_is_valid_and_built_at_release_time(released):
    notebook = nbformat.read(released / "day65.ipynb", as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert notebook == build_notebook()
    # No committed copy that could go stale: the release builds the notebook.
    assert not list(DAY65.rglob("*.ipynb"))


def test_workflow_installs_hwgrade_and_runs_the_check(released):
    text = (released / ".github" / "workflows" / "hwgrade.yml").read_text(encoding="utf-8")
    assert 'python-version: "3.11"' in text
    assert "python -m pip install hwgrade\n" in text
    commands = [line.strip() for line in text.splitlines() if line.strip().startswith("hwgrade")]
    assert commands == ["hwgrade check day65 --format github"]  # annotations, job summary
    assert "advisory" in text


def workflow_steps(text: str) -> list[dict]:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(text)
    assert data["name"] == "hwgrade"
    assert "push" in data.get("on", data.get(True))  # PyYAML reads a bare `on` as True
    return data["jobs"]["check"]["steps"]


def test_workflow_is_valid_yaml(released):
    steps = workflow_steps((released / ".github/workflows/hwgrade.yml").read_text("utf-8"))
    assert steps[1]["with"]["python-version"] == "3.11"
    assert [s["run"].strip() for s in steps if "run" in s] == [
        "python -m pip install hwgrade", "hwgrade check day65 --format github"]


def test_a_course_install_spec_is_quoted_for_the_shell(monkeypatch):
    spec = "hwgrade @ git+https://example.org/course/hwgrade@v1"
    monkeypatch.setattr(releasemod, "INSTALL_SPEC", spec)
    text = releasemod.workflow(find_assignment("day65"))
    assert f"python -m pip install '{spec}'\n" in text
    steps = workflow_steps(text)
    assert steps[2]["run"].strip() == f"python -m pip install '{spec}'"


def private_strings() -> list[str]:
    """Names and titles of the hidden checks, and every solution line the starter lacks."""
    strings = []
    for path in sorted((DAY65 / "hidden").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                strings += [node.name, node.name.removeprefix("test_")]
                title = (ast.get_docstring(node) or "").split("\n")[0]
                if len(title) >= 20:
                    strings.append(title)
    starter = "".join(p.read_text(encoding="utf-8") for p in (DAY65 / "starter").glob("*.py"))
    for path in sorted(SOLUTIONS.glob("*.py")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        distinctive = [line for line in lines if len(line) >= 20 and line not in starter]
        assert distinctive, f"{path.name} has no line to look for"
        strings += distinctive
    return strings


def test_nothing_from_hidden_or_solutions_is_released(released):
    private_files = [*(DAY65 / "hidden").rglob("*.py"), *SOLUTIONS.rglob("*.py")]
    assert len(private_files) >= 6
    contents = {p: p.read_bytes() for p in private_files}
    strings = private_strings()
    assert len(strings) > 50
    for path in released.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert data not in contents.values(), path
        texts = [data.decode("utf-8")]
        if path.suffix == ".ipynb":  # also the cells as written, whatever the JSON escaping
            notebook = nbformat.reads(texts[0], as_version=4)
            texts.append("\n".join(cell.source for cell in notebook.cells))
        leaked = [s for s in strings if any(s in text for text in texts)]
        assert not leaked, (path.name, leaked[:5])


@pytest.mark.slow
def test_the_released_starter_grades_to_zero_with_not_implemented_reasons(released):
    code, result = grade(str(released))
    assert code == 1 and result["error"] is None
    assert result["score"] == 0 and result["max_score"] == 100
    assert {c["status"] for c in result["checks"]} == {"failed", "not_run"}
    failed = [c for c in result["checks"] if c["status"] == "failed"]
    assert all("NotImplementedError" in (c["message"] or "") + (c["actual"] or "")
               for c in failed)


@pytest.mark.slow
def test_the_released_notebook_grades_to_zero_without_errors(released):
    code, result = grade(str(released / "day65.ipynb"))
    assert code == 1 and result["error"] is None
    assert result["submission"]["kind"] == "notebook"
    assert result["score"] == 0
    assert "error" not in {c["status"] for c in result["checks"]}


@pytest.mark.slow
def test_the_solution_copied_over_the_release_scores_full_marks(released, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(released, student)
    for module in SOLUTIONS.glob("*.py"):
        shutil.copy(module, student / module.name)
    code, result = grade(str(student))
    assert code == 0 and result["score"] == result["max_score"] == 100


def test_a_destination_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = run("release", "day65", str(tmp_path))
    assert result.exit_code == 2
    assert "is not empty" in result.output and "--force" in result.output
    assert files_under(tmp_path) == {"notes.txt"}


def test_force_writes_into_a_folder_and_deletes_nothing(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "activations.py").write_text("old", encoding="utf-8")
    result = run("release", "day65", str(tmp_path), "--force")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path) == TREE | {"notes.txt"}
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "activations.py").read_bytes() == \
        (DAY65 / "starter" / "activations.py").read_bytes()


def test_a_fresh_clone_holding_only_git_counts_as_empty(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    written = releasemod.release(find_assignment("day65"), tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == TREE
    assert files_under(tmp_path) == TREE | {".git/HEAD"}


def test_links_in_the_destination_are_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "README.md").write_text("not yours", encoding="utf-8")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "README.md").symlink_to(outside / "README.md")
    releasemod.release(find_assignment("day65"), dest, force=True)
    assert (outside / "README.md").read_text(encoding="utf-8") == "not yours"
    assert not (dest / "README.md").is_symlink()
    assert files_under(outside) == {"README.md"}


def test_a_linked_folder_in_the_destination_is_refused_before_anything_is_written(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / ".github").symlink_to(outside, target_is_directory=True)
    result = run("release", "day65", str(dest), "--force")
    assert result.exit_code == 2 and "is in the way" in result.output
    assert not list(outside.iterdir()) and [p.name for p in dest.iterdir()] == [".github"]


@pytest.mark.parametrize("inside", ["", "starter", "new-folder"])
def test_a_destination_in_the_course_files_is_refused(inside):
    dest = DAY65 / inside if inside else DAY65
    result = run("release", "day65", str(dest), "--force")
    assert result.exit_code == 2 and "overlaps the course's own files" in result.output
    assert not (DAY65 / "new-folder").exists()
    assert not (DAY65 / "README.md").exists()


def test_an_unknown_assignment_is_a_usage_error(tmp_path):
    result = run("release", "day99", str(tmp_path / "x"))
    assert result.exit_code == 2 and "no assignment 'day99'" in result.output
    assert not (tmp_path / "x").exists()


def test_an_assignment_without_a_starter_is_the_assignments_fault(tmp_path):
    result = CliRunner().invoke(main, ["release", str(ROOT / "tests" / "demo_assignment"),
                                       str(tmp_path / "x")])
    assert result.exit_code == 3
    assert "starter module" in result.output
    assert not (tmp_path / "x").exists()


def test_real_subprocess_python_m_grader_release(tmp_path):
    dest = tmp_path / "student"
    proc = subprocess.run([sys.executable, "-m", "grader", "release", "day65", str(dest)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "released day65" in proc.stdout
    assert files_under(dest) == TREE


def test_install_spec_goes_into_the_workflow_the_readme_and_the_notebook(tmp_path):
    spec = "hwgrade @ git+https://example.org/course/hwgrade@v1"
    quoted = f"'{spec}'"  # shlex.quote: one word for the shell
    result = run("release", "day65", str(tmp_path / "student"), "--install-spec", spec)
    assert result.exit_code == 0, result.output
    student = tmp_path / "student"
    workflow = (student / ".github" / "workflows" / "hwgrade.yml").read_text("utf-8")
    assert [s["run"].strip() for s in workflow_steps(workflow) if "run" in s][0] == \
        f"python -m pip install {quoted}"
    readme = (student / "README.md").read_text(encoding="utf-8")
    assert readme.count(f"`python -m pip install {quoted}`") == 2  # zh-TW and English notes
    assert "pip install hwgrade" not in readme
    notebook = nbformat.read(student / "day65.ipynb", as_version=4)
    install = notebook.cells[0]
    assert install.cell_type == "code"
    assert install.source.splitlines()[-1] == f"%pip install {quoted}"
    assert notebook == build_notebook(install_spec=spec)


def test_the_default_install_spec_is_hwgrade_in_all_three(released):
    notebook = nbformat.read(released / "day65.ipynb", as_version=4)
    assert notebook.cells[0].source.splitlines()[-1] == "%pip install hwgrade"
    assert "`python -m pip install hwgrade`" in (released / "README.md").read_text("utf-8")


@pytest.mark.parametrize("spec", ["", "  ", "hwgrade\nrm -rf ~", "hwgrade\x1b[2J"])
def test_an_install_spec_that_would_break_the_files_is_a_usage_error(tmp_path, spec):
    result = run("release", "day65", str(tmp_path / "x"), "--install-spec", spec)
    assert result.exit_code == 2 and "install spec" in result.output
    assert not (tmp_path / "x").exists()


def test_the_release_notebook_has_a_check_cell_after_each_part_and_a_full_check_last():
    code = [c.source for c in build_notebook().cells if c.cell_type == "code"]
    checks = [i for i, source in enumerate(code) if "hwgrade.check(" in source]
    quick = 'import hwgrade; hwgrade.check("day65", quick=True)'
    for index, module in zip(checks[:3], ("def sigmoid(", "def l1_penalty(", "def minibatches("),
                             strict=True):
        assert module in code[index - 1] and code[index].splitlines()[-1] == quick
    assert checks[3] == len(code) - 1
    assert code[-1].splitlines()[-1] == 'import hwgrade; hwgrade.check("day65")'
    assert build_notebook() == build_notebook()  # fixed cell ids
