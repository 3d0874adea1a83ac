"""Recording what each scenario established: its steps, its verdict and its evidence.

A pytest plugin of its own (the infragate plugin loads it): the run's record lives in the config's
stash, each scenario's in its item's. A phase's outcome becomes a verdict here, and only here: an
assertion is non-conformant, a probe error could not verify, a safety refusal is refused, a skip is
not applicable or not run.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest
from pytest_bdd.exceptions import StepDefinitionNotFoundError
from pytest_bdd.parser import Feature, Scenario, Step

from infragate.errors import InfragateError, SafetyError, UsageError
from infragate.profile.secrets import REDACTOR
from infragate.reports import RunRecord, ScenarioRecord, StepRecord
from infragate.verdicts import NOT_APPLICABLE_PREFIX, NOT_RUN_PREFIX, Verdict

RUN = pytest.StashKey[RunRecord]()
RECORD = pytest.StashKey[ScenarioRecord]()
_STEP_STARTED = pytest.StashKey[float]()


def record_for(item: pytest.Item, feature: Feature | None = None, scenario: Scenario | None = None) -> ScenarioRecord:
    """The scenario's record, made on first use; named after the Gherkin once pytest-bdd says what it runs."""
    if RECORD not in item.stash:
        record = ScenarioRecord(
            nodeid=item.nodeid, feature="", feature_file=str(item.path), scenario=item.name, line=0, tags=[]
        )
        item.stash[RECORD] = record
        item.config.stash[RUN].scenarios.append(record)
    record = item.stash[RECORD]
    if feature is not None and scenario is not None:
        record.feature, record.feature_file = feature.name, feature.rel_filename
        record.scenario, record.line = scenario.name, scenario.line_number
        record.tags = sorted(scenario.tags | feature.tags)
    return record


def progress(config: pytest.Config, line: str) -> None:
    """Print a progress line past pytest's output capture (with --infragate-progress)."""
    if not config.getoption("--infragate-progress"):
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _step_text(step: Step) -> str:
    return f"{step.keyword} {step.name}".strip()


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Step) -> None:
    """Note when a step starts."""
    request.node.stash[_STEP_STARTED] = time.perf_counter()


def _finish_step(request: pytest.FixtureRequest, step: Step, outcome: str) -> StepRecord:
    started = request.node.stash.get(_STEP_STARTED, time.perf_counter())
    record = StepRecord(_step_text(step), outcome, time.perf_counter() - started)
    record_for(request.node).steps.append(record)
    return record


def pytest_bdd_after_step(request: pytest.FixtureRequest, step: Step) -> None:
    """Record a step that passed."""
    _finish_step(request, step, "passed")


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Step, exception: Exception) -> None:
    """Record the step a scenario failed on."""
    _finish_step(request, step, "failed")
    record_for(request.node).failed_step = _step_text(step)


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Feature, step: Step, exception: Exception
) -> None:
    """A step no definition matches is a broken feature: name the file and line."""
    record = record_for(request.node)
    record.steps.append(StepRecord(_step_text(step), "undefined", 0.0))
    record.failed_step = _step_text(step)


def classify(report: pytest.TestReport, exception: BaseException | None) -> tuple[Verdict, str]:
    """The verdict of one phase of a scenario, and its message."""
    if report.passed:
        return Verdict.CONFORMANT, ""
    if report.skipped:
        reason = str(exception) if exception is not None else str(report.longrepr)
        if isinstance(report.longrepr, tuple):
            reason = report.longrepr[2]
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(NOT_APPLICABLE_PREFIX):
            return Verdict.NOT_APPLICABLE, reason
        return Verdict.NOT_RUN, reason if reason.startswith(NOT_RUN_PREFIX) else f"{NOT_RUN_PREFIX}{reason}"
    if isinstance(exception, AssertionError):
        return Verdict.NON_CONFORMANT, str(exception).split("\nassert ")[0]
    if isinstance(exception, SafetyError):
        return Verdict.REFUSED, str(exception)
    if isinstance(exception, StepDefinitionNotFoundError):
        return Verdict.BAD_USAGE, str(exception)
    if isinstance(exception, InfragateError):
        verdict = Verdict.BAD_USAGE if isinstance(exception, UsageError) else Verdict.COULD_NOT_VERIFY
        return verdict, str(exception)
    return Verdict.COULD_NOT_VERIFY, f"{type(exception).__name__}: {exception}" if exception else "error"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Give every phase of a scenario a verdict; keep the gravest."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if RUN not in item.config.stash:
        return
    record = record_for(item)
    record.duration_s += report.duration
    if not (report.passed and report.when != "call"):
        exception = call.excinfo.value if call.excinfo is not None else None
        verdict, message = classify(report, exception)
        record.settle(verdict, message)
        if report.when == "teardown" and verdict is Verdict.COULD_NOT_VERIFY:
            record.message = REDACTOR.redact(f"cleanup failed: {message}")
    report.user_properties.append(("verdict", record.verdict.value))
    if report.when == "teardown":
        mark = record.verdict.mark
        progress(item.config, f"  {mark:<5}  {record.feature}: {record.scenario} ({record.duration_s:.1f} s)")


class CollectionWatch:
    """Records collection errors: a feature that does not parse, or a tag that is not registered."""

    def __init__(self, run: RunRecord, tags: tuple[str, ...]) -> None:
        self._run = run
        self._tags = tags

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Keep the last meaningful line of each collection error."""
        if report.failed:
            lines = [line.strip().removeprefix("E").strip() for line in str(report.longrepr).splitlines()]
            reason = next((line for line in reversed(lines) if line), "collection failed")
            tag = re.match(r"'([^']+)' not found in `markers` configuration option", reason)
            if tag:
                reason = (
                    f"a feature uses the unknown tag @{tag.group(1)} (infragate's tags: "
                    f"{', '.join(sorted(self._tags))}; register others as pytest markers)"
                )
            self._run.collection_errors.append(REDACTOR.redact(f"{report.nodeid or 'collection'}: {reason}"))
