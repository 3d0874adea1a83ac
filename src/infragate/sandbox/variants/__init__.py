"""Known-bad variants of the reference deployments, one module per capability they break.

Every variant switches on one defect, names the scenarios it must make fail and the step they must
fail on; the project's tests hold it to that, and a meta-test (``coverage``) insists that every
scenario has a variant. A variant's defect is typed by the runtime it needs: a ``LocalDefect``
changes the local deployment's ``SandboxSpec``, a ``SwarmDefect`` the Swarm stack's ``SwarmSpec``,
a ``KubernetesDefect`` the Kubernetes cluster's ``KubernetesSpec``.
"""

from __future__ import annotations

from infragate.errors import SandboxError, UsageError
from infragate.sandbox.spec import KubernetesSpec, SandboxSpec, SwarmSpec
from infragate.sandbox.variants import (
    alerting,
    backups,
    capacity,
    certificates,
    exposure,
    faults,
    orchestration,
    routing,
    workloads,
)
from infragate.sandbox.variants.coverage import ScenarioInfo, coverage_problems, scenario_steps, scenario_table
from infragate.sandbox.variants.variant import (
    ExpectedFailure,
    KubernetesDefect,
    LocalDefect,
    Runtime,
    SwarmDefect,
    Variant,
)

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for family in (routing, faults, certificates, backups, capacity, alerting, exposure, orchestration, workloads)
    for variant in family.VARIANTS
}


def get_variant(name: str, runtime: Runtime = Runtime.LOCAL) -> Variant:
    """A variant of a runtime's reference deployment by name; an unknown name is a usage error naming the known."""
    known = {variant.name: variant for variant in VARIANTS.values() if variant.runtime == runtime}
    try:
        return known[name]
    except KeyError:
        raise UsageError(
            f"--variant: unknown variant '{name}' of the {runtime} reference deployment "
            f"(expected one of: {', '.join(sorted(known))})"
        ) from None


def local_spec(variant: str | None, promised: SandboxSpec | None = None) -> SandboxSpec:
    """The local deployment's spec with a variant's defect switched on (the promised spec without one)."""
    spec = promised or SandboxSpec()
    if variant is None:
        return spec
    chosen = get_variant(variant, Runtime.LOCAL)
    if spec.gateway not in chosen.gateways:
        raise UsageError(
            f"variant {variant} is a defect of the {' or '.join(chosen.gateways)} gateway, not {spec.gateway}"
        )
    match chosen.defect:
        case LocalDefect() as defect:
            return defect.apply(spec)
        case other:
            raise SandboxError(f"variant {variant} is a {other.runtime} variant, not a local one")


def swarm_spec(variant: str | None) -> SwarmSpec:
    """The Swarm stack's spec with a variant's defect switched on."""
    if variant is None:
        return SwarmSpec()
    match get_variant(variant, Runtime.SWARM).defect:
        case SwarmDefect() as defect:
            return defect.apply(SwarmSpec())
        case other:
            raise SandboxError(f"variant {variant} is a {other.runtime} variant, not a Swarm one")


def kubernetes_spec(variant: str | None) -> KubernetesSpec:
    """The Kubernetes reference workload's spec with a variant's defect switched on."""
    if variant is None:
        return KubernetesSpec()
    match get_variant(variant, Runtime.KUBERNETES).defect:
        case KubernetesDefect() as defect:
            return defect.apply(KubernetesSpec())
        case other:
            raise SandboxError(f"variant {variant} is a {other.runtime} variant, not a Kubernetes one")


__all__ = [
    "VARIANTS",
    "ExpectedFailure",
    "LocalDefect",
    "Runtime",
    "ScenarioInfo",
    "SwarmDefect",
    "Variant",
    "coverage_problems",
    "get_variant",
    "kubernetes_spec",
    "local_spec",
    "scenario_steps",
    "scenario_table",
    "swarm_spec",
]
