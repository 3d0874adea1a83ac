"""Silent endpoints: one unanswered request makes later probes of that endpoint could-not-verify at once."""

from __future__ import annotations

import pytest

from infragate.errors import ProbeError
from infragate.probes import silence
from infragate.probes.silence import SilentEndpoints, endpoint_of


def test_an_endpoint_is_keyed_by_host_and_port_whatever_the_scheme_and_path() -> None:
    assert endpoint_of("https://127.0.0.1:8443/api/items") == endpoint_of("wss://127.0.0.1:8443/ws")
    assert endpoint_of("https://gate.test/x") == "gate.test:443" != endpoint_of("http://gate.test/x")


def test_silence_refuses_at_once_until_the_endpoint_answers_or_its_retry_is_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("infragate.probes.silence.time.monotonic", lambda: now[0])
    endpoints = SilentEndpoints()
    endpoints.refuse_if_silent("https://127.0.0.1:8443/health")  # nothing known: goes through
    endpoints.noted("https://127.0.0.1:8443/health", "no answer within 5 s")
    with pytest.raises(ProbeError, match=r"127.0.0.1:8443 gave no answer earlier in this run \(no answer within 5 s"):
        endpoints.refuse_if_silent("https://127.0.0.1:8443/api/items")
    endpoints.refuse_if_silent("https://127.0.0.1:9090/api/v1/query")  # another endpoint is not affected
    now[0] += silence.RETRY_AFTER_S
    endpoints.refuse_if_silent("https://127.0.0.1:8443/api/items")  # one retry is let through ...
    with pytest.raises(ProbeError):
        endpoints.refuse_if_silent("https://127.0.0.1:8443/api/items")  # ... and only one
    endpoints.answered("https://127.0.0.1:8443/health")  # the retry got an answer: forgotten
    endpoints.refuse_if_silent("https://127.0.0.1:8443/api/items")
