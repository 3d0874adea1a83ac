"""What a known-bad variant is: one defect of one runtime's reference deployment, and the scenarios
it must make fail."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from infragate.sandbox.spec import GATEWAY_KINDS, KubernetesSpec, SandboxSpec, SwarmSpec


class Runtime(StrEnum):
    """Where a reference deployment runs."""

    LOCAL = "local"
    SWARM = "swarm"
    KUBERNETES = "kubernetes"


@dataclass(frozen=True)
class ExpectedFailure:
    """A scenario a variant must make fail, and the step it must fail on."""

    scenario: str
    step: str


@dataclass(frozen=True)
class LocalDefect:
    """A defect of the local reference deployment: a change of its spec."""

    runtime: ClassVar[Runtime] = Runtime.LOCAL
    change: Callable[[SandboxSpec], SandboxSpec]

    def apply(self, spec: SandboxSpec) -> SandboxSpec:
        """The spec with the defect switched on."""
        return self.change(spec)


@dataclass(frozen=True)
class SwarmDefect:
    """A defect of the Swarm reference stack: the SwarmSpec fields it changes."""

    runtime: ClassVar[Runtime] = Runtime.SWARM
    changes: tuple[tuple[str, object], ...]

    def apply(self, spec: SwarmSpec) -> SwarmSpec:
        """The spec with the defect switched on."""
        return dataclasses.replace(spec, **dict(self.changes))  # type: ignore[arg-type]


@dataclass(frozen=True)
class KubernetesDefect:
    """A defect of the Kubernetes reference cluster's workload: the KubernetesSpec fields it changes."""

    runtime: ClassVar[Runtime] = Runtime.KUBERNETES
    changes: tuple[tuple[str, object], ...]

    def apply(self, spec: KubernetesSpec) -> KubernetesSpec:
        """The spec with the defect switched on."""
        return dataclasses.replace(spec, **dict(self.changes))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Variant:
    """One known defect of a reference deployment."""

    name: str
    summary: str
    breaks: tuple[ExpectedFailure, ...]
    defect: LocalDefect | SwarmDefect | KubernetesDefect
    # Scenarios the defect leaves unable to run (a TLS client that rightly refuses the certificate).
    unverifiable: tuple[str, ...] = ()
    # The local gateway kinds the defect means something on (a burst is nginx's, not HAProxy's).
    gateways: tuple[str, ...] = GATEWAY_KINDS

    @property
    def runtime(self) -> Runtime:
        """The runtime whose reference deployment the defect lives in."""
        return self.defect.runtime


def replace_fields(**changes: object) -> Callable[[SandboxSpec], SandboxSpec]:
    """A change of the local spec that sets some of its fields."""
    return lambda spec: dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def every_replica(fault: str) -> Callable[[SandboxSpec], SandboxSpec]:
    """A change of the local spec that gives every declared replica one fault."""
    return lambda spec: dataclasses.replace(
        spec, replica_faults={name: frozenset({fault}) for name in spec.replica_names()}
    )


def swarm_variant(name: str, summary: str, breaks: tuple[ExpectedFailure, ...], **changes: object) -> Variant:
    """A variant of the Swarm reference stack that changes some SwarmSpec fields."""
    return Variant(name, summary, breaks, SwarmDefect(tuple(changes.items())))


def kubernetes_variant(name: str, summary: str, breaks: tuple[ExpectedFailure, ...], **changes: object) -> Variant:
    """A variant of the Kubernetes reference cluster that changes some KubernetesSpec fields."""
    return Variant(name, summary, breaks, KubernetesDefect(tuple(changes.items())))
