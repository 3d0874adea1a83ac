"""Steps of the load features: the declared load offered once a run, then each objective checked."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from pytest_bdd import given, then

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable, progress
from infragate.errors import ProbeError
from infragate.loadgen.plan import LoadPlan
from infragate.loadgen.result import LoadResult, Second
from infragate.loadgen.runner import progress_line
from infragate.probes.load import offer_load, plan_for
from infragate.profile import Profile
from infragate.profile.model import LoadObjectives
from infragate.safety import Consent
from infragate.verdicts import Check

# One measurement a run: every objective scenario reads the same load run of the same plan.
_RESULTS = pytest.StashKey[dict[str, LoadResult | ProbeError]]()


def _objectives(profile: Profile) -> LoadObjectives:
    load = profile.load or not_applicable("the profile declares no load section")
    return load.objectives


def _folder(config: pytest.Config) -> Path:
    reports = config.getoption("--infragate-reports")
    return Path(reports) / "load" if reports else Path(tempfile.mkdtemp(prefix="infragate-load-"))


PROGRESS_EVERY_S = 5


@given("the declared load has been offered through the gateway", target_fixture="load_result")
def _(profile: Profile, pytestconfig: pytest.Config, consent: Consent, evidence: Evidence) -> LoadResult:
    _objectives(profile)
    plan = plan_for(profile)
    results = pytestconfig.stash.setdefault(_RESULTS, {})
    if plan.to_json() not in results:

        def show(row: Second, plan: LoadPlan) -> None:
            # Among the scenarios' lines, one every few seconds (`infragate load` shows every second).
            if row.second % PROGRESS_EVERY_S == 0 or row.second >= plan.duration_s:
                progress(pytestconfig, progress_line(row, plan))

        try:
            results[plan.to_json()] = offer_load(profile, plan, _folder(pytestconfig), consent, show)
        except ProbeError as error:  # the next scenarios would fail the same way: do not offer it again
            results[plan.to_json()] = error
    outcome = results[plan.to_json()]
    if isinstance(outcome, ProbeError):
        raise outcome
    result = evidence.record(outcome)
    problem = result.self_check_problem()
    if problem is not None:
        raise ProbeError(problem)
    return result


def _latency(load_result: LoadResult, profile: Profile, evidence: Evidence, percentile: int) -> None:
    """Judge one latency percentile when declared; when only the other one is, say so and judge that."""
    objectives = _objectives(profile)
    bound = objectives.p95 if percentile == 95 else objectives.p99
    if bound is None:
        if objectives.p95 is None and objectives.p99 is None:
            not_applicable("the profile declares no latency objective (p95 or p99)")
        evidence.record(
            Check.not_judged(f"p{percentile}", "no bound", f"the profile declares no p{percentile} objective")
        )
        return
    expect_no_problems(evidence.record(load_result.latency_check(percentile, bound)))


@then("the p95 latency is below the declared bound")
@needs("load.objectives.p95 or p99")
def _(load_result: LoadResult, profile: Profile, evidence: Evidence) -> None:
    _latency(load_result, profile, evidence, 95)


@then("the p99 latency is below the declared bound")
@needs("load.objectives.p95 or p99")
def _(load_result: LoadResult, profile: Profile, evidence: Evidence) -> None:
    _latency(load_result, profile, evidence, 99)


@then("the throughput is at least the declared rate")
@needs("load.objectives.throughput")
def _(load_result: LoadResult, profile: Profile) -> None:
    required = _objectives(profile).throughput or not_applicable("the profile declares no throughput objective")
    expect_no_problems(load_result.throughput_check(required.per_second))


@then("the error rate is below the declared bound")
def _(load_result: LoadResult, profile: Profile) -> None:
    expect_no_problems(load_result.error_check(_objectives(profile).error_rate))


@then("the share of throttled requests stays within the declared bound")
def _(load_result: LoadResult, profile: Profile) -> None:
    expect_no_problems(load_result.throttled_check(_objectives(profile).throttled))
