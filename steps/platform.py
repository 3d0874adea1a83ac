"""Steps about the services' replicas, as the platform runs them."""

from __future__ import annotations

from pytest_bdd import then, when

from infragate.bdd import Evidence, expect_no_problems
from infragate.platforms import Platform
from infragate.probes.http import GatewayClient
from infragate.probes.replicas import ReplicaCensus, take_census
from infragate.probes.spread import SpreadSurvey, survey_spread
from infragate.profile import Profile


@when("the replicas of every declared service are listed", target_fixture="census")
def _(platform: Platform, profile: Profile, evidence: Evidence) -> ReplicaCensus:
    return evidence.record(take_census(platform, profile))


@then("every service runs within its declared replica count")
def _(census: ReplicaCensus) -> None:
    expect_no_problems(census.count_check())


@then("every replica reports healthy")
def _(census: ReplicaCensus) -> None:
    expect_no_problems(census.health_check())


@when("a client sends a paced stream of requests to every service's route", target_fixture="spread")
def _(gateway: GatewayClient, platform: Platform, profile: Profile, evidence: Evidence) -> SpreadSurvey:
    return evidence.record(survey_spread(gateway, platform, profile))


@then("every replica of every service answered some of them")
def _(spread: SpreadSurvey) -> None:
    expect_no_problems(spread.check())
