"""The one protocol every platform adapter implements, and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Replica:
    """One replica of a service as the platform sees it, with the evidence for its health."""

    service: str
    id: str
    running: bool
    ready: bool
    detail: str


@dataclass(frozen=True)
class ReplicaSet:
    """Every replica of one service at one moment."""

    service: str
    replicas: tuple[Replica, ...]

    @property
    def running(self) -> tuple[Replica, ...]:
        """The replicas that are running."""
        return tuple(replica for replica in self.replicas if replica.running)

    @property
    def not_ready(self) -> tuple[Replica, ...]:
        """The running replicas that do not report ready."""
        return tuple(replica for replica in self.running if not replica.ready)

    def ids(self) -> frozenset[str]:
        """Identities of the running replicas."""
        return frozenset(replica.id for replica in self.running)


@runtime_checkable
class Platform(Protocol):
    """An orchestrator that runs a target's services (local supervisor, Swarm, Kubernetes, ...)."""

    kind: str

    def replicas(self, service: str) -> ReplicaSet:
        """Every replica of a service with its running and ready state; ProbeError when the platform cannot tell."""
        ...

    def describe(self) -> str:
        """A short human description of the platform and how it is reached."""
        ...
