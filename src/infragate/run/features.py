"""`infragate features`: every scenario a run would choose from, with its tags and what it needs
from the profile (and from the command line) to run rather than be "not applicable" or "not run"."""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infragate.errors import UsageError

# What a tag asks of the target; a scenario needs what each of its tags needs.
NEEDS = {
    "gateway": "gateway",
    "ratelimit": "gateway.routes.*.rate_limit",
    "tls": "tls",
    "deepscan": "tls, and sslyze installed",
    "platform": "platform (local, swarm or kubernetes)",
    "failover": "resilience",
    "scaling": "resilience",
    "backup": "backups",
    "monitoring": "monitoring",
    "hosts": "hosts",
    "exposure": "exposure, and root",
    "destructive": "safety.allow_destructive and --allow-destructive",
    "load": "load, safety.allow_load and --allow-load",
    "local": "platform.kind: local",
    "swarm": "platform.kind: swarm",
    "kubernetes": "platform.kind: kubernetes",
}


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario as written: where, its name, its tags, and what its steps said they need."""

    where: str  # feature file:line
    feature: str
    scenario: str
    tags: tuple[str, ...]
    step_needs: tuple[str, ...] = ()

    def needs(self) -> list[str]:
        """What the scenario needs from the profile and the command line: its tags' needs, then its
        steps' (a step's "gateway.cors" stands for its tag's "gateway")."""
        found = list(dict.fromkeys([*(NEEDS[tag] for tag in self.tags if tag in NEEDS), *self.step_needs]))
        return [need for need in found if not any(other.startswith(f"{need}.") for other in found)]


def _step_needs() -> list[tuple[str | None, Any, tuple[str, ...]]]:
    """Every infragate step that said what it needs: its type, its parser, its needs."""
    from pytest_bdd.steps import step_function_context_registry

    from infragate.bdd import needs_of
    from infragate.steps import MODULES

    for module in MODULES:
        importlib.import_module(module)
    return [
        (context.type, context.parser, needs_of(context.step_func))
        for context in list(step_function_context_registry.values())
        if needs_of(context.step_func)
    ]


def _needs_of(steps: Sequence[Any], known: list[tuple[str | None, Any, tuple[str, ...]]]) -> tuple[str, ...]:
    found: list[str] = []
    for step in steps:
        for kind, parser, keys in known:
            if kind in (None, step.type) and parser.is_matching(step.name):
                found += keys
    return tuple(dict.fromkeys(found))


def scenarios(paths: Sequence[str], tags: str | None = None) -> list[ScenarioEntry]:
    """The scenarios in these feature files or folders, in file order; those the tag expression selects."""
    # The very expression pytest's -m takes (verify passes --tags on as -m), pinned by uv.lock.
    from _pytest.mark.expression import Expression
    from pytest_bdd.feature import get_features

    try:
        selection = Expression.compile(tags) if tags else None
    except SyntaxError as exc:
        raise UsageError(
            f"--tags: expected tags joined by and, or, not and parentheses, got {tags!r} ({exc.msg})"
        ) from None
    known = _step_needs()
    found = []
    for feature in sorted(get_features(list(paths)), key=lambda feature: feature.rel_filename):
        for scenario in feature.scenarios.values():
            names = tuple(sorted(scenario.tags | feature.tags))
            if selection is None or selection.evaluate(lambda name, /, names=names, **_: name in names):
                where = f"{feature.rel_filename}:{scenario.line_number}"
                steps = _needs_of(scenario.steps, known)
                found.append(ScenarioEntry(where, feature.name, scenario.name, names, steps))
    return found


def render(entries: Sequence[ScenarioEntry]) -> str:
    """One block per scenario: where, name and tags, then what it needs; a count at the end."""
    lines = []
    for entry in entries:
        tags = " ".join(f"@{tag}" for tag in entry.tags)
        lines.append(f"{entry.where}  {entry.feature}: {entry.scenario}  {tags}".rstrip())
        lines.append(f"    needs: {'; '.join(entry.needs()) or 'gateway'}")
    lines.append(f"{len(entries)} scenario(s)")
    return "\n".join(lines) + "\n"


def tag_hint(expression: str) -> str:
    """ "; did you mean 'load'?" for each word of a tag expression that is close to one of infragate's tags."""
    from infragate.plugin.hooks import MARKERS

    hints = []
    for word in dict.fromkeys(re.findall(r"[A-Za-z_][\w-]*", expression)):
        close = difflib.get_close_matches(word, list(MARKERS), n=1)
        if word not in MARKERS and word not in ("and", "or", "not") and close:
            hints.append(f"'{word}' is no tag of infragate's; did you mean '{close[0]}'?")
    return "; " + "; ".join(hints) if hints else ""
