"""What a rate-limit measurement found: every request as evidence, the fitted limit beside the
declared one, and the judgement of rate, burst, status, recovery and isolation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from infragate.probes.ratelimit.estimator import LimitEstimate
from infragate.probes.ratelimit.windows import WindowFit
from infragate.profile.model import RateLimit
from infragate.verdicts import Check

REJECTION_STATUSES = frozenset({429, 503})
WINDOW_ALGORITHMS = frozenset({"fixed-window", "sliding-window", "sliding-window-counter", "window"})
BUCKET_ALGORITHMS = frozenset({"nginx", "token-bucket"})


def counts_in_windows(limit: RateLimit) -> bool:
    """Whether the declared limit counts requests in windows (not a bucket)."""
    return limit.algorithm in WINDOW_ALGORITHMS


def declared_capacity(limit: RateLimit) -> float:
    """Requests admitted at once from an idle bucket, as the declaration implies."""
    if counts_in_windows(limit):
        return limit.rate.per_second * limit.window + limit.burst
    return limit.burst + 1 if limit.algorithm in ("nginx", "auto") else float(max(limit.burst, 1))


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
    window_s: float
    window_fit: WindowFit | None  # the window limit that explains the admissions (window algorithms, auto)
    fitted_model: str  # the model the judgement used: the declared one, or what auto found
    limit_headers: tuple[str, ...]
    recovery_statuses: tuple[int, ...]
    samples: tuple[Sample, ...]
    attempts: int = 1  # 2 when the first overload's prober fell behind its schedule
    alongside: tuple[str, ...] = ()  # the routes overloaded at the same time (batches.survey_limits)

    @property
    def observed_rate_per_s(self) -> float | None:
        """The sustained rate of the fitted limit."""
        return self.window_fit.rate_per_s if self.window_fit is not None else self.estimate.rate_per_s

    @property
    def estimated_burst(self) -> float | None:
        """The burst the fit implies, in the declaration's terms."""
        if self.window_fit is not None:  # what a window admits beyond the declared rate over it
            return self.window_fit.limit - self.declared_rate_per_s * self.window_s
        if self.estimate.capacity is None:
            return None
        return self.estimate.capacity - 1 if self.fitted_model == "nginx" else self.estimate.capacity

    def _unexplained(self) -> str | None:
        fit = self.window_fit
        if fit is not None and not fit.explained:
            return f"no {self.algorithm} limit explains the admissions (best: {fit.describe()})"
        return None

    def rate_check(self) -> Check:
        """The admitted rate matches the declaration."""
        observed = self.observed_rate_per_s
        expected = f"route {self.route} to admit {self.declared_rate_per_s:g}/s ± {self.rate_tolerance:.0%}"
        if (unexplained := self._unexplained()) is not None:
            return Check.compare("admitted rate", expected, f"{unexplained}; offered {self._offered()}", False)
        if observed is None:
            seen = f"no sustained limit ({self.estimate.reason}; offered {self._offered()})"
            return Check.compare("admitted rate", expected, seen, False)
        how = f"a {self.window_fit.describe()}, " if self.window_fit is not None else ""
        seen = f"{how}{observed:.1f}/s (offered {self._offered()}, {self.admitted} admitted)"
        holds = abs(observed - self.declared_rate_per_s) <= self.rate_tolerance * self.declared_rate_per_s
        return Check.compare("admitted rate", expected, seen, holds)

    def burst_check(self) -> Check:
        """The admitted burst matches the declaration."""
        burst = self.estimated_burst
        expected = f"route {self.route} to allow a burst of {self.declared_burst} ± {self.burst_tolerance:g}"
        if (unexplained := self._unexplained()) is not None:
            return Check.compare("admitted burst", expected, unexplained, False)
        if burst is None:
            return Check.compare("admitted burst", expected, f"no burst limit ({self.estimate.reason})", False)
        holds = abs(burst - self.declared_burst) <= self.burst_tolerance
        return Check.compare("admitted burst", expected, f"{burst:.1f} (offered {self._offered()})", holds)

    def status_check(self) -> Check:
        """Rejections carry the declared status."""
        wrong = [status for status in self.rejected_by_status if status != self.declared_status]
        expected = f"excess requests on route {self.route} rejected with {self.declared_status}"
        seen = f"{dict(sorted(self.rejected_by_status.items()))}" if self.rejected_by_status else "none rejected"
        return Check.compare("rejection status", expected, seen, bool(self.rejected_by_status) and not wrong)

    def recovery_check(self) -> Check:
        """A calm client is admitted again once the overload stops."""
        refused = [status for status in self.recovery_statuses if status in REJECTION_STATUSES]
        expected = (
            f"route {self.route} to admit all {len(self.recovery_statuses)} requests at half its rate "
            "once the overload stopped"
        )
        return Check.compare("recovery", expected, f"statuses {list(self.recovery_statuses)}", not refused)

    def _offered(self) -> str:
        return f"{self.sent} requests at {self.offered_per_s:g}/s over {self.duration_s:.1f} s"


@dataclass(frozen=True)
class IsolationResult:
    """An overload of one client on one route, and what a calm bystander saw meanwhile."""

    overloaded_route: str
    bystander_route: str
    bystander_source: str | None
    overload_sent: int
    overload_rejected: int
    bystander_statuses: dict[int, int]

    def overload_check(self) -> Check:
        """The overload tripped the limit."""
        expected = f"the overloading client to be throttled on route {self.overloaded_route}"
        if self.overload_rejected == 0:
            seen = f"all {self.overload_sent} requests admitted"
        else:
            seen = f"{self.overload_rejected} of {self.overload_sent} requests rejected"
        return Check.compare("overload throttled", expected, seen, self.overload_rejected > 0)

    def bystander_check(self) -> Check:
        """The bystander was never throttled."""
        throttled = [status for status in self.bystander_statuses if status in REJECTION_STATUSES]
        who = f"from {self.bystander_source}" if self.bystander_source else "of the same client"
        expected = (
            f"requests {who} on route {self.bystander_route} never throttled while route "
            f"{self.overloaded_route} was overloaded"
        )
        seen = f"statuses {dict(sorted(self.bystander_statuses.items()))}"
        return Check.compare("bystander untouched", expected, seen, not throttled)
