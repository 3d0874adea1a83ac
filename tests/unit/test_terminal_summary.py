"""The closing block of `infragate verify`: only what needs looking at, worst first, one line of
reason each (cut with an ellipsis), then counts, verdict, exit code and the words it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.reports.records import RunRecord, ScenarioRecord
from infragate.run.verify import _print_summary
from infragate.verdicts import Verdict


def _scenario(name: str, verdict: Verdict, message: str = "", step: str | None = None) -> ScenarioRecord:
    return ScenarioRecord(
        f"t::{name}", "Gateway", "gateway/x.feature", name, 3, [], verdict, failed_step=step, message=message
    )


def test_only_failures_and_what_could_not_be_verified_are_listed_worst_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = RunRecord(
        "shop",
        "shop.yaml",
        0.0,
        42.0,
        [
            _scenario("Fine", Verdict.CONFORMANT),
            _scenario("Silent", Verdict.COULD_NOT_VERIFY, "route api: 450 of 450 requests got no answer"),
            _scenario("Elsewhere", Verdict.NOT_APPLICABLE, "not applicable: the target declares no platform"),
            _scenario("Broken", Verdict.NON_CONFORMANT, "x" * 500 + "\nmore", "Then each route admits its rate"),
        ],
    )
    _print_summary(run, Path("reports/run"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == [
        "infragate: to look at:",
        "  non-conformant    Gateway: Broken",
        "                    at step: Then each route admits its rate",
        "                    " + "x" * 300 + " …",
        "  could not verify  Gateway: Silent",
        "                    route api: 450 of 450 requests got no answer",
    ]
    # The same verdict words as the reports', for the scenarios and for the run.
    assert lines[6].startswith("infragate: non-conformant: 1 conformant, 1 could not verify, 1 non-conformant, ")
    assert lines[6].endswith("(42.0 s), exit 1")
    assert lines[7].startswith("infragate: reports in reports/run/ (report.html, ")
    assert not any("Elsewhere" in line for line in lines)


def test_scenarios_that_failed_for_the_same_reason_share_one_line_of_it(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 29: an unreachable gateway repeated "connection refused" nine times in the closing block."""
    refused = "could not reach https://127.0.0.1:9/health: connection refused"
    run = RunRecord(
        "shop",
        "shop.yaml",
        0.0,
        3.0,
        [
            _scenario("Health", Verdict.COULD_NOT_VERIFY, refused, "When a client asks for its health"),
            _scenario("Headers", Verdict.COULD_NOT_VERIFY, refused),
            _scenario("Odd", Verdict.COULD_NOT_VERIFY, "something else"),
        ],
    )
    _print_summary(run, Path("reports/run"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == [
        "infragate: to look at:",
        f"  could not verify  2 scenarios, each: {refused}",
        "                    Gateway: Health (at step: When a client asks for its health)",
        "                    Gateway: Headers",
        "  could not verify  Gateway: Odd",
        "                    something else",
    ]
    assert sum(refused in line for line in lines) == 1
