"""Which routes' limits are measured at once, and what each is offered, within the safety caps."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infragate.errors import ProbeError
from infragate.probes.ratelimit.batches import batches
from infragate.probes.ratelimit.findings import RateLimitResult
from infragate.probes.ratelimit.measure import MIN_OVERLOAD_FACTOR, OVERLOAD_FACTOR, plan_overload
from infragate.profile.model import RateLimit, Safety
from tests.unit.test_ratelimit_findings import FIT, RESULT


def _limits(*rates: float) -> dict[str, RateLimit]:
    return {f"r{index}": RateLimit(rate=f"{rate:g}r/s", burst=5) for index, rate in enumerate(rates)}


def test_the_marketplace_routes_fit_one_schedule_scaled_together() -> None:
    # 100, 10 and 50 r/s offered three times over is 480/s; the reference's cap of 400/s scales all by 5/6.
    (together,) = batches(_limits(100, 10, 50), Safety(environment="sandbox", max_rate=400))
    assert together == {"r0": 400 / 480, "r1": 400 / 480, "r2": 400 / 480}


def test_a_route_that_would_be_offered_too_little_beside_the_others_waits_for_the_next_batch() -> None:
    # Two 100 r/s routes fit 300/s at 150/s each (1.5 times); a third route would push them below that.
    found = batches(_limits(100, 100, 10), Safety(environment="sandbox", max_rate=300))
    assert found == [{"r0": 0.5, "r1": 0.5}, {"r2": 1.0}]


@given(
    st.lists(st.floats(min_value=0.5, max_value=300), min_size=1, max_size=6), st.floats(min_value=50, max_value=900)
)
def test_every_batch_stays_within_the_rate_cap_and_overloads_each_route_enough(rates: list[float], cap: float) -> None:
    limits = _limits(*rates)
    safety = Safety(environment="sandbox", max_rate=cap, max_requests=100_000, max_duration=60)
    found = batches(limits, safety)
    assert [route for batch in found for route in batch] == list(limits)  # each route once, in order
    for batch in found:
        offered = {
            route: min(OVERLOAD_FACTOR * limits[route].rate.per_second, cap) * share for route, share in batch.items()
        }
        assert sum(offered.values()) <= cap * (1 + 1e-9)
        if len(batch) > 1:
            assert all(offered[r] >= MIN_OVERLOAD_FACTOR * limits[r].rate.per_second * (1 - 1e-9) for r in batch)
            for route, share in batch.items():
                with contextlib.suppress(ProbeError):  # a limit too slow to measure is measured alone, and refused
                    assert plan_overload(limits[route], safety, share).offered_per_s == offered[route]


def test_a_route_that_looks_wrong_beside_others_is_measured_again_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from infragate.probes.ratelimit import batches as module
    from infragate.profile.model import Profile

    profile = Profile.model_validate(
        {
            "name": "t",
            "platform": {"kind": "none"},
            "gateway": {
                "base_url": "https://127.0.0.1:9",
                "routes": {
                    name: {
                        "path": f"/{name}",
                        "rate_limit": {
                            "rate": "50r/s",
                            "algorithm": "sliding-window-counter",
                            "counts_rejected": False,
                        },
                    }
                    for name in ("api", "search")
                },
            },
            "safety": {"environment": "sandbox", "max_rate": 400},
        }
    )
    shared = dataclasses.replace(RESULT, admitted=80, window_fit=dataclasses.replace(FIT, limit=25))
    together = {"api": dataclasses.replace(RESULT, alongside=("search",)), "search": shared}
    alone: list[str] = []
    monkeypatch.setattr(module, "measure_together", lambda profile, plans: together)

    def measure_alone(profile: Profile, route: str) -> RateLimitResult:
        alone.append(route)
        return RESULT

    monkeypatch.setattr(module, "measure_route", measure_alone)
    survey = module.survey_limits(profile, ["api", "search"])
    assert alone == ["search"]  # a neighbour in the same limit must not pass for a wrong limit of its own
    assert [result.alongside for result in survey.results] == [("search",), ()]
