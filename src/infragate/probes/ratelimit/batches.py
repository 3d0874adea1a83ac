"""Measuring the limits of several routes at once.

Routes whose overloads fit the safety caps together (each offered no less than 1.5 times its
declared rate) are overloaded in one schedule, each judged from its own answers. A route whose
rate or burst then looks wrong is measured again alone: a neighbour counted in the same limit
(which the isolation scenarios judge) must not pass for a wrong limit of the route itself.
"""

from __future__ import annotations

import contextlib

from infragate.errors import ProbeError
from infragate.probes.ratelimit.findings import RateLimitResult
from infragate.probes.ratelimit.measure import (
    MIN_OVERLOAD_FACTOR,
    OVERLOAD_FACTOR,
    OverloadPlan,
    declared_limit,
    measure_route,
    measure_together,
    plan_overload,
)
from infragate.probes.survey import Survey
from infragate.profile.model import Profile, RateLimit, Safety


def batches(limits: dict[str, RateLimit], safety: Safety) -> list[dict[str, float]]:
    """Routes to overload at once, in order, each with the share of what it would be offered alone.

    A batch takes routes while their overloads, scaled down together to fit safety.max_rate, still
    offer each at least 1.5 times its declared rate; the next route starts a new batch.
    """
    found: list[dict[str, float]] = []
    batch: list[str] = []
    for route in limits:
        if batch and _share(limits, [*batch, route], safety) is None:
            found.append(dict.fromkeys(batch, _share(limits, batch, safety) or 1.0))
            batch = []
        batch.append(route)
    if batch:
        found.append(dict.fromkeys(batch, _share(limits, batch, safety) or 1.0))
    return found


def _share(limits: dict[str, RateLimit], routes: list[str], safety: Safety) -> float | None:
    """The common share that fits these overloads into max_rate; None when one would fall below 1.5x."""
    alone = {route: min(OVERLOAD_FACTOR * limits[route].rate.per_second, safety.max_rate) for route in routes}
    share = min(1.0, safety.max_rate / sum(alone.values()))
    if any(share * alone[r] < MIN_OVERLOAD_FACTOR * limits[r].rate.per_second for r in routes):
        return None
    return share


def survey_limits(profile: Profile, routes: list[str]) -> Survey[RateLimitResult]:
    """Measure every route's limit: routes that fit together at once, the others (and doubtful ones) alone."""
    limits = {route: declared_limit(profile, route) for route in routes}
    results: dict[str, RateLimitResult] = {}
    for shares in batches(limits, profile.safety):
        plans: dict[str, OverloadPlan] = {}
        for route, share in shares.items():
            with contextlib.suppress(ProbeError):  # planned alone below, where the error is told
                plans[route] = plan_overload(limits[route], profile.safety, share)
        together: dict[str, RateLimitResult] = {}
        if len(plans) > 1:
            with contextlib.suppress(ProbeError):  # measured alone below, where the error is told
                together = measure_together(profile, plans)
        for route in shares:
            result = together.get(route)
            if result is None or not (result.rate_check().met and result.burst_check().met):
                result = measure_route(profile, route)
            results[route] = result
    return Survey(tuple(results[route] for route in routes))
