"""Recording what each scenario established: its steps, its verdict and its evidence.

A pytest plugin of its own (the infragate plugin loads it): the run's record lives in the config's
stash, each scenario's in its item's. A phase's outcome becomes a verdict here, and only here: an
assertion is non-conformant, a probe error could not verify, a safety refusal is refused, a skip is
not applicable or not run.
"""

from __future__ import annotations

import contextlib
import os
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
from infragate.verdicts import NOT_APPLICABLE_PREFIX, NOT_RUN_PREFIX, Check, Outcome, Verdict
from infragate.waivers.apply import WAIVERS_ENV, shown_verdict

RUN = pytest.StashKey[RunRecord]()
RECORD = pytest.StashKey[ScenarioRecord]()
_STEP_STARTED = pytest.StashKey[float]()
_STEP_ERRORED = pytest.StashKey[bool]()
_BROKEN = pytest.StashKey[list[tuple[str, str]]]()  # Then steps whose promise was not met, and what they found
_FINISHED = pytest.StashKey[set[str]]()  # the scenarios whose every phase was reported
_HELD_LINES = pytest.StashKey[list[tuple[str, str, str]]]()  # not-applicable lines to fold: feature, reason, line


class _RunningStep:
    """The step running now (a pytest process runs one at a time): whether it is a Then, what it judged."""

    def __init__(self) -> None:
        self.then = False
        self.judged: list[tuple[Check, str]] = []


_RUNNING = _RunningStep()


def note_check(check: Check, message: str) -> bool:
    """Keep a promise the running step judged for its record (expected, observed, outcome).

    True when the step goes on although the promise was not met: a Then step. The scenario then
    fails after its last step, so that every Then step reports, not only the first that fails.
    """
    _RUNNING.judged.append((check, message))
    return _RUNNING.then and check.outcome is Outcome.NOT_MET


def broken_promises(broken: list[tuple[str, str]]) -> str:
    """One message for the Then steps that found problems: the first one's, then each other's by step."""
    (_, first), *rest = broken
    return first + "".join(f" | {step}: {found}" for step, found in rest)


def record_for(item: pytest.Item, feature: Feature | None = None, scenario: Scenario | None = None) -> ScenarioRecord:
    """The scenario's record, made on first use; named after the Gherkin once pytest-bdd says what it runs."""
    if RECORD not in item.stash:
        record = ScenarioRecord(
            nodeid=item.nodeid,
            feature="",
            feature_file=str(item.path),
            scenario=item.name,
            line=0,
            tags=[],
            started_at=time.time(),
        )
        item.stash[RECORD] = record
        item.config.stash[RUN].scenarios.append(record)
    record = item.stash[RECORD]
    if feature is not None and scenario is not None:
        record.feature, record.feature_file = feature.name, feature.rel_filename
        record.scenario, record.line = scenario.name, scenario.line_number
        record.tags = sorted(scenario.tags | feature.tags)
        record.feature_line = feature.line_number
        record.planned = [
            {"keyword": step.keyword, "name": step.name, "line": step.line_number} for step in scenario.steps
        ]
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
    _RUNNING.then, _RUNNING.judged = step.type == "then", []


def _finish_step(request: pytest.FixtureRequest, step: Step, outcome: str) -> StepRecord:
    started = request.node.stash.get(_STEP_STARTED, time.perf_counter())
    then, judged = _RUNNING.then, _RUNNING.judged
    _RUNNING.then, _RUNNING.judged = False, []
    checks = [
        {
            "name": c.name,
            "outcome": c.outcome.value,
            "expected": REDACTOR.redact(c.expected),
            "observed": REDACTOR.redact(c.observed),
        }
        for check, _ in judged
        for c in check.leaves()  # each target's promise: the reports list only those not met as broken
    ]
    scenario = record_for(request.node)
    broken = [message for check, message in judged if check.outcome is Outcome.NOT_MET]
    if then and broken:  # the step went on: the scenario fails at its end
        outcome = "failed"
        request.node.stash.setdefault(_BROKEN, []).append((_step_text(step), "; ".join(broken)))
        scenario.failed_step = scenario.failed_step or _step_text(step)
    record = StepRecord(_step_text(step), outcome, time.perf_counter() - started, checks)
    scenario.steps.append(record)
    return record


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_step(request: pytest.FixtureRequest, step: Step) -> None:
    """Record a step that returned: passed, or failed when it found problems and went on (a Then)."""
    if _finish_step(request, step, "passed").outcome == "failed":
        _cucumber_step_failed(request.node)


def _cucumber_step_failed(item: pytest.Item) -> None:
    """pytest-bdd's cucumber.json took a step that returned as passed: mark it failed (best effort)."""
    with contextlib.suppress(ImportError, KeyError, IndexError, AttributeError):
        from pytest_bdd.reporting import scenario_reports_registry

        scenario_reports_registry[item].current_step_report.failed = True


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Step, exception: Exception) -> None:
    """Record the step a scenario failed on."""
    _finish_step(request, step, "failed")
    request.node.stash[_STEP_ERRORED] = True
    record = record_for(request.node)
    record.failed_step = record.failed_step or _step_text(step)


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_scenario(request: pytest.FixtureRequest) -> None:
    """Fail a scenario whose Then steps found problems once all of them have reported."""
    broken = request.node.stash.get(_BROKEN, [])
    if broken and not request.node.stash.get(_STEP_ERRORED, False):
        raise AssertionError(broken_promises(broken))


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Feature, step: Step, exception: Exception
) -> None:
    """A step no definition matches is a broken feature: name the file and line."""
    request.node.stash[_STEP_ERRORED] = True
    record = record_for(request.node)
    record.steps.append(StepRecord(_step_text(step), "undefined", 0.0))
    record.failed_step = _step_text(step)


def _missing_value(name: str | None) -> str:
    """Why a step could not get a value an earlier step makes (``traffic``): the step the scenario lacks."""
    from pytest_bdd.steps import step_function_context_registry

    providers = sorted(
        f"{context.type.capitalize()} {context.parser.name}"
        for context in list(step_function_context_registry.values())
        if name and context.target_fixture == name and context.type
    )
    if not providers:
        return f"the step needs '{name}', which no step of this scenario and no fixture provides"
    return f"the step needs what '{providers[0]}' provides ({name}), and the scenario has no such step before it" + (
        f" (or: {'; '.join(providers[1:])})" if len(providers) > 1 else ""
    )


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
    if isinstance(exception, pytest.FixtureLookupError):
        return Verdict.BAD_USAGE, _missing_value(exception.argname)
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
        if report.when == "call" and (broken := item.stash.get(_BROKEN, [])):  # then a later step raised
            record.settle(Verdict.NON_CONFORMANT, broken_promises(broken))
        if report.when == "teardown" and verdict is Verdict.COULD_NOT_VERIFY:
            record.message = REDACTOR.redact(f"cleanup failed: {message}")
    report.user_properties.append(("verdict", record.verdict.value))
    if report.when == "teardown":
        item.config.stash.setdefault(_FINISHED, set()).add(item.nodeid)
        shown = shown_verdict(os.environ.get(WAIVERS_ENV, ""), record).value
        line = f"  {shown:<16}  {record.feature}: {record.scenario} ({record.duration_s:.1f} s)"
        held = item.config.stash.setdefault(_HELD_LINES, [])
        if record.verdict is Verdict.NOT_APPLICABLE:  # folded with the feature's others of the same reason
            if held and (held[0][0], held[0][1]) != (record.feature, record.message):
                flush_progress(item.config)
            held.append((record.feature, record.message, line))
            return
        flush_progress(item.config)
        progress(item.config, line)


def flush_progress(config: pytest.Config) -> None:
    """Print the held not-applicable lines: one line for a feature's scenarios that share a reason."""
    held = config.stash.get(_HELD_LINES, [])
    if len(held) == 1:
        progress(config, held[0][2])
    elif held:
        feature, reason, _ = held[0]
        why = reason.removeprefix(NOT_APPLICABLE_PREFIX)
        progress(config, f"  {Verdict.NOT_APPLICABLE.value:<16}  {feature}: {len(held)} scenarios ({why})")
    held.clear()


def interrupt_unfinished(config: pytest.Config, reason: str) -> None:
    """Every scenario a stop cut short (its phases not all reported: it may have passed no step, or
    every step and not its clean-up) is interrupted, never conformant: it proves nothing."""
    finished = config.stash.get(_FINISHED, set())
    for record in config.stash[RUN].scenarios:
        if record.nodeid not in finished:
            record.settle(Verdict.INTERRUPTED, f"interrupted by {reason} before it finished: it proves nothing")


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
