"""Steps about monitoring: what Prometheus and Alertmanager report, and alert drills."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from pytest_bdd import given, then, when

from infragate.bdd import Check, Evidence, expect_no_problems, needs, not_applicable, progress
from infragate.platforms import Platform
from infragate.probes.http import GatewayClient
from infragate.probes.monitoring import judgements as checks
from infragate.probes.monitoring.counting import CountResult, count_requests
from infragate.probes.monitoring.drill import DrillResult, run_drill
from infragate.probes.monitoring.prometheus_api import MonitoringApi, Rule, Sample, Target
from infragate.profile import Profile
from infragate.profile.monitoring_promises import Monitoring
from infragate.recovery.journal import Journal


def _declared(profile: Profile) -> Monitoring:
    if profile.monitoring is None:
        not_applicable("the profile declares no monitoring section")
    return profile.monitoring


@dataclass(frozen=True)
class MonitoringState:
    """What Prometheus and Alertmanager reported, read once for a scenario."""

    targets: tuple[Target, ...]
    reached: dict[str, tuple[Sample, ...]]
    rules: tuple[Rule, ...]
    exposed: frozenset[str]
    alertmanagers: tuple[str, ...]
    prometheus_config: Any
    alertmanager: tuple[bool, str, Any] | None


@given("the monitoring stack is read through its APIs", target_fixture="monitored")
@needs("monitoring")
def _(profile: Profile, evidence: Evidence) -> MonitoringState:
    monitoring = _declared(profile)
    api = MonitoringApi(monitoring)
    reached = {
        job: api.query(f'{promise.reaches}{{job="{job}"}}')
        for job, promise in monitoring.targets.items()
        if promise.reaches is not None
    }
    state = MonitoringState(
        api.targets(),
        reached,
        api.rules(),
        api.metric_names(),
        api.alertmanagers(),
        api.prometheus_config(),
        api.alertmanager_status() if monitoring.alertmanager is not None else None,
    )
    evidence.record(state.targets)
    return state


@then("every declared scrape job has its targets up and scraped recently")
def _(profile: Profile, monitored: MonitoringState) -> None:
    expect_no_problems(checks.targets_check(_declared(profile), monitored.targets))


@then("every exporter reaches what it watches")
def _(profile: Profile, monitored: MonitoringState) -> None:
    expect_no_problems(checks.reaches_check(_declared(profile), monitored.reached))


@then("every declared alert rule is loaded, healthy and labelled as declared")
def _(profile: Profile, monitored: MonitoringState) -> None:
    expect_no_problems(checks.rules_check(_declared(profile), monitored.rules))


@then("no alert rule reads a metric that no target exposes")
def _(monitored: MonitoringState) -> None:
    expect_no_problems(checks.rule_metrics_check(monitored.rules, monitored.exposed))


@then("Alertmanager is ready and Prometheus sends alerts to it")
def _(profile: Profile, monitored: MonitoringState) -> None:
    if monitored.alertmanager is None:
        expect_no_problems(Check.not_judged("alertmanager", "an Alertmanager", "no monitoring.alertmanager declared"))
        return
    ready, cluster, config = monitored.alertmanager
    expect_no_problems(checks.alertmanager_check(_declared(profile), ready, cluster, config, monitored.alertmanagers))


@then("every declared route reaches its receiver")
def _(profile: Profile, monitored: MonitoringState) -> None:
    config = monitored.alertmanager[2] if monitored.alertmanager is not None else {}
    expect_no_problems(checks.routes_check(_declared(profile), config))


@then("every declared alert can be notified within the declared time")
def _(profile: Profile, monitored: MonitoringState, evidence: Evidence) -> None:
    config = monitored.alertmanager[2] if monitored.alertmanager is not None else None
    found = evidence.record(checks.timings(monitored.rules, monitored.prometheus_config, config))
    expect_no_problems(checks.timing_check(_declared(profile), found))


@when("requests are sent through the gateway while their counter is watched", target_fixture="counted")
@needs("monitoring.counts")
def _(profile: Profile, gateway: GatewayClient, evidence: Evidence) -> CountResult:
    monitoring = _declared(profile)
    if monitoring.counts is None:
        not_applicable("the profile declares no monitoring.counts")
    return evidence.record(count_requests(MonitoringApi(monitoring), gateway, profile, monitoring.counts))


@then("the counter grew by the requests sent")
def _(counted: CountResult) -> None:
    expect_no_problems(counted.agrees_check())


@when("every declared alert drill stops its component and starts it again", target_fixture="drills")
@needs("monitoring.drills")
def _(
    platform: Platform, journal: Journal, profile: Profile, evidence: Evidence, pytestconfig: pytest.Config
) -> tuple[DrillResult, ...]:
    monitoring = _declared(profile)
    if not monitoring.drills:
        not_applicable("the profile declares no monitoring.drills")
    say = partial(progress, pytestconfig)
    return tuple(evidence.record(run_drill(platform, journal, monitoring, d, say)) for d in monitoring.drills)


@then("every drilled alert reached its receiver within the declared time")
def _(drills: tuple[DrillResult, ...]) -> None:
    expect_no_problems(Check.combine(drill.notified_check() for drill in drills))


@then("every drilled alert resolved once its component ran again")
def _(drills: tuple[DrillResult, ...]) -> None:
    expect_no_problems(Check.combine(drill.resolved_check() for drill in drills))
