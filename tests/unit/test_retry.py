"""The two ways infragate waits: retry (the last failure is evidence) and poll_until (running out is
an observation). Both are bounded in time."""

from __future__ import annotations

import itertools
import time

import pytest

from infragate.errors import ProbeError
from infragate.retry import poll_until, retry


def test_poll_until_returns_the_observation_that_met_the_condition() -> None:
    counter = itertools.count()
    polled = poll_until(lambda: next(counter), lambda seen: seen >= 3, timeout=5, interval=0.001)
    assert (polled.value, polled.met) == (3, True)


def test_poll_until_returns_the_last_observation_when_time_runs_out() -> None:
    counter = itertools.count()
    started = time.monotonic()
    polled = poll_until(lambda: next(counter), lambda seen: seen < 0, timeout=0.05, interval=0.01)
    assert not polled.met and polled.value >= 1
    assert time.monotonic() - started < 1.0 and polled.waited_s <= 0.06


def test_poll_until_observes_once_even_with_no_time_left() -> None:
    assert poll_until(lambda: "ready", lambda seen: seen == "ready", timeout=-1, interval=0.1).met
    assert not poll_until(lambda: "starting", lambda seen: seen == "ready", timeout=-1, interval=0.1).met


def test_retry_names_what_it_waited_for_and_the_last_error() -> None:
    def refuse() -> None:
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(ProbeError, match=r"gateway answers: not done within 0.05 s \(last error: connection refused\)"):
        retry(refuse, timeout=0.05, interval=0.01, name="gateway answers")
