from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infragate.quantities import Rate, parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("5s", 5), ("2m", 120), ("1h", 3600), ("30d", 2592000), (7, 7.0), ("1.5s", 1.5)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5 parsecs", "-1s", True, None, "s5", -3])
def test_bad_durations_say_what_is_expected(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("100r/s", 100), ("1000r/m", 1000 / 60), ("10/s", 10), ("60 requests/minute", 1), (25, 25), ("3600r/h", 1)],
)
def test_rates(text: object, per_second: float) -> None:
    assert parse_rate(text).per_second == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["0r/s", "fast", "100r/fortnight", False, 0, -5])
def test_bad_rates(text: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["s", "m", "h"]))
def test_rate_round_trips_through_its_text(count: int, unit: str) -> None:
    rate = parse_rate(f"{count}r/{unit}")
    assert parse_rate(str(rate)) == rate
    assert rate == Rate(count, {"s": 1.0, "m": 60.0, "h": 3600.0}[unit])
