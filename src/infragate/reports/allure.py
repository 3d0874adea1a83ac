"""allure-results/ written from the run record, in the Allure result format that Allure 2 and 3
read: a ``<uuid>-result.json`` per scenario with its status, its steps, its feature and tags as
labels and its evidence as a JSON attachment; ``categories.json`` names infragate's verdicts, and
``environment.properties`` the target and profile.

Allure knows passed, failed, broken and skipped: non-conformant is failed, a verdict that proves
nothing (could not verify, refused, bad usage) is broken, and a scenario held back (not applicable,
not run) is skipped; each message begins with infragate's verdict word, which the categories match.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from infragate.reports.records import RunRecord, ScenarioRecord
from infragate.verdicts import HELD_BACK, Verdict

_STATUS = {
    Verdict.CONFORMANT: "passed",
    Verdict.NON_CONFORMANT: "failed",
    Verdict.COULD_NOT_VERIFY: "broken",
    Verdict.INTERRUPTED: "broken",
    Verdict.REFUSED: "broken",
    Verdict.BAD_USAGE: "broken",
    Verdict.NOT_APPLICABLE: "skipped",
    Verdict.NOT_RUN: "skipped",
    Verdict.WAIVED: "skipped",
}
# Allure's categories, matched in order: each of infragate's verdicts that needs a look is one.
CATEGORIES = [
    {"name": "non-conformant", "matchedStatuses": ["failed"]},
    {"name": "refused by the safety policy", "matchedStatuses": ["broken"], "messageRegex": "refused by the safety.*"},
    {"name": "bad usage", "matchedStatuses": ["broken"], "messageRegex": "bad usage.*"},
    {"name": "could not verify", "matchedStatuses": ["broken"]},
]


def render_allure(run: RunRecord) -> dict[str, str]:
    """The folder's files, by name: a result (and an evidence attachment) per scenario, the categories
    and the environment."""
    files: dict[str, str] = {
        "categories.json": json.dumps(CATEGORIES, indent=2) + "\n",
        "environment.properties": f"target={_property(run.target)}\nprofile={_property(run.profile)}\n",
    }
    clock = run.started_at
    for scenario in run.scenarios:
        start = scenario.started_at or clock
        clock = start + scenario.duration_s
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run.started_at}:{scenario.nodeid}"))
        result = _result(run, scenario, name, start)
        if scenario.evidence:
            attachment = f"{name}-attachment.json"
            files[attachment] = json.dumps(scenario.evidence, indent=2) + "\n"
            result["attachments"] = [{"name": "evidence", "source": attachment, "type": "application/json"}]
        files[f"{name}-result.json"] = json.dumps(result, indent=2) + "\n"
    return files


def write_allure(run: RunRecord, folder: Path, redact: Any) -> None:
    """Write the Allure results into ``folder`` (made anew), each file through ``redact``."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*"):
        stale.unlink()
    for file_name, text in render_allure(run).items():
        (folder / file_name).write_text(redact(text), encoding="utf-8")


def _result(run: RunRecord, scenario: ScenarioRecord, name: str, start: float) -> dict[str, Any]:
    identity = hashlib.md5(f"{scenario.feature_file}:{scenario.scenario}".encode(), usedforsecurity=False).hexdigest()
    labels = [
        {"name": "feature", "value": scenario.feature},
        {"name": "suite", "value": scenario.feature},
        {"name": "framework", "value": "infragate"},
        {"name": "host", "value": run.target},
        *({"name": "tag", "value": tag} for tag in scenario.tags),
    ]
    status = _STATUS[scenario.verdict]
    message = _message(scenario)
    if run.interrupted and status == "passed":  # as in cucumber.json: a cut run proves nothing
        status, message = "broken", f"interrupted by {run.interrupted}: the run proves nothing"
    result: dict[str, Any] = {
        "uuid": name,
        "historyId": identity,
        "testCaseId": identity,
        "fullName": f"{scenario.feature_file}:{scenario.line} {scenario.scenario}",
        "name": scenario.scenario,
        "status": status,
        "stage": "finished",
        "start": _ms(start),
        "stop": _ms(start + scenario.duration_s),
        "labels": labels,
        "links": [],
        "parameters": [],
        "attachments": [],
        "steps": _steps(scenario, start),
    }
    if status != "passed" or scenario.message:
        result["statusDetails"] = {"message": message, "trace": ""}
    return result


def _message(scenario: ScenarioRecord) -> str:
    reason = scenario.message or (f"cleanup {scenario.cleanup}" if scenario.cleanup else "")
    if scenario.verdict in HELD_BACK and reason.startswith(scenario.verdict.value):
        return reason  # already "not applicable: ..." or "not run: ..."
    if scenario.verdict is Verdict.WAIVED:
        return reason  # "WAIVED: reason (owner, until); what it found"
    return f"{scenario.verdict.value}: {reason}" if reason else scenario.verdict.value


def _steps(scenario: ScenarioRecord, start: float) -> list[dict[str, Any]]:
    """Every step as written: those that ran with their outcome and checks, the others skipped."""
    steps = []
    clock = start
    for index, planned in enumerate(scenario.planned):
        step: dict[str, Any] = {
            "name": f"{planned['keyword']} {planned['name']}",
            "status": "skipped",
            "stage": "finished",
            "steps": [],
            "attachments": [],
            "parameters": [],
            "start": _ms(clock),
            "stop": _ms(clock),
        }
        if index < len(scenario.steps):
            ran = scenario.steps[index]
            proven = ran.broken() or scenario.verdict is Verdict.NON_CONFORMANT
            step["status"] = "passed" if ran.outcome == "passed" else "failed" if proven else "broken"
            step["stop"] = _ms(clock + ran.duration_s)
            clock += ran.duration_s
            if ran.outcome != "passed":  # the same reason cucumber.json gives
                step["statusDetails"] = {"message": scenario.step_error(ran), "trace": ""}
        steps.append(step)
    return steps


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _property(value: str) -> str:
    """A value for a Java properties file: backslashes, line breaks and separators escaped."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")
    return escaped
