"""The `monitoring:` section each reference deployment promises (the local one, the Swarm stack, the
Kubernetes cluster): its Prometheus and Alertmanager on this machine, the alert rules of each
category routed to the on-call receiver, the API's requests counted, and outages drilled."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from infragate.sandbox.local.prometheus_stack import RECEIVER

COUNTED_REQUESTS = 50  # the requests sent through the gateway that Prometheus must count


@dataclass(frozen=True)
class Watch:
    """Where a deployment's monitoring answers on this machine, by port."""

    prometheus: int
    alertmanager: int
    receiver: int  # infragate's webhook receiver, which records each notification


def monitoring_section(
    watch: Watch,
    targets: Mapping[str, object],
    rules: Mapping[str, Sequence[str]],
    drills: Mapping[str, str],
    notify_within: str,
    job: str,
    sent_to: str | None = None,
    timed: Collection[str] | None = None,
) -> dict[str, object]:
    """targets: job -> what it must show; rules: category -> alert names; drills: alert -> what is
    stopped to fire it; timed: the alerts that must notify within notify_within (the drilled ones
    unless named); job: the API's scrape job whose request counter is compared; sent_to:
    Alertmanager's address as Prometheus reaches it, where that is not this machine's."""
    timed = drills.keys() if timed is None else timed
    alertmanager: dict[str, object] = {"url": f"http://127.0.0.1:{watch.alertmanager}"}
    if sent_to is not None:
        alertmanager["sent_to"] = sent_to
    alertmanager["receivers"] = [RECEIVER]
    alertmanager["routes"] = [{"labels": {"category": category}, "receiver": RECEIVER} for category in rules]
    notifications = f"http://127.0.0.1:{watch.receiver}/notifications"
    return {
        "prometheus": f"http://127.0.0.1:{watch.prometheus}",
        "targets": dict(targets),
        "max_scrape_age": "15s",
        "rules": {
            name: {"labels": {"category": category}, **({"notify_within": notify_within} if name in timed else {})}
            for category, names in rules.items()
            for name in names
        },
        "categories": list(rules),
        "alertmanager": alertmanager,
        "notify_within": notify_within,
        "counts": {"route": "api", "metric": "app_http_requests_total", "job": job, "requests": COUNTED_REQUESTS},
        "drills": [
            {"alert": alert, "stop": stopped, "receiver": RECEIVER, "notifications": notifications}
            for alert, stopped in drills.items()
        ],
    }
