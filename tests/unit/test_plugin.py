"""Black-box tests of the pytest plugin: write features, steps and a profile; run pytest; read the verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

PROFILE = """
name: plugin-test
platform: {kind: none}
gateway: {base_url: "https://127.0.0.1:9"}
datastores:
  redis: {url: "redis://:${PLUGIN_TEST_SECRET}@127.0.0.1:1/0"}
safety: {environment: staging, allow_destructive: true}
"""

STEPS = """
from pytest_bdd import given, parsers, then, when
from infragate.bdd import expect_no_problems
from infragate.errors import ProbeError
from infragate.verdicts import Check


@when(parsers.parse("the value is {value:d}"), target_fixture="value")
def _(value):
    return value


@when("the probe cannot reach the target")
def _():
    raise ProbeError("could not reach https://127.0.0.1:9/: connection refused")


@then("the next probe cannot reach the target")
def _():
    raise ProbeError("could not reach https://127.0.0.1:9/: connection refused")


@then(parsers.parse("the value is below {bound:d}"))
def _(value, bound):
    expect_no_problems(Check.compare("below the bound", f"below {bound}", f"{value}", value < bound))


@then(parsers.parse("each of the values {first:d} and {second:d} is below {bound:d}"))
def _(first, second, bound):
    each = [Check.compare("below the bound", f"below {bound}", f"{v}", v < bound, f"value {v}") for v in (first,second)]
    expect_no_problems(Check.combine(each))


@then("the message quotes the redis URL")
def _(profile):
    url = profile.datastores.redis.url.get_secret_value()
    expect_no_problems(Check.compare("quoting", "nothing", url, False))
"""

FEATURE = """
Feature: Plugin behaviour
  Scenario: Within bounds
    When the value is 3
    Then the value is below 5

  Scenario: Out of bounds
    When the value is 9
    Then the value is below 5

  Scenario: Unreachable
    When the probe cannot reach the target
    Then the value is below 5

  @platform
  Scenario: Needs a platform
    When the value is 1
    Then the value is below 5

  @destructive
  Scenario: Disruptive
    When the value is 1
    Then the value is below 5

  Scenario: Every broken promise reports
    When the value is 9
    Then the value is below 5
    And the value is below 20
    And the value is below 2

  Scenario: A broken promise stays broken when a later step cannot verify
    When the value is 9
    Then the value is below 5
    And the next probe cannot reach the target

  Scenario: Leaks a secret
    When the value is 1
    Then the message quotes the redis URL
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PLUGIN_TEST_SECRET", "hunter2-very-secret")
    pytester.makefile(".yaml", target=PROFILE)
    pytester.makeconftest(STEPS)
    pytester.makefile(".feature", behaviour=FEATURE)
    pytester.makepyfile(test_features="from pytest_bdd import scenarios\nscenarios('behaviour.feature')\n")

    def go(*args: str) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
        result = pytester.runpytest("--target", "target.yaml", "--infragate-reports", "out", "--strict-markers", *args)
        evidence = json.loads((pytester.path / "out" / "evidence.json").read_text())
        return result, {scenario["scenario"]: scenario for scenario in evidence["scenarios"]}

    return go


def test_each_outcome_gets_its_verdict_with_the_failing_step(run: Any) -> None:
    result, scenarios = run()
    assert scenarios["Within bounds"]["verdict"] == "conformant"
    out = scenarios["Out of bounds"]
    assert (out["verdict"], out["failed_step"]) == ("non-conformant", "Then the value is below 5")
    assert out["message"] == "expected below 5, observed 9"
    unreachable = scenarios["Unreachable"]
    assert (unreachable["verdict"], unreachable["failed_step"]) == (
        "could not verify",
        "When the probe cannot reach the target",
    )
    assert "connection refused" in unreachable["message"]
    assert [step["outcome"] for step in out["steps"]] == ["passed", "failed"]
    result.assert_outcomes(passed=1, failed=5, skipped=2)


def test_a_then_step_that_finds_problems_does_not_hide_the_next_ones(run: Any, pytester: pytest.Pytester) -> None:
    _, scenarios = run("--cucumberjson", "cucumber.json")
    (feature,) = json.loads((pytester.path / "cucumber.json").read_text())
    cucumber = {element["name"]: element for element in feature["elements"]}
    statuses = [step["result"]["status"] for step in cucumber["Every broken promise reports"]["steps"]]
    assert statuses == ["passed", "failed", "passed", "failed"]
    every = scenarios["Every broken promise reports"]
    assert (every["verdict"], every["failed_step"]) == ("non-conformant", "Then the value is below 5")
    assert [step["outcome"] for step in every["steps"]] == ["passed", "failed", "passed", "failed"]
    assert every["message"] == "expected below 5, observed 9 | And the value is below 2: expected below 2, observed 9"
    later = scenarios["A broken promise stays broken when a later step cannot verify"]
    assert (later["verdict"], later["failed_step"]) == ("non-conformant", "Then the value is below 5")
    assert [step["outcome"] for step in later["steps"]] == ["passed", "failed", "failed"]


def test_an_undefined_step_after_a_broken_promise_is_still_bad_usage(run: Any, pytester: pytest.Pytester) -> None:
    feature = (
        "Feature: F\n  Scenario: S\n    When the value is 9\n    Then the value is below 5\n    And nobody wrote this\n"
    )
    pytester.makefile(".feature", behaviour=feature)
    _, scenarios = run()
    assert (scenarios["S"]["verdict"], scenarios["S"]["failed_step"]) == ("bad usage", "And nobody wrote this")


def test_a_combined_check_is_kept_target_by_target_and_only_the_broken_ones_are_shown_as_broken(
    run: Any, pytester: pytest.Pytester
) -> None:
    feature = "Feature: F\n  Scenario: Two\n    When the value is 1\n    Then each of the values 3 and 9 is below 5\n"
    pytester.makefile(".feature", behaviour=feature)
    _, scenarios = run()
    assert [(check["outcome"], check["observed"]) for check in scenarios["Two"]["steps"][1]["checks"]] == [
        ("met", "value 3: 3"),
        ("not met", "value 9: 9"),
    ]
    html = (pytester.path / "out" / "report.html").read_text()
    table = html[html.index('<table class="checks">') :].split("</table>")[0]
    assert "value 9: below 5" in table and "value 3" not in table


def test_each_step_keeps_what_it_judged(run: Any, pytester: pytest.Pytester) -> None:
    _, scenarios = run()
    judged = {"name": "below the bound", "expected": "below 5"}
    assert scenarios["Within bounds"]["steps"][1]["checks"] == [{**judged, "outcome": "met", "observed": "3"}]
    assert scenarios["Out of bounds"]["steps"][1]["checks"] == [{**judged, "outcome": "not met", "observed": "9"}]
    assert scenarios["Out of bounds"]["steps"][0]["checks"] == []  # a When step judges nothing
    html = (pytester.path / "out" / "report.html").read_text()
    assert "<b>not met</b> below the bound: expected below 5; observed 9" in html


def test_platform_scenarios_are_not_applicable_to_a_gateway_only_target(run: Any) -> None:
    _, scenarios = run()
    needs = scenarios["Needs a platform"]
    assert needs["verdict"] == "not applicable"
    assert needs["message"] == "not applicable: the target declares no platform (platform.kind: none)"


def test_destructive_scenarios_need_the_command_line_too(run: Any) -> None:
    _, held = run()
    assert held["Disruptive"]["verdict"] == "not run"
    assert held["Disruptive"]["message"] == "not run: safety policy: @destructive needs --allow-destructive"
    _, allowed = run("--allow-destructive")
    assert allowed["Disruptive"]["verdict"] == "conformant"


def test_secrets_never_reach_the_reports(run: Any, pytester: pytest.Pytester) -> None:
    _, scenarios = run()
    assert scenarios["Leaks a secret"]["message"] == "expected nothing, observed redis://:***@127.0.0.1:1/0"
    for name in ("evidence.json", "summary.md", "report.html", "junit.xml", "cucumber.json"):
        text = (pytester.path / "out" / name).read_text()
        assert "hunter2-very-secret" not in text
        assert "***" in text


def test_an_undefined_step_is_bad_usage_naming_file_and_line(run: Any, pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", behaviour="Feature: F\n  Scenario: Typo\n    When the valeu is 3\n")
    _, scenarios = run()
    typo = scenarios["Typo"]
    assert typo["verdict"] == "bad usage"
    assert typo["failed_step"] == "When the valeu is 3"
    assert "Line 3" in typo["message"] and "behaviour.feature" in typo["message"]


def test_an_unregistered_tag_is_a_collection_error(run: Any, pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", behaviour="Feature: F\n  @destructve\n  Scenario: S\n    When the value is 3\n")
    result, _ = run()
    evidence = json.loads((pytester.path / "out" / "evidence.json").read_text())
    assert evidence["exit_code"] == 3
    assert any("destructve" in error for error in evidence["collection_errors"])
    assert result.ret != 0


def test_reports_are_written(run: Any, pytester: pytest.Pytester) -> None:
    run()
    out: Path = pytester.path / "out"
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# infragate: plugin-test: non-conformant (exit 1)")
    assert "| non-conformant | Plugin behaviour | Out of bounds | Then the value is below 5 |" in summary
    rows = [line.split(" | ")[0].removeprefix("| ") for line in summary.splitlines() if line.startswith("| ")][2:]
    assert rows.index("conformant") > max(rows.index("non-conformant"), rows.index("could not verify"))  # worst first
    html = (out / "report.html").read_text()
    assert "Out of bounds" in html and "expected below 5, observed 9" in html
    # What needs attention comes first: every failure and error before any conformant scenario.
    attention, rest = html.split("<h2>Conformant")
    assert all(name in attention for name in ("Out of bounds", "Unreachable", "Every broken promise reports"))
    assert "Within bounds" in rest and "Within bounds" not in attention
    assert (
        '<p class="headline">4 non-conformant, 1 could not verify, 1 not run, 1 not applicable '
        "and 1 conformant of 8 scenarios" in html
    )
    assert 'name="verdict" value="non-conformant"' in html and 'id="tag"' in html  # the filter


def _only_scenario(run: Any, pytester: pytest.Pytester, name: str, step: str) -> dict[str, Any]:
    """Run a feature of one scenario of one step instead of the usual ones; its record."""
    pytester.makefile(".feature", behaviour=f"Feature: One\n  Scenario: {name}\n    {step}\n")
    _, scenarios = run()
    record: dict[str, Any] = scenarios[name]
    return record


def test_a_step_missing_the_given_that_provides_its_value_is_bad_usage_naming_that_step(
    run: Any, pytester: pytest.Pytester
) -> None:
    """Issue 28: a kill without `Given steady traffic` ended "could not verify: FixtureLookupError"."""
    scenario = _only_scenario(run, pytester, "A kill without traffic", "When one replica of the service is killed")
    assert scenario["verdict"] == "bad usage", scenario
    assert scenario["failed_step"] == "When one replica of the service is killed"
    assert "'Given steady traffic through the gateway' provides (traffic)" in scenario["message"], scenario["message"]


def test_the_scenario_a_stop_cut_short_is_interrupted_in_every_report(pytester: pytest.Pytester) -> None:
    """Issue 28: the scenario running when a run was stopped was reported as passed (0.0 s, no steps)."""
    pytester.makefile(
        ".yaml",
        target=PROFILE.replace('datastores:\n  redis: {url: "redis://:${PLUGIN_TEST_SECRET}@127.0.0.1:1/0"}\n', ""),
    )
    pytester.makeconftest(
        "import os, signal, time\nfrom pytest_bdd import when\n\n"
        "@when('all is well')\ndef _():\n    pass\n\n"
        "@when('the run is stopped')\ndef _():\n    os.kill(os.getpid(), signal.SIGTERM)\n    time.sleep(5)\n"
    )
    pytester.makefile(
        ".feature",
        behaviour=(
            "Feature: Stops\n  Scenario: Before the stop\n    When all is well\n\n"
            "  Scenario: Cut short\n    When the run is stopped\n\n"
            "  Scenario: After the stop\n    When all is well\n"
        ),
    )
    pytester.makepyfile(test_features="from pytest_bdd import scenarios\nscenarios('behaviour.feature')\n")
    result = pytester.runpytest_subprocess("--target", "target.yaml", "--infragate-reports", "out")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = pytester.path / "out"
    evidence = json.loads((out / "evidence.json").read_text())
    verdicts = {scenario["scenario"]: scenario["verdict"] for scenario in evidence["scenarios"]}
    assert verdicts == {"Before the stop": "conformant", "Cut short": "interrupted"}, verdicts
    assert evidence["exit_code"] == 2 and evidence["interrupted"] == "SIGTERM"
    junit = (out / "junit.xml").read_text()
    assert '<error message="interrupted by SIGTERM before it finished: it proves nothing" type="interrupted">' in junit
    cucumber = json.loads((out / "cucumber.json").read_text())
    (cut,) = [element for feature in cucumber for element in feature["elements"] if element["name"] == "Cut short"]
    assert [step["result"]["status"] for step in cut["steps"]] == ["skipped", "failed"]
    assert cut["steps"][-1]["result"]["error_message"].startswith("interrupted: interrupted by SIGTERM")
    allure = [json.loads(path.read_text()) for path in (out / "allure-results").glob("*-result.json")]
    assert {result["name"]: result["status"] for result in allure}["Cut short"] == "broken"
    assert "Nothing failed" not in (out / "report.html").read_text()
    assert "interrupted" in (out / "summary.md").read_text().splitlines()[0]


def test_a_wanted_deep_scan_without_sslyze_is_could_not_verify_naming_it(
    run: Any, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 29: without sslyze the deep scan was "not applicable", and the gate could pass without it."""
    monkeypatch.delenv("INFRAGATE_SSLYZE", raising=False)
    monkeypatch.setenv("PATH", str(pytester.path))  # no sslyze here
    pytester.makefile(".yaml", target=PROFILE + "tls: {versions: [TLSv1.2, TLSv1.3]}\n")
    scenario = _only_scenario(run, pytester, "Deep scan", "When sslyze scans every TLS endpoint")
    assert scenario["verdict"] == "could not verify", scenario
    assert "the deep scan needs sslyze, which is not on the PATH" in scenario["message"]
    assert "tls.deep_scan: false" in scenario["message"]


def test_a_feature_s_not_applicable_scenarios_are_one_line_with_their_reason(
    run: Any, pytester: pytest.Pytester
) -> None:
    """Issue 29: the main job printed 12 "not applicable" lines for Swarm and Kubernetes on a local target."""
    more = "\n  @platform\n  Scenario: Needs a platform too\n    When the value is 2\n    Then the value is below 5\n"
    pytester.makefile(".feature", behaviour=FEATURE.replace("  @destructive\n", more + "\n  @destructive\n"))
    result, scenarios = run("--infragate-progress", "-p", "no:terminal")
    lines = [line for line in result.outlines if line.startswith("  ")]
    assert [line for line in lines if "not applicable" in line] == [
        "  not applicable    Plugin behaviour: 2 scenarios (the target declares no platform (platform.kind: none))"
    ], lines
    assert scenarios["Needs a platform too"]["verdict"] == "not applicable"  # the reports keep each scenario
    assert len(lines) == len(scenarios) - 1
