"""What one load worker counts: the current interval's counters and latencies, and the run's so far."""

from __future__ import annotations

from collections import Counter

from hdrh.histogram import HdrHistogram

from infragate.loadgen.histogram import HIGHEST_US, LOWEST_US, new_histogram


class Tally:
    """Counters and latencies of one worker: the current interval's, and the run's so far.

    The hot path only bumps the interval's counters and counts latencies by whole microsecond; once
    an interval those go into its HdrHistogram and the run's totals (same result, less work a request).
    """

    def __init__(self) -> None:
        self.total = new_histogram()
        self.counts: Counter[str] = Counter()
        self.interval_counts: Counter[str] = Counter()
        self.interval_latencies_us: Counter[int] = Counter()
        self.statuses: Counter[int] = Counter()
        self.kinds: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = {}  # per request kind: ok, throttled, errors
        self.errors: Counter[str] = Counter()
        self.max_lag_s = 0.0
        self.interval_max_lag_s = 0.0

    def take_interval(self) -> tuple[HdrHistogram, Counter[str], float]:
        """The interval so far (histogram, counters, largest start lag), added to the totals; a new one begins."""
        latencies, counts, lag = self.interval_latencies_us, self.interval_counts, self.interval_max_lag_s
        self.interval_latencies_us, self.interval_counts, self.interval_max_lag_s = Counter(), Counter(), 0.0
        histogram = new_histogram()
        for value, count in latencies.items():
            histogram.record_value(min(max(value, LOWEST_US), HIGHEST_US), count)
        self.total.add(histogram)
        self.counts.update(counts)
        return histogram, counts, lag
