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
    OverloadPlan,
    common_share,
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
    share = 1.0
    for route in limits:
        widened = common_share([limits[name] for name in [*batch, route]], safety.max_rate, safety)
        if batch and widened is None:
            found.append(dict.fromkeys(batch, share))
            batch, widened = [], common_share([limits[route]], safety.max_rate, safety)
        batch.append(route)
        share = widened or 1.0  # a route that cannot be overloaded enough even alone: plan_overload says why
    if batch:
        found.append(dict.fromkeys(batch, share))
    return found


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
