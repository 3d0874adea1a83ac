"""Steps about rate limits at the gateway."""

from __future__ import annotations

from pytest_bdd import then, when

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.probes.ratelimit.batches import survey_limits
from infragate.probes.ratelimit.findings import IsolationResult, RateLimitResult
from infragate.probes.ratelimit.isolation import client_isolation, route_isolation, second_client_source
from infragate.probes.ratelimit.measure import rate_limited_routes
from infragate.probes.survey import Survey
from infragate.profile import Profile


@when("one client overloads each rate-limited route in turn", target_fixture="limits")
def _(profile: Profile, evidence: Evidence) -> Survey[RateLimitResult]:
    routes = rate_limited_routes(profile) or not_applicable("no route declares a rate limit")
    return evidence.record(survey_limits(profile, routes))


@then("each route admits its declared rate")
def _(limits: Survey[RateLimitResult]) -> None:
    expect_no_problems(limits.check(RateLimitResult.rate_check))


@then("each route admits its declared burst")
def _(limits: Survey[RateLimitResult]) -> None:
    expect_no_problems(limits.check(RateLimitResult.burst_check))


@then("each route rejects the excess with the declared status")
def _(limits: Survey[RateLimitResult]) -> None:
    expect_no_problems(limits.check(RateLimitResult.status_check))


@then("each route recovers once the overload stops")
def _(limits: Survey[RateLimitResult]) -> None:
    expect_no_problems(limits.check(RateLimitResult.recovery_check))


@when(
    "one client overloads every rate-limited route while another client calls each calmly", target_fixture="isolation"
)
@needs("gateway.second_client_source, unless the gateway is on loopback")
def _(profile: Profile, evidence: Evidence) -> Survey[IsolationResult]:
    routes = rate_limited_routes(profile) or not_applicable("no route declares a rate limit")
    source = second_client_source(profile) or not_applicable(
        "the gateway is not on loopback and gateway.second_client_source is not declared"
    )
    return evidence.record(client_isolation(profile, routes, source))


@when(
    "one client overloads each rate-limited route in turn while calling the others calmly", target_fixture="isolation"
)
@needs("a rate_limit on two or more gateway.routes")
def _(profile: Profile, evidence: Evidence) -> Survey[IsolationResult]:
    routes = rate_limited_routes(profile)
    if len(routes) < 2:
        not_applicable("fewer than two routes declare a rate limit")
    return evidence.record(route_isolation(profile, routes))


@then("the overloading client is throttled")
def _(isolation: Survey[IsolationResult]) -> None:
    expect_no_problems(isolation.check(IsolationResult.overload_check))


@then("the other client is never throttled")
@then("the other route is never throttled")
def _(isolation: Survey[IsolationResult]) -> None:
    expect_no_problems(isolation.check(IsolationResult.bystander_check))
