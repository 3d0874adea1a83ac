"""The one protocol every platform adapter implements, and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from infragate.safety import Consent


@dataclass(frozen=True)
class Replica:
    """One replica of a service as the platform sees it, with the evidence for its health."""

    service: str
    id: str
    instance: str  # changes when the replica is replaced: a pid, a task id, a pod uid
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

    @property
    def ready(self) -> tuple[Replica, ...]:
        """The replicas that run and report ready."""
        return tuple(replica for replica in self.running if replica.ready)

    def instances(self) -> frozenset[str]:
        """Instances of the running replicas."""
        return frozenset(replica.instance for replica in self.running)


@runtime_checkable
class Platform(Protocol):
    """An orchestrator that runs a target's services (local supervisor, Swarm, Kubernetes, ...)."""

    kind: str
    consent: Consent  # what this run may do to the target: checked when acting, and before journalling

    def replicas(self, service: str) -> ReplicaSet:
        """Every replica of a service with its running and ready state; ProbeError when the platform cannot tell."""
        ...

    def describe(self) -> str:
        """A short human description of the platform and how it is reached."""
        ...

    def desired(self, service: str) -> int:
        """How many replicas the platform is asked to run (its spec), whatever runs at this moment."""
        ...

    def kill(self, service: str, replica_id: str) -> None:
        """Kill one replica outright (SIGKILL, container kill, pod delete with no grace)."""
        ...

    def restart(self, service: str, replica_id: str) -> None:
        """Stop one replica gracefully and start it again; return once the platform runs it again."""
        ...

    def scale(self, service: str, replicas: int) -> None:
        """Ask the platform for this many replicas; return once it has acted (readiness is awaited apart)."""
        ...

    def restart_policy(self, service: str) -> str:
        """What the platform does when a replica dies ("always", "on-failure", "never", ...)."""
        ...


@runtime_checkable
class RollsOut(Protocol):
    """A platform with a rolling restart of its own (a Deployment's rollout): it replaces every
    replica as its update strategy says, which is what its users run and what its strategy must
    survive; the rolling-restart scenario uses it instead of restarting replicas one by one."""

    def roll(self, service: str) -> None:
        """Replace every replica the platform's own way; return once the rollout has completed."""
        ...


@runtime_checkable
class ReachesHosts(Protocol):
    """A platform that names how testinfra reaches each running replica of a service: a Swarm task's
    container (docker://), a pod (kubectl://), or this machine for the local platform (local://)."""

    def host_specs(self, service: str) -> dict[str, str]:
        """Replica name -> the testinfra host spec that reads it from inside; ProbeError when none runs."""
        ...


@runtime_checkable
class StopsComponents(Protocol):
    """A platform that can stop one component of the deployment outright and start it again (a
    database, an exporter): what an alert drill does to prove that the outage is noticed."""

    def stop_component(self, name: str) -> None:
        """Stop the component (needs consent to disrupt); return once the platform has stopped it."""
        ...

    def start_component(self, name: str) -> None:
        """Start the component again; return once the platform runs it."""
        ...

    def component_running(self, name: str) -> bool:
        """Whether the platform runs the component now; ProbeError when it does not know it."""
        ...
