"""Disruptions with proof: kill, scale and rolling restart, each journalled with its undo first.

Steady state, then the method, then steady state again: every disruption is written to the
journal before it happens, its effect is proven from the platform (the killed instance is gone
and a new one runs), and what clients saw meanwhile comes from the background traffic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from infragate.errors import ProbeError
from infragate.platforms.base import Platform, ReplicaSet, RollsOut
from infragate.probes.traffic import BackgroundTraffic, PlannedRequest, TrafficRecording, ssl_context
from infragate.profile.model import Profile, Resilience, Route
from infragate.recovery.journal import Journal, Undo
from infragate.retry import poll_until
from infragate.verdicts import Check

POLL_S = 0.2
STEADY_BEFORE_S = 1.0  # steady state seen before the fault, so the report can tell before from during
RESTORE_WAIT_S = 90.0
RESTORE = "restore_replicas"


def resilience_of(profile: Profile) -> Resilience:
    """The profile's resilience section (callers make a scenario not applicable without it)."""
    if profile.resilience is None:
        raise ProbeError("the profile declares no resilience section")
    return profile.resilience


def steady_route(profile: Profile) -> Route:
    """The route steady traffic goes to: resilience.route, else the service's own route."""
    resilience = resilience_of(profile)
    name = resilience.route or profile.services[resilience.service].route
    if name is None:
        raise ProbeError(f"neither resilience.route nor services.{resilience.service}.route names a route for traffic")
    return profile.gateway.routes[name]


def steady_traffic(profile: Profile) -> BackgroundTraffic:
    """Background traffic at the declared steady rate, capped by the safety section."""
    resilience, gateway, safety = resilience_of(profile), profile.gateway, profile.safety
    route = steady_route(profile)
    template = PlannedRequest(0.0, route.method, route.path, "steady", tuple(route.headers().items()), route.body)
    return BackgroundTraffic(
        gateway.base_url,
        template,
        min(resilience.traffic_rate, safety.max_rate),
        safety.max_duration,
        context=ssl_context(gateway.ca_bundle, gateway.verify_tls),
        timeout_s=gateway.timeout,
    )


def _wait(
    platform: Platform, service: str, ready: int, limit_s: float, started: float
) -> tuple[ReplicaSet, float | None]:
    """Poll until `ready` replicas are ready; the seconds it took from `started`, or None."""
    remaining = started + limit_s - time.monotonic()
    polled = poll_until(lambda: platform.replicas(service), lambda found: len(found.ready) >= ready, remaining, POLL_S)
    return polled.value, (time.monotonic() - started if polled.met else None)


def settled(platform: Platform, service: str, limit_s: float) -> ReplicaSet:
    """The service at rest: as many replicas running and ready as its spec asks for, waited for up to limit_s.

    A disruption starts only from there (the steady state before the method): a service still
    replacing a task would make the experiment's figures, and its undo, start from a passing moment.
    """
    polled = poll_until(
        lambda: (platform.desired(service), platform.replicas(service)),
        lambda seen: len(seen[1].ready) == len(seen[1].running) == seen[0],
        limit_s,
        POLL_S,
    )
    wanted, found = polled.value
    if not polled.met:
        raise ProbeError(
            f"{service} did not settle at its {wanted} desired replicas within {limit_s:g} s before the "
            f"disruption (running {len(found.running)}, ready {len(found.ready)})"
        )
    return found


def restore(platform: Platform, undo: Undo) -> str:
    """Carry out an undo and verify it; a ProbeError says it could not be verified."""
    if undo.action != RESTORE:
        raise ProbeError(f"unknown undo action {undo.action}")
    service, count = str(undo.arguments["service"]), int(undo.arguments["replicas"])
    platform.scale(service, count)
    # Exactly `count`, running and ready: a scale-in goes on after the request returns (a Kubernetes
    # ReplicaSet deletes its surplus pods a moment later), and "at least" would pass too early.
    polled = poll_until(
        lambda: platform.replicas(service),
        lambda found: len(found.ready) == len(found.running) == count,
        RESTORE_WAIT_S,
        POLL_S,
    )
    found = polled.value
    if not polled.met:
        raise ProbeError(
            f"{service} not back at {count} ready replicas within {RESTORE_WAIT_S:g} s "
            f"(running {len(found.running)}, ready {len(found.ready)})"
        )
    return f"{service} verified back at {count} ready replicas"


@dataclass(frozen=True)
class KillResult:
    """One replica killed, with the proof of what followed."""

    service: str
    killed: str
    killed_instance: str
    replicas_before: int
    replacement: str | None
    replaced_after_s: float | None
    back_after_s: float | None
    recovery_time_s: float
    restart_policy: str

    def replaced_check(self) -> Check:
        """The killed replica was replaced by a new instance."""
        expected = (
            f"the killed replica {self.killed} (instance {self.killed_instance}) of {self.service} "
            "to be replaced by a new instance"
        )
        if self.replacement is None:
            seen = f"none within {2 * self.recovery_time_s:g} s (restart policy: {self.restart_policy})"
        else:
            seen = f"{self.replacement} after {self.replaced_after_s or 0:.1f} s"
        return Check.compare("replica replaced", expected, seen, self.replacement is not None)

    def recovery_check(self) -> Check:
        """The service was back at its size in time."""
        expected = f"{self.service} back at {self.replicas_before} ready replicas within {self.recovery_time_s:g} s"
        expected += " of the kill"
        seen = "not within the wait" if self.back_after_s is None else f"after {self.back_after_s:.1f} s"
        holds = self.back_after_s is not None and self.back_after_s <= self.recovery_time_s
        return Check.compare("recovery time", expected, seen, holds)


def kill_one(platform: Platform, journal: Journal, profile: Profile, traffic: BackgroundTraffic | None) -> KillResult:
    """Kill the first ready replica of the service; watch for its replacement and the return to full size."""
    resilience = resilience_of(profile)
    service = resilience.service
    before = settled(platform, service, resilience.recovery_time)
    if not before.ready:
        raise ProbeError(f"{service} has no ready replica to kill")
    victim = sorted(before.ready, key=lambda replica: replica.id)[0]
    journal.record(
        f"kill replica {victim.id} (instance {victim.instance}) of {service}",
        Undo(RESTORE, {"service": service, "replicas": len(before.ready)}),
        platform.consent,
    )
    policy = platform.restart_policy(service)
    if traffic is not None:
        time.sleep(max(0.0, STEADY_BEFORE_S - traffic.now()))
        traffic.mark("fault")
    started = time.monotonic()
    platform.kill(service, victim.id)
    replaced: list[tuple[str, float]] = []  # the first new instance, and when it appeared

    def back(now: ReplicaSet) -> bool:
        fresh = now.instances() - before.instances()
        if not replaced and victim.instance not in now.instances() and fresh:
            replaced.append((sorted(fresh)[0], time.monotonic() - started))
        return bool(replaced) and len(now.ready) >= len(before.ready)

    remaining = started + 2 * resilience.recovery_time - time.monotonic()
    polled = poll_until(lambda: platform.replicas(service), back, remaining, POLL_S)
    replacement, replaced_after = replaced[0] if replaced else (None, None)
    back_after = time.monotonic() - started if polled.met else None
    if traffic is not None:
        traffic.mark("recovered")
    return KillResult(
        service,
        victim.id,
        victim.instance,
        len(before.ready),
        replacement,
        replaced_after,
        back_after,
        resilience.recovery_time,
        policy,
    )


@dataclass(frozen=True)
class ScaleResult:
    """A scaling request and how long the platform took to have every replica ready."""

    service: str
    replicas_before: int
    replicas_wanted: int
    ready_after_s: float | None
    ready_count: int
    limit_s: float

    def ready_check(self) -> Check:
        """The scaled service was ready in time."""
        if self.ready_after_s is None:
            seen = f"{self.ready_count} ready when the wait ended"
        else:
            seen = f"all ready after {self.ready_after_s:.1f} s"
        expected = f"{self.service} at {self.replicas_wanted} ready replicas within {self.limit_s:g} s"
        holds = self.ready_after_s is not None and self.ready_after_s <= self.limit_s
        return Check.compare("scaled in time", expected, seen, holds)


def scale_to(platform: Platform, journal: Journal, profile: Profile, replicas: int) -> ScaleResult:
    """Scale the service and time it until every replica is ready; journalled back to the starting size."""
    resilience = resilience_of(profile)
    service = resilience.service
    if replicas > profile.services[service].replicas.max:
        raise ProbeError(
            f"scaling {service} to {replicas} would exceed its declared maximum "
            f"({profile.services[service].replicas.max})"
        )
    before = settled(platform, service, resilience.recovery_time)
    journal.record(
        f"scale {service} from {len(before.running)} to {replicas}",
        Undo(RESTORE, {"service": service, "replicas": len(before.running)}),
        platform.consent,
    )
    started = time.monotonic()
    platform.scale(service, replicas)
    found, took = _wait(platform, service, replicas, 1.5 * resilience.scale_time, started)
    return ScaleResult(service, len(before.running), replicas, took, len(found.ready), resilience.scale_time)


@dataclass(frozen=True)
class RollingRestartResult:
    """Every replica restarted in turn, with the instances before and after."""

    service: str
    before: dict[str, str]
    after: dict[str, str]
    took_s: float

    def replaced_check(self) -> Check:
        """Every replica's instance changed."""
        same = sorted(name for name, instance in self.before.items() if self.after.get(name) == instance)
        seen = f"the same instance for {', '.join(same)}" if same else f"{len(self.before)} new instances"
        return Check.compare("every replica replaced", f"every replica of {self.service} replaced", seen, not same)


def _one_by_one(platform: Platform, resilience: Resilience, service: str, before: ReplicaSet) -> None:
    for replica in sorted(before.running, key=lambda item: item.id):
        platform.restart(service, replica.id)
        _, took = _wait(platform, service, len(before.ready), 2 * resilience.recovery_time, time.monotonic())
        if took is None:
            raise ProbeError(f"{service} did not become ready again after restarting {replica.id}")
        time.sleep(resilience.min_ready)  # as minReadySeconds: let the gateway take the replica back first


def rolling_restart(platform: Platform, journal: Journal, profile: Profile) -> RollingRestartResult:
    """Restart the service's replicas one after another, each ready again before the next goes; or,
    where the platform has a rolling restart of its own (a Kubernetes Deployment), that one."""
    resilience = resilience_of(profile)
    service = resilience.service
    before = settled(platform, service, resilience.recovery_time)
    journal.record(
        f"rolling restart of {service}",
        Undo(RESTORE, {"service": service, "replicas": len(before.running)}),
        platform.consent,
    )
    started = time.monotonic()
    if isinstance(platform, RollsOut):  # the platform's own rollout, as its users run it
        platform.roll(service)
    else:
        _one_by_one(platform, resilience, service, before)
    after = platform.replicas(service)
    return RollingRestartResult(
        service,
        {r.id: r.instance for r in before.running},
        {r.id: r.instance for r in after.running},
        time.monotonic() - started,
    )


@dataclass(frozen=True)
class SecondSummary:
    """Traffic in one second: how much was sent, how much failed, the slowest answer."""

    second: int
    sent: int
    failed: int
    worst_latency_ms: float


@dataclass(frozen=True)
class TrafficReport:
    """What clients saw while a disruption went on."""

    CHARTS: ClassVar[tuple[str, ...]] = ("traffic",)  # the report charts that explain it

    rate_per_s: float
    sent: int
    failed: int
    late_starts: int
    marks: dict[str, float]
    window: tuple[float, float]
    window_sent: int
    window_failed: int
    failures: tuple[str, ...]
    seconds: tuple[SecondSummary, ...]

    def budget_check(self, budget: float) -> Check:
        """The share of failed requests during the fault stays within the budget."""
        if self.window_sent == 0:
            return Check.compare("error budget", "steady traffic during the fault", "no request in that window", False)
        share = self.window_failed / self.window_sent
        seen = f"{share:.2%} ({self.window_failed} of {self.window_sent}"
        seen += f"; first: {', '.join(self.failures[:3])})" if self.failures else ")"
        return Check.compare(
            "error budget", f"at most {budget:.2%} of requests to fail during the fault", seen, share <= budget
        )

    def none_failed_check(self) -> Check:
        """No request failed (and some were sent)."""
        if self.sent == 0:
            return Check.compare("no failed request", "steady traffic", "no request", False)
        seen = f"{self.failed} of {self.sent}"
        seen += f" (first: {', '.join(self.failures[:3])})" if self.failed else ""
        return Check.compare("no failed request", "no failed request", seen, not self.failed)


def _failed(status: int) -> bool:
    return status == 0 or status >= 500


def report_traffic(traffic: BackgroundTraffic, grace_s: float = 1.0) -> TrafficReport:
    """Stop the traffic and judge it: the fault window runs from the "fault" mark to "recovered" plus grace."""
    if "recovered" in traffic.marks:
        time.sleep(max(0.0, traffic.marks["recovered"] + grace_s - traffic.now()))  # see the after-window too
    recording: TrafficRecording = traffic.stop()
    outcomes = recording.outcomes
    start = traffic.marks.get("fault", 0.0)
    end = traffic.marks.get("recovered", recording.duration_s) + grace_s
    in_window = [o for o in outcomes if start <= o.intended_s <= end]
    failures = tuple(f"{o.status or o.error} at {o.intended_s:.2f} s" for o in outcomes if _failed(o.status))
    seconds: dict[int, list[float]] = {}
    failed_by_second: dict[int, int] = {}
    for outcome in outcomes:
        second = int(outcome.intended_s)
        seconds.setdefault(second, []).append(outcome.latency_s * 1000)
        failed_by_second[second] = failed_by_second.get(second, 0) + _failed(outcome.status)
    return TrafficReport(
        rate_per_s=traffic.rate_per_s,
        sent=len(outcomes),
        failed=len(failures),
        late_starts=recording.late_starts(),
        marks=dict(traffic.marks),
        window=(round(start, 3), round(end, 3)),
        window_sent=len(in_window),
        window_failed=sum(1 for o in in_window if _failed(o.status)),
        failures=failures,
        seconds=tuple(
            SecondSummary(second, len(latencies), failed_by_second[second], round(max(latencies), 1))
            for second, latencies in sorted(seconds.items())
        ),
    )
