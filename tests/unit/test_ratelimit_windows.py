"""The window fit against simulated window limiters of every model: fixed windows, sliding logs and
HAProxy's sliding counters, counting rejected requests or not, windows starting anywhere. From an
overload like the prober's, the fitted limit is the true one (within one request) and explains
every request's fate but a few."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from infragate.probes.ratelimit.windows import (
    WINDOW_MODELS,
    FixedWindow,
    SlidingWindowCounter,
    SlidingWindowLog,
    fit_window,
    peak_admissions,
    window_limiter,
)


def _overload(offered_per_s: float, duration_s: float, jitter_ms: list[float]) -> list[float]:
    """The prober's schedule as the limiter sees it: the planned times plus a small, uneven delay.

    Arrivals that fall exactly on a window edge, or a planned grid in step with the window grid,
    happen only in arithmetic, not on a network: each request gets its own delay."""
    count = round(offered_per_s * duration_s)
    spread = [(k * 7919 % 13) / 13 * 0.0004 for k in range(count)]
    return [k / offered_per_s + spread[k] + jitter_ms[k % len(jitter_ms)] / 1000 for k in range(count)]


# Every identifiable model: a counter that counts rejected requests is not (see below).
IDENTIFIABLE = [(m, c) for m in WINDOW_MODELS for c in (False, True) if (m, c) != ("sliding-window-counter", True)]


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(IDENTIFIABLE),
    limit=st.integers(3, 60),
    window_s=st.sampled_from([0.5, 1.0, 2.0]),
    phase=st.floats(0, 1),
    factor=st.floats(1.5, 3.5),
    jitter_ms=st.lists(st.floats(0.05, 1.0), min_size=5, max_size=11, unique=True),
)
def test_the_fit_recovers_the_limit_of_every_window_model(
    kind: tuple[str, bool],
    limit: int,
    window_s: float,
    phase: float,
    factor: float,
    jitter_ms: list[float],
) -> None:
    model, counts_rejected = kind
    rate = limit / window_s
    times = _overload(factor * rate, max(3 * window_s, 2.0), jitter_ms)
    truth = window_limiter(model, limit, window_s, -phase * window_s, counts_rejected)
    admitted = [truth.offer(t) for t in times]
    # As the judgement fits when the profile names the model (with `window` or `auto`, models that
    # explain the same admissions may differ in their limit: see the test below).
    fit = fit_window(times, admitted, window_s, models=(model,))
    assert abs(fit.limit - limit) <= 1, fit.describe()
    # Explained well enough for the judgement to take it as the limit at work.
    assert fit.explained, fit.describe()


def test_haproxy_counting_every_request_shuts_an_overloading_client_out() -> None:
    # http_req_rate(1s) gt 50 -> deny: 150/s for 3 s admits the first 50 and then nothing.
    limiter = SlidingWindowCounter(50, 1.0, counts_rejected=True)
    admitted = [limiter.offer(k / 150) for k in range(450)]
    assert sum(admitted) == 50 and all(admitted[:50])


def test_counting_admitted_only_lets_the_limit_through_every_window() -> None:
    # sc_inc_gpc0 on admission, gpc0_rate(1s) at 50/s: about 50 a second, the rate the leaky-bucket fit got wrong.
    limiter = SlidingWindowCounter(50, 1.0, counts_rejected=False)
    times = [k / 150 for k in range(900)]
    admitted = [limiter.offer(t) for t in times]
    assert 280 <= sum(admitted) <= 320
    fit = fit_window(times, admitted, 1.0)
    assert abs(fit.rate_per_s - 50) <= 1 and not fit.counts_rejected


def test_a_raised_limit_fits_as_the_raised_limit() -> None:
    limiter = SlidingWindowCounter(80, 1.0, counts_rejected=True)
    times = [k / 150 for k in range(450)]
    fit = fit_window(times, [limiter.offer(t) for t in times], 1.0)
    assert fit.limit == 80


def test_fixed_windows_reset_on_their_boundary_and_logs_do_not() -> None:
    fixed, log = FixedWindow(2, 1.0), SlidingWindowLog(2, 1.0)
    times = [0.8, 0.9, 0.95, 1.05, 1.1, 1.85]
    assert [fixed.offer(t) for t in times] == [True, True, False, True, True, False]
    assert [log.offer(t) for t in times] == [True, True, False, False, False, True]


def test_the_peak_counts_admissions_within_one_window_length() -> None:
    times = [0.0, 0.1, 0.2, 1.15, 1.2, 1.3, 1.4]
    assert peak_admissions(times, [True] * 7, 1.0) == 4
    assert peak_admissions(times, [True, False, True, True, True, False, False], 1.0) == 3


def test_a_counter_that_counts_rejections_hides_its_limit_behind_where_its_window_starts() -> None:
    # A counter of 13 whose first window is mostly over admits 15 and then shuts the client out;
    # one of 15 whose window starts with the first request does exactly the same. The measurement
    # says "could not verify" for such a limit rather than pick one (measure.AMBIGUOUS).
    times = _overload(52, 2.0, [1.0, 0.5, 0.75, 0.25, 0.375])
    late = SlidingWindowCounter(13, 0.5, phase_s=-0.375, counts_rejected=True)
    early = SlidingWindowCounter(15, 0.5, phase_s=-times[0], counts_rejected=True)
    assert [late.offer(t) for t in times] == [early.offer(t) for t in times]
