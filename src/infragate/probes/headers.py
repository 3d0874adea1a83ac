"""Probes of what every response says about itself: security headers, software versions, compression."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infragate.errors import ProbeError
from infragate.probes.http import Exchange, GatewayClient
from infragate.profile.model import Profile
from infragate.verdicts import Check

MISSING_PATH = "/infragate-probe-no-such-path"
ANY_VALUE = "*"
# "nginx/1.22.1", "Apache/2.4.57", "Werkzeug/3.0": a product with a version number.
_VERSIONED_PRODUCT = re.compile(r"\b[A-Za-z][\w.-]*/\d+(?:\.\d+)+")
_INTERNALS = re.compile(r"Traceback \(most recent call last\)|\bat [\w.$]+\([\w.]+:\d+\)|File \"[^\"]+\", line \d+")
_DISCLOSING_HEADERS = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-runtime", "x-generator")


@dataclass(frozen=True)
class RouteExchanges:
    """One answer from every declared route (and from a path that does not exist)."""

    exchanges: tuple[Exchange, ...]


def call_every_route(client: GatewayClient, profile: Profile, *, include_missing_path: bool) -> RouteExchanges:
    """Call each declared route once, as the profile says a client calls it."""
    exchanges = [client.call(route) for route in profile.gateway.routes.values()]
    exchanges.append(client.request("GET", profile.gateway.health_path))
    if include_missing_path:
        exchanges.append(client.request("GET", MISSING_PATH))
    return RouteExchanges(tuple(exchanges))


def _normal(value: str) -> str:
    return " ".join(value.lower().replace(";", "; ").split())


def header_check(exchanges: RouteExchanges, declared: dict[str, str]) -> Check:
    """The declared security headers on every response: a problem per missing or different one."""
    problems = []
    for exchange in exchanges.exchanges:
        for name, expected in declared.items():
            observed = exchange.header(name)
            if observed is None:
                problems.append(
                    f"expected {name} on {exchange.method} {exchange.url} ({exchange.status}), observed none"
                )
            elif expected != ANY_VALUE and _normal(observed) != _normal(expected):
                problems.append(f"expected {name}: {expected} on {exchange.method} {exchange.url}, observed {observed}")
    observed = f"{len(exchanges.exchanges)} responses, {len(problems)} header(s) missing or different"
    return Check.judged("security headers", f"{', '.join(declared)} on every response", observed, problems)


def disclosure_check(exchanges: tuple[Exchange, ...]) -> Check:
    """No response names a software version or shows internals (stack traces): a problem per finding."""
    problems = []
    for exchange in exchanges:
        where = f"{exchange.method} {exchange.url} ({exchange.status})"
        server = exchange.header("server") or ""
        if _VERSIONED_PRODUCT.search(server):
            problems.append(f"expected no version in the Server header of {where}, observed {server!r}")
        for name in _DISCLOSING_HEADERS:
            if exchange.header(name):
                problems.append(f"expected no {name} header on {where}, observed {exchange.header(name)!r}")
        found = _VERSIONED_PRODUCT.search(exchange.body_excerpt) or _INTERNALS.search(exchange.body_excerpt)
        if found:
            problems.append(
                f"expected no software version or stack trace in the body of {where}, observed {found.group(0)!r}"
            )
    observed = f"{len(exchanges)} responses, {len(problems)} disclosure(s)"
    return Check.judged("no disclosure", "no software version or internals in any response", observed, problems)


@dataclass(frozen=True)
class CompressionResult:
    """What a client that accepts compression got back."""

    route: str
    requested: str
    exchange: Exchange

    def check(self) -> Check:
        """The response is compressed as declared."""
        encoding = self.exchange.header("content-encoding")
        expected = f"route {self.route} compressed with {self.requested} for a client that accepts it"
        seen = f"Content-Encoding {encoding or 'absent'} ({self.exchange.header('content-type')})"
        return Check.compare("compression", expected, seen, encoding is not None and encoding.lower() == self.requested)


def probe_compression(client: GatewayClient, profile: Profile) -> CompressionResult:
    """Fetch the declared route accepting only the declared encoding."""
    declared = profile.gateway.compression
    if declared is None:
        raise ProbeError("the profile declares no gateway.compression")
    route = profile.gateway.routes[declared.route]
    return CompressionResult(
        declared.route, declared.encoding, client.call(route, headers={"Accept-Encoding": declared.encoding})
    )
