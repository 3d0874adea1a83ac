"""cucumber.json written from the run record, in the shape cucumber-js writes (the Cucumber JSON
that tools read): every scenario that ran or was held back, with its real tags; each step as
written with its status (passed, failed, undefined, and skipped for the steps after a failure or
of a scenario that did not apply or was not allowed, with the reason); a verdict no step explains
(a failed clean-up, an interrupted run) as a failed hidden hook, as cucumber-js shows a hook."""

from __future__ import annotations

import json
import re
from typing import Any

from infragate.reports.records import RunRecord, ScenarioRecord
from infragate.verdicts import HELD_BACK, NEEDS_ATTENTION, Verdict

_STATUS = {"passed": "passed", "failed": "failed", "undefined": "undefined"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_cucumber(run: RunRecord) -> str:
    """The run as Cucumber JSON: a list of features, each with its scenarios ("elements")."""
    features: dict[str, list[ScenarioRecord]] = {}
    for scenario in run.scenarios:
        features.setdefault(scenario.feature_file, []).append(scenario)
    document = []
    for uri, scenarios in features.items():
        first = scenarios[0]
        feature_id = _slug(first.feature or uri)
        document.append(
            {
                "uri": uri,
                "id": feature_id,
                "line": first.feature_line or 1,
                "keyword": "Feature",
                "name": first.feature,
                "description": "",
                "tags": [],  # the scenarios carry the feature's tags with their own
                "elements": [_element(feature_id, scenario, run.interrupted) for scenario in scenarios],
            }
        )
    return json.dumps(document, indent=2) + "\n"


def _element(feature_id: str, scenario: ScenarioRecord, interrupted: str) -> dict[str, Any]:
    steps = _steps(scenario)
    explained = any(step["result"]["status"] in ("failed", "undefined") for step in steps)
    if scenario.verdict in NEEDS_ATTENTION and not explained:
        steps.append(_hook(f"{scenario.verdict.value}: {scenario.message or scenario.cleanup}"))
    elif interrupted and not explained:
        steps.append(_hook(f"interrupted by {interrupted}: the run proves nothing"))
    return {
        "id": f"{feature_id};{_slug(scenario.scenario)}",
        "line": scenario.line or 1,
        "type": "scenario",
        "keyword": "Scenario",
        "name": scenario.scenario,
        "description": "",
        "tags": [
            {"name": f"@{tag}", "line": max((scenario.line or 2) - 1, 1)}
            for tag in [*scenario.tags, *(["waived"] if scenario.verdict is Verdict.WAIVED else [])]
        ],
        "steps": steps,
    }


def _steps(scenario: ScenarioRecord) -> list[dict[str, Any]]:
    ran = list(scenario.steps)
    held = scenario.verdict in HELD_BACK
    steps = []
    for index, planned in enumerate(scenario.planned):
        result: dict[str, Any] = {"status": "skipped"}
        if index < len(ran):
            step = ran[index]
            result = {"status": _STATUS.get(step.outcome, "failed"), "duration": int(step.duration_s * 1e9)}
            if result["status"] != "passed":
                result["error_message"] = scenario.step_error(step)
            if result["status"] == "failed" and scenario.verdict is Verdict.WAIVED:
                result = {**result, "status": "skipped", "error_message": f"{scenario.message}"}
        elif (held or scenario.verdict is Verdict.WAIVED) and index == 0:
            result["error_message"] = scenario.message or scenario.verdict.value
        steps.append(
            {
                "arguments": [],
                "keyword": f"{planned['keyword']} ",
                "line": planned["line"],
                "name": planned["name"],
                "result": result,
            }
        )
    return steps


def _hook(message: str) -> dict[str, Any]:
    return {"hidden": True, "keyword": "After", "result": {"status": "failed", "error_message": message}}
