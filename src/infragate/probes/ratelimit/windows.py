"""Window limiters, and fitting them to what a route admitted.

Most gateways do not run a leaky bucket: HAProxy's stick tables keep a request rate over a sliding
window (``http_req_rate(1s)``, a counter of this period plus the previous one weighted by how much
of it is still inside the window), Envoy's and Kong's local limits count in fixed windows, others
keep a log of recent requests. Each admits at most ``limit`` requests per ``window``; they differ
in where windows start and in whether a rejected request counts too (HAProxy's ``http_req_rate``
counts every request it tracks, so a client that keeps overloading stays shut out; a limit kept
with ``sc_inc_gpc0`` on admission only lets ``limit`` through per window).

There is no closed form to invert here, so the fit simulates: for each candidate limit (and window
start), replay the requests' arrival times through the model and follow how far its running count
of admissions strays from the observed one. The limit that stays closest explains the
observations; the largest gap says how well.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

PHASES = 40  # window starts tried on a grid (then as many again around the best) for clock-aligned windows
MAX_GAP = 3  # requests the model's running count of admissions may stray from the observed one
MAX_GAP_SHARE = 0.05  # or this share of the admissions, when that is more
WINDOW_MODELS = ("fixed-window", "sliding-window", "sliding-window-counter")


class FixedWindow:
    """At most `limit` requests in each window [phase + k w, phase + (k + 1) w)."""

    def __init__(self, limit: int, window_s: float, phase_s: float = 0.0, counts_rejected: bool = False) -> None:
        self._limit, self._window, self._phase, self._counts_rejected = limit, window_s, phase_s, counts_rejected
        self._index: int | None = None
        self._count = 0

    def offer(self, at_s: float) -> bool:
        """Whether a request arriving at at_s is admitted."""
        index = math.floor((at_s - self._phase) / self._window)
        if index != self._index:
            self._index, self._count = index, 0
        admitted = self._count < self._limit
        if admitted or self._counts_rejected:
            self._count += 1
        return admitted


class SlidingWindowLog:
    """At most `limit` requests in any window of length w ending now (a log of recent requests)."""

    def __init__(self, limit: int, window_s: float, phase_s: float = 0.0, counts_rejected: bool = False) -> None:
        self._limit, self._window, self._counts_rejected = limit, window_s, counts_rejected
        self._log: deque[float] = deque()

    def offer(self, at_s: float) -> bool:
        """Whether a request arriving at at_s is admitted."""
        while self._log and self._log[0] <= at_s - self._window:
            self._log.popleft()
        admitted = len(self._log) < self._limit
        if admitted or self._counts_rejected:
            self._log.append(at_s)
        return admitted


class SlidingWindowCounter:
    """HAProxy's frequency counter: this period's count plus the previous period's, weighted by the
    share of the previous period still inside a window ending now; admitted while that, counting
    this request, stays at most `limit`."""

    def __init__(self, limit: int, window_s: float, phase_s: float = 0.0, counts_rejected: bool = False) -> None:
        self._limit, self._window, self._phase, self._counts_rejected = limit, window_s, phase_s, counts_rejected
        self._index: int | None = None
        self._current = 0
        self._previous = 0

    def offer(self, at_s: float) -> bool:
        """Whether a request arriving at at_s is admitted."""
        position = (at_s - self._phase) / self._window
        index = math.floor(position)
        if self._index is None or index > self._index + 1:
            self._previous, self._current = 0, 0
        elif index == self._index + 1:
            self._previous, self._current = self._current, 0
        self._index = index
        remaining = 1.0 - (position - index)
        admitted = self._current + 1 + self._previous * remaining <= self._limit
        if admitted or self._counts_rejected:
            self._current += 1
        return admitted


Limiter = FixedWindow | SlidingWindowLog | SlidingWindowCounter


class Bucket(Protocol):
    """Anything that admits or rejects a request arriving at a time (the buckets of the estimator too)."""

    def offer(self, at_s: float) -> bool:
        """Whether a request arriving at at_s is admitted."""
        ...


_MODELS: dict[str, Callable[[int, float, float, bool], Limiter]] = {
    "fixed-window": FixedWindow,
    "sliding-window": SlidingWindowLog,
    "sliding-window-counter": SlidingWindowCounter,
}


def window_limiter(
    model: str, limit: int, window_s: float, phase_s: float = 0.0, counts_rejected: bool = False
) -> Limiter:
    """A window limiter of the named model."""
    return _MODELS[model](limit, window_s, phase_s, counts_rejected)


@dataclass(frozen=True)
class WindowFit:
    """The window limit that best explains how many requests were admitted, and when."""

    model: str
    counts_rejected: bool
    limit: int
    window_s: float
    gap_sum: int  # sum over requests of |admitted so far by the model - admitted so far, observed|
    worst_gap: int  # the largest such difference, in requests
    requests: int
    admitted: int

    @property
    def rate_per_s(self) -> float:
        """The sustained rate the limit allows."""
        return self.limit / self.window_s

    @property
    def explained(self) -> bool:
        """Whether the model follows the admissions closely: never more than a few requests (5 %) apart."""
        return self.worst_gap <= max(MAX_GAP, MAX_GAP_SHARE * self.admitted)

    def describe(self) -> str:
        """The fitted limit in words."""
        counted = ", rejected requests counted" if self.counts_rejected else ""
        return (
            f"{self.model} of {self.limit} per {self.window_s:g} s{counted} (its admissions at most "
            f"{self.worst_gap} apart from the {self.admitted} observed in {self.requests} requests)"
        )


def running_gaps(
    limiter: Limiter | Bucket, times: Sequence[float], admitted: Sequence[bool], stop_at: int
) -> tuple[int, int]:
    """How far the model's running count of admissions strays from the observed one: (sum, worst)."""
    predicted = observed = total = worst = 0
    for at_s, ok in zip(times, admitted, strict=True):
        predicted += limiter.offer(at_s)
        observed += ok
        gap = abs(predicted - observed)
        total += gap
        worst = max(worst, gap)
        if total >= stop_at:
            break
    return total, worst


def peak_admissions(times: Sequence[float], admitted: Sequence[bool], window_s: float) -> int:
    """The most requests admitted within any span of one window length."""
    kept = [t for t, ok in zip(times, admitted, strict=True) if ok]
    peak, start = 0, 0
    for end, at_s in enumerate(kept):
        while kept[start] <= at_s - window_s:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def fit_window(
    times: Sequence[float],
    admitted: Sequence[bool],
    window_s: float,
    models: Sequence[str] = WINDOW_MODELS,
    counts_rejected: Sequence[bool] = (False, True),
) -> WindowFit:
    """The model, limit and window start whose admissions follow the observed ones most closely.

    times are when requests reached the limiter, in order, from an idle client. The fit compares
    running counts, not each request's fate: which request a counter admits flips with a tenth of
    a millisecond of its window's start, how many it admits does not. Any window model admits
    between its limit and twice its limit within one window length, so the limits tried run from
    half the peak to just above it.
    """
    if len(times) != len(admitted) or not times:
        raise ValueError("one admitted flag per request, and at least one request")
    if not models or not counts_rejected:
        raise ValueError("at least one model to fit")
    relative = [t - times[0] for t in times]
    peak = peak_admissions(relative, admitted, window_s)
    worst_case = len(relative) * len(relative) + 1
    best = WindowFit(
        models[0], counts_rejected[0], max(peak, 1), window_s, worst_case, len(relative), len(relative), sum(admitted)
    )
    # The likeliest first (a log admits its limit within one window, other models up to twice it), so
    # that a good fit is found early and every later candidate stops as soon as it is worse.
    for model in sorted(models, key=lambda name: name != "sliding-window"):
        phases = [0.0] if model == "sliding-window" else [window_s * k / PHASES for k in range(PHASES)]
        for counts in counts_rejected:
            for limit in range(peak + 1, max(1, peak // 2) - 1, -1):
                best = _best_phase(best, model, counts, limit, phases, relative, admitted)
    return best


def _best_phase(
    best: WindowFit,
    model: str,
    counts: bool,
    limit: int,
    phases: list[float],
    times: list[float],
    admitted: Sequence[bool],
) -> WindowFit:
    """The best fit so far, or a better one at some window start: a coarse grid, then finer around its best."""
    best, found = _scan(best, model, counts, limit, phases, times, admitted)
    if found is None or len(phases) == 1:
        return best
    step = best.window_s / PHASES
    finer = [(found + step * (k / PHASES - 0.5)) % best.window_s for k in range(PHASES + 1)]
    return _scan(best, model, counts, limit, finer, times, admitted)[0]


def _scan(
    best: WindowFit,
    model: str,
    counts: bool,
    limit: int,
    phases: list[float],
    times: list[float],
    admitted: Sequence[bool],
) -> tuple[WindowFit, float | None]:
    """The best fit over these window starts (or the one given), and the start that improved on it."""
    found: float | None = None
    for phase in phases:
        # The window that holds the first request started up to one window length before it.
        limiter = window_limiter(model, limit, best.window_s, -phase, counts)
        total, worst = running_gaps(limiter, times, admitted, best.gap_sum)
        if total < best.gap_sum:
            best = WindowFit(model, counts, limit, best.window_s, total, worst, len(times), best.admitted)
            found = phase
    return best, found
