"""The ways infragate waits for something: bounded in time, with the last failure as evidence or the
time running out as an observation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

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


def poll_until(check: Callable[[], T | None], timeout: float, interval: float) -> T | None:
    """Call check until it returns something other than None, for at most timeout seconds.

    Returns what check returned, or None when the time ran out: for waits whose running out is
    itself an observation (a replica not back in time, a settle that never came). Exceptions of
    check propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() + interval > deadline:
            return None
        time.sleep(interval)
