"""The longest gap between two runs of a cron schedule (the five fields a Kubernetes CronJob takes),
for judging a schedule against a declared interval without a clock: pure, unit-tested."""

from __future__ import annotations

import datetime
import itertools

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (int(end) for end in span.split("-", 1))
        else:
            first = int(span)
            last = high if step_text else first
        if not low <= first <= last <= high or step < 1:
            raise ValueError(f"{name} {part!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def longest_gap(schedule: str, start: datetime.date = datetime.date(2026, 1, 1)) -> datetime.timedelta:
    """The longest time between two consecutive runs over a year and a week from ``start``; a
    ValueError names what cannot be read (names such as MON or JAN, and time zones, are not read)."""
    fields = _MACROS.get(schedule.strip(), schedule).split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"a cron schedule has five fields, not {len(fields)}: {schedule!r}")
    try:
        minutes, hours, days, months, weekdays = (
            _field(text, *spec) for text, spec in zip(fields, _FIELDS, strict=True)
        )
    except ValueError as error:
        raise ValueError(f"cron schedule {schedule!r}: {error}") from None
    weekdays = frozenset(day % 7 for day in weekdays)  # 7 is Sunday as 0 is
    either = fields[2] != "*" and fields[4] != "*"  # cron runs on either day when both are restricted
    runs: list[datetime.datetime] = []
    for offset in range(366 + 7):
        day = start + datetime.timedelta(days=offset)
        by_date, by_weekday = day.day in days, (day.isoweekday() % 7) in weekdays
        if day.month in months and ((by_date or by_weekday) if either else (by_date and by_weekday)):
            base = datetime.datetime.combine(day, datetime.time())
            runs.extend(base + datetime.timedelta(hours=h, minutes=m) for h in sorted(hours) for m in sorted(minutes))
    if len(runs) < 2:
        raise ValueError(f"cron schedule {schedule!r} runs less than twice a year")
    return max(later - earlier for earlier, later in itertools.pairwise(runs))
