"""Census of every declared service's replicas, compared with what the profile declares."""

from __future__ import annotations

from dataclasses import dataclass

from infragate.platforms.base import Platform, ReplicaSet
from infragate.profile.model import Profile, ReplicaBounds
from infragate.verdicts import Check


@dataclass(frozen=True)
class ReplicaCensus:
    """The replicas of every declared service at one moment, beside their declared bounds."""

    platform: str
    services: tuple[tuple[ReplicaSet, ReplicaBounds], ...]

    def count_check(self) -> Check:
        """Every service's running replica count within its declared bounds."""
        return Check.combine(
            (
                Check.compare(
                    "replica count",
                    f"{bounds} running replicas",
                    f"{len(found.running)} ({_details(found)})",
                    bounds.contains(len(found.running)),
                    subject=f"service {found.service}",
                )
                for found, bounds in self.services
            ),
            name="replica count",
        )

    def health_check(self) -> Check:
        """Every running replica reports ready."""
        return Check.combine(
            (
                Check.compare(
                    "replicas healthy",
                    f"replica {replica.id} to report healthy",
                    replica.detail,
                    replica not in found.not_ready,
                    subject=f"service {found.service}",
                )
                for found, _ in self.services
                for replica in found.running
            ),
            name="replicas healthy",
        )


def _details(found: ReplicaSet) -> str:
    return ", ".join(f"{r.id}: {r.detail}" for r in found.replicas) or "none listed"


def take_census(platform: Platform, profile: Profile) -> ReplicaCensus:
    """List the replicas of every service the profile declares."""
    return ReplicaCensus(
        platform.describe(),
        tuple((platform.replicas(name), service.replicas) for name, service in profile.services.items()),
    )
