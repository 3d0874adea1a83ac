"""Judgements of what a service's Kubernetes objects declare against the profile's promises
(`services.<name>.kubernetes`): autoscaling bounds, requests and limits, health probes, the rolling
update and disruption budget, anti-affinity, non-root containers and secrets. Pure functions of
DeclaredDeployment values: unit-tested without a cluster."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from infragate.errors import ProbeError
from infragate.platforms.kubernetes_declared import DeclaredDeployment
from infragate.probes import cron
from infragate.probes.orchestrator import SECRET_NAME
from infragate.profile.model import Profile
from infragate.profile.workload_promises import KubernetesPromises
from infragate.verdicts import Check

Finding = tuple[str, str, str, bool]  # service, what was expected, what was observed, whether it holds
Declared = dict[str, DeclaredDeployment]
_UNITS = {
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_QUANTITY = re.compile(r"^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti|)$")


def quantity(text: str) -> float:
    """A Kubernetes quantity ("250m", "1", "512Mi", "1G") as a number (CPUs or bytes)."""
    found = _QUANTITY.match(text.strip())
    if found is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def promises(profile: Profile) -> dict[str, KubernetesPromises]:
    """The services whose profile declares Kubernetes promises."""
    return {name: service.kubernetes for name, service in profile.services.items() if service.kubernetes is not None}


def _per_service(name: str, findings: Iterable[Finding]) -> Check:
    return Check.combine(
        (
            Check.compare(name, expected, observed, holds, subject=f"service {service}")
            for service, expected, observed, holds in findings
        ),
        name=name,
    )


def autoscaling_check(profile: Profile, declared: Declared) -> Check:
    """An autoscaler owns each service's count, with the declared bounds and CPU target."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        scaling = wanted.autoscaling
        if scaling is None:
            continue
        got = declared[name]
        seen = "no autoscaler" if got.hpa_min is None else f"{got.hpa_min} to {got.hpa_max} replicas"
        bounds = (got.hpa_min, got.hpa_max) == (scaling.min, scaling.max)
        findings.append((name, f"an autoscaler from {scaling.min} to {scaling.max} replicas", seen, bounds))
        if scaling.cpu_utilization is not None:
            cpu = "none" if got.hpa_cpu_percent is None else f"{got.hpa_cpu_percent}%"
            holds = got.hpa_cpu_percent == scaling.cpu_utilization
            findings.append((name, f"a CPU target of {scaling.cpu_utilization}%", cpu, holds))
    return _per_service("autoscaling", findings)


def resources_check(profile: Profile, declared: Declared) -> Check:
    """Every container requests and is limited to the declared CPU and memory."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        for kind, quantities in (("request", wanted.requests), ("limit", wanted.limits)):
            if quantities is None:
                continue
            for resource, value in (("cpu", quantities.cpu), ("memory", quantities.memory)):
                if value is None:
                    continue
                for container in declared[name].containers:
                    got = (container.requests if kind == "request" else container.limits).get(resource)
                    holds = got is not None and abs(quantity(got) - quantity(value)) <= 1e-9 * quantity(value)
                    expected = f"container {container.name}: a {resource} {kind} of {value}"
                    findings.append((name, expected, got or "none", holds))
    return _per_service("requests and limits", findings)


def probes_check(profile: Profile, declared: Declared, recovery_time_s: float | None) -> Check:
    """Liveness and a distinct readiness probe on every container, none waiting too long to start."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        if not wanted.probes:
            continue
        longest = wanted.max_initial_delay or recovery_time_s
        for container in declared[name].containers:
            live, ready = container.liveness, container.readiness
            seen = f"liveness {live.kind if live else 'none'}, readiness {ready.kind if ready else 'none'}"
            findings.append(
                (
                    name,
                    f"container {container.name}: a liveness and a readiness probe",
                    seen,
                    live is not None and ready is not None,
                )
            )
            if live is not None and ready is not None:
                same = (live.kind, live.target) == (ready.kind, ready.target)
                findings.append(
                    (
                        name,
                        f"container {container.name}: readiness checked apart from liveness",
                        "the same check" if same else "different checks",
                        not same,
                    )
                )
            for probe_name, probe in (("liveness", live), ("readiness", ready)):
                if probe is not None and longest is not None:
                    findings.append(
                        (
                            name,
                            f"container {container.name}: {probe_name} starts within {longest:g} s",
                            f"initialDelaySeconds {probe.initial_delay_s}",
                            probe.initial_delay_s <= longest,
                        )
                    )
    return _per_service("health probes", findings)


def rollout_check(profile: Profile, declared: Declared) -> Check:
    """A rolling update takes no more replicas away than declared."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        if wanted.max_unavailable is None:
            continue
        got = declared[name]
        allowed = _count(got.max_unavailable, got.replicas)
        seen = "no rolling update" if got.max_unavailable is None else f"maxUnavailable {got.max_unavailable}"
        holds = allowed is not None and allowed <= wanted.max_unavailable
        findings.append(
            (name, f"a rolling update that takes at most {wanted.max_unavailable} replica(s) away", seen, holds)
        )
    return _per_service("rolling update", findings)


def _count(value: str | None, replicas: int, round_up: bool = False) -> int | None:
    """An int-or-percent field as replicas: a Deployment's maxUnavailable rounds a percentage down, a
    disruption budget's fields round it up (as Kubernetes does)."""
    if value is None:
        return None
    if value.endswith("%"):
        share = float(value[:-1]) * replicas / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def rollout_complete_check(profile: Profile, declared: Declared) -> Check:
    """Every service's latest rollout completed: a stalled one fails; one still under way cannot be judged yet."""
    findings: list[Finding] = []
    for name in promises(profile):
        got = declared[name]
        state = got.rollout
        seen = f"{state.updated} of {got.replicas} replicas updated, {state.available} available"
        complete = state.observed and state.updated >= got.replicas and state.available >= got.replicas
        if not complete and state.stalled is None:
            raise ProbeError(f"the rollout of {name} is still under way ({seen}): run again once it has ended")
        if state.stalled is not None:
            seen += f"; stalled: {state.stalled}"
        findings.append((name, "the latest rollout completed", seen, complete))
    return _per_service("rollout completed", findings)


def cronjobs_check(profile: Profile, declared: Declared) -> Check:
    """Each declared CronJob exists, is not suspended, and its schedule leaves no longer gap than declared."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        for job, interval in wanted.cronjobs.items():
            expected = f"CronJob {job} running at least every {interval:g} s, not suspended"
            found = declared[name].cronjobs.get(job)
            if found is None:
                findings.append((name, expected, "no such CronJob", False))
                continue
            schedule, suspended = found
            try:
                gap = cron.longest_gap(schedule).total_seconds()
            except ValueError as error:
                findings.append((name, expected, str(error), False))
                continue
            seen = f"schedule {schedule!r}: up to {gap:g} s between runs" + (", suspended" if suspended else "")
            findings.append((name, expected, seen, gap <= interval and not suspended))
    return _per_service("scheduled jobs", findings)


def budget_check(profile: Profile, declared: Declared) -> Check:
    """A disruption budget keeps at least the declared replicas while nodes are drained."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        if wanted.min_available is None:
            continue
        got = declared[name]
        floor = got.hpa_min or got.replicas
        if got.pdb_min_available is not None:
            kept, seen = _count(got.pdb_min_available, floor, round_up=True), f"minAvailable {got.pdb_min_available}"
        elif got.pdb_max_unavailable is not None:
            gone = _count(got.pdb_max_unavailable, floor, round_up=True) or 0
            kept, seen = floor - gone, f"maxUnavailable {got.pdb_max_unavailable}"
        else:
            kept, seen = None, "no disruption budget"
        holds = kept is not None and kept >= wanted.min_available
        findings.append((name, f"a disruption budget keeping at least {wanted.min_available}", seen, holds))
    return _per_service("disruption budget", findings)


def placement_check(profile: Profile, declared: Declared) -> Check:
    """Pods keep away from each other at least as strongly as declared."""
    strength = {None: 0, "preferred": 1, "required": 2}
    return _per_service(
        "anti-affinity",
        (
            (
                name,
                f"{wanted.anti_affinity} pod anti-affinity",
                declared[name].anti_affinity or "none",
                strength[declared[name].anti_affinity] >= strength[wanted.anti_affinity],
            )
            for name, wanted in promises(profile).items()
            if wanted.anti_affinity is not None
        ),
    )


def security_check(profile: Profile, declared: Declared) -> Check:
    """Every container runs as a non-root user and none is privileged."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        if not wanted.non_root:
            continue
        for container in declared[name].containers:
            as_root = container.run_as_user == 0 or not container.run_as_non_root
            seen = f"runAsNonRoot {container.run_as_non_root}, runAsUser {container.run_as_user}"
            findings.append((name, f"container {container.name} runs as non-root", seen, not as_root))
            findings.append(
                (
                    name,
                    f"container {container.name} not privileged",
                    "privileged" if container.privileged else "not privileged",
                    not container.privileged,
                )
            )
    return _per_service("non-root", findings)


def secrets_check(profile: Profile, declared: Declared) -> Check:
    """Declared Secrets reach the pods as Secrets; no variable holds a secret's value literally."""
    findings: list[Finding] = []
    for name, wanted in promises(profile).items():
        got = declared[name]
        for secret in wanted.secrets:
            used = secret in got.secret_volumes
            findings.append((name, f"Secret {secret} mounted", "mounted" if used else "not mounted", used))
        for container in got.containers:
            literal = [variable for variable in container.literal_env if SECRET_NAME.search(variable)]
            seen = f"literal values in {', '.join(literal)}" if literal else "none"
            findings.append((name, f"container {container.name}: no secret as a literal value", seen, not literal))
    return _per_service("secrets", findings)
