"""The ways infragate waits for something: bounded in time, with the last failure as evidence or the
time running out as an observation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from infragate.errors import ProbeError

T = TypeVar("T")


def retry(op: Callable[[], T], timeout: float, interval: float, name: str) -> T:
    """Call op until it returns without raising, for at most timeout seconds.

    Raises ProbeError naming what was awaited and the last error seen.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            return op()
        except Exception as exc:  # noqa: BLE001 - any failure of op is a reason to try again
            last = exc
        if time.monotonic() + interval > deadline:
            raise ProbeError(f"{name}: not done within {timeout:g} s (last error: {last})")
        time.sleep(interval)


@dataclass(frozen=True)
class Polled(Generic[T]):
    """What a bounded wait ended with: the last observation, and whether the condition held."""

    value: T
    met: bool
    waited_s: float


def poll_until(observe: Callable[[], T], done: Callable[[T], bool], timeout: float, interval: float) -> Polled[T]:
    """Observe until done(observation) holds, for at most timeout seconds (at least once).

    For waits whose running out is itself an observation (a replica not back in time, a settle that
    never came): the caller judges the last observation. Exceptions of observe propagate.
    """
    started = time.monotonic()
    while True:
        value = observe()
        if done(value):
            return Polled(value, True, time.monotonic() - started)
        if time.monotonic() + interval > started + timeout:
            return Polled(value, False, time.monotonic() - started)
        time.sleep(interval)
