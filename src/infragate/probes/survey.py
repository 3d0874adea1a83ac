"""One probe's results over several targets (routes, endpoints), judged check by check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from infragate.verdicts import Check

T = TypeVar("T")


@dataclass(frozen=True)
class Survey(Generic[T]):
    """The results of one probe, one per target."""

    results: tuple[T, ...]

    @property
    def CHARTS(self) -> tuple[str, ...]:
        """The charts that explain any of its results."""
        names: dict[str, None] = {}
        for result in self.results:
            names.update(dict.fromkeys(getattr(result, "CHARTS", ())))
        return tuple(names)

    def check(self, judge: Callable[[T], Check]) -> Check:
        """One promise judged on every target: not met when it is not met on any of them."""
        return Check.combine(judge(result) for result in self.results)
