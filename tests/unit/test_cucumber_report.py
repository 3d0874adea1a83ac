"""cucumber.json as the Cucumber project's own validator reads it (@cucumber/cucumber-json-converter,
run by Node): every scenario, real tags, steps after a failure skipped, held-back scenarios skipped
with their reason, and a verdict no step explains as a failed hook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infragate.reports.cucumber import render_cucumber
from infragate.reports.records import RunRecord, StepRecord
from infragate.verdicts import Verdict
from tests.conftest import cucumber_reader
from tests.unit.run_records import mixed_run
from tests.unit.run_records import scenario_record as _scenario


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
    run = mixed_run()
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
