"""Measuring a route's rate limit: an open-loop overload from an idle bucket, then recovery.

The overload is offered at up to three times the declared rate (never above the profile's
``safety.max_rate``) for a few seconds; the estimator in ``infragate.probes.ratelimit.estimator`` turns what was
admitted into the effective rate and burst. Afterwards, once the bucket has had time to drain, a
few requests at half the declared rate must all be admitted again.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from infragate.errors import ProbeError
from infragate.probes.ratelimit.estimator import LimitEstimate, estimate_limit
from infragate.probes.survey import Survey
from infragate.probes.traffic import PlannedRequest, RequestOutcome, TrafficRecording, run_schedule, ssl_context, steady
from infragate.profile.model import Profile, RateLimit, Route, Safety

OVERLOAD_FACTOR = 3.0
MIN_OVERLOAD_FACTOR = 1.5
STEADY_ADMISSIONS_WANTED = 60
STEADY_ADMISSIONS_NEEDED = 20
MIN_OVERLOAD_S = 2.0
MAX_OVERLOAD_S = 10.0
RECOVERY_REQUESTS = 5
DRAIN_MARGIN_S = 0.2
REJECTION_STATUSES = frozenset({429, 503})
LATE_STARTS_ALLOWED = 3  # of an overload, started over 10 ms late; about 0-2 on an idle machine
LATE_SHARE_ALLOWED = 0.02


@dataclass(frozen=True)
class OverloadPlan:
    """How hard and how long to overload a route."""

    offered_per_s: float
    duration_s: float

    @property
    def requests(self) -> int:
        """How many requests the overload sends."""
        return round(self.offered_per_s * self.duration_s)


def declared_capacity(limit: RateLimit) -> float:
    """Requests admitted at once from an idle bucket, as the declaration implies."""
    return limit.burst + 1 if limit.algorithm == "nginx" else float(max(limit.burst, 1))


def plan_overload(limit: RateLimit, safety: Safety) -> OverloadPlan:
    """An overload that yields enough admissions to estimate from, within the profile's safety caps."""
    rate = limit.rate.per_second
    offered = min(OVERLOAD_FACTOR * rate, safety.max_rate)
    if offered < MIN_OVERLOAD_FACTOR * rate:
        raise ProbeError(
            f"safety.max_rate ({safety.max_rate:g}/s) does not allow offering "
            f"{MIN_OVERLOAD_FACTOR:g} times the declared {limit.rate}; the limit cannot be measured"
        )
    burst_spent_s = declared_capacity(limit) / (offered - rate)
    wanted = max(burst_spent_s + STEADY_ADMISSIONS_WANTED / rate, MIN_OVERLOAD_S)
    duration = min(wanted, MAX_OVERLOAD_S, safety.max_duration, safety.max_requests / offered)
    if duration < burst_spent_s + STEADY_ADMISSIONS_NEEDED / rate:
        raise ProbeError(
            f"measuring {limit.rate} with burst {limit.burst} needs about "
            f"{burst_spent_s + STEADY_ADMISSIONS_NEEDED / rate:.1f} s of overload at {offered:g}/s; "
            f"the probe's bound ({MAX_OVERLOAD_S:g} s) and the safety caps allow {duration:.1f} s"
        )
    return OverloadPlan(offered, duration)


def drain_time_s(limit: RateLimit) -> float:
    """How long an idle client waits until a full bucket of this limit is empty again."""
    return declared_capacity(limit) / limit.rate.per_second + DRAIN_MARGIN_S


@dataclass(frozen=True)
class Sample:
    """One request of a measurement, as evidence."""

    intended_ms: float
    sent_ms: float
    status: int
    latency_ms: float


@dataclass(frozen=True)
class RateLimitResult:
    """A route's measured limit beside its declaration, with every request as evidence."""

    CHARTS: ClassVar[tuple[str, ...]] = ("rate-limit",)  # the report charts that explain it

    route: str
    declared_rate_per_s: float
    declared_burst: int
    declared_capacity: float
    declared_status: int
    algorithm: str
    rate_tolerance: float
    burst_tolerance: float
    offered_per_s: float
    duration_s: float
    sent: int
    admitted: int
    rejected_by_status: dict[int, int]
    errors: int
    late_starts: int
    estimate: LimitEstimate
    limit_headers: tuple[str, ...]
    recovery_statuses: tuple[int, ...]
    samples: tuple[Sample, ...]

    @property
    def estimated_burst(self) -> float | None:
        """The burst the estimate implies, in the declaration's terms."""
        if self.estimate.capacity is None:
            return None
        return self.estimate.capacity - 1 if self.algorithm == "nginx" else self.estimate.capacity

    def rate_problem(self) -> str | None:
        """Why the admitted rate does not match the declaration, or None."""
        observed = self.estimate.rate_per_s
        expected = f"expected route {self.route} to admit {self.declared_rate_per_s:g}/s ± {self.rate_tolerance:.0%}"
        if observed is None:
            return f"{expected}, observed no sustained limit ({self.estimate.reason}; offered {self._offered()})"
        if abs(observed - self.declared_rate_per_s) > self.rate_tolerance * self.declared_rate_per_s:
            return f"{expected}, observed {observed:.1f}/s (offered {self._offered()}, {self.admitted} admitted)"
        return None

    def burst_problem(self) -> str | None:
        """Why the admitted burst does not match the declaration, or None."""
        burst = self.estimated_burst
        expected = f"expected route {self.route} to allow a burst of {self.declared_burst} ± {self.burst_tolerance:g}"
        if burst is None:
            return f"{expected}, observed no burst limit ({self.estimate.reason})"
        if abs(burst - self.declared_burst) > self.burst_tolerance:
            return f"{expected}, observed {burst:.1f} (offered {self._offered()})"
        return None

    def status_problem(self) -> str | None:
        """Why rejections do not carry the declared status, or None."""
        wrong = {status: count for status, count in self.rejected_by_status.items() if status != self.declared_status}
        if not self.rejected_by_status:
            return (
                f"expected excess requests on route {self.route} rejected with {self.declared_status}, "
                "observed none rejected"
            )
        if wrong:
            return (
                f"expected excess requests on route {self.route} rejected with {self.declared_status}, "
                f"observed {dict(sorted(self.rejected_by_status.items()))}"
            )
        return None

    def recovery_problem(self) -> str | None:
        """Why the route did not admit a calm client after the overload, or None."""
        refused = [status for status in self.recovery_statuses if status in REJECTION_STATUSES]
        if refused:
            return (
                f"expected route {self.route} to admit all {len(self.recovery_statuses)} requests at half its rate "
                f"once the overload stopped, observed statuses {list(self.recovery_statuses)}"
            )
        return None

    def _offered(self) -> str:
        return f"{self.sent} requests at {self.offered_per_s:g}/s over {self.duration_s:.1f} s"


def _request(route: Route, at_s: float, stream: str, source: str | None = None) -> PlannedRequest:
    return PlannedRequest(at_s, route.method, route.path, stream, tuple(route.headers().items()), route.body, source)


def _rejected(outcome: RequestOutcome, declared: int) -> bool:
    return outcome.status in REJECTION_STATUSES or outcome.status == declared


def measure_route(profile: Profile, route_name: str) -> RateLimitResult:
    """Overload one route from an idle bucket, estimate its limit, then check that it recovers."""
    gateway = profile.gateway
    route = gateway.routes[route_name]
    limit = route.rate_limit
    if limit is None:
        raise ProbeError(f"route {route_name} declares no rate limit")
    plan = plan_overload(limit, profile.safety)
    context = ssl_context(gateway.ca_bundle, gateway.verify_tls)
    time.sleep(drain_time_s(limit))  # whatever came before, start from an idle bucket
    overload = run_schedule(
        gateway.base_url,
        [_request(route, t, "overload") for t in steady(plan.offered_per_s, plan.duration_s)],
        context=context,
        timeout_s=gateway.timeout,
    )
    time.sleep(drain_time_s(limit))
    calm_rate = limit.rate.per_second / 2
    recovery = run_schedule(
        gateway.base_url,
        [_request(route, t, "recovery") for t in steady(calm_rate, RECOVERY_REQUESTS / calm_rate)],
        context=context,
        timeout_s=gateway.timeout,
    )
    return _result(route_name, limit, plan, overload, recovery)


def _result(
    route: str, limit: RateLimit, plan: OverloadPlan, overload: TrafficRecording, recovery: TrafficRecording
) -> RateLimitResult:
    outcomes = overload.outcomes
    failed = require_answers(outcomes, f"route {route}: overload", "the limit cannot be measured")
    # The calm requests after the overload judge recovery: one without an answer judges nothing.
    require_answers(recovery.outcomes, f"route {route}: recovery", "recovery cannot be judged", allowed=0)
    late = overload.late_starts()
    if late > max(LATE_STARTS_ALLOWED, len(outcomes) * LATE_SHARE_ALLOWED):
        # A prober that cannot keep its schedule (a busy machine) offers another overload than planned.
        raise ProbeError(
            f"route {route}: the prober started {late} of {len(outcomes)} overload requests over 10 ms late "
            "(this machine is busy); the limit cannot be measured"
        )
    answered = [outcome for outcome in outcomes if outcome.status != 0]
    admitted = [not _rejected(outcome, limit.status) for outcome in answered]
    estimate = estimate_limit([outcome.sent_s for outcome in answered], admitted)
    rejected = Counter(outcome.status for outcome in answered if _rejected(outcome, limit.status))
    headers = sorted(
        {
            key
            for outcome in answered
            if _rejected(outcome, limit.status)
            for key, _ in outcome.headers
            if key not in ("server", "x-replica")
        }
    )
    return RateLimitResult(
        route=route,
        declared_rate_per_s=limit.rate.per_second,
        declared_burst=limit.burst,
        declared_capacity=declared_capacity(limit),
        declared_status=limit.status,
        algorithm=limit.algorithm,
        rate_tolerance=limit.rate_tolerance,
        burst_tolerance=limit.burst_tolerance,
        offered_per_s=plan.offered_per_s,
        duration_s=plan.duration_s,
        sent=len(outcomes),
        admitted=sum(admitted),
        rejected_by_status=dict(rejected),
        errors=len(failed),
        late_starts=late,
        estimate=estimate,
        limit_headers=tuple(headers),
        recovery_statuses=tuple(outcome.status for outcome in recovery.outcomes),
        samples=tuple(
            Sample(round(o.intended_s * 1000, 2), round(o.sent_s * 1000, 2), o.status, round(o.latency_s * 1000, 2))
            for o in outcomes
        ),
    )


def require_answers(
    outcomes: Sequence[RequestOutcome], what: str, consequence: str, allowed: int | None = None
) -> list[RequestOutcome]:
    """The requests that got no HTTP answer; a ProbeError when more than `allowed` (default: 1 %) did.

    Only an answer says what a limiter did: a time-out, a reset or a refused connection is no
    rejection and no admission, so too many of them make the measurement "could not verify"."""
    failed = [outcome for outcome in outcomes if outcome.status == 0]
    if len(failed) > (max(1, len(outcomes) // 100) if allowed is None else allowed):
        raise ProbeError(
            f"{what}: {len(failed)} of {len(outcomes)} requests got no answer (first: {failed[0].error}); {consequence}"
        )
    return failed


def rate_limited_routes(profile: Profile) -> list[str]:
    """Names of the routes that declare a rate limit."""
    return [name for name, route in profile.gateway.routes.items() if route.rate_limit is not None]


@dataclass(frozen=True)
class IsolationResult:
    """An overload of one client on one route, and what a calm bystander saw meanwhile."""

    overloaded_route: str
    bystander_route: str
    bystander_source: str | None
    overload_sent: int
    overload_rejected: int
    bystander_statuses: dict[int, int]

    def overload_problem(self) -> str | None:
        """Why the overload did not trip the limit, or None."""
        if self.overload_rejected == 0:
            return (
                f"expected the overloading client to be throttled on route {self.overloaded_route}, observed all "
                f"{self.overload_sent} requests admitted"
            )
        return None

    def bystander_problem(self) -> str | None:
        """Why the bystander was affected, or None."""
        throttled = {status: count for status, count in self.bystander_statuses.items() if status in REJECTION_STATUSES}
        if throttled:
            who = f"from {self.bystander_source}" if self.bystander_source else "of the same client"
            return (
                f"expected requests {who} on route {self.bystander_route} never throttled while route "
                f"{self.overloaded_route} was overloaded, "
                f"observed statuses {dict(sorted(self.bystander_statuses.items()))}"
            )
        return None


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


def measure_isolation(profile: Profile, overloaded: str, bystander: str, source: str | None) -> IsolationResult:
    """Overload one route while a calm bystander (another route, or another client) calls at a quarter of its rate."""
    gateway = profile.gateway
    over_route, by_route = gateway.routes[overloaded], gateway.routes[bystander]
    over_limit, by_limit = over_route.rate_limit, by_route.rate_limit
    if over_limit is None:
        raise ProbeError(f"route {overloaded} declares no rate limit")
    plan = plan_overload(over_limit, profile.safety)
    span = min(plan.duration_s, MIN_OVERLOAD_S + 1)
    calm = (by_limit.rate.per_second if by_limit else plan.offered_per_s) / 4
    if plan.offered_per_s + calm > profile.safety.max_rate:
        calm = max(profile.safety.max_rate - plan.offered_per_s, 1.0)
    time.sleep(max(drain_time_s(over_limit), drain_time_s(by_limit) if by_limit else 0.0))
    plan_requests = [_request(over_route, t, "overload") for t in steady(plan.offered_per_s, span)]
    plan_requests += [_request(by_route, t, "bystander", source) for t in steady(calm, span, start_s=0.5)]
    recording = run_schedule(
        gateway.base_url,
        plan_requests,
        context=ssl_context(gateway.ca_bundle, gateway.verify_tls),
        timeout_s=gateway.timeout,
    )
    consequence = "isolation cannot be judged"
    require_answers(recording.stream("overload"), f"route {overloaded}: overload", consequence)
    require_answers(recording.stream("bystander"), f"route {bystander}: bystander", consequence)
    overload = [outcome for outcome in recording.stream("overload") if outcome.status != 0]
    answered = [outcome for outcome in recording.stream("bystander") if outcome.status != 0]
    return IsolationResult(
        overloaded_route=overloaded,
        bystander_route=bystander,
        bystander_source=source,
        overload_sent=len(overload),
        overload_rejected=sum(1 for outcome in overload if _rejected(outcome, over_limit.status)),
        bystander_statuses=dict(Counter(outcome.status for outcome in answered)),
    )


def survey_limits(profile: Profile, routes: list[str]) -> Survey[RateLimitResult]:
    """Measure each route's limit in turn."""
    return Survey(tuple(measure_route(profile, route) for route in routes))
