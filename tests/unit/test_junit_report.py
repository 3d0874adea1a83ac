"""junit.xml as a JUnit consumer (junitparser) reads it: suites are features, cases are scenarios,
and each verdict lands where CI systems look for it, without a Python traceback."""

from __future__ import annotations

from junitparser import Error, Failure, JUnitXml, Skipped

from infragate.reports.junit import render_junit
from infragate.reports.records import RunRecord, ScenarioRecord, StepRecord
from infragate.verdicts import Verdict

RATE = "Gateway rate limiting"


def _scenario(name: str, verdict: Verdict, message: str = "", failed: str | None = None) -> ScenarioRecord:
    steps = [StepRecord("When one client overloads each rate-limited route in turn", "passed", 6.1)]
    if failed:
        check = {"name": "admitted rate", "outcome": "not met", "expected": "100/s", "observed": "160.0/s"}
        steps.append(StepRecord(failed, "failed", 0.001, [check]))
    return ScenarioRecord(
        nodeid=f"test_conformance.py::test_{len(name)}",
        feature=RATE,
        feature_file="gateway/rate_limits.feature",
        scenario=name,
        line=6,
        tags=["gateway", "ratelimit"],
        verdict=verdict,
        failed_step=failed,
        message=message,
        duration_s=6.2,
        steps=steps,
    )


def _read(run: RunRecord) -> JUnitXml:
    return JUnitXml.fromstring(render_junit(run).encode())


def _run(*scenarios: ScenarioRecord, interrupted: str = "") -> RunRecord:
    return RunRecord("shop", "shop.yaml", 0.0, 12.5, list(scenarios), interrupted=interrupted)


def test_a_passing_run_has_one_suite_per_feature_and_no_problem() -> None:
    xml = _read(_run(_scenario("Every route enforces its declared rate limit", Verdict.CONFORMANT)))
    (suite,) = list(xml)
    (case,) = list(suite)
    assert (suite.name, case.classname, case.name) == (RATE, RATE, "Every route enforces its declared rate limit")
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (1, 0, 0, 0) and case.is_passed


def test_a_failing_run_says_the_step_and_what_was_expected_and_observed() -> None:
    message = "expected route api to admit 100/s ± 10%, observed 160.0/s"
    failing = _scenario("Every route", Verdict.NON_CONFORMANT, message, "Then each route admits its declared rate")
    unreachable = _scenario("Isolation", Verdict.COULD_NOT_VERIFY, "route api: 12 of 450 requests got no answer")
    xml = _read(_run(failing, unreachable))
    cases = {case.name: case for suite in xml for case in suite}
    (failure,) = cases["Every route"].result
    assert isinstance(failure, Failure) and failure.message == message and failure.type == "non-conformant"
    assert failure.text == f"Then each route admits its declared rate\n{message}"
    assert "Traceback" not in render_junit(_run(failing)) and "assert " not in (failure.text or "")
    assert "not met: admitted rate: expected 100/s; observed 160.0/s" in (cases["Every route"].system_out or "")
    (error,) = cases["Isolation"].result
    assert isinstance(error, Error) and error.type == "could not verify"
    assert (xml.failures, xml.errors) == (1, 1)


def test_not_applicable_and_not_run_are_skipped_with_their_own_reasons() -> None:
    xml = _read(
        _run(
            _scenario("Kill", Verdict.NOT_APPLICABLE, "not applicable: the target has no platform adapter"),
            _scenario("Load", Verdict.NOT_RUN, "not run: @load needs --allow-load"),
        )
    )
    reasons = {case.name: case.result[0] for suite in xml for case in suite}
    assert all(isinstance(result, Skipped) for result in reasons.values())
    assert reasons["Kill"].message.startswith("not applicable: ") and reasons["Load"].message.startswith("not run: ")
    assert xml.skipped == 2


def test_an_interrupted_run_is_never_green() -> None:
    xml = _read(_run(_scenario("Every route", Verdict.CONFORMANT), interrupted="SIGTERM"))
    run_suite = next(suite for suite in xml if suite.name == "infragate run")
    (case,) = list(run_suite)
    (error,) = case.result
    assert isinstance(error, Error) and error.type == "interrupted" and "SIGTERM" in (error.message or "")
    assert (xml.tests, xml.errors) == (2, 1)
