"""Isolation of rate limits: one client's overload must not throttle another client, nor another
route. Every rate-limited route is checked: the clients of every route in one schedule when the
safety caps allow it (one route at a time otherwise), and each route's overload beside calm
callers of every other route."""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

from infragate.errors import ProbeError
from infragate.probes.ratelimit.findings import IsolationResult, declared_capacity
from infragate.probes.ratelimit.measure import (
    MIN_OVERLOAD_S,
    common_share,
    declared_limit,
    drain_time_s,
    is_rejection,
    plan_overload,
    planned_request,
    require_answers,
)
from infragate.probes.survey import Survey
from infragate.probes.traffic import PlannedRequest, run_schedule, ssl_context, steady
from infragate.profile.model import Profile

CALM_SHARE = 0.25  # a calm caller asks for a quarter of its route's declared rate

Pair = tuple[str, str, str | None]  # overloaded route, bystander route, the bystander's source address


def second_client_source(profile: Profile) -> str | None:
    """The source address of a second client: declared, or 127.0.0.2 for a gateway on loopback."""
    declared = profile.gateway.second_client_source
    if declared:
        return declared
    host = (urlsplit(profile.gateway.base_url).hostname or "").strip("[]")
    try:
        return "127.0.0.2" if ipaddress.ip_address(host).is_loopback and host != "::1" else None
    except ValueError:
        return "127.0.0.2" if host == "localhost" else None


class _TooMuchAtOnce(ProbeError):
    """The safety caps do not allow these overloads and calm callers in one schedule."""


def measure_pairs(profile: Profile, pairs: Sequence[Pair]) -> list[IsolationResult]:
    """Overload some routes from one client while bystanders call calmly, all in one schedule.

    The overloads are scaled down together (to no less than 1.5 times each declared rate) so that
    everything offered stays within safety.max_rate; _TooMuchAtOnce when even that does not fit.
    """
    gateway, safety = profile.gateway, profile.safety
    overloaded = list(dict.fromkeys(pair[0] for pair in pairs))
    bystanders = list(dict.fromkeys((pair[1], pair[2]) for pair in pairs))
    limits = {route: declared_limit(profile, route) for route in overloaded}
    plans = {route: plan_overload(limit, safety) for route, limit in limits.items()}
    calm = {}
    for route, source in bystanders:
        declared = gateway.routes[route].rate_limit
        calm[(route, source)] = (
            declared.rate.per_second if declared else plans[overloaded[0]].offered_per_s
        ) * CALM_SHARE
    scale = common_share(limits.values(), safety.max_rate - sum(calm.values()), safety)
    if scale is None:
        raise _TooMuchAtOnce(
            f"safety.max_rate ({safety.max_rate:g}/s) does not allow these overloads and callers at once"
        )
    # Long enough for every overload to pass its capacity and draw a few rejections (slow limits: longer).
    trip_s = max(
        (declared_capacity(limit) + 2) / (scale * plans[r].offered_per_s - limit.rate.per_second)
        for r, limit in limits.items()
    )
    span = min(min(plan.duration_s for plan in plans.values()), max(MIN_OVERLOAD_S + 1, trip_s + 1))
    involved = list(limits.values())
    involved += [limit for route, _ in bystanders if (limit := gateway.routes[route].rate_limit) is not None]
    time.sleep(max(drain_time_s(limit) for limit in involved))
    schedule: list[PlannedRequest] = []
    for route, plan in plans.items():
        schedule += [
            planned_request(gateway.routes[route], t, f"overload {route}")
            for t in steady(scale * plan.offered_per_s, span)
        ]
    for (route, source), rate in calm.items():
        stream = f"bystander {route} {source}"
        calls = max(1, round(rate * span))  # a slow route's bystander still calls once
        schedule += [planned_request(gateway.routes[route], t, stream, source) for t in steady(calls / span, span, 0.5)]
    recording = run_schedule(
        gateway.base_url,
        schedule,
        context=ssl_context(gateway.ca_bundle, gateway.verify_tls),
        timeout_s=gateway.timeout,
    )
    results = []
    for over, by, source in pairs:
        overload = recording.stream(f"overload {over}")
        watched = recording.stream(f"bystander {by} {source}")
        require_answers(overload, f"route {over}: overload", "isolation cannot be judged")
        require_answers(watched, f"route {by}: bystander", "isolation cannot be judged")
        answered = [outcome for outcome in overload if outcome.status != 0]
        status = limits[over].status
        results.append(
            IsolationResult(
                overloaded_route=over,
                bystander_route=by,
                bystander_source=source,
                overload_sent=len(answered),
                overload_rejected=sum(1 for outcome in answered if is_rejection(outcome, status)),
                bystander_statuses=dict(Counter(o.status for o in watched if o.status != 0)),
            )
        )
    return results


def _together_or_one_by_one(profile: Profile, pairs: Sequence[Pair]) -> list[IsolationResult]:
    """All pairs in one schedule, or one pair at a time when the safety caps do not allow that."""
    try:
        return measure_pairs(profile, pairs)
    except _TooMuchAtOnce:
        if len(pairs) == 1:
            raise
    return [result for pair in pairs for result in measure_pairs(profile, [pair])]


def client_isolation(profile: Profile, routes: Sequence[str], source: str) -> Survey[IsolationResult]:
    """Every route overloaded by one client while a second client calls each calmly."""
    return Survey(tuple(_together_or_one_by_one(profile, [(route, route, source) for route in routes])))


def route_isolation(profile: Profile, routes: Sequence[str]) -> Survey[IsolationResult]:
    """Each route overloaded in turn while the same client calls every other route calmly."""
    found: list[IsolationResult] = []
    for route in routes:
        found += _together_or_one_by_one(profile, [(route, other, None) for other in routes if other != route])
    return Survey(tuple(found))
