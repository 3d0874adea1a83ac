"""The local reference deployment's monitoring, from Debian's packages: Prometheus scraping the API
replicas (found through the service registry, as file-based service discovery), the gateway (nginx
through its exporter, HAProxy through its own), PostgreSQL, Redis and the host through their
exporters; alert rules for the seed's categories; Alertmanager routing them to infragate's webhook
receiver. Every part listens on 127.0.0.1 only."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
import yaml

from infragate.errors import ProbeError
from infragate.retry import retry
from infragate.sandbox import binaries
from infragate.sandbox.local.programs import program
from infragate.sandbox.spec import SandboxSpec

FOLDER = "monitoring"
API_TARGETS = "api-targets.json"  # written with the service registry (state.write_registry)
SCRAPE_S = 1
EVALUATE_S = 1
GROUP_WAIT_S = 1
RECEIVER = "oncall"
PROGRAMS = (
    "prometheus",
    "alertmanager",
    "nginx-exporter",
    "postgres-exporter",
    "redis-exporter",
    "node-exporter",
    "receiver",
)
BINARIES = {
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
    "nginx-exporter": "prometheus-nginx-exporter",
    "postgres-exporter": "prometheus-postgres-exporter",
    "redis-exporter": "prometheus-redis-exporter",
    "node-exporter": "prometheus-node-exporter",
}


@dataclass(frozen=True)
class MonitoringPorts:
    """Where each part of the monitoring listens."""

    prometheus: int
    alertmanager: int
    receiver: int
    gateway_status: int
    nginx_exporter: int
    postgres_exporter: int
    redis_exporter: int
    node_exporter: int
    nowhere: int  # a port nothing listens on: where a misdirected exporter looks


def program_names(spec: SandboxSpec) -> tuple[str, ...]:
    """The monitoring's programs: nginx needs an exporter for its stub_status, HAProxy has its own."""
    return tuple(name for name in PROGRAMS if name != "nginx-exporter" or spec.gateway == "nginx")


def gateway_watch(spec: SandboxSpec) -> dict[str, str]:
    """What the gateway's scrape job must reach: nginx's exporter says whether it reaches nginx."""
    return {"reaches": "nginx_up"} if spec.gateway == "nginx" else {}


def named_ports(ports: MonitoringPorts | None) -> dict[str, int]:
    """The monitoring's ports as the sandbox's state records them (monitoring-prometheus, ...)."""
    if ports is None:
        return {}
    return {f"monitoring-{name.replace('_', '-')}": port for name, port in asdict(ports).items()}


def allocate(ports: list[int]) -> MonitoringPorts:
    """The monitoring's ports from free ones (as many as MonitoringPorts has fields)."""
    return MonitoringPorts(*ports)


def wait_ready(prometheus: int, alertmanager: int, timeout_s: float) -> None:
    """Prometheus answers and has scraped every target once, and Alertmanager is ready."""
    session = requests.Session()
    session.trust_env = False

    def scraped() -> None:
        targets = session.get(f"http://127.0.0.1:{prometheus}/api/v1/targets", timeout=2).json()
        active = targets["data"]["activeTargets"]
        if not active or any(target["health"] == "unknown" for target in active):
            raise ProbeError("Prometheus has not scraped every target yet")
        session.get(f"http://127.0.0.1:{alertmanager}/-/ready", timeout=2).raise_for_status()

    retry(scraped, timeout_s, 0.2, "Prometheus has scraped every target and Alertmanager is ready")


def alert(name: str, expr: str, category: str, wait: str, summary: str) -> dict[str, object]:
    """One alerting rule, labelled with its category."""
    return {
        "alert": name,
        "expr": expr,
        "for": wait,
        "labels": {"category": category, "severity": "critical"},
        "annotations": {"summary": summary},
    }


def api_rules(spec: SandboxSpec) -> list[dict[str, object]]:
    """What the API's own metrics alert on: a replica down, errors, slow answers."""
    return [
        alert(
            "ApiReplicaDown",
            'up{job="api"} == 0',
            "api",
            f"{spec.alert_down_for_s}s",
            "an API replica does not answer its scrape",
        ),
        alert(
            "ApiHighErrorRate",
            f'sum(rate({spec.api_metric_name}{{status=~"5.."}}[30s]))'
            f" / clamp_min(sum(rate({spec.api_metric_name}[30s])), 1) > 0.05",
            "api",
            "10s",
            "more than 5% of API answers are errors",
        ),
        alert(
            "ApiSlowResponses",
            "histogram_quantile(0.95, sum by (le) (rate(app_http_request_duration_seconds_bucket[30s]))) > 0.2",
            "api",
            "30s",
            "the API's p95 is above 200 ms",
        ),
    ]


def rules(spec: SandboxSpec) -> dict[str, object]:
    """Alert rules for the seed's categories: the API, the databases, the system."""
    down = f"{spec.alert_down_for_s}s"
    gateway_down = 'nginx_up == 0 or up{job="gateway"} == 0' if spec.gateway == "nginx" else 'up{job="gateway"} == 0'
    api = [*api_rules(spec), alert("GatewayDown", gateway_down, "api", down, "the gateway does not answer its scrape")]
    database_rules = [
        alert("PostgresDown", "pg_up == 0", "database", down, "PostgreSQL does not answer its exporter"),
        alert(
            "PostgresTooManyConnections", "sum(pg_stat_activity_count) > 80", "database", "1m", "connections near max"
        ),
        alert(
            "PostgresSlowQueries",
            "max(pg_stat_activity_max_tx_duration) > 60",
            "database",
            "1m",
            "a transaction runs over 60 s",
        ),
        alert("RedisDown", "redis_up == 0", "database", down, "Redis does not answer its exporter"),
        alert("ExporterDown", 'up{job=~"postgres|redis|node"} == 0', "monitoring", down, "an exporter is not scraped"),
    ]
    system_rules = [
        alert(
            "HostHighCpu", '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[1m]))) > 95', "system", "5m", "CPU"
        ),
        alert(
            "HostLowMemory",
            "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.05",
            "system",
            "5m",
            "memory",
        ),
        alert(
            "HostDiskFull",
            'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes < 0.05',
            "system",
            "5m",
            "disk",
        ),
    ]
    groups = [
        {
            "name": name,
            "interval": f"{EVALUATE_S}s",
            "rules": [r for r in group if r["alert"] not in spec.missing_alerts],
        }
        for name, group in (("api", api), ("database", database_rules), ("system", system_rules))
    ]
    return {"groups": groups}


def server_settings(rule_file: str, alertmanager: str) -> dict[str, object]:
    """Every reference Prometheus's settings beside its scrape jobs: scrape each second (and give up
    within it), evaluate each second, read one rule file, send to one Alertmanager."""
    return {
        "global": {
            "scrape_interval": f"{SCRAPE_S}s",
            "scrape_timeout": f"{SCRAPE_S}s",
            "evaluation_interval": f"{EVALUATE_S}s",
        },
        "rule_files": [rule_file],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
    }


def prometheus_config(spec: SandboxSpec, ports: MonitoringPorts, folder: Path) -> dict[str, object]:
    """Prometheus's configuration: every part scraped each second, rules evaluated each second."""

    def static(job: str, port: int) -> dict[str, object]:
        return {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}

    return {
        **server_settings(str(folder / "rules.yml"), f"127.0.0.1:{ports.alertmanager}"),
        "scrape_configs": [
            {
                "job_name": "api",
                "file_sd_configs": [{"files": [str(folder / API_TARGETS)], "refresh_interval": "5s"}],
                # The defect: a relabelling that drops replicas, so that part of the traffic is never counted.
                "relabel_configs": [
                    {"source_labels": ["replica"], "regex": "|".join(sorted(spec.unscraped_replicas)), "action": "drop"}
                ]
                if spec.unscraped_replicas
                else [],
            },
            static("gateway", ports.nginx_exporter if spec.gateway == "nginx" else ports.gateway_status),
            static("postgres", ports.postgres_exporter),
            static("redis", ports.redis_exporter),
            static("node", ports.node_exporter),
        ],
    }


def alertmanager_config(spec: SandboxSpec, receiver_port: int) -> dict[str, object]:
    """Alertmanager: every category to the on-call receiver (infragate's webhook receiver)."""
    routed_to = "nobody" if spec.alerts_unrouted else RECEIVER
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname"],
            "group_wait": f"{GROUP_WAIT_S}s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [
                {"matchers": ['category=~"api|database|monitoring"'], "receiver": routed_to},
                {"matchers": ['category="system"'], "receiver": RECEIVER},
            ],
        },
        "receivers": [
            {
                "name": RECEIVER,
                "webhook_configs": [{"url": f"http://127.0.0.1:{receiver_port}/notify", "send_resolved": True}],
            },
            {"name": "nobody"},
        ],
    }


def server_commands(
    directory: Path, prometheus: int, alertmanager: int, receiver: int, prometheus_binary: Path | None = None
) -> dict[str, str]:
    """Prometheus (Debian's unless another binary is named), Alertmanager and the webhook receiver on
    these ports, each with its folder under the sandbox's monitoring folder (where their
    configuration files are written)."""
    folder = directory / FOLDER
    for part in ("prometheus-data", "alertmanager-data"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    listen = "--web.listen-address=127.0.0.1:"
    server = prometheus_binary or binaries.find(BINARIES["prometheus"])
    return {
        "prometheus": f"{server} --config.file={folder / 'prometheus.yml'} "
        f"--storage.tsdb.path={folder / 'prometheus-data'} --storage.tsdb.retention.time=2h {listen}{prometheus}",
        "alertmanager": f"{binaries.find(BINARIES['alertmanager'])} --config.file={folder / 'alertmanager.yml'} "
        f"--storage.path={folder / 'alertmanager-data'} {listen}{alertmanager} --cluster.listen-address=",
        "receiver": f"{sys.executable} -m infragate.probes.monitoring.receiver --port {receiver} --sandbox {directory}",
    }


def programs(
    spec: SandboxSpec, directory: Path, ports: MonitoringPorts, postgres_port: int, redis_port: int
) -> dict[str, str]:
    """The supervisor programs of the monitoring; secrets are read from their files when each starts."""
    found = {name: str(binaries.find(binary)) for name, binary in BINARIES.items()}
    folder = directory / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yml").write_text(yaml.safe_dump(rules(spec), sort_keys=False))
    (folder / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(spec, ports, folder), sort_keys=False))
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(spec, ports.receiver), sort_keys=False))
    secrets = directory / "secrets"
    redis_port_watched = ports.nowhere if spec.exporter_misdirected else redis_port
    listen = "--web.listen-address=127.0.0.1:"
    commands = {
        **server_commands(directory, ports.prometheus, ports.alertmanager, ports.receiver),
        "nginx-exporter": f"{found['nginx-exporter']} "
        f"-nginx.scrape-uri=http://127.0.0.1:{ports.gateway_status}/stub_status "
        f"-web.listen-address=127.0.0.1:{ports.nginx_exporter}",
        "postgres-exporter": "/bin/sh -c 'DATA_SOURCE_NAME=\"postgresql://monitor:'\"$(cat "
        f'{secrets / "monitor-password"})"\'@127.0.0.1:{postgres_port}/postgres?sslmode=disable" '
        f"exec {found['postgres-exporter']} {listen}{ports.postgres_exporter}'",
        "redis-exporter": f'/bin/sh -c \'REDIS_PASSWORD="$(cat {secrets / "redis-password"})" '
        f"exec {found['redis-exporter']} -redis.addr=redis://127.0.0.1:{redis_port_watched} "
        f"-web.listen-address=127.0.0.1:{ports.redis_exporter}'",
        "node-exporter": f"{found['node-exporter']} {listen}{ports.node_exporter} --collector.disable-defaults "
        "--collector.cpu --collector.meminfo --collector.filesystem --collector.loadavg",
    }
    return {
        name: program(name, command, directory, autostart="false" if name in spec.stopped_programs else "true")
        for name, command in commands.items()
        if name in program_names(spec)
    }
