"""Measuring a route's rate limit: an open-loop overload from an idle bucket, then recovery.

The overload is offered at up to three times the declared rate (never above the profile's
``safety.max_rate``) for a few seconds; the estimator in ``infragate.probes.ratelimit.estimator`` turns what was
admitted into the effective rate and burst. Afterwards, once a bucket has room for one request
again (a window limit: once its windows have passed), a few requests at half the declared rate
must all be admitted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from infragate.errors import ProbeError
from infragate.probes.ratelimit.estimator import LimitEstimate, NginxLimitReq, TokenBucket, estimate_limit
from infragate.probes.ratelimit.findings import (
    BUCKET_ALGORITHMS,
    REJECTION_STATUSES,
    RateLimitResult,
    Sample,
    counts_in_windows,
    declared_capacity,
)
from infragate.probes.ratelimit.windows import WINDOW_MODELS, Bucket, WindowFit, fit_window, running_gaps
from infragate.probes.traffic import PlannedRequest, RequestOutcome, TrafficRecording, run_schedule, ssl_context, steady
from infragate.profile.model import Profile, RateLimit, Route, Safety

OVERLOAD_FACTOR = 3.0
MIN_OVERLOAD_FACTOR = 1.5
# Fewer than about 25 let a few random (Poisson) overloads out of thousands miss the rate by up to
# 20 %; 30 keep the worst within 1.3 % (the probe's own overloads are steady: within 0.03 %).
STEADY_ADMISSIONS_WANTED = 30
STEADY_ADMISSIONS_NEEDED = 20
MIN_OVERLOAD_S = 2.0
MAX_OVERLOAD_S = 10.0  # unless the limit's probe_for allows longer
RECOVERY_REQUESTS = 3
MAX_RECOVERY_S = 10.0  # a slow limit's recovery sends fewer calm requests
DRAIN_MARGIN_S = 0.2
LATE_STARTS_ALLOWED = 3  # of an overload, started over 10 ms late; about 0-2 on an idle machine
LATE_SHARE_ALLOWED = 0.02
ATTEMPTS = 2  # a prober that fell behind (a busy machine) measures once more before giving up


class ProberFellBehind(ProbeError):
    """The prober could not keep the overload's schedule, so it offered another overload than planned."""


@dataclass(frozen=True)
class OverloadPlan:
    """How hard and how long to overload a route."""

    offered_per_s: float
    duration_s: float

    @property
    def requests(self) -> int:
        """How many requests the overload sends."""
        return round(self.offered_per_s * self.duration_s)


AMBIGUOUS = (
    "a sliding-window counter that counts rejected requests admits between its limit and about twice it "
    "before it shuts an overloading client out, depending on where its window starts; one overload cannot "
    "tell its limit apart (declare counts_rejected: false if the gateway counts admissions only)"
)


def plan_overload(limit: RateLimit, safety: Safety, share: float = 1.0) -> OverloadPlan:
    """An overload that yields enough admissions to estimate from, within the profile's safety caps.

    A share below 1 plans one of several overloads sent at once: it is offered that share of what it
    would be offered alone (of the rate cap and of the request cap too).
    """
    if limit.algorithm == "sliding-window-counter" and limit.counts_rejected is not False:
        raise ProbeError(f"the declared {limit.rate} cannot be measured: {AMBIGUOUS}")
    rate = limit.rate.per_second
    offered = min(OVERLOAD_FACTOR * rate, safety.max_rate) * share
    safety = safety.model_copy(update={"max_requests": max(1, int(safety.max_requests * share))})
    if offered < MIN_OVERLOAD_FACTOR * rate:
        raise ProbeError(
            f"safety.max_rate ({safety.max_rate:g}/s) does not allow offering "
            f"{MIN_OVERLOAD_FACTOR:g} times the declared {limit.rate}; the limit cannot be measured"
        )
    if counts_in_windows(limit):
        return _window_plan(limit, safety, offered)
    burst_spent_s = declared_capacity(limit) / (offered - rate)
    wanted = max(burst_spent_s + STEADY_ADMISSIONS_WANTED / rate, MIN_OVERLOAD_S)
    duration = min(wanted, _bound(limit), safety.max_duration, safety.max_requests / offered)
    if duration < burst_spent_s + STEADY_ADMISSIONS_NEEDED / rate:
        raise ProbeError(
            f"measuring {limit.rate} with burst {limit.burst} needs about "
            f"{burst_spent_s + STEADY_ADMISSIONS_NEEDED / rate:.1f} s of overload at {offered:g}/s; "
            f"{_allowed(limit, duration)}"
        )
    if limit.algorithm == "auto":  # the observations must also tell windows apart
        with contextlib.suppress(ProbeError):
            duration = max(duration, _window_plan(limit, safety, offered).duration_s)
    return OverloadPlan(offered, duration)


def common_share(limits: Iterable[RateLimit], budget_per_s: float, safety: Safety) -> float | None:
    """The share of its lone overload (plan_overload's) that each limit can be offered so that all
    of them fit into budget_per_s together; None when one would fall below 1.5 times its rate."""
    alone = [(min(OVERLOAD_FACTOR * limit.rate.per_second, safety.max_rate), limit.rate.per_second) for limit in limits]
    share = min(1.0, budget_per_s / sum(offered for offered, _ in alone))
    if any(share * offered < MIN_OVERLOAD_FACTOR * rate for offered, rate in alone):
        return None
    return share


def _window_plan(limit: RateLimit, safety: Safety, offered: float) -> OverloadPlan:
    """Windows need a few of them overloaded: the first shows the limit, the next ones what counts."""
    wanted = max(3 * limit.window, MIN_OVERLOAD_S)
    duration = min(wanted, _bound(limit), safety.max_duration, safety.max_requests / offered)
    if duration < 2 * limit.window + DRAIN_MARGIN_S:
        raise ProbeError(
            f"measuring {limit.rate} counted in windows of {limit.window:g} s needs at least "
            f"{2 * limit.window + DRAIN_MARGIN_S:.1f} s of overload; {_allowed(limit, duration)}"
        )
    return OverloadPlan(offered, duration)


def _bound(limit: RateLimit) -> float:
    return MAX_OVERLOAD_S if limit.probe_for is None else limit.probe_for


def _allowed(limit: RateLimit, duration: float) -> str:
    if limit.probe_for is None:
        return (
            f"the probe's bound ({MAX_OVERLOAD_S:g} s) and the safety caps allow {duration:.1f} s "
            "(rate_limit.probe_for allows a longer overload, within safety.max_duration)"
        )
    return f"rate_limit.probe_for ({limit.probe_for:g} s) and the safety caps allow {duration:.1f} s"


def recovery_times(limit: RateLimit) -> list[float]:
    """When the calm requests after an overload start: at half the declared rate, a few, for 10 s at most."""
    calm_rate = limit.rate.per_second / 2
    return steady(calm_rate, max(1, min(RECOVERY_REQUESTS, int(calm_rate * MAX_RECOVERY_S))) / calm_rate)


def drain_time_s(limit: RateLimit) -> float:
    """How long an idle client waits until this limit has forgotten it (a full bucket, two windows)."""
    if counts_in_windows(limit):
        return 2 * limit.window + DRAIN_MARGIN_S
    bucket = declared_capacity(limit) / limit.rate.per_second + DRAIN_MARGIN_S
    return max(bucket, 2 * limit.window + DRAIN_MARGIN_S) if limit.algorithm == "auto" else bucket


def recovery_wait_s(limit: RateLimit) -> float:
    """How long after an overload the calm requests may start: a bucket needs room for one request
    (the calm ones come at half its rate, so it never runs out again); windows must have passed."""
    if counts_in_windows(limit) or limit.algorithm == "auto":
        return drain_time_s(limit)
    return min(drain_time_s(limit), 1 / limit.rate.per_second + DRAIN_MARGIN_S)


def planned_request(route: Route, at_s: float, stream: str, source: str | None = None) -> PlannedRequest:
    """A request of the route as a client calls it, planned for at_s in a named stream."""
    return PlannedRequest(at_s, route.method, route.path, stream, tuple(route.headers().items()), route.body, source)


def is_rejection(outcome: RequestOutcome, declared: int) -> bool:
    """Whether an answer is the limiter's rejection (429, 503 or the declared status)."""
    return outcome.status in REJECTION_STATUSES or outcome.status == declared


def declared_limit(profile: Profile, route: str) -> RateLimit:
    """The rate limit a route declares; a ProbeError for a route without one."""
    limit = profile.gateway.routes[route].rate_limit
    if limit is None:
        raise ProbeError(f"route {route} declares no rate limit")
    return limit


def measure_route(profile: Profile, route_name: str) -> RateLimitResult:
    """Overload one route from an idle bucket, estimate its limit, then check that it recovers."""
    plan = plan_overload(declared_limit(profile, route_name), profile.safety)
    return measure_together(profile, {route_name: plan})[route_name]


def measure_together(profile: Profile, plans: dict[str, OverloadPlan]) -> dict[str, RateLimitResult]:
    """Overload routes at once from idle buckets, each as planned; estimate each one's limit from its
    own answers, then check that each recovers.

    A measurement whose prober fell behind its schedule is repeated once (from idle buckets
    again); falling behind twice is "could not verify".
    """
    for attempt in range(1, ATTEMPTS):
        with contextlib.suppress(ProberFellBehind):
            return _attempt(_measure_once(profile, plans), attempt)
    return _attempt(_measure_once(profile, plans), ATTEMPTS)


def _attempt(results: dict[str, RateLimitResult], attempt: int) -> dict[str, RateLimitResult]:
    return {route: dataclasses.replace(result, attempts=attempt) for route, result in results.items()}


def _measure_once(profile: Profile, plans: dict[str, OverloadPlan]) -> dict[str, RateLimitResult]:
    gateway = profile.gateway
    limits = {name: declared_limit(profile, name) for name in plans}
    context = ssl_context(gateway.ca_bundle, gateway.verify_tls)
    overload_plan, recovery_plan = [], []
    for name, plan in plans.items():
        route = gateway.routes[name]
        overload_plan += [
            planned_request(route, t, f"overload {name}") for t in steady(plan.offered_per_s, plan.duration_s)
        ]
        recovery_plan += [planned_request(route, t, f"recovery {name}") for t in recovery_times(limits[name])]
    time.sleep(max(drain_time_s(limit) for limit in limits.values()))  # whatever came before: idle buckets
    overload = run_schedule(gateway.base_url, overload_plan, context=context, timeout_s=gateway.timeout)
    time.sleep(max(recovery_wait_s(limit) for limit in limits.values()))
    recovery = run_schedule(gateway.base_url, recovery_plan, context=context, timeout_s=gateway.timeout)
    return {
        name: dataclasses.replace(
            _result(
                name,
                limits[name],
                plan,
                dataclasses.replace(overload, outcomes=overload.stream(f"overload {name}")),
                dataclasses.replace(recovery, outcomes=recovery.stream(f"recovery {name}")),
            ),
            alongside=tuple(other for other in plans if other != name),
        )
        for name, plan in plans.items()
    }


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
        raise ProberFellBehind(
            f"route {route}: the prober started {late} of {len(outcomes)} overload requests over 10 ms late "
            "(this machine is busy); the limit cannot be measured"
        )
    answered = [outcome for outcome in outcomes if outcome.status != 0]
    admitted = [not is_rejection(outcome, limit.status) for outcome in answered]
    times = [outcome.sent_s for outcome in answered]
    estimate = estimate_limit(times, admitted)
    window_fit, fitted_model = _fit_models(limit, times, admitted, estimate)
    rejected = Counter(outcome.status for outcome in answered if is_rejection(outcome, limit.status))
    headers = sorted(
        {
            key
            for outcome in answered
            if is_rejection(outcome, limit.status)
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
        window_s=limit.window,
        window_fit=window_fit,
        fitted_model=fitted_model,
        limit_headers=tuple(headers),
        recovery_statuses=tuple(outcome.status for outcome in recovery.outcomes),
        samples=tuple(
            Sample(round(o.intended_s * 1000, 2), round(o.sent_s * 1000, 2), o.status, round(o.latency_s * 1000, 2))
            for o in outcomes
        ),
    )


def _fit_models(
    limit: RateLimit, times: list[float], admitted: list[bool], estimate: LimitEstimate
) -> tuple[WindowFit | None, str]:
    """The window limit that explains the admissions, and the model the judgement uses."""
    if limit.algorithm in BUCKET_ALGORITHMS or not times:
        return None, limit.algorithm
    declared = limit.algorithm
    models = WINDOW_MODELS if declared in ("window", "auto") else (declared,)
    counts = (False, True) if limit.counts_rejected is None else (limit.counts_rejected,)
    fit = fit_window(times, admitted, limit.window, models, counts)
    if fit.model == "sliding-window-counter" and fit.counts_rejected:
        raise ProbeError(f"the admissions fit a limit that cannot be measured: {AMBIGUOUS}")
    if declared != "auto":
        return fit, fit.model
    bucket = _bucket_fit(estimate, times, admitted)
    if bucket is not None and bucket[1] < fit.gap_sum:
        return None, bucket[0]
    return fit, fit.model


def _bucket_fit(estimate: LimitEstimate, times: list[float], admitted: list[bool]) -> tuple[str, int] | None:
    """Which bucket (nginx's, a token bucket) with the estimated rate and capacity follows the admissions
    more closely, and how closely (the sum of its running-count gaps, as for the window fit)."""
    if estimate.rate_per_s is None or estimate.capacity is None:
        return None
    rate, capacity = estimate.rate_per_s, estimate.capacity
    candidates: dict[str, Bucket] = {
        "nginx": NginxLimitReq(rate, max(0, round(capacity - 1))),
        "token-bucket": TokenBucket(rate, max(1.0, capacity)),
    }
    relative = [t - times[0] for t in times]
    gaps = {
        name: running_gaps(bucket, relative, admitted, len(times) ** 2 + 1)[0] for name, bucket in candidates.items()
    }
    best = min(gaps, key=lambda name: gaps[name])
    return best, gaps[best]


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
