"""JUnit XML: what Jenkins, GitLab and most CI test-report viewers ingest.

    <testsuites name="hwgrade" tests= failures= errors= time=>
      <testsuite name=ASSIGNMENT tests= failures= errors= skipped= time=>
        <properties> score, max_score, pending_points, hwgrade version, submission </properties>
        <testcase classname="hwgrade.ASSIGNMENT" name=CHECK time=>
          <properties> points, max_points, function, hidden </properties>
          <failure message= type="failed">what went wrong</failure>   (status failed)
          <error message= type="error">...</error>                    (status error)
          <skipped message="not run: needs ..."/>                     (status not_run)

There is no official JUnit schema. The element and attribute names follow the
Ant/Jenkins JUnit XSD that Jenkins, GitLab and the GitHub report actions share;
times have at most 3 decimals (Surefire's time pattern). The one extension is
<properties> inside <testcase>, as pytest's record_property writes it (Jenkins'
junit plugin keeps it with keepProperties; GitLab ignores it): it is where a
check's points live. GitLab shows classname as the suite, so classname carries
the assignment. A submission that could not be graded is one testcase,
"submission", with an <error>, so CI shows it as red rather than as 0 tests.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.i18n import label
from grader.report.common import explanation_text, lang_of, points
from grader.results import CheckResult, GradeResult

# XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF];
# ElementTree escapes <&>" but writes other characters as they are, which would make the
# whole report unparsable (a student's output can hold \x00, \x1b, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: object):
    node = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items() if v is not None})
    if text:
        node.text = clean(text)
    return node


def _properties(parent: ET.Element, values: dict[str, object]) -> None:
    props = _element(parent, "properties")
    for name, value in values.items():
        if value is not None:
            _element(props, "property", name=name, value=value)


def _testcase(suite: ET.Element, classname: str, check: CheckResult, lang: str) -> None:
    case = _element(suite, "testcase", classname=classname, name=check.name,
                    time=_time(check.duration))
    _properties(case, {"title": check.title, "points": points(check.points),
                       "max_points": points(check.max_points), "function": check.function,
                       "hidden": str(check.hidden).lower()})
    if check.status == "failed":
        _element(case, "failure", explanation_text(check, lang), message=check.message,
                 type="failed")
    elif check.status == "error":
        body = "\n\n".join(t for t in (explanation_text(check, lang), check.details) if t)
        _element(case, "error", body, message=check.message, type="error")
    elif check.status == "not_run":
        message = check.message or label("report.junit.not_run_needs", lang,
                                         needs=", ".join(check.needs))
        _element(case, "skipped", message=message)


def render(result: GradeResult) -> str:
    counts = result.counts()
    checks = result.checks
    totals = {"tests": len(checks), "failures": counts["failed"], "errors": counts["error"],
              "skipped": counts["not_run"],
              "time": _time(result.timings.get("total", sum(c.duration for c in checks)))}
    if result.error:
        totals.update(tests=1, failures=0, errors=1, skipped=0)
    # The XSD's <testsuites> has no skipped attribute; <testsuite> has.
    root = _element(ET.Element("root"), "testsuites", name="hwgrade",
                    **{k: v for k, v in totals.items() if k != "skipped"})
    suite = _element(root, "testsuite", name=result.assignment, **totals)
    _properties(suite, {"score": points(result.score), "max_score": points(result.max_score),
                        "pending_points": points(result.pending_points),
                        "hwgrade": result.versions.get("hwgrade"),
                        "submission": result.submission.path,
                        "sha256": result.submission.sha256 or None})
    classname = f"hwgrade.{result.assignment}"
    if result.error:
        case = _element(suite, "testcase", classname=classname, name="submission",
                        time=totals["time"])
        _element(case, "error", result.error, message=result.error, type="submission")
    for check in checks:
        _testcase(suite, classname, check, lang_of(result))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
