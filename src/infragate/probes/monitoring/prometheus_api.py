"""Reading Prometheus and Alertmanager through their HTTP APIs into frozen snapshots; an API that
does not answer, or answers what is not its API, is a ProbeError (could not verify)."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import yaml

from infragate.errors import ProbeError
from infragate.profile.monitoring_promises import Monitoring

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Target:
    """One scrape target as Prometheus last saw it."""

    job: str
    instance: str
    health: str  # "up", "down" or "unknown"
    last_scrape_age_s: float | None
    last_error: str


@dataclass(frozen=True)
class Rule:
    """One loaded rule (alerting or recording) with its evaluation state."""

    name: str
    kind: str  # "alerting" or "recording"
    query: str
    for_s: float
    labels: tuple[tuple[str, str], ...]
    health: str
    last_error: str
    group_interval_s: float

    def label(self, name: str) -> str | None:
        """One of its labels, if it has it."""
        return dict(self.labels).get(name)


@dataclass(frozen=True)
class Sample:
    """One series of an instant query's answer."""

    labels: tuple[tuple[str, str], ...]
    value: float


def _age(text: str, now: datetime.datetime) -> float | None:
    try:
        seen = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if seen.year < 2000:  # Go's zero time: never scraped
        return None
    return max(0.0, (now - seen).total_seconds())


class MonitoringApi:
    """Prometheus and (when declared) Alertmanager of one profile."""

    def __init__(self, monitoring: Monitoring) -> None:
        self.monitoring = monitoring
        self._session = requests.Session()
        self._session.trust_env = False
        if monitoring.bearer_token:
            self._session.headers["Authorization"] = f"Bearer {monitoring.bearer_token}"

    def _get(self, url: str, what: str) -> Any:
        try:
            response = self._session.get(url, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise ProbeError(f"{what} did not answer ({url}): {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ProbeError(f"{what} answered {response.status_code} ({url})")
        try:
            return response.json()
        except ValueError:
            raise ProbeError(f"{what} answered something that is not JSON ({url})") from None

    def _prometheus(self, path: str, params: str = "") -> Any:
        url = f"{self.monitoring.prometheus.rstrip('/')}{path}{params}"
        answer = self._get(url, "Prometheus")
        if not isinstance(answer, Mapping) or answer.get("status") != "success" or "data" not in answer:
            raise ProbeError(f"Prometheus's API did not answer with data ({url})")
        return answer["data"]

    def targets(self) -> tuple[Target, ...]:
        """Every active scrape target."""
        now = datetime.datetime.now(datetime.UTC)
        data = self._prometheus("/api/v1/targets", "?state=active")
        return tuple(
            Target(
                str(entry.get("labels", {}).get("job", entry.get("scrapePool", ""))),
                str(entry.get("labels", {}).get("instance", entry.get("scrapeUrl", ""))),
                str(entry.get("health", "unknown")),
                _age(str(entry.get("lastScrape", "")), now),
                str(entry.get("lastError", "")),
            )
            for entry in data.get("activeTargets", [])
        )

    def rules(self) -> tuple[Rule, ...]:
        """Every loaded rule."""
        data = self._prometheus("/api/v1/rules")
        found = []
        for group in data.get("groups", []):
            for entry in group.get("rules", []):
                found.append(
                    Rule(
                        str(entry.get("name", "")),
                        str(entry.get("type", "")),
                        str(entry.get("query", "")),
                        float(entry.get("duration", 0) or 0),
                        tuple(sorted((str(k), str(v)) for k, v in (entry.get("labels") or {}).items())),
                        str(entry.get("health", "unknown")),
                        str(entry.get("lastError", "")),
                        float(group.get("interval", 0) or 0),
                    )
                )
        return tuple(found)

    def metric_names(self) -> frozenset[str]:
        """Every metric name Prometheus holds series of."""
        return frozenset(str(name) for name in self._prometheus("/api/v1/label/__name__/values"))

    def query(self, expression: str) -> tuple[Sample, ...]:
        """An instant query's vector."""
        data = self._prometheus("/api/v1/query", "?" + requests.compat.urlencode({"query": expression}))
        if data.get("resultType") != "vector":
            raise ProbeError(f"Prometheus answered {expression!r} with a {data.get('resultType')}, not a vector")
        return tuple(
            Sample(tuple(sorted(entry["metric"].items())), float(entry["value"][1])) for entry in data["result"]
        )

    def alerts(self) -> dict[str, str]:
        """Active alerts by name, and their state ("pending" or "firing"; firing wins)."""
        return {name: state for name, (state, _) in self.alert_states().items()}

    def alert_states(self) -> dict[str, tuple[str, float | None]]:
        """Active alerts by name: their state (firing wins) and since when they are active (epoch seconds)."""
        states: dict[str, tuple[str, float | None]] = {}
        for entry in self._prometheus("/api/v1/alerts").get("alerts", []):
            name = str(entry.get("labels", {}).get("alertname", ""))
            if states.get(name, ("", None))[0] != "firing":
                active = entry.get("activeAt")
                since = None
                if isinstance(active, str):
                    with contextlib.suppress(ValueError):
                        since = datetime.datetime.fromisoformat(active.replace("Z", "+00:00")).timestamp()
                states[name] = (str(entry.get("state", "")), since)
        return states

    def routed_to(self, alert: str) -> frozenset[str] | None:
        """The receivers Alertmanager has for an active alert of this name, or None when it has none active."""
        if self.monitoring.alertmanager is None:
            return None
        url = f"{self.monitoring.alertmanager.url.rstrip('/')}/api/v2/alerts"
        found = self._get(url + "?" + requests.compat.urlencode({"filter": f'alertname="{alert}"'}), "Alertmanager")
        entries = found if isinstance(found, list) else []
        receivers = {
            str(receiver.get("name"))
            for entry in entries
            if isinstance(entry, Mapping) and (entry.get("status") or {}).get("state") == "active"
            for receiver in entry.get("receivers") or []
        }
        return frozenset(receivers) or None

    def alertmanagers(self) -> tuple[str, ...]:
        """The Alertmanagers Prometheus sends to."""
        data = self._prometheus("/api/v1/alertmanagers")
        return tuple(str(entry.get("url", "")) for entry in data.get("activeAlertmanagers", []))

    def prometheus_config(self) -> Mapping[str, Any]:
        """Prometheus's configuration as it runs."""
        return _yaml(self._prometheus("/api/v1/status/config").get("yaml", ""), "Prometheus's configuration")

    def alertmanager_status(self) -> tuple[bool, str, Mapping[str, Any]]:
        """Whether Alertmanager is ready, its cluster status, and its configuration."""
        declared = self.monitoring.alertmanager
        if declared is None:
            raise ProbeError("the profile declares no monitoring.alertmanager")
        base = declared.url.rstrip("/")
        try:
            ready = self._session.get(f"{base}/-/ready", timeout=TIMEOUT_S).status_code == 200
        except requests.RequestException as exc:
            raise ProbeError(f"Alertmanager did not answer ({base}/-/ready): {type(exc).__name__}") from None
        status = self._get(f"{base}/api/v2/status", "Alertmanager")
        if not isinstance(status, Mapping) or "config" not in status:
            raise ProbeError(f"Alertmanager's API did not answer with its status ({base}/api/v2/status)")
        cluster = str((status.get("cluster") or {}).get("status", "unknown"))
        return ready, cluster, _yaml(str(status["config"].get("original", "")), "Alertmanager's configuration")

    def notifications(self, url: str) -> tuple[Mapping[str, Any], ...]:
        """What a webhook receiver recorded (infragate's receiver: a JSON list)."""
        answer = self._get(url, "the notification receiver")
        if not isinstance(answer, list):
            raise ProbeError(f"the notification receiver answered something that is not a list ({url})")
        return tuple(entry for entry in answer if isinstance(entry, Mapping))


def _yaml(text: str, what: str) -> Mapping[str, Any]:
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ProbeError(f"{what} could not be read as YAML") from None
    if not isinstance(loaded, Mapping):
        raise ProbeError(f"{what} is empty")
    return loaded
