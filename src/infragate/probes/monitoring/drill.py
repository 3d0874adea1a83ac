"""Alert drills: stop a component on purpose (journalled first), watch the alert meant for it go
pending, fire and reach its receiver, start the component again and watch the alert resolve.

The timeline is in seconds after the fault; each step the monitoring never took is absent from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from infragate.errors import ProbeError
from infragate.platforms.base import Platform, StopsComponents
from infragate.probes.monitoring.prometheus_api import MonitoringApi
from infragate.profile.monitoring_promises import Drill, Monitoring
from infragate.recovery.journal import Journal, Undo
from infragate.retry import poll_until
from infragate.verdicts import Check

START_COMPONENT = "start_component"
POLL_S = 0.25
START_WAIT_S = 30.0
# What a timeline may hold, in the order it usually happens.
EVENTS = (
    "fault",
    "target down",
    "pending",
    "firing",
    "cannot fire in time",
    "sent elsewhere",
    "delivered",
    "fault ended",
    "running again",
    "target up",
    "resolved",
    "resolved delivered",
)


@dataclass(frozen=True)
class DrillResult:
    """What happened after the fault, event by event, against the declared time."""

    alert: str
    component: str
    notify_within_s: float
    timeline: tuple[tuple[str, float], ...]
    delivery_watched: bool
    CHARTS: ClassVar[tuple[str, ...]] = ("alert-drill",)  # the report chart that explains it

    def at(self, event: str) -> float | None:
        """Seconds after the fault at which an event happened, or None when it did not."""
        return dict(self.timeline).get(event)

    def _seen(self) -> str:
        return ", ".join(f"{name} at {seconds:.1f} s" for name, seconds in self.timeline)

    def notified_check(self) -> Check:
        """The alert fired (and reached its receiver, when that is watched) within notify_within."""
        last = "delivered" if self.delivery_watched else "firing"
        when = self.at(last)
        expected = f"{self.alert} {last} within {self.notify_within_s:g} s of stopping {self.component}"
        seen = f"{last} after {when:.1f} s" if when is not None else f"not {last} ({self._seen()})"
        return Check.compare(
            "alert notified in time", expected, seen, when is not None and when <= self.notify_within_s
        )

    def resolved_check(self) -> Check:
        """Once the platform runs the component again, the alert resolves within notify_within. The
        clock starts when the component is seen running, not when it is asked to start: how long a
        platform takes to schedule it (a Swarm task, a pod) is not the monitoring's time to notice."""
        restored, resolved = self.at("running again"), self.at("resolved")
        expected = f"{self.alert} resolved within {self.notify_within_s:g} s of {self.component} starting again"
        if self.at("firing") is None:
            return Check.not_judged("alert resolved", expected, f"{self.alert} never fired")
        if restored is None:
            return Check.not_judged("alert resolved", expected, f"{self.component} was not seen running again")
        took = None if resolved is None else resolved - restored
        seen = f"resolved after {took:.1f} s" if took is not None else f"still active ({self._seen()})"
        return Check.compare("alert resolved", expected, seen, took is not None and took <= self.notify_within_s)


def _notified(entries: tuple[Mapping[str, Any], ...], drill: Drill, status: str, since: float) -> bool:
    return any(
        float(entry.get("received_at", 0)) >= since
        and (drill.receiver is None or entry.get("receiver") == drill.receiver)
        and any(
            alert.get("alertname") == drill.alert and alert.get("status") == status for alert in entry.get("alerts", [])
        )
        for entry in entries
    )


class _Watch:
    """Polls Prometheus (and the receiver) and notes the first time each event is seen."""

    def __init__(
        self, api: MonitoringApi, drill: Drill, started: float, wall_started: float, limit: float, for_s: float
    ) -> None:
        self.api, self.drill, self.started, self.wall_started = api, drill, started, wall_started
        self.limit, self.for_s = limit, for_s
        self.events: dict[str, float] = {"fault": 0.0}
        self.jobs = set(api.monitoring.targets)
        self.settled = False

    def note(self, event: str) -> None:
        self.events.setdefault(event, time.monotonic() - self.started)

    def look(self) -> dict[str, float]:
        state, since = self.api.alert_states().get(self.drill.alert, (None, None))
        if state == "pending" and since is not None and since + self.for_s > self.wall_started + self.limit:
            self.note("cannot fire in time")  # its `for:` ends after the declared time: no need to wait it out
        if state == "firing" and "delivered" not in self.events and self.drill.receiver is not None:
            routed = self.api.routed_to(self.drill.alert)
            if routed is not None and self.drill.receiver not in routed:
                self.note("sent elsewhere")  # Alertmanager has it, for other receivers only
        mine = [t for t in self.api.targets() if t.job in self.jobs]
        if any(t.health == "down" for t in mine) and "fault ended" not in self.events:
            self.note("target down")
        # Up again means every target of the declared jobs scraped up: a replacement (a new pod, a new
        # task) is a new target, "unknown" until its first scrape.
        self.settled = bool(mine) and all(t.health == "up" for t in mine)
        if self.settled and "target down" in self.events and "running again" in self.events:
            self.note("target up")
        if state in ("pending", "firing"):
            self.note("pending")
        if state == "firing":
            self.note("firing")
        if "fault ended" in self.events and "firing" in self.events and state is None:
            self.note("resolved")
        if self.drill.notifications is not None:
            entries = self.api.notifications(self.drill.notifications)
            if _notified(entries, self.drill, "firing", self.wall_started):
                self.note("delivered")
            if "fault ended" in self.events and _notified(entries, self.drill, "resolved", self.wall_started):
                self.note("resolved delivered")
        return self.events


def run_drill(
    platform: Platform, journal: Journal, monitoring: Monitoring, drill: Drill, say: Callable[[str], None] = print
) -> DrillResult:
    """Stop the drill's component, time the alert from pending to delivered, start it again, time the resolve."""
    if not isinstance(platform, StopsComponents):
        raise ProbeError(f"{platform.describe()} cannot stop a component for an alert drill")
    limit = float(monitoring.notify_within or 0.0)
    api = MonitoringApi(monitoring)
    if api.alerts().get(drill.alert):
        raise ProbeError(f"{drill.alert} is active before the drill: a drill could not tell what it fires on")
    if not platform.component_running(drill.stop):
        raise ProbeError(f"{drill.stop} does not run before the drill")
    entry = journal.record(
        f"stop {drill.stop} (alert drill {drill.alert})",
        Undo(START_COMPONENT, {"component": drill.stop}),
        platform.consent,
    )
    wall_started, started = time.time(), time.monotonic()
    platform.stop_component(drill.stop)
    for_s = next((rule.for_s for rule in api.rules() if rule.kind == "alerting" and rule.name == drill.alert), 0.0)
    watch = _Watch(api, drill, started, wall_started, limit, for_s)
    last = "delivered" if drill.notifications is not None else "firing"
    hopeless = ("cannot fire in time", "sent elsewhere")
    say(f"alert drill: {drill.stop} stopped; {drill.alert} must be {last} within {limit:g} s, then resolve")
    poll_until(
        watch.look, lambda events: last in events or any(e in events for e in hopeless), limit + 2 * POLL_S, POLL_S
    )
    watch.note("fault ended")
    detail = start_component(platform, drill.stop)
    journal.settle(entry, "undone", detail)
    watch.note("running again")
    if "firing" in watch.events:  # the resolved notification is awaited only where the firing one came
        wanted = "resolved delivered" if "delivered" in watch.events else "resolved"
        poll_until(watch.look, lambda events: wanted in events, limit + 2 * POLL_S, POLL_S)
    # The next scenario reads the targets: what was stopped, or what replaced it, is scraped up again.
    poll_until(watch.look, lambda _: watch.settled, limit + 2 * POLL_S, POLL_S)
    timeline = tuple(
        sorted(((name, watch.events[name]) for name in EVENTS if name in watch.events), key=lambda e: e[1])
    )
    return DrillResult(drill.alert, drill.stop, limit, timeline, drill.notifications is not None)


def start_component(platform: Platform, name: str) -> str:
    """Start a component a drill stopped and verify that the platform runs it; ProbeError when not."""
    if not isinstance(platform, StopsComponents):
        raise ProbeError(f"{platform.describe()} cannot start a component")
    platform.start_component(name)
    if not poll_until(lambda: platform.component_running(name), bool, START_WAIT_S, POLL_S).met:
        raise ProbeError(f"{name} not running again within {START_WAIT_S:g} s")
    return f"{name} verified running again"
