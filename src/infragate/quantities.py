"""Parsing of the quantities profiles are written in: durations ("5s", "2m") and rates ("100r/s")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_COMPOUND = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d)){2,}$")
_DURATION_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:r|req|requests)?\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_RATE_PER = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


def parse_duration(value: object) -> float:
    """Seconds from a number (seconds) or a string such as "500ms", "5s", "2m", "1h", "30d"."""
    if isinstance(value, bool):
        raise ValueError("a duration such as 5s, 2m or 1h")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("a finite duration such as 5s, 2m or 1h")
        if value < 0:
            raise ValueError("a duration that is not negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
        if _COMPOUND.match(value.strip()):  # "6h30m", "1m30s"
            return sum(float(n) * _DURATION_SECONDS[unit] for n, unit in _DURATION_PART.findall(value))
    raise ValueError("a duration such as 5s, 2m, 1h or 6h30m")


@dataclass(frozen=True)
class Rate:
    """A request rate as declared (count per period), kept exact so "1000r/m" stays 1000 per minute."""

    count: float
    period_s: float

    @property
    def per_second(self) -> float:
        """The rate in requests per second."""
        return self.count / self.period_s

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "m", 3600.0: "h"}.get(self.period_s, f"{self.period_s:g}s")
        return f"{self.count:.12g}r/{unit}"


def parse_rate(value: object) -> Rate:
    """A Rate from a number (per second) or a string such as "100r/s", "1000r/m", "10/s"."""
    if isinstance(value, bool):
        raise ValueError("a rate such as 100r/s or 1000r/m")
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return Rate(float(value), 1.0)
    if isinstance(value, str):
        match = _RATE.match(value)
        if match and float(match.group(1)) > 0:
            return Rate(float(match.group(1)), _RATE_PER[match.group(2)])
    raise ValueError("a rate such as 100r/s or 1000r/m")


def parse_share(value: object) -> float:
    """A share from 0 to 1, written as a fraction (0.001) or a percentage ("0.1%")."""
    if isinstance(value, bool):
        raise ValueError("a share such as 0.1% or 0.001")
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError("a share such as 0.1% or 0.001") from None
    if isinstance(value, (int, float)) and 0 <= value <= 1:  # NaN fails both comparisons
        return float(value)
    raise ValueError("a share from 0 to 1, such as 0.1% or 0.001")
