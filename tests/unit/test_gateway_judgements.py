"""The gateway probes' judgements on constructed answers: health, security headers, disclosure,
compression, CORS and preflights, odd requests, WebSockets. No live gateway: each case is the
answer a conformant or a broken gateway gives, and the judgement must tell them apart."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from infragate.probes.cors import CorsResult, OriginAnswer, PreflightResult, unknown_origins
from infragate.probes.fuzz import FuzzResult
from infragate.probes.headers import CompressionResult, RouteExchanges, disclosure_check, header_check
from infragate.probes.health import HealthResult
from infragate.probes.http import Exchange
from infragate.probes.websocket import WebSocketResult

URL = "https://gw.example.test/api/items"
DECLARED = {"Strict-Transport-Security": "max-age=63072000; includeSubDomains", "X-Content-Type-Options": "nosniff"}


def _answer(
    status: int = 200, body: str = "", elapsed_s: float = 0.01, headers: dict[str, str] | None = None, **named: str
) -> Exchange:
    every = {**(headers or {}), **named}
    pairs = tuple((name.replace("_", "-"), value) for name, value in every.items())
    return Exchange("GET", URL, status, elapsed_s, pairs, body)


def test_health_judges_status_and_time_apart() -> None:
    slow_but_right = HealthResult(_answer(200, elapsed_s=6.0), expected_status=200, timeout_s=5.0)
    assert slow_but_right.status_check().met and not slow_but_right.time_check().met
    assert slow_but_right.time_check().problem == "expected an answer within 5 s, observed 6.000 s"
    unrouted = HealthResult(_answer(404, body="not found"), expected_status=200, timeout_s=5.0)
    assert not unrouted.status_check().met
    assert (unrouted.status_check().problem or "").startswith(f"expected status 200 from {URL}, observed 404")


def test_security_headers_missing_or_different_are_each_named() -> None:
    conformant = _answer(
        headers={"strict_transport_security": "max-age=63072000;includeSubDomains", "x_content_type_options": "nosniff"}
    )
    missing = _answer(headers={"strict_transport_security": "max-age=63072000; includeSubDomains"})
    weaker = _answer(headers={"strict_transport_security": "max-age=86400", "x_content_type_options": "nosniff"})
    assert header_check(RouteExchanges((conformant,)), DECLARED).met  # spacing and case do not matter
    assert list(header_check(RouteExchanges((missing, weaker)), DECLARED).problems) == [
        f"expected X-Content-Type-Options on GET {URL} (200), observed none",
        f"expected Strict-Transport-Security: max-age=63072000; includeSubDomains on GET {URL}, observed max-age=86400",
    ]


def test_any_value_only_asks_for_presence() -> None:
    answer = _answer(headers={"content_security_policy": "default-src 'none'"})
    assert header_check(RouteExchanges((answer,)), {"Content-Security-Policy": "*"}).met
    assert len(list(header_check(RouteExchanges((_answer(),)), {"Content-Security-Policy": "*"}).problems)) == 1


def test_disclosure_finds_versions_headers_and_stack_traces() -> None:
    assert disclosure_check((_answer(server="nginx"),)).met
    problems = list(
        disclosure_check(
            (
                _answer(server="nginx/1.22.1"),
                _answer(x_powered_by="Express"),
                _answer(500, body='Traceback (most recent call last):\n  File "app.py", line 3'),
            )
        ).problems
    )
    assert [problem.split(",")[0] for problem in problems] == [
        f"expected no version in the Server header of GET {URL} (200)",
        f"expected no x-powered-by header on GET {URL} (200)",
        f"expected no software version or stack trace in the body of GET {URL} (500)",
    ]


@given(st.text(alphabet=string.ascii_letters + string.punctuation + " ", max_size=40))
def test_a_server_header_without_digits_never_discloses_a_version(server: str) -> None:
    assert disclosure_check((_answer(server=server),)).met


def test_compression_must_use_the_requested_encoding() -> None:
    assert CompressionResult("api", "gzip", _answer(content_encoding="gzip")).check().met
    plain = CompressionResult("api", "gzip", _answer(content_type="application/json")).check().problem
    assert plain == (
        "expected route api compressed with gzip for a client that accepts it, observed Content-Encoding absent "
        "(application/json)"
    )


def _origin(origin: str, allow: str | None, credentials: str | None = None) -> OriginAnswer:
    return OriginAnswer(origin, allow, credentials, 200)


def test_cors_allowlisted_origins_must_be_allowed_and_unknown_ones_refused() -> None:
    allowed = "https://app.example.test"
    unknown = unknown_origins((allowed,))
    assert "null" in unknown and "https://app.example.test.attacker.example.net" in unknown
    conformant = CorsResult("api", (_origin(allowed, allowed),), tuple(_origin(o, None) for o in unknown))
    assert conformant.allowed_check().met and list(conformant.unknown_check().problems) == []
    echoing = CorsResult("api", (_origin(allowed, None),), tuple(_origin(o, o, "true") for o in unknown))
    assert list(echoing.allowed_check().problems) == [
        f"expected route api to allow origin {allowed}, observed Access-Control-Allow-Origin absent"
    ]
    assert len(list(echoing.unknown_check().problems)) == len(unknown)
    assert list(echoing.unknown_check().problems)[1] == (
        "expected route api to refuse origin null, observed Access-Control-Allow-Origin null with credentials"
    )


def test_a_wildcard_allows_every_origin_and_so_fails_the_unknown_ones() -> None:
    wildcard = CorsResult("api", (), (_origin("https://attacker.example.net", "*"),))
    assert list(wildcard.unknown_check().problems) == [
        "expected route api to refuse origin https://attacker.example.net, observed Access-Control-Allow-Origin *"
    ]


def _preflight(status: int, **headers: str) -> PreflightResult:
    return PreflightResult(
        "api",
        "https://app.example.test",
        "POST",
        ("Content-Type", "Authorization"),
        ("GET", "POST"),
        _answer(status, headers=headers),
    )


def test_a_preflight_must_allow_the_origin_every_declared_method_and_the_requested_headers() -> None:
    good = _preflight(
        204,
        access_control_allow_origin="https://app.example.test",
        access_control_allow_methods="GET, POST, OPTIONS",
        access_control_allow_headers="content-type, authorization",
    )
    assert good.check().met
    partial = _preflight(
        204, access_control_allow_origin="https://app.example.test", access_control_allow_methods="GET"
    )
    assert [problem.split(",")[0] for problem in partial.check().problems] == [
        "expected the preflight from https://app.example.test to route api to allow methods POST",
        "expected the preflight from https://app.example.test to route api to allow headers Content-Type",
    ]
    assert list(_preflight(405).check().problems) == [
        "expected the preflight from https://app.example.test to route api answered 200 or 204, observed 405"
    ]


def test_odd_requests_fail_on_server_errors_and_on_origins_outside_the_allowlist() -> None:
    answers = (
        _answer(400),
        _answer(502, body="bad gateway"),
        _answer(200, access_control_allow_origin="https://evil.example.net"),
        _answer(200, access_control_allow_origin="https://app.example.test"),
    )
    origins = (None, None, "https://evil.example.net", "https://app.example.test")
    result = FuzzResult(4, answers, origins, ("https://app.example.test",))
    assert list(result.server_error_check().problems) == [
        f"expected no server error, observed 502 for GET {URL} (body: 'bad gateway')"
    ]
    assert list(result.origin_check().problems) == [
        f"expected origin https://evil.example.net refused on GET {URL}, observed Access-Control-Allow-Origin "
        "https://evil.example.net"
    ]


def test_a_websocket_must_upgrade_and_echo() -> None:
    assert WebSocketResult("wss://gw/ws", True, 101, "ping", "ping").upgrade_check().met
    assert WebSocketResult("wss://gw/ws", True, 101, "ping", "ping").echo_check().met
    refused = WebSocketResult("wss://gw/ws", False, 400, "ping", None)
    assert refused.upgrade_check().problem == "expected wss://gw/ws to switch protocols (101), observed 400"
    assert refused.echo_check().problem == "expected 'ping' echoed by wss://gw/ws, observed None"
