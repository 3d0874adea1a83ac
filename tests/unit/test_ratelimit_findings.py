"""The rate-limit judgements on constructed findings: a window fit judged against the declaration,
a fit that explains nothing, and the isolation of clients and routes."""

from __future__ import annotations

import dataclasses

import pytest

from infragate.probes.ratelimit import measure
from infragate.probes.ratelimit.estimator import LimitEstimate
from infragate.probes.ratelimit.findings import IsolationResult, RateLimitResult
from infragate.probes.ratelimit.windows import WindowFit

FIT = WindowFit("sliding-window-counter", False, 50, 1.0, gap_sum=12, worst_gap=1, requests=450, admitted=160)
RESULT = RateLimitResult(
    route="api",
    declared_rate_per_s=50,
    declared_burst=0,
    declared_capacity=50,
    declared_status=429,
    algorithm="sliding-window-counter",
    rate_tolerance=0.1,
    burst_tolerance=3,
    offered_per_s=150,
    duration_s=3,
    sent=450,
    admitted=160,
    rejected_by_status={429: 290},
    errors=0,
    late_starts=0,
    estimate=LimitEstimate(None, None, 0, "only 0 request(s) admitted after the first rejection"),
    window_s=1.0,
    window_fit=FIT,
    fitted_model="sliding-window-counter",
    limit_headers=(),
    recovery_statuses=(200,) * 5,
    samples=(),
)


def test_a_window_fit_at_the_declared_limit_is_conformant() -> None:
    assert (RESULT.rate_check().problem, RESULT.burst_check().problem, RESULT.status_check().problem) == (
        None,
        None,
        None,
    )
    assert RESULT.observed_rate_per_s == 50 and RESULT.estimated_burst == 0


def test_a_raised_window_limit_fails_on_rate_and_burst() -> None:
    raised = dataclasses.replace(RESULT, window_fit=dataclasses.replace(FIT, limit=80))
    problem = raised.rate_check().problem
    assert problem is not None and problem.startswith(
        "expected route api to admit 50/s ± 10%, observed a sliding-window-counter of 80 per 1 s"
    )
    assert "observed 30.0 (offered" in (raised.burst_check().problem or "")


def test_a_fit_that_strays_from_the_admissions_says_no_such_limit_is_at_work() -> None:
    stray = dataclasses.replace(RESULT, window_fit=dataclasses.replace(FIT, worst_gap=40))
    problem = stray.rate_check().problem
    assert problem is not None and "observed no sliding-window-counter limit explains the admissions" in problem
    assert "no sliding-window-counter limit explains" in (stray.burst_check().problem or "")


def test_a_leaky_bucket_judgement_is_unchanged_without_a_window_fit() -> None:
    bucket = dataclasses.replace(
        RESULT, algorithm="nginx", fitted_model="nginx", window_fit=None, estimate=LimitEstimate(101.0, 21.5, 60)
    )
    assert bucket.observed_rate_per_s == 101.0 and bucket.estimated_burst == 20.5
    assert "to allow a burst of 0 ± 3, observed 20.5" in (bucket.burst_check().problem or "")


def test_isolation_needs_the_overload_throttled_and_the_bystander_untouched() -> None:
    isolated = IsolationResult("search", "search", "127.0.0.2", 450, 280, {200: 30})
    assert (isolated.overload_check().problem, isolated.bystander_check().problem) == (None, None)
    shared = IsolationResult("search", "search", "127.0.0.2", 450, 280, {200: 12, 429: 18})
    assert shared.bystander_check().problem == (
        "expected requests from 127.0.0.2 on route search never throttled while route search was overloaded, "
        "observed statuses {200: 12, 429: 18}"
    )
    unlimited = IsolationResult("api", "auth", None, 450, 0, {200: 30})
    assert unlimited.overload_check().problem == (
        "expected the overloading client to be throttled on route api, observed all 450 requests admitted"
    )


def test_isolation_falls_back_to_one_pair_at_a_time_only_when_the_caps_refuse_them_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infragate.errors import ProbeError
    from infragate.probes.ratelimit import isolation

    calls: list[list[tuple[str, str, str | None]]] = []

    def measured(profile: object, pairs: list[tuple[str, str, str | None]]) -> list[IsolationResult]:
        calls.append(list(pairs))
        if len(pairs) > 1:
            raise isolation._TooMuchAtOnce("safety.max_rate does not allow these overloads and callers at once")
        over, by, source = pairs[0]
        return [IsolationResult(over, by, source, 100, 40, {200: 10})]

    monkeypatch.setattr(isolation, "measure_pairs", measured)
    survey = isolation.client_isolation(None, ["api", "search"], "127.0.0.2")  # type: ignore[arg-type]
    assert [result.bystander_route for result in survey.results] == ["api", "search"]
    assert [len(pairs) for pairs in calls] == [2, 1, 1]

    def silent(profile: object, pairs: list[tuple[str, str, str | None]]) -> list[IsolationResult]:
        raise ProbeError("route api: overload: 40 of 100 requests got no answer")

    monkeypatch.setattr(isolation, "measure_pairs", silent)
    with pytest.raises(ProbeError, match="got no answer"):
        isolation.route_isolation(None, ["api", "search"])  # type: ignore[arg-type]


def test_a_measurement_whose_prober_fell_behind_is_repeated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []
    plans = {"api": measure.OverloadPlan(150, 3)}

    def behind_then(outcomes: list[str]) -> object:
        def measure_once(profile: object, planned: dict[str, object]) -> dict[str, RateLimitResult]:
            attempts.extend(planned)
            if outcomes.pop(0) == "behind":
                raise measure.ProberFellBehind("the prober started 40 of 450 overload requests over 10 ms late")
            return {"api": RESULT}

        return measure_once

    monkeypatch.setattr(measure, "_measure_once", behind_then(["behind", "kept"]))
    assert measure.measure_together(None, plans)["api"].attempts == 2  # type: ignore[arg-type]
    monkeypatch.setattr(measure, "_measure_once", behind_then(["behind", "behind", "kept"]))
    with pytest.raises(measure.ProberFellBehind, match="40 of 450"):
        measure.measure_together(None, plans)  # type: ignore[arg-type]
    assert len(attempts) == 4  # twice each: never a third overload
