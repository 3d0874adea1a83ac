"""Load from the profile: a plan within the safety caps, offered through the load engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from infragate.errors import SafetyError, UsageError
from infragate.loadgen.plan import LoadPlan, expand_sources
from infragate.loadgen.result import LoadResult, Second
from infragate.loadgen.runner import run_load
from infragate.profile import Profile
from infragate.profile.consistency import load_cap_problem
from infragate.profile.fields import BUILTIN_SCENARIOS
from infragate.profile.model import Load, LoadObjectives
from infragate.safety import Consent
from infragate.verdicts import Check


def plan_for(
    profile: Profile,
    rate_per_s: float | None = None,
    duration_s: float | None = None,
    workers: int | None = None,
    mix: dict[str, float] | None = None,
) -> LoadPlan:
    """The profile's declared load, with any of its figures overridden; refused beyond the safety caps."""
    load: Load | None = profile.load
    if load is None:
        if rate_per_s is None or duration_s is None or mix is None:
            raise UsageError("the profile declares no load section: give --rate, --for and --mix")
        rate, duration, weights = rate_per_s, duration_s, mix
    else:
        rate = rate_per_s if rate_per_s is not None else load.rate.per_second
        duration = duration_s if duration_s is not None else load.duration
        weights = mix if mix is not None else load.mix
    problem = load_cap_problem(profile, rate, duration)
    if problem is not None:
        raise SafetyError(f"load of {rate:g}/s for {duration:g} s refused: the profile's safety caps ask for {problem}")
    gateway = profile.gateway
    return LoadPlan(
        base_url=gateway.base_url,
        rate_per_s=rate,
        duration_s=duration,
        mix=dict(weights),
        workers=workers or (load.workers if load else 1),
        arrivals=load.arrivals if load else "uniform",
        timeout_s=load.timeout if load else 30.0,
        sources=expand_sources(load.sources) if load else (),
        ca_bundle=str(gateway.ca_bundle) if gateway.ca_bundle else None,
        user_class=load.user if load else None,
    )


def scenario_of(profile: Profile) -> Path:
    """The locustfile of the profile's load (the built-in reference scenario by default)."""
    if profile.load is None:
        return BUILTIN_SCENARIOS / "reference.py"
    return Path(profile.load.scenario)


def offer_load(
    profile: Profile,
    plan: LoadPlan,
    folder: Path,
    consent: Consent,
    progress: Callable[[Second, LoadPlan], None] | None = None,
    master_bind: tuple[str, int] | None = None,
    announce: Callable[[str], None] | None = None,
) -> LoadResult:
    """Offer the plan to the target and return what was measured (with the declared bounds, for the charts)."""
    result = run_load(plan, scenario_of(profile), folder, consent, progress, master_bind=master_bind, announce=announce)
    declared = profile.load.objectives if profile.load else None
    bounds = {name: value for name, value in (("p95", declared and declared.p95), ("p99", declared and declared.p99))}
    return dataclasses.replace(result, objectives={name: value for name, value in bounds.items() if value})


def judge(result: LoadResult, objectives: LoadObjectives | None) -> list[Check]:
    """Each declared objective judged against what was measured."""
    if objectives is None:
        return []
    checks = [result.latency_check(95, objectives.p95)] if objectives.p95 is not None else []
    if objectives.p99 is not None:
        checks.append(result.latency_check(99, objectives.p99))
    if objectives.throughput is not None:
        checks.append(result.throughput_check(objectives.throughput.per_second))
    return [*checks, result.error_check(objectives.error_rate), result.throttled_check(objectives.throttled)]
