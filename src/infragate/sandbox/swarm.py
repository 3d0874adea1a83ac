"""The Swarm reference stack: the bookmark-sync seed's shape on a local single-node swarm.

A gateway (nginx), API replicas (the reference backend), PostgreSQL and Redis, with resource limits
and reservations, health checks, restart policies, Docker secrets, an encrypted overlay network,
placement constraints and an update config that rolls back a failed update. Scaled to two cores:
one gateway (a host-mode published port binds once per node), three API replicas.

Images are built here and never pulled (swarm_images: one per role, cut from a cached debootstrap
rootfs). Stacks are deployed with `--resolve-image never`, so the engine never asks a registry.
Probes reach the stack through the gateway's port published in host mode (127.0.0.1 is one of the
addresses it binds).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import yaml
from docker.errors import DockerException, NotFound

from infragate.errors import SandboxError
from infragate.sandbox import swarm_images
from infragate.sandbox.deployment import free_ports
from infragate.sandbox.variants import get_variant

API_REPLICAS = 3
MAX_API_REPLICAS = 5
CONVERGE_TIMEOUT_S = 180.0
REMOVE_TIMEOUT_S = 180.0  # vfs removes a container by deleting its whole copy of the image
PROFILE_FILE = "profile.yaml"

GATEWAY_CONF = """worker_processes 1;
error_log stderr warn;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    # Swarm's DNS: tasks.api answers with every running task, re-read each second.
    resolver 127.0.0.11 valid=1s ipv6=off;
    server {
        listen 80;
        location = /health { default_type application/json; return 200 '{"status": "ok"}'; }
        location / {
            set $api http://tasks.api:8000;
            proxy_pass $api;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 10s;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
"""


def _health(url: str) -> list[str]:
    """A health check that fetches a URL inside the container."""
    return ["CMD", "python3", "-c", f"import urllib.request; urllib.request.urlopen('{url}', timeout=2)"]


@dataclass(frozen=True)
class SwarmSpec:
    """Every choice of the stack; the conformant one uses the defaults, variants turn one knob."""

    restart_condition: str | None = "any"
    api_limits: bool = True
    secret_as_environment: bool = False
    encrypted_network: bool = True
    update_failure_action: str = "rollback"


def spec_for(variant: str | None) -> SwarmSpec:
    """The stack's spec with a variant's defect switched on."""
    if variant is None:
        return SwarmSpec()
    return dataclasses.replace(SwarmSpec(), **dict(get_variant(variant, "swarm").swarm_changes))  # type: ignore[arg-type]


def engine() -> Any:
    """The local Docker Engine, in an active swarm (initialised here when it is not)."""
    try:
        client = docker.from_env(timeout=60)
        info = client.info()
    except DockerException as exc:
        raise SandboxError(
            f"no Docker Engine answers ({exc}); start one, e.g. `dockerd --storage-driver=vfs &` (see README)"
        ) from None
    if info.get("Swarm", {}).get("LocalNodeState") != "active":
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    return client


def stack_file(spec: SwarmSpec, images: dict[str, str], port: int, folder: Path) -> dict[str, Any]:
    """The stack, shaped like the seed's docker-compose.swarm.yml."""
    manager = {"constraints": ["node.role == manager"]}
    api_env = {"DB_HOST": "postgres", "DB_USER": "app", "REDIS_HOST": "redis"}
    api_secrets = ["db_password"]
    if spec.secret_as_environment:
        api_env["DB_PASSWORD"] = (folder / "secrets" / "db_password").read_text().strip()
        api_secrets = []
    else:
        api_env["DB_PASSWORD_FILE"] = "/run/secrets/db_password"
    restart = {"condition": spec.restart_condition, "delay": "1s"}
    api_resources: dict[str, Any] = {"reservations": {"cpus": "0.05", "memory": "32M"}}
    if spec.api_limits:
        api_resources["limits"] = {"cpus": "0.25", "memory": "128M"}
    small = {"limits": {"cpus": "0.5", "memory": "256M"}, "reservations": {"cpus": "0.05", "memory": "32M"}}
    check = {"interval": "1s", "timeout": "2s", "retries": 2, "start_period": "2s"}
    return {
        "version": "3.8",
        "services": {
            "gateway": {
                "image": images["gateway"],
                "command": ["nginx", "-c", "/etc/infragate/nginx.conf", "-g", "daemon off;"],
                "configs": [{"source": "gateway_conf", "target": "/etc/infragate/nginx.conf"}],
                "ports": [{"target": 80, "published": port, "protocol": "tcp", "mode": "host"}],
                "networks": ["backend"],
                "healthcheck": {"test": _health("http://127.0.0.1/health"), **check},
                "deploy": {
                    "replicas": 1,
                    "resources": small,
                    "restart_policy": {"condition": "any", "delay": "1s"},
                    "placement": manager,
                },
            },
            "api": {
                "image": images["api"],
                "command": ["/opt/infragate/api.sh"],
                "hostname": "api-{{.Task.Slot}}",
                "environment": api_env,
                "secrets": api_secrets,
                "networks": ["backend"],
                "healthcheck": {"test": _health("http://127.0.0.1:8000/health"), **check},
                "deploy": {
                    "replicas": API_REPLICAS,
                    "resources": api_resources,
                    "restart_policy": restart,
                    "update_config": {
                        "parallelism": 1,
                        "delay": "1s",
                        "failure_action": spec.update_failure_action,
                        "monitor": "10s",
                        "order": "start-first",
                        "max_failure_ratio": 0,
                    },
                    "rollback_config": {
                        "parallelism": 0,
                        "failure_action": "pause",
                        "monitor": "2s",
                        "order": "start-first",
                    },
                    "placement": manager,
                },
            },
            "postgres": {
                "image": images["postgres"],
                "command": ["/opt/infragate/postgres.sh"],
                "secrets": ["postgres_password"],
                "networks": ["backend"],
                "healthcheck": {"test": ["CMD", "/usr/lib/postgresql/15/bin/pg_isready", "-h", "127.0.0.1"], **check},
                "deploy": {
                    "replicas": 1,
                    "resources": small,
                    "restart_policy": {"condition": "any"},
                    "placement": manager,
                },
            },
            "redis": {
                "image": images["redis"],
                "command": ["/opt/infragate/redis.sh"],
                "secrets": ["redis_password"],
                "networks": ["backend"],
                "healthcheck": {
                    "test": ["CMD-SHELL", 'redis-cli -a "$$(cat /run/secrets/redis_password)" --no-auth-warning ping'],
                    **check,
                },
                "deploy": {
                    "replicas": 1,
                    "resources": small,
                    "restart_policy": {"condition": "any"},
                    "placement": manager,
                },
            },
        },
        "networks": {
            "backend": {
                "driver": "overlay",
                **({"driver_opts": {"encrypted": "true"}} if spec.encrypted_network else {}),
            }
        },
        "secrets": {
            name: {"file": str(folder / "secrets" / name)}
            for name in ("db_password", "postgres_password", "redis_password")
        },
        "configs": {"gateway_conf": {"file": str(folder / "gateway.conf")}},
    }


def profile_for(name: str, variant: str | None, stack: str, port: int) -> dict[str, Any]:
    """What the stack promises: always the conformant declaration, whatever a variant switched on."""
    limits = {"cpus": 0.25, "memory": "128M"}
    reservations = {"cpus": 0.05, "memory": "32M"}
    small = {"limits": {"cpus": 0.5, "memory": "256M"}, "reservations": reservations}
    return {
        "version": 1,
        "name": name,
        "description": "infragate swarm reference stack" + (f" with known defect '{variant}'" if variant else ""),
        "platform": {"kind": "swarm", "stack": stack},
        "gateway": {
            "base_url": f"http://127.0.0.1:{port}",
            "health_path": "/health",
            "timeout": "5s",
            "routes": {"api": {"path": "/api/items"}},
        },
        "services": {
            "api": {
                "replicas": {"min": API_REPLICAS, "max": MAX_API_REPLICAS},
                "route": "api",
                "replica_header": "X-Replica",
                "health_path": "/health",
                "deploy": {
                    "limits": limits,
                    "reservations": reservations,
                    "restart_condition": "any",
                    "healthcheck": True,
                    "secrets": ["db_password"],
                    "encrypted_networks": True,
                    "update_failure_action": "rollback",
                    "placement": ["node.role == manager"],
                },
            },
            "gateway": {
                "replicas": 1,
                "deploy": {**small, "restart_condition": "any", "healthcheck": True, "encrypted_networks": True},
            },
            "postgres": {
                "replicas": 1,
                "deploy": {**small, "restart_condition": "any", "healthcheck": True, "secrets": ["postgres_password"]},
            },
            "redis": {
                "replicas": 1,
                "deploy": {**small, "restart_condition": "any", "healthcheck": True, "secrets": ["redis_password"]},
            },
        },
        "resilience": {
            "service": "api",
            "traffic_rate": 40,
            "error_budget": 0.005,
            "recovery_time": "30s",
            "scale_out_to": MAX_API_REPLICAS,
            "scale_time": "60s",
        },
        "safety": {"environment": "sandbox", "allow_destructive": True, "allow_load": False, "max_rate": 200},
    }


@dataclass(frozen=True)
class SwarmState:
    """A deployed stack."""

    name: str
    variant: str | None
    stack: str
    directory: str
    profile: str
    gateway_url: str
    images: dict[str, str]
    image_build_s: float
    deploy_s: float


def sandbox_root() -> Path:
    """Where stacks keep their files (secrets, stack file, profile), beside the local sandboxes."""
    return Path(os.environ.get("INFRAGATE_SANDBOX_ROOT", f"/tmp/infragate-{os.getuid()}"))


def up(name: str = "swarm", variant: str | None = None, root: Path | None = None) -> SwarmState:
    """Build the images if needed, deploy the stack, wait until every service runs healthy."""
    spec = spec_for(variant)
    client = engine()
    images = swarm_images.build_images(client)
    folder = (root or sandbox_root()) / name
    if folder.exists() or _leftovers(client, f"ig-{name}"):
        down(name, root)  # what an earlier stack of this name left, files or engine objects
    (folder / "secrets").mkdir(parents=True)
    for secret in ("db_password", "postgres_password", "redis_password"):
        (folder / "secrets" / secret).write_text(secrets.token_urlsafe(18) + "\n")
    (folder / "gateway.conf").write_text(GATEWAY_CONF)
    (port,) = free_ports(1)
    stack = f"ig-{name}"
    compose = folder / "stack.yml"
    compose.write_text(yaml.safe_dump(stack_file(spec, images.tags, port, folder), sort_keys=False))
    started = time.monotonic()
    deployed = subprocess.run(
        ["docker", "stack", "deploy", "--resolve-image", "never", "--prune", "-c", str(compose), stack],
        capture_output=True,
        text=True,
        check=False,
    )
    if deployed.returncode != 0:
        raise SandboxError(f"docker stack deploy failed: {deployed.stderr.strip()[-300:]}")
    _converge(client, stack, {"gateway": 1, "api": API_REPLICAS, "postgres": 1, "redis": 1})
    deploy_s = time.monotonic() - started
    profile = folder / PROFILE_FILE
    profile_name = "reference-swarm" + (f"-{variant}" if variant else "")
    profile.write_text(yaml.safe_dump(profile_for(profile_name, variant, stack, port), sort_keys=False))
    state = SwarmState(
        name,
        variant,
        stack,
        str(folder),
        str(profile),
        f"http://127.0.0.1:{port}",
        images.tags,
        images.build_s,
        deploy_s,
    )
    (folder / "state.json").write_text(json.dumps(dataclasses.asdict(state), indent=2))
    return state


def _leftovers(client: Any, stack: str) -> bool:
    """Whether the engine still holds anything of a stack (services, containers, networks, secrets)."""
    label = {"label": f"com.docker.stack.namespace={stack}"}
    return bool(
        client.api.services(filters=label)
        or client.api.containers(all=True, filters=label)
        or client.api.networks(filters=label)
        or client.api.secrets(filters=label)
    )


def _healthy_tasks(client: Any, service: Any) -> int:
    count = 0
    for task in service.tasks(filters={"desired-state": "running"}):
        status = task.get("Status", {})
        if status.get("State") != "running":
            continue
        container = status.get("ContainerStatus", {}).get("ContainerID")
        try:
            health = client.api.inspect_container(container)["State"].get("Health", {}).get("Status")
        except (NotFound, DockerException):
            continue
        count += health in (None, "healthy")
    return count


def _converge(client: Any, stack: str, wanted: dict[str, int]) -> None:
    deadline = time.monotonic() + CONVERGE_TIMEOUT_S
    missing: dict[str, int] = {}
    while time.monotonic() < deadline:
        missing = {}
        for service, count in wanted.items():
            try:
                healthy = _healthy_tasks(client, client.services.get(f"{stack}_{service}"))
            except NotFound:
                healthy = 0
            if healthy < count:
                missing[service] = healthy
        if not missing:
            return
        time.sleep(0.5)
    raise SandboxError(
        f"stack {stack} did not converge within {CONVERGE_TIMEOUT_S:g} s: "
        + ", ".join(f"{service} {healthy}/{wanted[service]} healthy" for service, healthy in missing.items())
    )


def down(name: str = "swarm", root: Path | None = None) -> list[str]:
    """Remove the stack and wait until none of its containers, networks or secrets is left; what is left."""
    folder = (root or sandbox_root()) / name
    stack = f"ig-{name}"
    client = engine()
    subprocess.run(["docker", "stack", "rm", stack], capture_output=True, text=True, check=False)
    deadline = time.monotonic() + REMOVE_TIMEOUT_S
    left: list[str] = []
    label = {"label": f"com.docker.stack.namespace={stack}"}
    while time.monotonic() < deadline:
        # Raw listings: a container removed between listing and inspecting must not break the wait.
        containers = client.api.containers(all=True, filters=label)
        for item in containers:
            if item.get("State") in ("created", "exited", "dead"):
                # Swarm (20.10) can leave a task's container that never started; nothing else will remove it.
                with contextlib.suppress(DockerException):
                    client.api.remove_container(item["Id"], force=True)
        left = [f"container {item['Names'][0].lstrip('/')}" for item in containers]
        left += [f"network {item['Name']}" for item in client.api.networks(filters=label)]
        left += [f"secret {item['Spec']['Name']}" for item in client.api.secrets(filters=label)]
        if not left:
            break
        time.sleep(0.5)
    shutil.rmtree(folder, ignore_errors=True)
    return left


def running_stacks() -> Iterator[str]:
    """Names of the infragate stacks the engine runs."""
    listed = subprocess.run(
        ["docker", "stack", "ls", "--format", "{{.Name}}"], capture_output=True, text=True, check=False
    )
    yield from (line for line in listed.stdout.split() if line.startswith("ig-"))
