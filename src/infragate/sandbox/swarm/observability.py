"""The Swarm reference stack's monitoring: the bookmark service's "metrics collection with Prometheus
integration" as one more service of the stack, on its overlay network (the only place the API's
tasks can be reached), from the monitoring image (Debian's Prometheus, Alertmanager and Redis
exporter, and infragate's webhook receiver): Prometheus finds the API's tasks through Swarm's DNS
(`tasks.api`) and watches Redis through the exporter; rules for the API and Redis; Alertmanager
routes every category to the receiver. Their ports are published on the host for infragate to read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infragate.sandbox.local import prometheus_stack as stack
from infragate.sandbox.monitoring_promise import Watch, monitoring_section
from infragate.sandbox.spec import SandboxSpec

CONFIG = "/etc/infragate"
PORTS = {"prometheus": 9090, "alertmanager": 9093, "receiver": 9095}  # inside the monitoring task
EXPORTER = "127.0.0.1:9121"
NOTIFY_WITHIN = "15s"
FILES = {"prometheus_conf": "prometheus.yml", "alert_rules": "rules.yml", "alertmanager_conf": "alertmanager.yml"}


def _rules(spec: SandboxSpec) -> dict[str, object]:
    down = f"{spec.alert_down_for_s}s"
    redis = stack.alert("RedisDown", "redis_up == 0", "database", down, "Redis does not answer its exporter")
    exporter = stack.alert("ExporterDown", 'up{job="redis"} == 0', "monitoring", down, "the exporter is not scraped")
    return {
        "groups": [
            {"name": "api", "interval": f"{stack.EVALUATE_S}s", "rules": stack.api_rules(spec)},
            {"name": "database", "interval": f"{stack.EVALUATE_S}s", "rules": [redis, exporter]},
        ]
    }


def _prometheus() -> dict[str, object]:
    """Every API task through Swarm's DNS (re-read each second), the Redis exporter beside Prometheus."""
    return {
        **stack.server_settings(f"{CONFIG}/{FILES['alert_rules']}", f"127.0.0.1:{PORTS['alertmanager']}"),
        "scrape_configs": [
            {
                "job_name": "api",
                "dns_sd_configs": [{"names": ["tasks.api"], "type": "A", "port": 8000, "refresh_interval": "1s"}],
            },
            {"job_name": "redis", "static_configs": [{"targets": [EXPORTER]}]},
        ],
    }


def config_files(folder: Path) -> dict[str, Path]:
    """Write the monitoring's configuration into the stack's folder; each Swarm config's file."""
    spec = SandboxSpec()
    contents = {
        "prometheus_conf": _prometheus(),
        "alert_rules": _rules(spec),
        "alertmanager_conf": stack.alertmanager_config(spec, PORTS["receiver"]),
    }
    written = {}
    for config, content in contents.items():
        path = folder / FILES[config]
        path.write_text(yaml.safe_dump(content, sort_keys=False))
        written[config] = path
    return written


def service(image: str, published: dict[str, int]) -> dict[str, Any]:
    """The monitoring service of the stack file: one task, its ports published on the host."""
    return {
        "image": image,
        "command": ["/opt/infragate/monitoring.sh"],
        "configs": [{"source": config, "target": f"{CONFIG}/{name}"} for config, name in FILES.items()],
        "secrets": [{"source": "redis_password", "target": "redis_password", "mode": 0o400}],  # read as root
        "networks": ["backend"],
        "ports": [
            {"target": PORTS[part], "published": port, "protocol": "tcp", "mode": "host"}
            for part, port in published.items()
        ],
        "deploy": {
            "replicas": 1,
            "resources": {"limits": {"cpus": "0.5", "memory": "256M"}},
            "restart_policy": {"condition": "any", "delay": "1s"},
            "placement": {"constraints": ["node.role == manager"]},
        },
    }


def promises(published: dict[str, int], replicas: int) -> dict[str, object]:
    """The profile's `monitoring:` section: the API's tasks and Redis watched, Redis's outage drilled."""
    return monitoring_section(
        Watch(published["prometheus"], published["alertmanager"], published["receiver"]),
        {"api": {"min_up": replicas}, "redis": {"reaches": "redis_up"}},
        {"api": ("ApiReplicaDown", "ApiHighErrorRate", "ApiSlowResponses"), "database": ("RedisDown",)},
        drills={"RedisDown": "redis"},
        notify_within=NOTIFY_WITHIN,
        job="api",
        sent_to=f"http://127.0.0.1:{PORTS['alertmanager']}",  # inside the monitoring task
    )
