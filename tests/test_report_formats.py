"""`hwgrade check --format junit|github|gradescope` and `--output FILE`.

Renderings are tested on made-up results (every status, hostile text) and on real
gradings of the demo assignment, through CliRunner and a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from gradescope_spec import GRADESCOPE_SCHEMA

from grader.cli import main
from grader.report import github, gradescope, junit
from grader.results import CheckResult, GradeResult, SubmissionInfo

HERE = Path(__file__).parent
DEMO = HERE / "demo_assignment"
SOLUTION = HERE / "demo_solution"
CORRECT = (SOLUTION / "mathy.py").read_text(encoding="utf-8")
WRONG = CORRECT.replace("return x * x", "return x + x")  # square fails at line 6

HOSTILE = 'bad \x00\x1b\x08 chars <&>" %41 50% a:b, c\r\n::error::forged \ud800 é 中'


def made_up(**changes) -> GradeResult:
    result = GradeResult(
        assignment="demo", score=5, max_score=12,
        checks=[
            CheckResult("ok", "ok works", "passed", 3, 3, function="m.ok", duration=0.25),
            CheckResult("bad", "bad: works, or not", "failed", 0, 2, message=HOSTILE,
                        expected="1.0", actual="2.0", counterexample="x=0.0", hint="think",
                        function="m.bad", duration=1.23456),
            CheckResult("after", "after works", "not_run", 0, 2,
                        message="not run: needs bad: works, or not", needs=["bad"],
                        function="m.bad"),
            CheckResult("boom", "boom works", "error", 0, 3, message="the grader broke",
                        details="Traceback (most recent call last): ...", function="nb.f"),
            CheckResult("secret", "secret works", "passed", 2, 2, hidden=True, function="m.ok"),
        ],
        submission=SubmissionInfo(path="sub", kind="folder", sha256="ab" * 32),
        versions={"hwgrade": "0.1.0"}, timings={"total": 2.5},
        locations={"m.ok": {"path": "sub/m.py", "cell": None, "line": 3},
                   "m.bad": {"path": "sub/m.py", "cell": None, "line": 9},
                   "nb.f": {"path": "sub/hw.ipynb", "cell": 4, "line": 2}})
    for key, value in changes.items():
        setattr(result, key, value)
    return result


def write_submission(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "sub"
    folder.mkdir(exist_ok=True)
    (folder / "mathy.py").write_text(source, encoding="utf-8")
    return folder


def run_check(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["check", str(DEMO), *args], env=env,
                              catch_exceptions=False)


# --- JUnit XML -----------------------------------------------------------------------------

# The element and attribute names of the Ant/Jenkins JUnit XSD (Jenkins' junit-10.xsd,
# the schema GitLab and the GitHub report actions also read): required attributes,
# optional ones, allowed children. The one extension: <properties> in <testcase>, as
# pytest's record_property writes it.
SHAPE = {
    "testsuites": (set(), {"name", "time", "tests", "failures", "errors"}, {"testsuite"}),
    "testsuite": ({"name", "tests", "failures", "errors"},
                  {"time", "skipped", "timestamp", "hostname", "id", "package", "group",
                   "file", "log", "url", "version"},
                  {"testsuite", "properties", "testcase", "system-out", "system-err"}),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, set(), set()),
    "testcase": ({"name"}, {"classname", "time", "group"},
                 {"properties", "skipped", "error", "failure", "system-out", "system-err"}),
    "failure": (set(), {"type", "message"}, set()),
    "error": (set(), {"type", "message"}, set()),
    "skipped": (set(), {"type", "message"}, set()),
}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?")


def assert_junit_shape(element: ET.Element) -> None:
    required, optional, children = SHAPE[element.tag]
    attrs = set(element.attrib)
    assert required <= attrs, (element.tag, required - attrs)
    assert attrs <= required | optional, (element.tag, attrs - required - optional)
    if element.tag in ("testsuites", "testsuite") and "time" in attrs:
        assert SUREFIRE_TIME.fullmatch(element.get("time")), element.get("time")
    for child in element:
        assert child.tag in children, f"<{child.tag}> inside <{element.tag}>"
        assert_junit_shape(child)


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert_junit_shape(root)
    return root


def props(element: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in element.findall("properties/property")}


def test_junit_has_one_testcase_per_check_with_counts_points_and_outcomes():
    root = parse_junit(junit.render(made_up()))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "demo"
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == \
        {"tests": "5", "failures": "1", "errors": "1", "skipped": "1", "time": "2.500"}
    assert props(suite)["score"] == "5" and props(suite)["max_score"] == "12"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["ok", "bad", "after", "boom", "secret"]
    assert {c.get("classname") for c in cases.values()} == {"hwgrade.demo"}
    assert cases["bad"].get("time") == "1.235"
    assert props(cases["bad"]) == {"title": "bad: works, or not", "points": "0",
                                   "max_points": "2", "function": "m.bad", "hidden": "false"}
    assert props(cases["secret"])["hidden"] == "true"
    assert [child.tag for child in cases["ok"]] == ["properties"]

    failure = cases["bad"].find("failure")
    assert failure.get("type") == "failed"
    for text in ("expected: 1.0", "got:      2.0", "input:    x=0.0", "hint:     think"):
        assert text in failure.text
    error = cases["boom"].find("error")
    assert error.get("message") == "the grader broke" and "Traceback" in error.text
    assert cases["after"].find("skipped").get("message") == "not run: needs bad: works, or not"


def test_junit_escapes_markup_and_drops_characters_xml_forbids():
    root = parse_junit(junit.render(made_up()))
    failure = root.find("testsuite/testcase[@name='bad']/failure")
    for text in (failure.get("message"), failure.text):
        assert '<&>"' in text and "é 中" in text and "%41 50% a:b, c" in text
        assert not re.search("[\x00\x1b\x08\ud800]", text)


def test_junit_for_a_submission_that_could_not_be_graded_is_one_error():
    root = parse_junit(junit.render(made_up(checks=[], error="Syntax error at m.py, line 2")))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("errors")) == ("1", "1")
    (case,) = suite.findall("testcase")
    assert case.get("name") == "submission"
    assert case.find("error").get("message") == "Syntax error at m.py, line 2"


def test_junit_of_a_real_grading_through_the_cli(tmp_path):
    result = run_check(str(write_submission(tmp_path, WRONG)), "--format", "junit")
    assert result.exit_code == 1
    root = parse_junit(result.output)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["square_values"].find("failure") is not None
    assert cases["square_leaves_input_alone"].find("skipped") is not None
    assert props(cases["safe_div_empty_and_0d"])["hidden"] == "true"
    assert props(root.find("testsuite"))["score"] == "5"


# --- GitHub Actions ------------------------------------------------------------------------

def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the runner reads it: ::name k=v,k=v::data, then unescaped."""
    match = re.fullmatch(r"::([\w-]+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    name, raw, data = match.groups()

    def unescape(text: str, prop: bool) -> str:
        pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
        for code, char in pairs + [("%25", "%")]:
            text = text.replace(code, char)
        return text

    properties = dict(p.split("=", 1) for p in raw.split(",")) if raw else {}
    return name, {k: unescape(v, True) for k, v in properties.items()}, unescape(data, False)


def commands(output: str) -> list[tuple[str, dict[str, str], str]]:
    """The commands the runner would act on: none between ::stop-commands:: and its token."""
    found, stopped = [], None
    for line in output.splitlines():
        if stopped:
            stopped = None if line == f"::{stopped}::" else stopped
        elif line.startswith("::stop-commands::"):
            stopped = line.removeprefix("::stop-commands::")
        elif line.startswith("::"):
            found.append(parse_command(line))
    return found


def test_escaping_follows_the_actions_toolkit():
    assert github.escape_data("50% a:b,c\r\n") == "50%25 a:b,c%0D%0A"
    assert github.escape_property("50% a:b,c\r\n") == "50%25 a%3Ab%2Cc%0D%0A"
    assert github.command("error", "m\n", file="a,b.py", line=3, col=None) == \
        "::error file=a%2Cb.py,line=3::m%0A"


def test_github_annotates_each_failed_or_errored_check_at_the_students_function():
    found = commands(github.render(made_up(), workspace=""))
    errors = [(props, data) for name, props, data in found if name == "error"]
    assert len(errors) == 2  # "bad" failed, "boom" errored; not_run and passed are not
    (bad_props, bad_data), (boom_props, boom_data) = errors
    assert bad_props == {"file": "sub/m.py", "line": "9", "title": "bad: works, or not (0/2)"}
    assert bad_data.startswith(HOSTILE) and "expected: 1.0" in bad_data
    # A notebook: the .ipynb, no line (an annotation cannot point into a cell), cell named.
    assert boom_props == {"file": "sub/hw.ipynb", "title": "boom works (0/3)"}
    assert boom_data.startswith("cell 4, line 2: the grader broke")
    (notice,) = [c for c in found if c[0] == "notice"]
    assert notice[1]["title"] == "hwgrade check demo"
    assert "5/12" in notice[2] and "advisory" in notice[2]


def test_github_text_from_a_submission_cannot_forge_a_command():
    output = github.render(made_up(), workspace="")
    assert "\n::error::forged" in output  # the terminal report has it, but inert:
    assert [c[0] for c in commands(output)] == ["error", "error", "notice"]


def test_github_paths_are_made_relative_to_the_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "repo").mkdir()
    result = made_up(locations={"m.bad": {"path": str(tmp_path / "repo/hw/m.py"),
                                          "cell": None, "line": 9},
                                "nb.f": {"path": "repo/hw.zip/inner/nb.ipynb", "cell": 4,
                                         "line": 2}})
    errors = [c for c in commands(github.render(result, workspace=str(tmp_path / "repo")))
              if c[0] == "error"]
    assert errors[0][1]["file"] == "hw/m.py"
    # Inside a zip: the zip is annotated, the file in it named in the message.
    assert errors[1][1]["file"] == "hw.zip" and "line" not in errors[1][1]
    assert errors[1][2].startswith("inner/nb.ipynb in hw.zip, cell 4, line 2: ")


def test_github_step_summary_is_appended_as_a_markdown_table(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    assert github.append_step_summary(made_up(), str(summary))
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## hwgrade check demo: 5/12\n")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows.pop(0) == "| | check | points | what went wrong |"
    assert rows.pop(0) == "| --- | --- | --- | --- |"
    assert rows[0] == "| ✅ | ok works | 3/3 |  |"
    assert rows[1].startswith("| ❌ | bad: works, or not | 0/2 | bad")
    assert "&lt;&amp;&gt;" in rows[1] and "é 中" in rows[1]
    assert rows[2].startswith("| ⏭️ |") and rows[3].startswith("| ⚠️ |")
    assert rows[4] == "| ✅ | secret works (hidden) | 2/2 |  |"
    assert "advisory" in text and "**Score: 5/12**" in text
    assert not github.append_step_summary(made_up(), "")


def test_github_summary_cells_cannot_break_the_table():
    result = made_up()
    result.checks[1].message = "a | b\n| c"
    row = [r for r in github.step_summary(result).splitlines() if r.startswith("| ❌")][0]
    assert row.endswith("| a \\| b \\| c |")


def test_github_format_through_the_cli_with_a_step_summary(tmp_path):
    folder = write_submission(tmp_path, WRONG)
    summary = tmp_path / "summary.md"
    result = run_check(str(folder), "--format", "github",
                       env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": ""})
    assert result.exit_code == 1  # as for text: a check failed
    found = commands(result.output)
    (error,) = [c for c in found if c[0] == "error"]
    assert error[1]["file"] == f"{folder.as_posix()}/mathy.py" and error[1]["line"] == "6"
    assert error[2].startswith("the value is wrong")
    assert "Score: 5/10" in result.output  # the usual report is in the log too
    assert "| ❌ | square(x) is x * x" in summary.read_text(encoding="utf-8")
    result = run_check(str(SOLUTION), "--format", "github",
                       env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0
    assert summary.read_text(encoding="utf-8").count("## hwgrade check demo") == 2


# --- Gradescope results.json ---------------------------------------------------------------

def test_gradescope_results_follow_the_specification():
    data = json.loads(gradescope.render(made_up()))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == 5 == sum(t["score"] for t in data["tests"])
    tests = {t["extra_data"]["check"]: t for t in data["tests"]}
    assert [t["status"] for t in tests.values()] == ["passed", "failed", "failed", "failed",
                                                     "passed"]
    assert tests["secret"]["visibility"] == "after_published"
    assert {t["visibility"] for n, t in tests.items() if n != "secret"} == {"visible"}
    assert "expected: 1.0" in tests["bad"]["output"] and tests["bad"]["tags"] == ["m.bad"]
    assert "problem in the grader" in tests["boom"]["output"]
    assert "output" not in tests["ok"]
    assert data["stdout_visibility"] == "hidden" and data["output_format"] == "text"
    # The overall output counts visible checks only: it must not tell how hidden ones went.
    assert data["output"].startswith("hwgrade demo: 1 of 4 checks passed")


def test_gradescope_for_a_submission_that_could_not_be_graded():
    data = json.loads(gradescope.render(made_up(checks=[], score=0, error="no mathy.py")))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"] == "Your submission could not be graded: no mathy.py"


def test_gradescope_without_hidden_checks_says_points_are_missing(tmp_path):
    result = run_check(str(SOLUTION), "--format", "gradescope", "--no-hidden")
    data = json.loads(result.output)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == 7 and "3 points of hidden checks were not included" in data["output"]


# --- --output FILE -------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "junit", "github", "gradescope", "html"])
def test_output_writes_the_report_to_a_file_and_a_summary_line_to_stdout(tmp_path, fmt):
    folder = write_submission(tmp_path, WRONG)
    target = tmp_path / "out" / f"report.{fmt}"
    target.parent.mkdir()
    target.write_text("an older report", encoding="utf-8")
    result = run_check(str(folder), "--format", fmt, "--output", str(target),
                       env={"GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code == 1
    assert result.output == (f"hwgrade check demo: 5/10 (4 checks: 2 passed, 1 failed, "
                             f"1 not run) -> {target}\n")
    text = target.read_text(encoding="utf-8")
    assert text.endswith("\n") and "square" in text
    assert os.listdir(target.parent) == [target.name]  # replaced, no temporary file left
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    if fmt == "json":
        assert json.loads(text)["score"] == 5
    elif fmt == "junit":
        parse_junit(text)
    elif fmt == "gradescope":
        jsonschema.validate(json.loads(text), GRADESCOPE_SCHEMA)


def test_output_into_a_missing_folder_is_a_usage_error_before_grading(tmp_path):
    result = run_check(str(SOLUTION), "--output", str(tmp_path / "nope" / "r.xml"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_output_of_a_submission_error_exits_2_with_the_reason(tmp_path):
    folder = write_submission(tmp_path, "def square(x):\n    return x *\n")
    target = tmp_path / "r.xml"
    result = run_check(str(folder), "--format", "junit", "-o", str(target))
    assert result.exit_code == 2
    assert result.output.startswith("hwgrade check demo: could not be graded: Syntax error")
    assert len(result.output.splitlines()) == 1
    error = parse_junit(target.read_text(encoding="utf-8")).find("testsuite/testcase/error")
    assert "line 2" in error.get("message")


def test_grading_records_where_each_function_is(tmp_path):
    folder = write_submission(tmp_path, WRONG)
    data = json.loads(run_check(str(folder), "--format", "json").output)
    assert data["locations"] == {
        "mathy.safe_div": {"path": f"{folder.as_posix()}/mathy.py", "cell": None, "line": 11},
        "mathy.square": {"path": f"{folder.as_posix()}/mathy.py", "cell": None, "line": 6}}


def test_real_subprocess_in_a_github_like_workspace(tmp_path):
    """As the released workflow runs it: from the repository, `hwgrade check demo --format
    github`, with GitHub's environment variables; the annotation names the repo's file."""
    repo = tmp_path / "repo"
    write_submission(tmp_path, WRONG).rename(repo)
    summary = tmp_path / "step_summary.md"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo),
           "GITHUB_STEP_SUMMARY": str(summary)}
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(DEMO), "--format",
                           "github"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    (error,) = [c for c in commands(proc.stdout) if c[0] == "error"]
    assert error[1]["file"] == "mathy.py" and error[1]["line"] == "6"
    assert "**Score: 5/10**" in summary.read_text(encoding="utf-8")
    assert proc.stderr == ""


def test_help_lists_the_formats():
    result = CliRunner().invoke(main, ["check", "--help"])
    assert "--format [text|json|junit|github|gradescope|html]" in result.output
    assert "-o, --output FILE" in result.output


def test_output_into_a_device_or_fifo_writes_into_it_and_leaves_it_one(tmp_path):
    # `--output /dev/null` as root must not replace the machine's /dev/null with a file.
    import os
    import stat
    import threading

    from grader.report.common import write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    write_atomic(fifo, "report\n")
    reader.join(5)
    assert got == ["report\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_the_experiments_heading_names_the_results_exercises_and_epochs():
    from types import SimpleNamespace

    from grader.report import experiments_text

    def entry(n, epochs):
        return {"exercise": n, "title": f"Exercise {n}", "configs": [
            {"label": "a", "config": {"epochs": epochs}}]}

    same = SimpleNamespace(experiments=[entry(2, 40), entry(3, 40)])
    assert experiments_text.terminal_lines(same, "en")[1] == (
        "Experiments (exercises 2-3, 40 epochs, final test loss)")
    assert "練習 2-3，40 個 epoch" in experiments_text.terminal_lines(same, "zh-TW")[1]
    mixed = SimpleNamespace(experiments=[entry(1, 40), entry(4, 500)])
    assert experiments_text.markdown_lines(mixed, "en")[1] == (
        "### Experiments (exercises 1, 4, final test loss)")
