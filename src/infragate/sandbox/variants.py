"""Known-bad variants of the reference deployment: each switches on one defect.

Every variant names the scenarios it must make fail and the step they must fail on; the
project's tests hold it to that, and a meta-test insists that every scenario has a variant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from infragate.errors import UsageError
from infragate.sandbox.spec import SandboxSpec


@dataclass(frozen=True)
class ExpectedFailure:
    """A scenario a variant must make fail, and the step it must fail on."""

    scenario: str
    step: str


@dataclass(frozen=True)
class Variant:
    """One known defect of the reference deployment."""

    name: str
    summary: str
    breaks: tuple[ExpectedFailure, ...]
    apply: Callable[[SandboxSpec], SandboxSpec]


def _replace(**changes: object) -> Callable[[SandboxSpec], SandboxSpec]:
    return lambda spec: dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant(
            name="gateway-health-unrouted",
            summary="the gateway does not route its health path (answers 404)",
            breaks=(
                ExpectedFailure(
                    "The gateway's health endpoint answers", "Then the gateway answers with the declared health status"
                ),
            ),
            apply=_replace(gateway_health_routed=False),
        ),
        Variant(
            name="replica-unhealthy",
            summary="replica api-2 runs but its health check fails (503)",
            breaks=(ExpectedFailure("Every declared replica is healthy", "And every replica reports healthy"),),
            apply=_replace(replica_faults={"api-2": frozenset({"unhealthy"})}),
        ),
        Variant(
            name="replica-down",
            summary="replica api-3 is declared but not running",
            breaks=(
                ExpectedFailure(
                    "Every declared replica is healthy", "Then every service runs within its declared replica count"
                ),
            ),
            apply=_replace(stopped_replicas=frozenset({"api-3"})),
        ),
        Variant(
            name="replica-outside-upstream",
            summary="replica api-3 runs and is healthy but the gateway's upstream leaves it out",
            breaks=(
                ExpectedFailure(
                    "Requests through the gateway reach every replica",
                    "Then every replica of every service answered some of them",
                ),
            ),
            apply=_replace(upstream_excluded=frozenset({"api-3"})),
        ),
    )
}


def get_variant(name: str) -> Variant:
    """A variant by name; an unknown name is a usage error listing the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise UsageError(
            f"--variant: unknown variant '{name}' (expected one of: {', '.join(sorted(VARIANTS))})"
        ) from None


def scenario_steps(features: list[str]) -> dict[str, list[str]]:
    """Scenario name -> its step texts ("When ..."), for every scenario in the feature files or folders."""
    from pytest_bdd.feature import get_features

    found: dict[str, list[str]] = {}
    for feature in get_features(features):
        for name, scenario in feature.scenarios.items():
            if name in found:
                raise UsageError(f"{feature.rel_filename}: scenario name '{name}' is used twice; names must be unique")
            found[name] = [f"{step.keyword} {step.name}" for step in scenario.steps]
    return found


def coverage_problems(features: list[str], variants: dict[str, Variant] = VARIANTS) -> list[str]:
    """Why the variants do not prove that every scenario can fail; empty when they do."""
    scenarios = scenario_steps(features)
    problems = [
        f"no variant makes '{name}' fail"
        for name in scenarios
        if not any(failure.scenario == name for variant in variants.values() for failure in variant.breaks)
    ]
    for variant in variants.values():
        if not variant.breaks:
            problems.append(f"variant {variant.name} declares no scenario it breaks")
        for failure in variant.breaks:
            if failure.scenario not in scenarios:
                problems.append(f"variant {variant.name}: no scenario '{failure.scenario}'")
            elif failure.step not in scenarios[failure.scenario]:
                problems.append(f"variant {variant.name}: scenario '{failure.scenario}' has no step '{failure.step}'")
    return problems
