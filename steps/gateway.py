"""Steps about the gateway as a whole."""

from __future__ import annotations

from pytest_bdd import then, when

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.probes.cors import CorsResult, PreflightResult, probe_origins, probe_preflight
from infragate.probes.fuzz import FuzzResult, send_odd_requests
from infragate.probes.headers import (
    CompressionResult,
    RouteExchanges,
    call_every_route,
    disclosure_check,
    header_check,
    probe_compression,
)
from infragate.probes.health import HealthResult, probe_health
from infragate.probes.http import GatewayClient
from infragate.probes.websocket import WebSocketResult, probe_websocket
from infragate.profile import Profile


@when("a client asks the gateway for its health", target_fixture="health")
def _(gateway: GatewayClient, evidence: Evidence) -> HealthResult:
    return evidence.record(probe_health(gateway))


@then("the gateway answers with the declared health status")
def _(health: HealthResult) -> None:
    expect_no_problems(health.status_check())


@when("a client calls every declared route", target_fixture="answers")
@needs("gateway.security_headers")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> RouteExchanges:
    if not profile.gateway.security_headers:
        not_applicable("the profile declares no gateway.security_headers")
    return evidence.record(call_every_route(gateway, profile, include_missing_path=False))


@then("every response carries the declared security headers")
def _(answers: RouteExchanges, profile: Profile) -> None:
    expect_no_problems(header_check(answers, profile.gateway.security_headers))


@when("a client calls every declared route and a path that does not exist", target_fixture="answers")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> RouteExchanges:
    return evidence.record(call_every_route(gateway, profile, include_missing_path=True))


@then("no response discloses a software version")
def _(answers: RouteExchanges) -> None:
    expect_no_problems(disclosure_check(answers.exchanges))


@when("browsers from allowlisted and unknown origins call the API", target_fixture="cors")
@needs("gateway.cors")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> CorsResult:
    profile.gateway.cors or not_applicable("the profile declares no gateway.cors policy")
    return evidence.record(probe_origins(gateway, profile))


@then("every allowlisted origin is allowed")
def _(cors: CorsResult) -> None:
    expect_no_problems(cors.allowed_check())


@then("no unknown origin is allowed")
def _(cors: CorsResult) -> None:
    expect_no_problems(cors.unknown_check())


@when("a browser from an allowlisted origin sends a preflight request", target_fixture="preflight")
@needs("gateway.cors")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> PreflightResult:
    profile.gateway.cors or not_applicable("the profile declares no gateway.cors policy")
    return evidence.record(probe_preflight(gateway, profile))


@then("the preflight allows the declared methods and headers")
def _(preflight: PreflightResult) -> None:
    expect_no_problems(preflight.check())


@when("a client that accepts compression fetches a text response", target_fixture="compression")
@needs("gateway.compression")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> CompressionResult:
    profile.gateway.compression or not_applicable("the profile declares no gateway.compression")
    return evidence.record(probe_compression(gateway, profile))


@then("the response is compressed with the declared encoding")
def _(compression: CompressionResult) -> None:
    expect_no_problems(compression.check())


@when("a client opens a WebSocket through the gateway and sends a message", target_fixture="websocket")
@needs("gateway.websocket")
def _(profile: Profile, evidence: Evidence) -> WebSocketResult:
    profile.gateway.websocket or not_applicable("the profile declares no gateway.websocket")
    return evidence.record(probe_websocket(profile))


@then("the connection is upgraded")
def _(websocket: WebSocketResult) -> None:
    expect_no_problems(websocket.upgrade_check())


@then("the message comes back unchanged")
def _(websocket: WebSocketResult) -> None:
    expect_no_problems(websocket.echo_check())


@when("a client sends a bounded series of odd requests", target_fixture="odd")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> FuzzResult:
    return evidence.record(send_odd_requests(gateway, profile))


@then("no odd request causes a server error")
def _(odd: FuzzResult) -> None:
    expect_no_problems(odd.server_error_check())


@then("no odd request from an origin outside the allowlist is let in")
def _(odd: FuzzResult) -> None:
    expect_no_problems(odd.origin_check())


@then("no answer to an odd request discloses a software version or a stack trace")
def _(odd: FuzzResult) -> None:
    expect_no_problems(disclosure_check(odd.exchanges))
