"""Planning a measurement: slow and per-minute limits get the longer overload the profile allows,
and the plan still recovers the limit of a simulated nginx; their recovery sends fewer calls."""

from __future__ import annotations

import pytest

from infragate.errors import ProbeError
from infragate.probes.ratelimit.estimator import NginxLimitReq, estimate_limit
from infragate.probes.ratelimit.measure import plan_overload, recovery_times
from infragate.probes.traffic import steady
from infragate.profile.model import RateLimit, Safety

SAFETY = Safety(environment="sandbox", max_rate=400, max_duration=600, max_requests=5000)


def test_a_per_minute_limit_needs_a_longer_overload_than_the_default_bound_and_says_how_to_allow_it() -> None:
    with pytest.raises(ProbeError, match=r"rate_limit.probe_for allows a longer overload"):
        plan_overload(RateLimit(rate="5r/m", burst=2), SAFETY)


def test_the_safety_cap_still_bounds_a_declared_longer_overload() -> None:
    short_safety = Safety(environment="sandbox", max_rate=400, max_duration=60, max_requests=5000)
    with pytest.raises(ProbeError, match=r"rate_limit.probe_for \(300 s\) and the safety caps allow 60.0 s"):
        plan_overload(RateLimit(rate="5r/m", burst=2, probe_for="5m"), short_safety)


@pytest.mark.parametrize(("declared", "per_minute", "burst"), [("5r/m", 5, 2), ("30r/m", 30, 0), ("1r/s", 60, 4)])
def test_a_slow_limit_measured_for_as_long_as_declared_is_recovered(declared: str, per_minute: int, burst: int) -> None:
    limit = RateLimit(rate=declared, burst=burst, probe_for="8m")
    plan = plan_overload(limit, SAFETY)
    assert plan.duration_s <= 480
    rate = per_minute / 60
    # What nginx's limit_req ... burst=b nodelay admits of the planned, evenly spaced overload.
    limiter = NginxLimitReq(rate, burst)
    times = steady(plan.offered_per_s, plan.duration_s)
    estimate = estimate_limit(times, [limiter.offer(t) for t in times])
    assert estimate.rate_per_s == pytest.approx(rate, rel=limit.rate_tolerance)
    assert estimate.capacity is not None and abs(estimate.capacity - 1 - burst) <= limit.burst_tolerance


def test_recovery_sends_a_few_calm_calls_and_a_slow_limit_only_one() -> None:
    assert recovery_times(RateLimit(rate="10r/s")) == [0.0, 0.2, 0.4]
    assert recovery_times(RateLimit(rate="5r/m")) == [0.0]
