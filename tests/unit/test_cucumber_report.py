"""cucumber.json as the Cucumber project's own validator reads it (@cucumber/cucumber-json-converter,
run by Node): every scenario, real tags, steps after a failure skipped, held-back scenarios skipped
with their reason, and a verdict no step explains as a failed hook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infragate.reports.cucumber import render_cucumber
from infragate.reports.records import RunRecord, ScenarioRecord, StepRecord
from infragate.verdicts import Verdict
from tests.conftest import cucumber_reader

PLANNED = [
    {"keyword": "When", "name": "one client overloads each rate-limited route in turn", "line": 7},
    {"keyword": "Then", "name": "each route admits its declared rate", "line": 8},
    {"keyword": "And", "name": "each route admits its declared burst", "line": 9},
    {"keyword": "And", "name": "each route recovers once the overload stops", "line": 10},
]
RATE_CHECK = {"name": "admitted rate", "outcome": "not met", "expected": "100/s", "observed": "160.0/s"}


def _scenario(
    name: str, verdict: Verdict, ran: list[StepRecord], message: str = "", cleanup: str = ""
) -> ScenarioRecord:
    return ScenarioRecord(
        nodeid=f"test_conformance.py::{name}",
        feature="Gateway rate limiting",
        feature_file="gateway/rate_limits.feature",
        scenario=name,
        line=6,
        tags=["gateway", "ratelimit"],
        verdict=verdict,
        failed_step=next((f"{s.text}" for s in ran if s.outcome != "passed"), None),
        message=message,
        steps=ran,
        cleanup=cleanup,
        feature_line=2,
        planned=PLANNED,
    )


def _validated(run: RunRecord, tmp_path: Path) -> list[dict[str, Any]]:
    """The document, after the Cucumber validator accepted it (it raises on anything else)."""
    document = tmp_path / "cucumber.json"
    document.write_text(render_cucumber(run))
    assert cucumber_reader(document) == "cucumber-js"
    loaded: list[dict[str, Any]] = json.loads(document.read_text())
    return loaded


def _statuses(element: dict[str, Any]) -> list[str]:
    return [step["result"]["status"] for step in element["steps"]]


def test_passing_failing_and_held_back_scenarios_are_all_there(tmp_path: Path) -> None:
    passed = [StepRecord(f"{s['keyword']} {s['name']}", "passed", 0.5) for s in PLANNED]
    failed = [
        StepRecord("When one client overloads each rate-limited route in turn", "passed", 6.0),
        StepRecord("Then each route admits its declared rate", "failed", 0.001, [RATE_CHECK]),
        StepRecord("And each route admits its declared burst", "passed", 0.001),
        StepRecord("And each route recovers once the overload stops", "failed", 0.001),
    ]
    errored = [StepRecord("When one client overloads each rate-limited route in turn", "failed", 2.0)]
    run = RunRecord(
        "shop",
        "shop.yaml",
        0.0,
        30.0,
        [
            _scenario("Conformant", Verdict.CONFORMANT, passed),
            _scenario("Broken", Verdict.NON_CONFORMANT, failed, "expected route api to admit 100/s, observed 160/s"),
            _scenario("Silent", Verdict.COULD_NOT_VERIFY, errored, "route api: 450 of 450 requests got no answer"),
            _scenario("Held", Verdict.NOT_APPLICABLE, [], "not applicable: the target declares no platform"),
            _scenario("Dirty", Verdict.COULD_NOT_VERIFY, passed, "cleanup failed: scratch database left"),
        ],
    )
    (feature,) = _validated(run, tmp_path)
    elements = {element["name"]: element for element in feature["elements"]}
    assert len(elements) == 5
    assert elements["Conformant"]["tags"] == [{"name": "@gateway", "line": 5}, {"name": "@ratelimit", "line": 5}]
    assert _statuses(elements["Conformant"]) == ["passed"] * 4
    assert _statuses(elements["Broken"]) == ["passed", "failed", "passed", "failed"]
    assert (
        elements["Broken"]["steps"][1]["result"]["error_message"] == "admitted rate: expected 100/s, observed 160.0/s"
    )
    assert _statuses(elements["Silent"]) == ["failed", "skipped", "skipped", "skipped"]
    assert "got no answer" in elements["Silent"]["steps"][0]["result"]["error_message"]
    assert _statuses(elements["Held"]) == ["skipped"] * 4
    assert elements["Held"]["steps"][0]["result"]["error_message"].startswith("not applicable: ")
    assert _statuses(elements["Dirty"]) == ["passed"] * 4 + ["failed"]  # the hidden After hook
    assert elements["Dirty"]["steps"][-1]["hidden"] is True


def test_an_interrupted_run_shows_a_failed_hook_where_no_step_failed(tmp_path: Path) -> None:
    half = [StepRecord("When one client overloads each rate-limited route in turn", "passed", 3.0)]
    run = RunRecord("shop", "shop.yaml", 0.0, 3.0, [_scenario("Cut", Verdict.CONFORMANT, half)], interrupted="SIGINT")
    (feature,) = _validated(run, tmp_path)
    (element,) = feature["elements"]
    assert _statuses(element) == ["passed", "skipped", "skipped", "skipped", "failed"]
    assert "interrupted by SIGINT" in element["steps"][-1]["result"]["error_message"]


def test_the_validator_is_a_real_reader_that_refuses_a_broken_document(tmp_path: Path) -> None:
    broken = RunRecord("shop", "shop.yaml", 0.0, 1.0, [_scenario("Conformant", Verdict.CONFORMANT, [])])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("infragate.reports.cucumber._slug", lambda text: 42)  # an id that is no string
        with pytest.raises(AssertionError, match="Could not validate Cucumber JSON"):
            _validated(broken, tmp_path)
