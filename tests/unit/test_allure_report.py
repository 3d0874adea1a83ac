"""allure-results/ as Allure 3's command line reads it: a test per scenario with Allure's status for
its verdict, its steps, its feature, and the reason first in its message; the categories and the
evidence attachment as Allure expects them."""

from __future__ import annotations

import json
from pathlib import Path

from infragate.profile.secrets import REDACTOR
from infragate.reports.allure import write_allure
from infragate.reports.records import RunRecord, StepRecord
from infragate.verdicts import Verdict
from tests.conftest import allure_reader
from tests.unit.run_records import mixed_run, scenario_record


def _read(run: RunRecord, tmp_path: Path) -> dict[str, dict[str, str]]:
    results = tmp_path / "allure-results"
    write_allure(run, results, REDACTOR.redact)
    return {row["Name"]: row for row in allure_reader(results)}


def test_each_verdict_gets_allure_s_status_its_steps_and_its_reason(tmp_path: Path) -> None:
    run = mixed_run()
    run.scenarios[1].evidence = [{"type": "RateLimitSurvey", "data": {"route": "api"}}]
    rows = _read(run, tmp_path)
    assert {name: row["Status"] for name, row in rows.items()} == {
        "Conformant": "passed",
        "Broken": "failed",
        "Silent": "broken",
        "Held": "skipped",
        "Dirty": "broken",
    }
    assert {row["Feature"] for row in rows.values()} == {"Gateway rate limiting"}
    assert rows["Broken"]["Full Name"] == "gateway/rate_limits.feature:6 Broken"
    assert rows["Broken"]["Error"] == "non-conformant: expected route api to admit 100/s, observed 160/s"
    assert rows["Silent"]["Error"] == "could not verify: route api: 450 of 450 requests got no answer"
    assert rows["Held"]["Error"] == "not applicable: the target declares no platform"
    broken_steps = rows["Broken"]["Steps"].splitlines()
    assert [line.rsplit(" (", 1)[0].strip() for line in broken_steps] == [
        "When one client overloads each rate-limited route in turn passed",
        "Then each route admits its declared rate failed",
        "And each route admits its declared burst passed",
        "And each route recovers once the overload stops failed",
    ]
    silent_steps = [line.rsplit(" (", 1)[0].strip() for line in rows["Silent"]["Steps"].splitlines()]
    assert silent_steps[0].endswith(" broken") and all(line.endswith(" skipped") for line in silent_steps[1:])
    # The broken promise of the failing step, and the evidence beside the result.
    files = {path.name: path for path in (tmp_path / "allure-results").iterdir()}
    (broken,) = (
        json.loads(p.read_text()) for n, p in files.items() if n.endswith("-result.json") and "Broken" in p.read_text()
    )
    assert broken["steps"][1]["statusDetails"]["message"] == "admitted rate: expected 100/s, observed 160.0/s"
    (attachment,) = broken["attachments"]
    assert json.loads(files[attachment["source"]].read_text())[0]["type"] == "RateLimitSurvey"
    assert {label["value"] for label in broken["labels"] if label["name"] == "tag"} == {"gateway", "ratelimit"}
    categories = json.loads(files["categories.json"].read_text())
    assert [c["name"] for c in categories] == [
        "non-conformant",
        "refused by the safety policy",
        "bad usage",
        "could not verify",
    ]


def test_an_interrupted_run_proves_nothing_in_allure_either(tmp_path: Path) -> None:
    half = [StepRecord("When one client overloads each rate-limited route in turn", "passed", 3.0)]
    cut = scenario_record("Cut", Verdict.CONFORMANT, half)
    rows = _read(RunRecord("shop", "shop.yaml", 0.0, 3.0, [cut], interrupted="SIGINT"), tmp_path)
    assert rows["Cut"]["Status"] == "broken"
    assert rows["Cut"]["Error"] == "interrupted by SIGINT: the run proves nothing"


def test_results_are_made_anew_and_secrets_are_redacted(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "old-result.json").write_text("{}")
    leaky = scenario_record("Leaky", Verdict.COULD_NOT_VERIFY, [], "could not log in with hunter2-canary")
    write_allure(
        RunRecord("shop", "shop.yaml", 0.0, 1.0, [leaky]), results, lambda text: text.replace("hunter2", "***")
    )
    names = sorted(path.name for path in results.iterdir())
    assert "old-result.json" not in names and len(names) == 3  # categories, environment, one result
    assert all("hunter2" not in (results / name).read_text() for name in names)
