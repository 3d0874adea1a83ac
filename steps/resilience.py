"""Steps that disrupt the target: kill, scale, rolling restart; each journalled and undone at teardown."""

from __future__ import annotations

from pytest_bdd import given, then, when

from infragate.bdd import Background, Evidence, expect_no_problems, not_applicable
from infragate.errors import ProbeError
from infragate.platforms import Platform
from infragate.probes.disruption import (
    KillResult,
    RollingRestartResult,
    ScaleResult,
    TrafficReport,
    kill_one,
    report_traffic,
    resilience_of,
    rolling_restart,
    scale_to,
    steady_traffic,
)
from infragate.probes.http import GatewayClient
from infragate.probes.spread import survey_spread
from infragate.probes.traffic import BackgroundTraffic
from infragate.profile import Profile
from infragate.profile.model import Resilience
from infragate.recovery.journal import Journal


def _resilience(profile: Profile) -> Resilience:
    return profile.resilience or not_applicable("the profile declares no resilience section")


@given("steady traffic through the gateway", target_fixture="traffic")
def _(profile: Profile, background: Background) -> BackgroundTraffic:
    _resilience(profile)
    return background.start(steady_traffic(profile))


@given("the service runs scaled out", target_fixture="scaled_out")
def _(platform: Platform, journal: Journal, profile: Profile, evidence: Evidence) -> ScaleResult:
    result = evidence.record(scale_to(platform, journal, profile, _resilience(profile).scale_out_to))
    ready = result.ready_check()
    if not ready.met:  # a precondition, not the promise under test: the scenario cannot go on
        raise ProbeError(f"could not bring the service to its scaled-out size first: {ready.problem}")
    return result


@when("one replica of the service is killed", target_fixture="kill")
def _(
    platform: Platform, journal: Journal, profile: Profile, traffic: BackgroundTraffic, evidence: Evidence
) -> KillResult:
    return evidence.record(kill_one(platform, journal, profile, traffic))


@when("the service is scaled out", target_fixture="scaling")
def _(platform: Platform, journal: Journal, profile: Profile, evidence: Evidence) -> ScaleResult:
    return evidence.record(scale_to(platform, journal, profile, _resilience(profile).scale_out_to))


@when("the service is scaled back to its declared replicas", target_fixture="scaling")
def _(
    platform: Platform, journal: Journal, profile: Profile, traffic: BackgroundTraffic, evidence: Evidence
) -> ScaleResult:
    service = resilience_of(profile).service
    # The traffic's judged window spans the scale-in and a second after it, however fast the platform is.
    traffic.mark("fault")
    result = scale_to(platform, journal, profile, profile.services[service].replicas.min)
    traffic.mark("recovered")
    return evidence.record(result)


@when("every replica of the service is restarted one after another", target_fixture="restart")
def _(platform: Platform, journal: Journal, profile: Profile, evidence: Evidence) -> RollingRestartResult:
    return evidence.record(rolling_restart(platform, journal, profile))


@then("the killed replica is replaced by a new one")
def _(kill: KillResult) -> None:
    expect_no_problems(kill.replaced_check())


@then("the share of failed requests stays within the failover budget")
def _(traffic: BackgroundTraffic, profile: Profile, evidence: Evidence) -> None:
    resilience = resilience_of(profile)
    report: TrafficReport = evidence.record(report_traffic(traffic))
    expect_no_problems(report.budget_check(resilience.error_budget))


@then("the service is back at its declared replicas within the recovery time")
def _(kill: KillResult) -> None:
    expect_no_problems(kill.recovery_check())


@then("the new replicas are ready within the scaling time")
def _(scaling: ScaleResult) -> None:
    expect_no_problems(scaling.ready_check())


@then("a paced stream of requests through the gateway reaches every replica")
def _(gateway: GatewayClient, platform: Platform, profile: Profile, evidence: Evidence) -> None:
    survey = evidence.record(survey_spread(gateway, platform, profile))
    expect_no_problems(survey.check())


@then("no request fails")
def _(traffic: BackgroundTraffic, evidence: Evidence) -> None:
    report: TrafficReport = evidence.record(report_traffic(traffic))
    expect_no_problems(report.none_failed_check())


@then("every replica was replaced")
def _(restart: RollingRestartResult) -> None:
    expect_no_problems(restart.replaced_check())
