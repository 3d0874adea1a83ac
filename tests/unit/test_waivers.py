"""Waivers: the file's validation (an expired waiver included), what they waive and what they do
not, and how every report shows a waived scenario."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from infragate.errors import ExitCode, ProfileError
from infragate.reports.cucumber import render_cucumber
from infragate.reports.html_report import render_html
from infragate.reports.junit import render_junit
from infragate.reports.machine import run_document
from infragate.reports.pages import render_markdown
from infragate.reports.records import RunRecord, StepRecord
from infragate.run.commands import waivers_check
from infragate.verdicts import Verdict
from infragate.waivers.apply import SKIPPED_PREFIX, apply_waivers, shown_verdict, skip_reason, waivers_payload
from infragate.waivers.waiver_file import Waiver, parse_waivers
from tests.unit.run_records import PLANNED, RATE_CHECK, scenario_record

TODAY = datetime.date(2026, 12, 3)
FILE = """\
waivers:
  - scenario: Broken
    reason: "OPS-42: the limit moves to the edge proxy in January"
    owner: platform-team
    expires: 2027-01-31
  - tag: "@exposure"
    reason: monitoring published until the ingress lands
    owner: ops@example.test
    expires: 2026-12-31
    mode: skip
"""


def _run() -> RunRecord:
    passed = [StepRecord(f"{s['keyword']} {s['name']}", "passed", 0.5) for s in PLANNED]
    failed = [
        StepRecord("When one client overloads each rate-limited route in turn", "passed", 6.0),
        StepRecord("Then each route admits its declared rate", "failed", 0.001, [RATE_CHECK]),
    ]
    held = scenario_record("Scan", Verdict.NOT_RUN, [], f"{SKIPPED_PREFIX}monitoring published")
    held.tags = ["exposure"]
    return RunRecord(
        "shop",
        "shop.yaml",
        0.0,
        30.0,
        [
            scenario_record("Conformant", Verdict.CONFORMANT, passed),
            scenario_record("Broken", Verdict.NON_CONFORMANT, failed, "expected 100/s, observed 160/s"),
            held,
        ],
    )


def test_a_waivers_file_is_read_with_its_modes() -> None:
    waivers = parse_waivers(FILE, "waivers.yaml", TODAY)
    assert [(w.label, w.mode, w.expires.isoformat()) for w in waivers] == [
        ("scenario 'Broken'", "run", "2027-01-31"),
        ("tag @exposure", "skip", "2026-12-31"),
    ]


def test_an_expired_waiver_fails_before_anything_runs_naming_line_owner_and_date() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_waivers(FILE, "waivers.yaml", datetime.date(2027, 1, 1))
    assert caught.value.exit_code == ExitCode.BAD_USAGE
    assert str(caught.value) == (
        "waivers.yaml:9: waivers[1].expires: a waiver that still holds: the waiver of tag @exposure "
        "(ops@example.test) expired on 2026-12-31; fix the deviation, or renew the waiver with its reason"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("waivers:\n  - reason: r\n    owner: o\n    expires: 2027-01-01\n", "exactly one of scenario"),
        ("waivers:\n  - scenario: s\n    owner: o\n    expires: 2027-01-01\n", "waivers[0].reason"),
        ("waivers:\n  - scenario: s\n    reason: r\n    owner: o\n    expires: soon\n", "waivers[0].expires"),
        ("waivers:\n  - scenario: s\n    reason: r\n    owner: o\n    expires: 2027-01-01\n    mode: mute\n", "mode"),
        ("waivers:\n  - scenario: s\n    reasn: r\n", "did you mean 'reason'"),
        ("- scenario: s\n", "a mapping of waivers file keys"),
    ],
)
def test_a_bad_waivers_file_is_one_line_naming_file_and_key(text: str, says: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_waivers(text, "waivers.yaml", TODAY)
    message = str(caught.value)
    assert message.startswith("waivers.yaml:") and "\n" not in message and says in message, message


def test_a_waived_failure_does_not_fail_the_run_and_keeps_what_failed() -> None:
    run = _run()
    assert run.exit_code == ExitCode.NON_CONFORMANT
    apply_waivers(run, parse_waivers(FILE, "waivers.yaml", TODAY))
    broken, scan = run.scenarios[1], run.scenarios[2]
    assert (broken.verdict, scan.verdict) == (Verdict.WAIVED, Verdict.WAIVED)
    assert broken.message == (
        "WAIVED: OPS-42: the limit moves to the edge proxy in January (owner platform-team, until 2027-01-31); "
        "non-conformant at step: Then each route admits its declared rate: expected 100/s, observed 160/s"
    )
    assert broken.waiver is not None and broken.waiver["verdict"] == "non-conformant"
    assert scan.message.endswith("(owner ops@example.test, until 2026-12-31); not run")
    assert run.exit_code == ExitCode.CONFORMANT and run.unmatched_waivers == []
    assert run.counts() == {"conformant": 1, "waived": 2}


def test_a_waiver_never_hides_a_check_that_could_not_run_nor_outlives_its_fix() -> None:
    run = _run()
    run.scenarios[1].verdict = Verdict.COULD_NOT_VERIFY
    waivers = [
        Waiver(scenario="Broken", reason="r", owner="team-a", expires=datetime.date(2027, 1, 1)),
        Waiver(scenario="Conformant", reason="r", owner="team-b", expires=datetime.date(2027, 1, 1)),
        Waiver(scenario="Gone", reason="r", owner="team-c", expires=datetime.date(2027, 1, 1)),
    ]
    apply_waivers(run, waivers)
    assert run.scenarios[1].verdict is Verdict.COULD_NOT_VERIFY and run.exit_code == ExitCode.COULD_NOT_VERIFY
    assert [line.split(":")[0] for line in run.unmatched_waivers] == [
        "the waiver of scenario 'Broken' (team-a) covered nothing",
        "the waiver of scenario 'Conformant' (team-b) covered nothing",
        "the waiver of scenario 'Gone' (team-c) matches no scenario of this run",
    ]
    assert "its scenarios were could not verify" in run.unmatched_waivers[0]


def test_the_suite_holds_back_what_skip_waivers_cover_and_shows_waived_findings_as_waived() -> None:
    payload = waivers_payload(parse_waivers(FILE, "waivers.yaml", TODAY))
    reason = skip_reason(payload, "No port answers from outside that is not declared exposed", {"exposure"})
    assert reason is not None and reason.startswith(SKIPPED_PREFIX + "monitoring published")
    assert skip_reason(payload, "Broken", {"gateway"}) is None  # a run waiver: it runs
    conformant, broken, held = _run().scenarios
    assert [shown_verdict(payload, record) for record in (conformant, broken, held)] == [
        Verdict.CONFORMANT,
        Verdict.WAIVED,
        Verdict.WAIVED,
    ]
    assert shown_verdict("", broken) is Verdict.NON_CONFORMANT


def test_every_report_shows_a_waived_scenario_as_waived() -> None:
    run = _run()
    apply_waivers(run, parse_waivers(FILE, "waivers.yaml", TODAY))
    case = ET.fromstring(render_junit(run)).find(".//testcase[@name='Broken']")
    assert case is not None and case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("WAIVED: OPS-42")
    assert 'failures="0"' in render_junit(run) and 'skipped="2"' in render_junit(run)
    (feature,) = json.loads(render_cucumber(run))
    broken = next(element for element in feature["elements"] if element["name"] == "Broken")
    assert "@waived" in [tag["name"] for tag in broken["tags"]]
    statuses = [step["result"]["status"] for step in broken["steps"]]
    assert "failed" not in statuses and broken["steps"][1]["result"]["error_message"].startswith("WAIVED: ")
    assert "| waived | Gateway rate limiting | Broken |" in render_markdown(run)
    assert "WAIVED: OPS-42" in render_markdown(run)
    page = render_html(run)
    assert "<h2>Waived (2)</h2>" in page and "WAIVED: OPS-42" in page


def test_a_run_as_one_json_document_for_pipelines() -> None:
    run = _run()
    apply_waivers(run, parse_waivers(FILE, "waivers.yaml", TODAY))
    document = json.loads(run_document(run, run.exit_code, Path("reports/r1")))
    assert (document["schema"], document["verdict"], document["exit_code"]) == ("infragate.run/v1", "conformant", 0)
    assert document["counts"] == {"conformant": 1, "waived": 2} and document["reports"] == "reports/r1"
    broken = next(scenario for scenario in document["scenarios"] if scenario["scenario"] == "Broken")
    assert broken["verdict"] == "waived" and broken["waiver"]["owner"] == "platform-team"
    assert broken["failed_step"] == "Then each route admits its declared rate"
    stopped = json.loads(run_document(None, 3, error="waivers.yaml:9: waivers[1].expires: ..."))
    assert stopped == {
        "schema": "infragate.run/v1",
        "verdict": "bad usage",
        "exit_code": 3,
        "error": "waivers.yaml:9: waivers[1].expires: ...",
    }


def test_waivers_check_validates_and_names_the_waivers_ending_soon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(FILE)
    assert waivers_check(path, TODAY) == ExitCode.CONFORMANT
    assert capsys.readouterr().out.splitlines() == [f"{path}: ok: 2 waiver(s)"]  # none ends within 14 days
    assert waivers_check(path, datetime.date(2026, 12, 20)) == ExitCode.CONFORMANT
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: ok: 2 waiver(s)",
        "  ends in 11 day(s), on 2026-12-31: the waiver of tag @exposure (ops@example.test)",
    ]
    with pytest.raises(ProfileError, match="expired on 2026-12-31"):
        waivers_check(path, datetime.date(2027, 1, 1))
