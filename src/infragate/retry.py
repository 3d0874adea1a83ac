"""The one way infragate waits for something: bounded in time, with the last failure as evidence."""

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
