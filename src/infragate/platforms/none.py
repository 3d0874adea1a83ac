"""The adapter for gateway-only targets: there is no platform to ask about replicas."""

from __future__ import annotations

from infragate.errors import ProbeError
from infragate.platforms.base import ReplicaSet
from infragate.profile.model import Profile


class NoPlatform:
    """Platform scenarios are not applicable; asking it anyway is an error, never an empty answer."""

    kind = "none"

    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def describe(self) -> str:
        """Says that there is no platform."""
        return "no platform (gateway-only target)"

    def replicas(self, service: str) -> ReplicaSet:
        """Never answers: a gateway-only target cannot list replicas."""
        raise ProbeError(f"target {self._profile.name} declares no platform, so replicas of {service} cannot be listed")
