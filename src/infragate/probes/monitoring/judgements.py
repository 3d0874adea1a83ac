"""Judging what Prometheus and Alertmanager report against the profile's monitoring promises: pure
functions of frozen snapshots, unit-tested without a live stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infragate.probes.monitoring import alert_routing, promql
from infragate.probes.monitoring.prometheus_api import Rule, Sample, Target
from infragate.profile.monitoring_promises import Monitoring
from infragate.quantities import parse_duration
from infragate.verdicts import Check

# Series Prometheus makes itself, which no target exposes.
BUILT_IN_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE", "up", "scrape_duration_seconds", "scrape_samples_scraped"})
DEFAULT_SCRAPE_INTERVAL_S = 60.0  # Prometheus's default global scrape_interval
DEFAULT_EVALUATION_INTERVAL_S = 60.0


def targets_check(monitoring: Monitoring, targets: Sequence[Target]) -> Check:
    """Every declared job has at least its minimum of targets up, each scraped recently."""
    problems, seen = [], []
    for job, promise in monitoring.targets.items():
        mine = [target for target in targets if target.job == job]
        up = [target for target in mine if target.health == "up"]
        seen.append(f"{job} {len(up)}/{len(mine)} up")
        if not mine:
            problems.append(f"job {job}: Prometheus scrapes no target of it")
            continue
        if len(up) < promise.min_up:
            down = "; ".join(
                f"{t.instance} {t.health}: {t.last_error or 'no error given'}" for t in mine if t not in up
            )
            problems.append(f"job {job}: expected at least {promise.min_up} target(s) up, observed {len(up)} ({down})")
        stale = [t for t in up if t.last_scrape_age_s is None or t.last_scrape_age_s > monitoring.max_scrape_age]
        for target in stale:
            age = "never" if target.last_scrape_age_s is None else f"{target.last_scrape_age_s:.0f} s ago"
            problems.append(
                f"job {job}: {target.instance} last scraped {age}, expected within {monitoring.max_scrape_age:g} s"
            )
    return Check.judged(
        "scrape targets up",
        f"every declared job up, scraped within {monitoring.max_scrape_age:g} s",
        "; ".join(seen) or "no job declared",
        problems,
    )


def reaches_check(monitoring: Monitoring, samples: Mapping[str, Sequence[Sample]]) -> Check:
    """Every exporter that declares what it watches reports reaching it (its gauge is 1 on every target)."""
    problems, seen = [], []
    for job, promise in monitoring.targets.items():
        if promise.reaches is None:
            continue
        found = samples.get(job, ())
        seen.append(f"{job}: {promise.reaches} " + (",".join(f"{s.value:g}" for s in found) or "absent"))
        if not found:
            problems.append(f"job {job}: exposes no {promise.reaches}, expected 1 (it does not watch what it should)")
        for sample in found:
            if sample.value != 1:
                instance = dict(sample.labels).get("instance", "?")
                problems.append(
                    f"job {job}: {promise.reaches} is {sample.value:g} on {instance}, expected 1 "
                    "(the exporter is up but does not reach what it watches)"
                )
    return Check.judged(
        "exporters reach what they watch", "every declared gauge at 1", "; ".join(seen) or "none declared", problems
    )


def rules_check(monitoring: Monitoring, rules: Sequence[Rule]) -> Check:
    """Every declared alert is loaded, healthy and labelled as declared; every declared category has a rule."""
    alerting = [rule for rule in rules if rule.kind == "alerting"]
    by_name: dict[str, list[Rule]] = {}
    for rule in alerting:
        by_name.setdefault(rule.name, []).append(rule)
    problems = []
    for name, promise in monitoring.rules.items():
        loaded = by_name.get(name)
        if not loaded:
            problems.append(f"alert {name}: no such alerting rule is loaded")
            continue
        for rule in loaded:
            if rule.health == "err":
                problems.append(f"alert {name}: evaluation fails: {rule.last_error or 'no error given'}")
            wrong = {k: v for k, v in promise.labels.items() if rule.label(k) != v}
            if wrong:
                have = ", ".join(f"{k}={rule.label(k)}" for k in wrong)
                want = ", ".join(f"{k}={v}" for k, v in wrong.items())
                problems.append(f"alert {name}: expected labels {want}, observed {have}")
    categories = {rule.label("category") for rule in alerting}
    problems.extend(
        f"category {category}: no alerting rule carries category={category}"
        for category in monitoring.categories
        if category not in categories
    )
    return Check.judged(
        "alert rules loaded",
        f"{len(monitoring.rules)} declared alert(s) loaded and healthy; categories {', '.join(monitoring.categories)}",
        f"{len(alerting)} alerting rule(s) loaded: {', '.join(sorted(by_name)) or 'none'}",
        problems,
    )


def rule_metrics_check(rules: Sequence[Rule], exposed: frozenset[str]) -> Check:
    """No loaded rule reads a metric that no target exposes (and no recording rule makes)."""
    known = exposed | BUILT_IN_SERIES | {rule.name for rule in rules if rule.kind == "recording"}
    problems = []
    for rule in rules:
        try:
            names = promql.metric_names(rule.query)
        except ValueError as error:
            problems.append(f"{rule.kind} rule {rule.name}: its expression could not be read: {error}")
            continue
        missing = sorted(names - known)
        if missing:
            problems.append(
                f"{rule.kind} rule {rule.name}: reads {', '.join(missing)}, which no target exposes (it can never fire)"
            )
    return Check.judged(
        "rules read existing metrics",
        "every metric a rule reads is exposed",
        f"{len(rules)} rule(s) against {len(exposed)} exposed metric name(s)",
        problems,
    )


def alertmanager_check(
    monitoring: Monitoring, ready: bool, cluster: str, config: Mapping[str, Any], connected: Sequence[str]
) -> Check:
    """Alertmanager is ready (its cluster settled), defines the declared receivers, and Prometheus sends to it."""
    declared = monitoring.alertmanager
    if declared is None:
        return Check.not_judged("alertmanager", "an Alertmanager", "the profile declares no monitoring.alertmanager")
    problems = []
    if not ready:
        problems.append(f"Alertmanager at {declared.url} is not ready")
    if cluster == "settling":
        problems.append("Alertmanager's cluster is still settling")
    defined = alert_routing.receivers(config)
    problems.extend(
        f"receiver {name}: Alertmanager's configuration defines no such receiver"
        for name in declared.receivers
        if name not in defined
    )
    base = (declared.sent_to or declared.url).rstrip("/")
    if not any(url.startswith(base + "/") for url in connected):
        problems.append(f"Prometheus does not send to {base}; it sends to {', '.join(connected) or 'no Alertmanager'}")
    return Check.judged(
        "alertmanager ready and connected",
        f"ready, receivers {', '.join(declared.receivers) or '(any)'}, Prometheus sending to {base}",
        f"ready={ready}, cluster {cluster}, receivers {', '.join(sorted(defined))}, Prometheus sends to "
        f"{', '.join(connected) or 'none'}",
        problems,
    )


def routes_check(monitoring: Monitoring, config: Mapping[str, Any]) -> Check:
    """Alerts with each declared route's labels reach the declared receiver."""
    declared = monitoring.alertmanager
    if declared is None or not declared.routes:
        return Check.not_judged("alert routes", "declared routes", "the profile declares no alertmanager.routes")
    problems, seen = [], []
    for route in declared.routes:
        labels = ", ".join(f"{k}={v}" for k, v in route.labels.items())
        try:
            reached = sorted({delivery.receiver for delivery in alert_routing.deliveries(config, route.labels)})
        except (ValueError, TypeError) as error:
            problems.append(f"alerts with {labels}: the routing tree could not be read: {error}")
            continue
        seen.append(f"{labels} -> {', '.join(reached)}")
        if route.receiver not in reached:
            problems.append(f"alerts with {labels}: expected to reach {route.receiver}, observed {', '.join(reached)}")
    return Check.judged("alert routes", "every declared route reaches its receiver", "; ".join(seen), problems)


@dataclass(frozen=True)
class Timing:
    """How long, by its settings, an alert may take from its fault to its notification, and what that
    is made of: the fault waits up to a scrape interval to be seen and up to an evaluation interval
    to be evaluated, then `for:`, then group_wait. A fault that falls just before a scrape and an
    evaluation is notified after `for:` and little more (sooner than group_wait when the alert's group
    is already open at Alertmanager); none should take longer than the sum, processing apart."""

    alert: str
    scrape_s: float
    evaluation_s: float
    for_s: float
    group_wait_s: float

    @property
    def bound_s(self) -> float:
        """Scrape interval + evaluation interval + `for:` + group_wait."""
        return self.scrape_s + self.evaluation_s + self.for_s + self.group_wait_s

    def describe(self) -> str:
        """The sum, term by term."""
        return (
            f"{self.alert}: scrape {self.scrape_s:g} s + evaluation {self.evaluation_s:g} s + for {self.for_s:g} s "
            f"+ group_wait {self.group_wait_s:g} s = {self.bound_s:g} s"
        )


def timings(
    rules: Sequence[Rule], prometheus: Mapping[str, Any], alertmanager: Mapping[str, Any] | None
) -> dict[str, Timing]:
    """The configured bound on notifying every loaded alert: the slowest scrape interval of any job (the
    rule may read any), the rule group's interval, its `for:`, and group_wait of the route it takes."""
    settings = prometheus.get("global") or {}
    default_scrape = parse_duration(str(settings.get("scrape_interval", f"{DEFAULT_SCRAPE_INTERVAL_S:g}s")))
    evaluation = parse_duration(str(settings.get("evaluation_interval", f"{DEFAULT_EVALUATION_INTERVAL_S:g}s")))
    scrapes = [
        parse_duration(str(job["scrape_interval"])) if job.get("scrape_interval") else default_scrape
        for job in prometheus.get("scrape_configs") or []
    ]
    scrape = max(scrapes, default=default_scrape)
    found = {}
    for rule in rules:
        if rule.kind != "alerting":
            continue
        wait = 0.0
        if alertmanager is not None:
            labels = {**dict(rule.labels), "alertname": rule.name}
            wait = max(delivery.group_wait_s for delivery in alert_routing.deliveries(alertmanager, labels))
        found[rule.name] = Timing(rule.name, scrape, rule.group_interval_s or evaluation, rule.for_s, wait)
    return found


def time_limits(monitoring: Monitoring) -> dict[str, float]:
    """Each alert with a time limit: its own notify_within, or, when drilled, the section's."""
    limits = {name: rule.notify_within for name, rule in monitoring.rules.items() if rule.notify_within is not None}
    if monitoring.notify_within is not None:
        for drill in monitoring.drills:
            limits.setdefault(drill.alert, monitoring.notify_within)
    return limits


def timing_check(monitoring: Monitoring, found: Mapping[str, Timing]) -> Check:
    """No alert with a time limit is, by its own settings, notified later than that after its fault
    (an alert that is not loaded is the rules scenario's finding, not this one's)."""
    limits = time_limits(monitoring)
    if not limits:
        return Check.not_judged(
            "alert timing", "a time limit", "no alert declares notify_within and no alert is drilled"
        )
    problems = [
        f"{timing.describe()}, expected at most {limit:g} s"
        for name, limit in limits.items()
        if (timing := found.get(name)) is not None and timing.bound_s > limit
    ]
    return Check.judged(
        "alert timing",
        "; ".join(f"{name} within {limit:g} s" for name, limit in limits.items()),
        "; ".join(found[name].describe() for name in limits if name in found) or "no such alert loaded",
        problems,
    )
