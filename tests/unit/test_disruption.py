"""A disruption starts from the service at rest, and its undo returns to what the platform was asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.errors import ProbeError
from infragate.platforms.base import Replica, ReplicaSet
from infragate.probes import disruption
from infragate.profile.model import Profile
from infragate.recovery.journal import Journal
from infragate.safety import Consent


class Scripted:
    """A platform whose service goes through the given states, one per look, the last one staying."""

    kind = "scripted"
    consent = Consent(destructive=True)

    def __init__(self, desired: int, states: list[tuple[int, int]]) -> None:
        self._desired, self._states, self.scaled_to = desired, states, [desired]

    def desired(self, service: str) -> int:
        return self.scaled_to[-1]

    def replicas(self, service: str) -> ReplicaSet:
        running, ready = self._states.pop(0) if len(self._states) > 1 else self._states[0]
        return ReplicaSet(
            service,
            tuple(Replica(service, f"{service}-{n}", f"i{n}", True, n <= ready, "") for n in range(1, running + 1)),
        )

    def scale(self, service: str, replicas: int) -> None:
        self.scaled_to.append(replicas)
        self._states = [(replicas, replicas)]


def test_settled_waits_for_every_desired_replica_running_and_ready() -> None:
    platform = Scripted(3, [(2, 2), (3, 2), (3, 3)])
    assert len(disruption.settled(platform, "api", 5).ready) == 3  # type: ignore[arg-type]


def test_settled_refuses_a_service_that_stays_short_naming_the_counts() -> None:
    platform = Scripted(3, [(3, 2)])
    with pytest.raises(ProbeError, match=r"did not settle at its 3 desired replicas .* \(running 3, ready 2\)"):
        disruption.settled(platform, "api", 0.3)  # type: ignore[arg-type]


def test_a_scale_out_mid_replacement_is_journalled_back_to_the_desired_count(tmp_path: Path) -> None:
    # One task is being replaced when the scenario begins: the undo must not remember the passing 2.
    profile = Profile.model_validate(
        {
            "version": 1,
            "name": "scripted",
            "gateway": {"base_url": "http://127.0.0.1:9"},
            "services": {"api": {"replicas": {"min": 3, "max": 5}}},
            "resilience": {"service": "api", "scale_time": 1},
            "safety": {"environment": "sandbox", "allow_destructive": True},
        }
    )
    platform = Scripted(3, [(2, 2), (3, 3)])
    journal = Journal(tmp_path, "run-1")
    disruption.scale_to(platform, journal, profile, 5)  # type: ignore[arg-type]
    ((_, entry),) = journal.pending()
    assert entry.disruption == "scale api from 3 to 5"
    assert entry.undo.arguments == {"service": "api", "replicas": 3}
