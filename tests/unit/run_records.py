"""Run records of the rate-limit feature as the plugin writes them, for the tests of each report format."""

from __future__ import annotations

from infragate.reports.records import RunRecord, ScenarioRecord, StepRecord
from infragate.verdicts import Verdict

PLANNED = [
    {"keyword": "When", "name": "one client overloads each rate-limited route in turn", "line": 7},
    {"keyword": "Then", "name": "each route admits its declared rate", "line": 8},
    {"keyword": "And", "name": "each route admits its declared burst", "line": 9},
    {"keyword": "And", "name": "each route recovers once the overload stops", "line": 10},
]
RATE_CHECK = {"name": "admitted rate", "outcome": "not met", "expected": "100/s", "observed": "160.0/s"}


def scenario_record(
    name: str, verdict: Verdict, ran: list[StepRecord], message: str = "", cleanup: str = ""
) -> ScenarioRecord:
    """A scenario of the rate-limit feature with the steps that ran and its verdict."""
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


def mixed_run() -> RunRecord:
    """Five scenarios: conformant; non-conformant at its second step (and at its fourth); could not
    verify at its first step; not applicable; could not verify for a failed cleanup after passing steps."""
    passed = [StepRecord(f"{s['keyword']} {s['name']}", "passed", 0.5) for s in PLANNED]
    failed = [
        StepRecord("When one client overloads each rate-limited route in turn", "passed", 6.0),
        StepRecord("Then each route admits its declared rate", "failed", 0.001, [RATE_CHECK]),
        StepRecord("And each route admits its declared burst", "passed", 0.001),
        StepRecord("And each route recovers once the overload stops", "failed", 0.001),
    ]
    errored = [StepRecord("When one client overloads each rate-limited route in turn", "failed", 2.0)]
    return RunRecord(
        "shop",
        "shop.yaml",
        0.0,
        30.0,
        [
            scenario_record("Conformant", Verdict.CONFORMANT, passed),
            scenario_record(
                "Broken", Verdict.NON_CONFORMANT, failed, "expected route api to admit 100/s, observed 160/s"
            ),
            scenario_record(
                "Silent", Verdict.COULD_NOT_VERIFY, errored, "route api: 450 of 450 requests got no answer"
            ),
            scenario_record("Held", Verdict.NOT_APPLICABLE, [], "not applicable: the target declares no platform"),
            scenario_record("Dirty", Verdict.COULD_NOT_VERIFY, passed, "cleanup failed: scratch database left"),
        ],
    )
