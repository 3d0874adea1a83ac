"""One probe's results over several targets (routes, endpoints), judged check by check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

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

    def problems(self, check: Callable[[T], str | list[str] | None]) -> list[str]:
        """Everything one check finds wrong, target by target."""
        found: list[str] = []
        for result in self.results:
            outcome = check(result)
            if isinstance(outcome, str):
                found.append(outcome)
            elif outcome:
                found.extend(outcome)
        return found
