"""Census of every declared service's replicas, compared with what the profile declares."""

from __future__ import annotations

from dataclasses import dataclass

from infragate.platforms.base import Platform, ReplicaSet
from infragate.profile.model import Profile, ReplicaBounds


@dataclass(frozen=True)
class ReplicaCensus:
    """The replicas of every declared service at one moment, beside their declared bounds."""

    platform: str
    services: tuple[tuple[ReplicaSet, ReplicaBounds], ...]

    def count_problems(self) -> list[str]:
        """One line for each service whose running replica count is outside its declared bounds."""
        return [
            f"service {found.service}: expected {bounds} running replicas, observed {len(found.running)} "
            f"({', '.join(f'{r.id}: {r.detail}' for r in found.replicas) or 'none listed'})"
            for found, bounds in self.services
            if not bounds.contains(len(found.running))
        ]

    def health_problems(self) -> list[str]:
        """One line for each running replica that does not report ready."""
        return [
            f"service {found.service}: expected replica {replica.id} to report healthy, observed {replica.detail}"
            for found, _ in self.services
            for replica in found.not_ready
        ]


def take_census(platform: Platform, profile: Profile) -> ReplicaCensus:
    """List the replicas of every service the profile declares."""
    return ReplicaCensus(
        platform.describe(),
        tuple((platform.replicas(name), service.replicas) for name, service in profile.services.items()),
    )
