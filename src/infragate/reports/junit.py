"""junit.xml written from the run record, the way CI systems read JUnit XML.

One testsuite per feature; a testcase per scenario with ``classname`` the feature and ``name`` the
scenario. Non-conformant is a ``failure`` whose body is the failing step and its "expected X,
observed Y" (no traceback); could not verify, bad usage and refused are ``error`` typed by the
verdict; not applicable and not run are ``skipped`` with distinct messages. Each case carries its
verdict, tags and feature file as properties and its steps, with what each judged, as output. An
interrupted run adds an errored case, so that no CI system reads it as green.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from infragate.reports.records import RunRecord, ScenarioRecord
from infragate.verdicts import HELD_BACK, NEEDS_ATTENTION, Verdict

_ERRORS = NEEDS_ATTENTION - {Verdict.NON_CONFORMANT}


def render_junit(run: RunRecord) -> str:
    """The run as JUnit XML (the Ant/Jenkins schema's elements and attributes)."""
    root = ET.Element("testsuites", name=f"infragate: {run.target}")
    features: dict[str, list[ScenarioRecord]] = {}
    for scenario in run.scenarios:
        features.setdefault(scenario.feature or scenario.feature_file, []).append(scenario)
    for feature, scenarios in features.items():
        suite = ET.SubElement(root, "testsuite", name=feature, file=scenarios[0].feature_file)
        for scenario in scenarios:
            _case(suite, feature, scenario)
        _count(suite, [scenario.verdict for scenario in scenarios], sum(s.duration_s for s in scenarios))
    problems = [("collection", error, "bad usage") for error in run.collection_errors]
    if run.interrupted:
        problems.append(("the run finished", f"interrupted by {run.interrupted}", "interrupted"))
    if problems:
        suite = ET.SubElement(root, "testsuite", name="infragate run")
        for name, message, kind in problems:
            case = ET.SubElement(suite, "testcase", classname="infragate run", name=name, time="0")
            ET.SubElement(case, "error", message=message, type=kind).text = message
        _count(suite, [Verdict.COULD_NOT_VERIFY] * len(problems), 0.0)
    totals = Counter({key: 0 for key in ("tests", "failures", "errors", "skipped")})
    for suite in root:
        totals.update({key: int(suite.get(key, "0")) for key in totals})
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{max(run.finished_at - run.started_at, 0.0):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, feature: str, scenario: ScenarioRecord) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=feature, name=scenario.scenario, time=f"{scenario.duration_s:.3f}"
    )
    case.set("file", scenario.feature_file)
    case.set("line", str(scenario.line))
    properties = ET.SubElement(case, "properties")
    for name, value in (("verdict", scenario.verdict.value), ("tags", " ".join(scenario.tags))):
        ET.SubElement(properties, "property", name=name, value=value)
    first_line = scenario.message.splitlines()[0] if scenario.message else scenario.verdict.value
    if scenario.verdict is Verdict.NON_CONFORMANT:
        body = f"{scenario.failed_step or ''}\n{scenario.message}".strip()
        ET.SubElement(case, "failure", message=first_line, type="non-conformant").text = body
    elif scenario.verdict in _ERRORS:
        body = f"{scenario.failed_step or ''}\n{scenario.message}".strip()
        ET.SubElement(case, "error", message=first_line, type=scenario.verdict.value).text = body
    elif scenario.verdict in HELD_BACK or scenario.verdict is Verdict.WAIVED:
        ET.SubElement(case, "skipped", message=first_line).text = scenario.message
    ET.SubElement(case, "system-out").text = "\n".join(_step_lines(scenario))


def _step_lines(scenario: ScenarioRecord) -> list[str]:
    lines = []
    for step in scenario.steps:
        lines.append(f"{step.outcome:<9} {step.text} ({step.duration_s * 1000:.0f} ms)")
        lines += [
            f"          {check['outcome']}: {check['name']}: expected {check['expected']}; observed {check['observed']}"
            for check in step.checks
        ]
    return lines


def _count(suite: ET.Element, verdicts: list[Verdict], seconds: float) -> None:
    suite.set("tests", str(len(verdicts)))
    suite.set("failures", str(sum(v is Verdict.NON_CONFORMANT for v in verdicts)))
    suite.set("errors", str(sum(v in _ERRORS for v in verdicts)))
    suite.set("skipped", str(sum(v in HELD_BACK or v is Verdict.WAIVED for v in verdicts)))
    suite.set("time", f"{seconds:.3f}")
