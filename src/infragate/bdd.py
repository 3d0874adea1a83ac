"""What teams writing their own steps use: keep evidence, fail with the problems found, say a scenario
does not apply, print progress, run background traffic that ends with the scenario.

    from pytest_bdd import then
    from infragate.bdd import Check, Evidence, expect_no_problems, not_applicable

    @then("the status page answers")
    def _(gateway: GatewayClient, evidence: Evidence) -> None:
        answer = evidence.record(gateway.request("GET", "/status"))
        expect_no_problems(Check.compare("status page", "status 200", f"{answer.status}", answer.status == 200))

A ``Check`` keeps what was expected and what was observed; the reports show both beside the step.

The fixtures (``profile``, ``platform``, ``gateway``, ``journal``, ``consent``, ``evidence``,
``background``) come from the infragate pytest plugin, registered by installing infragate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

from infragate.plugin.recording import note_check, progress
from infragate.probes.traffic import BackgroundTraffic
from infragate.reports import ScenarioRecord, evidence_of
from infragate.verdicts import NOT_APPLICABLE_PREFIX, Check, Outcome

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Evidence:
    """Collects probe results of one scenario for the reports."""

    def __init__(self, record: ScenarioRecord | None) -> None:
        self._record = record

    @property
    def feature_file(self) -> str:
        """The feature file of the scenario the evidence is for ("" outside a recorded run)."""
        return self._record.feature_file if self._record is not None else ""

    def record(self, result: T) -> T:
        """Keep a probe result as evidence and hand it back."""
        if self._record is not None:
            self._record.evidence.append(evidence_of(result))
        return result


class Background:
    """Background traffic started by a scenario; stopped at teardown if a step did not stop it."""

    def __init__(self) -> None:
        self._running: list[BackgroundTraffic] = []

    def start(self, traffic: BackgroundTraffic) -> BackgroundTraffic:
        """Start traffic and keep it for teardown."""
        self._running.append(traffic.start())
        return traffic

    def stop_all(self) -> None:
        """Stop every traffic this scenario started."""
        for traffic in self._running:
            traffic.stop()


def expect_no_problems(problems: Check | str | list[str] | None, most: int = 5) -> None:
    """Fail with the problems found ("expected X, observed Y"), if any: the target is non-conformant.

    A Check fails when it is NOT_MET; a NOT_JUDGED check does not (the reports say why it was not
    judged). The step's record keeps what it was given: expected, observed and the outcome, shown
    beside the step in the reports. In a Then step the failure waits for the scenario's end: the
    step is marked failed and the scenario's other Then steps still run and report, so that one
    broken promise does not hide the next. Anywhere else it raises at once.
    """
    __tracebackhide__ = True
    if isinstance(problems, Check):
        check = problems
    else:
        found = [problems] if isinstance(problems, str) else list(problems or [])
        check = Check.judged("problems", "no problem", "; ".join(found) or "none", found)
    shown = list(check.problems)
    more = f" (and {len(shown) - most} more)" if len(shown) > most else ""
    message = "; ".join(shown[:most]) + more or f"expected {check.expected}, observed {check.observed}"
    if note_check(check, message) or check.outcome is not Outcome.NOT_MET:
        return
    raise AssertionError(message)


_NEEDS = "_infragate_needs"


def needs(*keys: str) -> Callable[[F], F]:
    """Name what a step needs from the profile (or the machine) beyond its scenario's tags, for
    ``infragate features`` to list; the step still ends its scenario as not applicable without it."""

    def mark(function: F) -> F:
        setattr(function, _NEEDS, keys)
        return function

    return mark


def needs_of(function: Callable[..., Any]) -> tuple[str, ...]:
    """What a step function said it needs (``needs``), or nothing."""
    return tuple(getattr(function, _NEEDS, ()))


def not_applicable(reason: str) -> NoReturn:
    """End the scenario as not applicable to this target, with the reason (from a step)."""
    pytest.skip(f"{NOT_APPLICABLE_PREFIX}{reason}")


__all__ = ["Background", "Check", "Evidence", "expect_no_problems", "needs", "not_applicable", "progress"]
