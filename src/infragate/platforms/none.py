"""The adapter for gateway-only targets: there is no platform to ask about replicas."""

from __future__ import annotations

from typing import NoReturn

from infragate.errors import ProbeError
from infragate.platforms.base import ReplicaSet
from infragate.profile.model import Profile
from infragate.safety import NONE, Consent


class NoPlatform:
    """Platform scenarios are not applicable; asking it anyway is an error, never an empty answer."""

    kind = "none"

    def __init__(self, profile: Profile, consent: Consent = NONE) -> None:
        self._profile = profile
        self.consent = consent

    def describe(self) -> str:
        """Says that there is no platform."""
        return "no platform (gateway-only target)"

    def _refuse(self, what: str) -> NoReturn:
        raise ProbeError(f"target {self._profile.name} declares no platform, so {what}")

    def replicas(self, service: str) -> ReplicaSet:
        """Never answers: a gateway-only target cannot list replicas."""
        self._refuse(f"replicas of {service} cannot be listed")

    def desired(self, service: str) -> int:
        """Never answers."""
        self._refuse(f"the replica count of {service} is unknown")

    def kill(self, service: str, replica_id: str) -> None:
        """Never acts."""
        self._refuse(f"no replica of {service} can be killed")

    def restart(self, service: str, replica_id: str) -> None:
        """Never acts."""
        self._refuse(f"no replica of {service} can be restarted")

    def scale(self, service: str, replicas: int) -> None:
        """Never acts."""
        self._refuse(f"{service} cannot be scaled")

    def restart_policy(self, service: str) -> str:
        """Never answers."""
        self._refuse(f"the restart policy of {service} is unknown")
