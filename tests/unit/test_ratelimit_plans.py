"""Planning a measurement: slow and per-minute limits get the longer overload the profile allows,
and the plan still recovers the limit of a simulated nginx; their recovery sends fewer calls."""

from __future__ import annotations

import pytest

from infragate.errors import ProbeError
from infragate.probes.ratelimit.estimator import NginxLimitReq, estimate_limit
from infragate.probes.ratelimit.measure import drain_time_s, plan_overload, recovery_times, recovery_wait_s
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


def test_calm_calls_start_once_a_bucket_has_room_for_one_and_once_windows_have_passed() -> None:
    bucket = RateLimit(rate="10r/s", burst=5)  # drains its 6 in 0.6 s; room for one after 0.1 s
    assert recovery_wait_s(bucket) == pytest.approx(0.1 + 0.2)
    assert drain_time_s(bucket) == pytest.approx(0.6 + 0.2)
    window = RateLimit(rate="20r/s", algorithm="sliding-window", window=1)
    assert recovery_wait_s(window) == drain_time_s(window) == pytest.approx(2.2)
    unsure = RateLimit(rate="10r/s", burst=5, algorithm="auto")  # it may be a window: wait for two
    assert recovery_wait_s(unsure) == drain_time_s(unsure) == pytest.approx(2.2)


def test_recovery_sends_a_few_calm_calls_and_a_slow_limit_only_one() -> None:
    assert recovery_times(RateLimit(rate="10r/s")) == [0.0, 0.2, 0.4]
    assert recovery_times(RateLimit(rate="5r/m")) == [0.0]
