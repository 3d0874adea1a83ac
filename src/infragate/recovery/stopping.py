"""A stop asked for by a signal, and the undo it must not cut short.

While an undo runs, SIGINT and SIGTERM are held: one that arrives is remembered here, never lost,
and the caller acts on it once the undo is over (the suite stops after the scenario, verify
reports the run interrupted). From the moment a stop is asked for, no new disruption may be
journalled (``Journal.record`` refuses), so a stop that came during an undo cannot be followed by
another kill or scale, whatever the code around it does with the signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from infragate.errors import InfragateError

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequestedError(InfragateError):
    """A disruption was not started because the run was asked to stop."""


class StopRequest:
    """Whether, and by which signal, this process was asked to stop."""

    def __init__(self) -> None:
        self.reason = ""

    def request(self, reason: str) -> None:
        """Remember a stop (the first one's reason stands)."""
        self.reason = self.reason or reason

    def clear(self) -> None:
        """Forget a stop: a new run in the same process (pytester) starts afresh."""
        self.reason = ""

    def refuse_new_work(self, action: str) -> None:
        """Raise StopRequestedError when a stop was asked for: nothing new starts after it."""
        if self.reason:
            raise StopRequestedError(f"not started: {action}: the run was asked to stop ({self.reason})")


STOP = StopRequest()


class HeldSignals:
    """The stop signal that arrived while the signals were held: its name ("SIGTERM"), or ""."""

    def __init__(self) -> None:
        self.reason = ""


def interrupt(signum: int, _frame: FrameType | None) -> None:
    """A handler that unwinds a stop signal like Ctrl-C, remembering it first (so nothing new starts)."""
    STOP.request(signal.Signals(signum).name)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def shielded() -> Iterator[HeldSignals]:
    """Hold SIGINT and SIGTERM while undoing: a second Ctrl-C must not cut an undo short, and a stop
    that comes meanwhile is remembered (in STOP, and in the HeldSignals yielded) rather than lost."""
    held = HeldSignals()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum: int, _frame: FrameType | None) -> None:
        held.reason = held.reason or signal.Signals(signum).name
        STOP.request(held.reason)

    previous = {sig: signal.signal(sig, hold) for sig in _STOP_SIGNALS}
    try:
        yield held
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
