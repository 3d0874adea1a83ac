"""What a load run measured: merged histograms and counters, the generator's self-check, and the verdicts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hdrh.histogram import HdrHistogram

from infragate.loadgen.histogram import decode, encode, merged, percentile_s
from infragate.loadgen.plan import LoadPlan
from infragate.verdicts import Check

# The generator's self-check: above these it was not able to offer the plan, and says so.
MAX_LATE_SHARE = 0.01
MAX_CPU_SHARE = 0.90
SPECTRUM_POINTS = (0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100)
# Upper bounds (ms) of the latency histogram's bars: 1-2-5 steps from 0.5 ms to 100 s.
BAR_BOUNDS_MS = tuple(m * 10**e for e in range(-1, 5) for m in (5, 10, 20) if 0.5 <= m * 10**e <= 100_000)


@dataclass(frozen=True)
class Second:
    """One second of the run, all workers merged (by the second in which requests ended)."""

    second: int
    ended: int
    ok: int
    errors: int
    throttled: int
    late: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu_share: float


@dataclass(frozen=True)
class KindOutcome:
    """What the requests of one kind of the mix got."""

    kind: str
    started: int
    ok: int
    throttled: int
    errors: int


def error_share(counts: dict[str, int], scheduled: int) -> float:
    """Errors (not throttling) among the scheduled requests; unfinished ones count as errors. (Also
    what the run history reads from a run's evidence.)"""
    return (int(counts.get("errors", 0)) + int(counts.get("unfinished", 0))) / max(scheduled, 1)


def throughput_per_s(counts: dict[str, int], duration_s: float) -> float:
    """Successful answers per second of the schedule (answers within the grace after it count)."""
    return int(counts.get("ok_in_window", 0)) / duration_s


@dataclass(frozen=True)
class LoadResult:
    """The measured outcome of one load run."""

    # The report charts that explain it.
    CHARTS: ClassVar[tuple[str, ...]] = ("latency", "histogram", "spectrum", "kinds")

    plan: LoadPlan
    scheduled: int
    counts: dict[str, int]
    statuses: dict[str, int]
    kinds: dict[str, int]
    errors: dict[str, int]
    max_lag_s: float
    cpu_share: float
    connections: int
    wall_s: float
    histogram_text: str
    seconds: tuple[Second, ...] = ()
    workers_reported: int = 1
    # (percentile, milliseconds) from p0 to p100, for the percentile-spectrum plot.
    spectrum: tuple[tuple[float, float], ...] = field(default=())
    # (upper bound ms, requests) per bar of the latency histogram, for its plot.
    bars: tuple[tuple[float, int], ...] = field(default=())
    # The declared latency bounds in seconds ("p95", "p99"), drawn on the charts.
    objectives: dict[str, float] = field(default_factory=dict)
    # What each request kind of the mix got, by kind name (the split per kind, and its chart).
    per_kind: tuple[KindOutcome, ...] = ()

    @property
    def histogram(self) -> HdrHistogram:
        """The merged latency histogram of every request (from its intended start)."""
        return decode(self.histogram_text)

    def percentile_ms(self, percentile: float) -> float:
        """A latency percentile in milliseconds, from the intended start times."""
        return percentile_s(self.histogram, percentile) * 1000

    def count(self, name: str) -> int:
        """A counter summed over the workers (sent, ok, errors, throttled, late, held_back, unfinished,
        resent_stale: idempotent requests sent again after a kept-alive connection closed under them)."""
        return int(self.counts.get(name, 0))

    @property
    def ended(self) -> int:
        """Requests that ended (with a response, an error or a timeout)."""
        return self.count("ok") + self.count("errors") + self.count("throttled")

    @property
    def error_share(self) -> float:
        """Errors (not throttling) among the scheduled requests; unfinished ones count as errors."""
        return error_share(self.counts, self.scheduled)

    @property
    def throttled_share(self) -> float:
        """Throttled answers (429 by default) among the scheduled requests."""
        return self.count("throttled") / max(self.scheduled, 1)

    @property
    def throughput_per_s(self) -> float:
        """Successful answers per second of the schedule (answers within the grace after it count)."""
        return throughput_per_s(self.counts, self.plan.duration_s)

    def _split(self, attribute: str) -> str:
        """'; by kind: login 12.0 % (30 of 250), ...' for a mix of several kinds, worst first."""
        rows = sorted(self.per_kind, key=lambda row: -getattr(row, attribute) / max(row.started, 1))
        if len(rows) < 2:
            return ""
        shares = ((row, getattr(row, attribute)) for row in rows)
        return "; by kind: " + ", ".join(
            f"{row.kind} {count / max(row.started, 1):.1%} ({count} of {row.started})" for row, count in shares
        )

    def self_check_problem(self) -> str | None:
        """Why the generator could not offer the plan faithfully, or None when it did."""
        problems = []
        if self.workers_reported < self.plan.workers:
            problems.append(f"only {self.workers_reported} of {self.plan.workers} workers reported")
        late = self.count("late") / max(self.scheduled, 1)
        if late > MAX_LATE_SHARE:
            problems.append(
                f"{self.count('late')} of {self.scheduled} requests ({late:.1%}) started more than "
                f"{self.plan.late_after_s * 1000:.0f} ms after their planned time (at most {MAX_LATE_SHARE:.0%} may)"
            )
        if self.count("held_back"):
            problems.append(
                f"{self.count('held_back')} requests waited for the generator's in-flight cap "
                f"of {self.plan.max_in_flight} per worker"
            )
        if self.cpu_share > MAX_CPU_SHARE:
            problems.append(f"a load process used {self.cpu_share:.0%} of a core (saturated above {MAX_CPU_SHARE:.0%})")
        if not problems:
            return None
        return "the load generator could not keep its schedule, so the latency measured is its own: " + "; ".join(
            problems
        )

    def latency_check(self, percentile: float, bound_s: float) -> Check:
        """The latency percentile against its bound (met only strictly below it)."""
        observed = self.percentile_ms(percentile)
        expected = f"below {bound_s * 1000:g} ms"
        seen = f"{observed:.1f} ms over {self.ended} requests at {self.plan.rate_per_s:g}/s"
        problem = None
        if observed >= bound_s * 1000:
            problem = (
                f"p{percentile:g} latency: expected {expected}, observed {observed:.1f} ms over {self.ended} "
                f"requests at {self.plan.rate_per_s:g}/s (max {self.percentile_ms(100):.1f} ms)"
            )
        return Check.judged(f"p{percentile:g} {expected}", expected, seen, problem)

    def throughput_check(self, required_per_s: float) -> Check:
        """Successful answers per second against the required rate; not judged when less was offered."""
        name, expected = (
            f"throughput at least {required_per_s:g}/s",
            f"at least {required_per_s:g} successful answers/s",
        )
        if self.plan.rate_per_s < required_per_s:
            return Check.not_judged(name, expected, f"{self.plan.rate_per_s:g}/s offered is less than that")
        observed = self.throughput_per_s
        problem = None
        if observed < required_per_s:
            problem = (
                f"throughput: expected {expected}, observed {observed:.1f}/s ({self.count('ok_in_window')} "
                f"answered within {self.plan.duration_s:g} s + {self.plan.grace_s:g} s of {self.scheduled} "
                f"offered at {self.plan.rate_per_s:g}/s)"
            )
        return Check.judged(name, expected, f"{observed:.1f}/s", problem)

    def error_check(self, bound: float) -> Check:
        """The share of errors against its bound (a bound of 0 is met by no error at all)."""
        expected = f"below {bound:.3%}"
        problem = None
        if not (self.error_share < bound or (bound == 0 and self.error_share == 0)):
            top = ", ".join(f"{name} x{count}" for name, count in Counter(self.errors).most_common(3))
            statuses = ", ".join(f"{code} x{n}" for code, n in sorted(self.statuses.items()) if int(code) >= 500)
            problem = (
                f"error rate: expected {expected}, observed {self.error_share:.3%} "
                f"({self.count('errors') + self.count('unfinished')} of {self.scheduled}"
                f"{'; ' + statuses if statuses else ''}{'; ' + top if top else ''}{self._split('errors')})"
            )
        return Check.judged(f"error rate {expected}", expected, f"{self.error_share:.3%}", problem)

    def throttled_check(self, bound: float) -> Check:
        """The share of throttled answers against its bound (counted apart from errors)."""
        expected = f"at most {bound:.3%}"
        problem = None
        if self.throttled_share > bound:
            problem = (
                f"throttled: expected {expected} of requests, observed {self.throttled_share:.3%} "
                f"({self.count('throttled')} of {self.scheduled}, counted apart from errors{self._split('throttled')})"
            )
        return Check.judged(f"throttled {expected}", expected, f"{self.throttled_share:.3%}", problem)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.scheduled} requests at {self.plan.rate_per_s:g}/s for {self.plan.duration_s:g} s: "
            f"p50 {self.percentile_ms(50):.1f} ms, p95 {self.percentile_ms(95):.1f} ms, "
            f"p99 {self.percentile_ms(99):.1f} ms, throughput {self.throughput_per_s:.1f}/s, "
            f"errors {self.error_share:.3%}, throttled {self.throttled_share:.3%}, late starts {self.count('late')}"
        )


def _second_of(records: list[dict[str, Any]]) -> Second:
    counts: Counter[str] = Counter()
    for record in records:
        counts.update(record.get("counts", {}))
    histogram = merged([record["histogram"] for record in records])
    return Second(
        second=int(records[0]["second"]),
        ended=counts["ok"] + counts["errors"] + counts["throttled"],
        ok=counts["ok"],
        errors=counts["errors"],
        throttled=counts["throttled"],
        late=counts["late"],
        p50_ms=percentile_s(histogram, 50) * 1000,
        p95_ms=percentile_s(histogram, 95) * 1000,
        p99_ms=percentile_s(histogram, 99) * 1000,
        max_ms=percentile_s(histogram, 100) * 1000,
        cpu_share=max(float(record.get("cpu_share", 0.0)) for record in records),
    )


def seconds_of(intervals: list[dict[str, Any]]) -> tuple[Second, ...]:
    """Interval messages of every worker merged into one row per second."""
    by_second: dict[int, list[dict[str, Any]]] = {}
    for record in intervals:
        by_second.setdefault(int(record["second"]), []).append(record)
    return tuple(_second_of(by_second[second]) for second in sorted(by_second))


def result_from_records(plan: LoadPlan, records: list[dict[str, Any]]) -> LoadResult:
    """Merge the workers' final messages (exactly) and their interval messages into one result."""
    finals = [record for record in records if record.get("type") == "final"]
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {}
    for final in finals:
        for name, got in final.get("outcomes", {}).items():
            outcomes.setdefault(name, Counter()).update(got)
        counts.update(final.get("counts", {}))
        statuses.update(final.get("statuses", {}))
        kinds.update(final.get("kinds", {}))
        errors.update(final.get("errors", {}))
    histogram = merged([final["histogram"] for final in finals])
    spectrum = tuple((point, percentile_s(histogram, point) * 1000) for point in SPECTRUM_POINTS)
    bars = _bars(histogram)
    return LoadResult(
        plan=plan,
        scheduled=sum(int(final["scheduled"]) for final in finals),
        counts=dict(counts),
        statuses=dict(statuses),
        kinds=dict(kinds),
        errors=dict(errors),
        per_kind=_per_kind(kinds, outcomes),
        max_lag_s=max((float(final["max_lag_s"]) for final in finals), default=0.0),
        cpu_share=max((float(final["cpu_s"]) / max(float(final["wall_s"]), 1e-6) for final in finals), default=0.0),
        connections=sum(int(final.get("connections", 0)) for final in finals),
        wall_s=max((float(final["wall_s"]) for final in finals), default=0.0),
        histogram_text=encode(histogram),
        seconds=seconds_of([record for record in records if record.get("type") == "interval"]),
        workers_reported=len(finals),
        spectrum=spectrum,
        bars=bars,
    )


def _per_kind(started: Counter[str], outcomes: dict[str, Counter[str]]) -> tuple[KindOutcome, ...]:
    """What each request kind got, by name; a request started and never ended counts as an error."""
    rows = []
    for name in sorted(set(started) | set(outcomes)):
        got = outcomes.get(name, Counter())
        ok, throttled = got["ok"], got["throttled"]
        begun = max(started[name], ok + throttled + got["errors"])
        rows.append(KindOutcome(name, begun, ok, throttled, begun - ok - throttled))
    return tuple(rows)


def _bars(histogram: HdrHistogram) -> tuple[tuple[float, int], ...]:
    """Requests per latency bar (1-2-5 steps), from the histogram's recorded values."""
    counts = dict.fromkeys(BAR_BOUNDS_MS, 0)
    for item in histogram.get_recorded_iterator():
        value_ms = item.value_iterated_to / 1000
        bound = next((bound for bound in BAR_BOUNDS_MS if value_ms <= bound), BAR_BOUNDS_MS[-1])
        counts[bound] += item.count_added_in_this_iter_step
    used = [bound for bound, count in counts.items() if count]
    if not used:
        return ()
    first, last = BAR_BOUNDS_MS.index(used[0]), BAR_BOUNDS_MS.index(used[-1])
    return tuple((bound, counts[bound]) for bound in BAR_BOUNDS_MS[first : last + 1])


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON line written so far."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line still being written
                break
    return records
