"""Rate-limit models and the estimator that recovers a limit's rate and burst from what it admitted.

From an idle bucket, a steady overload is admitted exactly ``capacity + rate * span`` times, where
nginx's ``limit_req ... burst=b nodelay`` has capacity ``b + 1`` and a token bucket of size B has
capacity B. The estimator fits the rate to the admissions after the first rejection, then takes
the capacity from the bounds every request puts on the pair: an admitted k-th request at time t says
``C + r t >= k``; a request rejected after k admissions says ``C + r t < k + 1``. The rates for
which some capacity satisfies all of them form an interval; the estimate is its middle, and the
capacity the middle of what that rate allows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

MIN_STEADY_ADMISSIONS = 3


@dataclass(frozen=True)
class LimitEstimate:
    """Estimated sustained rate and capacity of a limit, or why there is none."""

    rate_per_s: float | None
    capacity: float | None
    steady_admissions: int
    reason: str = ""

    @property
    def known(self) -> bool:
        """Whether both rate and capacity could be estimated."""
        return self.rate_per_s is not None and self.capacity is not None


def estimate_limit(sent_s: Sequence[float], admitted: Sequence[bool]) -> LimitEstimate:
    """Estimate rate and capacity from one overload that started with an idle bucket.

    sent_s are the times the requests reached the limiter (in order), admitted whether each got through.
    """
    if len(sent_s) != len(admitted):
        raise ValueError("one admitted flag per request")
    if not sent_s:
        return LimitEstimate(None, None, 0, "no request was sent")
    origin = sent_s[0]
    times = [t - origin for t in sent_s]
    if all(admitted):
        return LimitEstimate(None, None, 0, f"no request was rejected: all {len(times)} were admitted")
    first_rejection = admitted.index(False)
    steady: list[tuple[float, int]] = []
    count = 0
    for index, (t, ok) in enumerate(zip(times, admitted, strict=True)):
        if ok:
            count += 1
            if index > first_rejection:
                steady.append((t, count))
    if len(steady) < MIN_STEADY_ADMISSIONS:
        return LimitEstimate(
            None,
            None,
            len(steady),
            f"only {len(steady)} request(s) admitted after the first rejection; too few for a rate",
        )
    admissions: list[tuple[float, int]] = []  # (t, k): the k-th admission came at t, so C + r t >= k
    rejections: list[tuple[float, int]] = []  # (t, k): rejected after k admissions, so C + r t < k + 1
    count = 0
    for t, ok in zip(times, admitted, strict=True):
        if ok:
            count += 1
            admissions.append((t, count))
        else:
            rejections.append((t, count + 1))

    def lower(rate: float) -> float:
        return max(k - rate * t for t, k in admissions)

    def upper(rate: float) -> float:
        return min(k - rate * t for t, k in rejections)

    def room(rate: float) -> float:
        # Concave in rate: positive exactly where some capacity fits every observation.
        return upper(rate) - lower(rate)

    span = max(times) or 1.0
    low, high = 0.0, 2.0 * len(times) / span
    best = _argmax_concave(room, low, high)
    if room(best) > 0:
        left = _crossing(room, low, best)
        right = _crossing(room, high, best)
        rate = (left + right) / 2
    else:
        rate = best  # no (rate, capacity) fits exactly (jitter): take the one that fits best
    capacity = (lower(rate) + upper(rate)) / 2
    return LimitEstimate(rate, capacity, len(steady))


def _argmax_concave(function: Callable[[float], float], low: float, high: float, rounds: int = 50) -> float:
    for _ in range(rounds):
        third = (high - low) / 3
        if function(low + third) < function(high - third):
            low += third
        else:
            high -= third
    return (low + high) / 2


def _crossing(function: Callable[[float], float], outside: float, inside: float, rounds: int = 40) -> float:
    """Where a function that is positive at inside drops to zero on the way to outside."""
    if function(outside) > 0:
        return outside
    for _ in range(rounds):
        middle = (outside + inside) / 2
        if function(middle) > 0:
            inside = middle
        else:
            outside = middle
    return (outside + inside) / 2


class NginxLimitReq:
    """nginx's limit_req with nodelay: millisecond clock, excess in thousandths, no update on rejection."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self._rate_milli = int(rate_per_s * 1000)
        self._burst_milli = burst * 1000
        self._excess = 0
        self._last_ms: int | None = None
        self.forfeited = 0.0  # credit lost to the floor at zero excess (idle bucket), in requests

    def offer(self, at_s: float) -> bool:
        """Whether a request arriving at at_s is admitted."""
        now = int(at_s * 1000)
        if self._last_ms is None:
            self._last_ms, self._excess = now, 0
            return True
        elapsed = abs(now - self._last_ms)
        excess = self._excess - self._rate_milli * elapsed // 1000 + 1000
        if excess < 0:
            self.forfeited += -excess / 1000
            excess = 0
        if excess > self._burst_milli:
            return False
        self._excess = excess
        if elapsed:
            self._last_ms = now
        return True


class TokenBucket:
    """A token bucket that starts full: capacity tokens, refilled continuously at rate per second."""

    def __init__(self, rate_per_s: float, capacity: float) -> None:
        self._rate = rate_per_s
        self._capacity = capacity
        self._tokens = capacity
        self._last: float | None = None
        self.forfeited = 0.0  # tokens lost to a full bucket, in requests

    def offer(self, at_s: float) -> bool:
        """Whether a request arriving at at_s takes a token."""
        if self._last is not None:
            refilled = self._tokens + (at_s - self._last) * self._rate
            if self._tokens < self._capacity < refilled:
                self.forfeited += refilled - self._capacity
            self._tokens = min(self._capacity, refilled)
        self._last = at_s
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
