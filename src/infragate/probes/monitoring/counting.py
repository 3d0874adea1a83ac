"""Does monitoring see reality? Requests sent through a gateway route are compared with what a
counter Prometheus scrapes says was served: a quiet window first (the counter's own background),
then the requests, each delta read from a scrape taken after its window ended."""

from __future__ import annotations

import time
from dataclasses import dataclass

from infragate.errors import ProbeError
from infragate.probes.http import GatewayClient
from infragate.probes.monitoring.prometheus_api import MonitoringApi
from infragate.profile.model import Profile
from infragate.profile.monitoring_promises import Counted
from infragate.retry import poll_until
from infragate.verdicts import Check

SCRAPE_WAIT_S = 30.0


@dataclass(frozen=True)
class CountResult:
    """Requests sent and what the counter counted meanwhile, beside its count over a quiet window."""

    metric: str
    job: str
    sent: int
    counted: float
    background: float
    tolerance: float

    def agrees_check(self) -> Check:
        """The counter grew by what was sent, within the tolerance (and what it counts of other traffic)."""
        low, high = self.sent * (1 - self.tolerance), self.sent * (1 + self.tolerance) + self.background
        expected = f"{self.metric} of job {self.job} counts the {self.sent} requests sent, {low:.0f} to {high:.0f}"
        observed = f"counted {self.counted:.0f} (and {self.background:.0f} in an equally long quiet window)"
        return Check.compare("monitoring counts what was sent", expected, observed, low <= self.counted <= high)


def _scraped_after(api: MonitoringApi, query: str, moment: float) -> float:
    """The counter's sum from the first scrape of every series after ``moment`` (wall clock)."""

    def read() -> tuple[float, float]:
        stamps = api.query(f"min(timestamp({query}))")
        values = api.query(f"sum({query})")
        if not stamps or not values:
            raise ProbeError(f"Prometheus holds no series of {query}")
        return stamps[0].value, values[0].value

    polled = poll_until(read, lambda found: found[0] > moment, SCRAPE_WAIT_S, 0.2)
    if not polled.met:
        raise ProbeError(f"Prometheus did not scrape {query} again within {SCRAPE_WAIT_S:g} s")
    return polled.value[1]


def count_requests(api: MonitoringApi, gateway: GatewayClient, profile: Profile, promise: Counted) -> CountResult:
    """Send the promised requests through the route (every answer must be a 2xx: only requests that
    reached the service can be counted), and read the counter's growth."""
    route = profile.gateway.routes.get(promise.route)
    if route is None:
        raise ProbeError(f"monitoring.counts.route {promise.route} is not a route of the gateway")
    rate = min(promise.rate, profile.safety.max_rate)
    if route.rate_limit is not None:
        rate = min(rate, route.rate_limit.rate.per_second / 2)  # well inside the client's own limit
    requests = min(promise.requests, profile.safety.max_requests)
    window = requests / rate
    query = f'{promise.metric}{{job="{promise.job}"}}'
    first = _scraped_after(api, query, time.time())
    time.sleep(window)
    quiet = _scraped_after(api, query, time.time())
    answered, started = 0, time.monotonic()
    for index in range(requests):
        time.sleep(max(0.0, started + index / rate - time.monotonic()))
        exchange = gateway.request(route.method, route.path, headers=route.headers(), body=route.body)
        answered += 200 <= exchange.status < 300
    after = _scraped_after(api, query, time.time())
    if answered < requests:
        raise ProbeError(
            f"{requests - answered} of {requests} requests were not answered 2xx: the count cannot be compared"
        )
    if quiet < first or after < quiet:
        raise ProbeError(f"{promise.metric} went down meanwhile (a counter reset): the count cannot be compared")
    return CountResult(promise.metric, promise.job, requests, after - quiet, quiet - first, promise.tolerance)
