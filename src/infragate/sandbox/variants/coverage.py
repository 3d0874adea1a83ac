"""Whether the known-bad variants prove every scenario can fail, and the scenario table the README holds."""

from __future__ import annotations

from dataclasses import dataclass

from infragate.errors import UsageError
from infragate.sandbox.variants.variant import Variant


@dataclass(frozen=True)
class ScenarioInfo:
    """Where a scenario is written and its step texts ("When ...")."""

    file: str
    steps: tuple[str, ...]


TABLE_TAGS = ("deepscan", "swarm", "load", "destructive")  # tags the table names: they change how a scenario runs


def scenario_steps(features: list[str]) -> dict[str, ScenarioInfo]:
    """Every scenario in the feature files or folders, by name."""
    from pytest_bdd.feature import get_features

    found: dict[str, ScenarioInfo] = {}
    for feature in get_features(features):
        for name, scenario in feature.scenarios.items():
            if name in found:
                raise UsageError(f"{feature.rel_filename}: scenario name '{name}' is used twice; names must be unique")
            found[name] = ScenarioInfo(
                feature.filename, tuple(f"{step.keyword} {step.name}" for step in scenario.steps)
            )
    return found


def scenario_table(features: list[str], variants: dict[str, Variant]) -> str:
    """A Markdown table: every scenario with the variants that make it fail (the README holds it)."""
    from pytest_bdd.feature import get_features

    rows = ["| feature | scenario | fails on variant(s) |", "| --- | --- | --- |"]
    for feature in sorted(get_features(features), key=lambda feature: feature.rel_filename):
        for name, scenario in feature.scenarios.items():
            breaking = [
                f"`{variant.name}`"
                for variant in variants.values()
                if any(failure.scenario == name for failure in variant.breaks)
            ]
            tags = ", ".join(f"`@{tag}`" for tag in sorted(scenario.tags | feature.tags) if tag in TABLE_TAGS)
            rows.append(f"| {feature.name} | {name}{f' ({tags})' if tags else ''} | {', '.join(breaking)} |")
    return "\n".join(rows) + "\n"


def coverage_problems(features: list[str], variants: dict[str, Variant]) -> list[str]:
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
            elif failure.step not in scenarios[failure.scenario].steps:
                problems.append(f"variant {variant.name}: scenario '{failure.scenario}' has no step '{failure.step}'")
    return problems
