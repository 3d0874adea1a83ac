"""Endpoints that gave no answer: once a request to the gateway went unanswered for its whole time-out,
the probes that would wait on that endpoint again say so at once, as "could not verify" with the
first observation, instead of each waiting out a time-out of its own (a black-holed gateway cost
every scenario five seconds or more).

Only silence counts: a refused connection or an answer of any status is quick and says something.
An endpoint that answers again is forgotten; one that stays silent is tried again at most once every
``RETRY_AFTER_S``, so a gateway that was only slow for a moment costs a few scenarios, not the run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from infragate.errors import ProbeError

RETRY_AFTER_S = 30.0
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def endpoint_of(url: str) -> str:
    """host:port of a URL (its scheme's port when none is written); the key silence is kept under."""
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        port = 0
    return f"{parts.hostname}:{port}"


@dataclass
class _Silence:
    observation: str
    noted_at: float  # wall clock, for the message
    tried_at: float  # monotonic: when a request was last let through


class SilentEndpoints:
    """The endpoints of this process's run that left a request unanswered, and what was observed."""

    def __init__(self) -> None:
        self._silent: dict[str, _Silence] = {}
        self._lock = threading.Lock()

    def noted(self, url: str, observation: str) -> None:
        """A request to this URL got no answer within its whole time-out."""
        with self._lock:
            key = endpoint_of(url)
            if key not in self._silent:
                self._silent[key] = _Silence(observation, time.time(), time.monotonic())

    def answered(self, url: str) -> None:
        """The endpoint answered (any status): it is no longer known to be silent."""
        with self._lock:
            self._silent.pop(endpoint_of(url), None)

    def forget(self) -> None:
        """Forget every endpoint (a new run in the same process)."""
        with self._lock:
            self._silent.clear()

    def refuse_if_silent(self, url: str) -> None:
        """Raise ProbeError at once when the endpoint was silent earlier in this run, unless its retry
        is due: then the caller's request goes through (and tells, by noting or answering, what became of it)."""
        with self._lock:
            silence = self._silent.get(endpoint_of(url))
            if silence is None:
                return
            if time.monotonic() - silence.tried_at >= RETRY_AFTER_S:
                silence.tried_at = time.monotonic()
                return
            when = time.strftime("%H:%M:%S", time.localtime(silence.noted_at))
        raise ProbeError(
            f"{endpoint_of(url)} gave no answer earlier in this run ({silence.observation}, at {when}); "
            f"not tried again before {RETRY_AFTER_S:g} s have passed"
        )


SILENT = SilentEndpoints()
