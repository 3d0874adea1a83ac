"""Probe of load balancing: which replicas answer a paced stream of requests through the gateway."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from infragate.errors import ProbeError
from infragate.platforms.base import Platform
from infragate.probes.http import GatewayClient
from infragate.profile.model import Profile, Route
from infragate.verdicts import Check

# Enough requests that a balancer which skips a replica is seen doing so, and a pace well under any limit.
REQUESTS_PER_REPLICA = 10
SHARE_OF_RATE_LIMIT = 0.5
UNLIMITED_ROUTE_RATE = 20.0


@dataclass(frozen=True)
class SpreadResult:
    """How a stream of requests to one route spread over replicas."""

    route: str
    sent: int
    rate_per_s: float
    by_replica: dict[str, int]
    statuses: dict[int, int]
    unnamed: int

    def joined(self, later: SpreadResult) -> SpreadResult:
        """This stream and a later one to the same route, counted together."""
        return SpreadResult(
            self.route,
            self.sent + later.sent,
            self.rate_per_s,
            dict(Counter(self.by_replica) + Counter(later.by_replica)),
            dict(Counter(self.statuses) + Counter(later.statuses)),
            self.unnamed + later.unnamed,
        )

    def missing(self, expected: frozenset[str]) -> frozenset[str]:
        """Expected replicas that answered none of the requests."""
        return expected - frozenset(self.by_replica)

    def check(self, expected: frozenset[str], subject: str) -> Check:
        """Every expected replica answered some of the requests."""
        missing = self.missing(expected)
        seen = f"{dict(sorted(self.by_replica.items()))} from {self.sent} requests at {self.rate_per_s:g}/s"
        seen += f" (none from {', '.join(sorted(missing))}; statuses {self.statuses})" if missing else ""
        wanted = f"answers from every replica of route {self.route} ({', '.join(sorted(expected))})"
        return Check.compare("spread over replicas", wanted, seen, not missing, subject=subject)


def probe_spread(
    client: GatewayClient, route_name: str, route: Route, replica_header: str, count: int, rate_per_s: float
) -> SpreadResult:
    """Send count requests at rate_per_s, in intended-time order, and count the replica each answer names."""
    by_replica: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    unnamed = 0
    start = time.monotonic()
    for index in range(count):
        delay = start + index / rate_per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        exchange = client.call(route)
        statuses[exchange.status] += 1
        replica = exchange.header(replica_header)
        if replica is None:
            unnamed += 1
        else:
            by_replica[replica] += 1
    return SpreadResult(route_name, count, rate_per_s, dict(by_replica), dict(statuses), unnamed)


@dataclass(frozen=True)
class ServiceSpread:
    """The replicas a service had when the stream started, and where the stream went."""

    service: str
    expected: frozenset[str]
    spread: SpreadResult

    def check(self) -> Check:
        """Every replica the service had answered some of the stream."""
        return self.spread.check(self.expected, f"service {self.service}")


@dataclass(frozen=True)
class SpreadSurvey:
    """Spread of traffic over replicas, for every service that names its replicas in responses."""

    services: tuple[ServiceSpread, ...]

    def check(self) -> Check:
        """No service with a replica that answered nothing."""
        return Check.combine((entry.check() for entry in self.services), name="spread over replicas")


def survey_spread(client: GatewayClient, platform: Platform, profile: Profile) -> SpreadSurvey:
    """For each service with a route and a replica header, stream requests and see which replicas answer."""
    entries = []
    for name, service in profile.services.items():
        if service.route is None or service.replica_header is None:
            continue
        route = profile.gateway.routes[service.route]
        expected = platform.replicas(name).ids()
        count = min(REQUESTS_PER_REPLICA * max(len(expected), 1), profile.safety.max_requests)
        limit = route.rate_limit.rate.per_second * SHARE_OF_RATE_LIMIT if route.rate_limit else UNLIMITED_ROUTE_RATE
        rate = min(limit, profile.safety.max_rate)
        spread = probe_spread(client, service.route, route, service.replica_header, count, rate)
        if spread.missing(expected):
            # A replica that has just become ready may not be in the proxy's rules yet (kube-proxy
            # syncs them after the endpoint changes; CI's run of 74dfa68: a pod added by the
            # autoscaler got none of 70 requests). One more stream: a replica that answers neither
            # is not reached; one gone meanwhile is not expected any longer.
            expected &= platform.replicas(name).ids()
            budget = max(profile.safety.max_requests - count, 0)
            spread = spread.joined(
                probe_spread(client, service.route, route, service.replica_header, min(count, budget), rate)
            )
        entries.append(ServiceSpread(name, expected, spread))
    if not entries:
        raise ProbeError(
            "no service declares both a route and a replica_header, so no answer can be traced to a replica"
        )
    return SpreadSurvey(tuple(entries))
