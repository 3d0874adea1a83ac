"""Deploying the Swarm reference stack and taking it down: the bookmark-sync seed's shape on a local single-node swarm.

A gateway (nginx), API replicas (the reference backend), PostgreSQL and Redis, with resource limits
and reservations, health checks, restart policies, Docker secrets, an encrypted overlay network,
placement constraints and an update config that rolls back a failed update. Scaled to two cores:
one gateway (a host-mode published port binds once per node), three API replicas.

Images are built here and never pulled (images.py: one per role, cut from a cached debootstrap
rootfs). Stacks are deployed with `--resolve-image never`, so the engine never asks a registry.
Probes reach the stack through the gateway's port published in host mode (127.0.0.1 is one of the
addresses it binds).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from docker.errors import DockerException, NotFound

from infragate.errors import SandboxError
from infragate.retry import poll_until
from infragate.sandbox.docker_engine import engine
from infragate.sandbox.host import default_root, free_ports
from infragate.sandbox.local.prometheus_stack import wait_ready
from infragate.sandbox.swarm import images as swarm_images
from infragate.sandbox.swarm import observability
from infragate.sandbox.swarm.pinned import newest_below, pinned_image
from infragate.sandbox.swarm.stack import (
    API_REPLICAS,
    GATEWAY_CONF,
    OPENSSL_FLOOR,
    OPENSSL_PACKAGES,
    exposure,
    profile_for,
    stack_file,
)
from infragate.sandbox.variants import swarm_spec

CONVERGE_TIMEOUT_S = 180.0
REMOVE_TIMEOUT_S = 180.0  # vfs removes a container by deleting its whole copy of the image
PROFILE_FILE = "profile.yaml"


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


def up(name: str = "swarm", variant: str | None = None, root: Path | None = None) -> SwarmState:
    """Build the images if needed, deploy the stack, wait until every service runs healthy."""
    spec = swarm_spec(variant)
    client = engine()
    images = swarm_images.build_images(client)
    tags = dict(images.tags)
    if spec.api_openssl_pinned_back:
        older = newest_below(OPENSSL_PACKAGES, OPENSSL_FLOOR)
        tags["api"] = pinned_image(client, tags["api"], dict.fromkeys(OPENSSL_PACKAGES, older))
    folder = (root or default_root()) / name
    if folder.exists() or _leftovers(client, f"ig-{name}"):
        down(name, root)  # what an earlier stack of this name left, files or engine objects
    (folder / "secrets").mkdir(parents=True)
    for secret in ("db_password", "postgres_password", "redis_password"):
        (folder / "secrets" / secret).write_text(secrets.token_urlsafe(18) + "\n")
    (folder / "gateway.conf").write_text(GATEWAY_CONF)
    port, *watch = free_ports(1 + len(observability.PORTS))
    # The reference is monitored; the variants' features look at no monitoring, and spare its task.
    watched = dict(zip(observability.PORTS, watch, strict=True)) if variant is None else None
    stack = f"ig-{name}"
    compose = folder / "stack.yml"
    stacked = stack_file(spec, tags, port, folder, swarm_images.account_ids(), watched)
    compose.write_text(yaml.safe_dump(stacked, sort_keys=False))
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
    promised = profile_for("reference-swarm" + (f"-{variant}" if variant else ""), variant, stack, port)
    if watched is not None:
        wait_ready(watched["prometheus"], watched["alertmanager"], CONVERGE_TIMEOUT_S)
        promised["monitoring"] = observability.promises(watched, API_REPLICAS)
    promised["exposure"] = exposure(port, list((watched or {}).values()))
    deploy_s = time.monotonic() - started
    profile = folder / PROFILE_FILE
    profile.write_text(yaml.safe_dump(promised, sort_keys=False))
    state = SwarmState(
        name,
        variant,
        stack,
        str(folder),
        str(profile),
        f"http://127.0.0.1:{port}",
        tags,
        images.build_s,
        deploy_s,
    )
    (folder / "state.json").write_text(json.dumps(asdict(state), indent=2))
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
    def short() -> dict[str, int]:
        """Services with fewer healthy tasks than wanted, and how many they have."""
        missing = {}
        for service, count in wanted.items():
            try:
                healthy = _healthy_tasks(client, client.services.get(f"{stack}_{service}"))
            except NotFound:
                healthy = 0
            if healthy < count:
                missing[service] = healthy
        return missing

    polled = poll_until(short, lambda missing: not missing, CONVERGE_TIMEOUT_S, 0.5)
    if polled.met:
        return
    missing = polled.value
    raise SandboxError(
        f"stack {stack} did not converge within {CONVERGE_TIMEOUT_S:g} s: "
        + ", ".join(f"{service} {healthy}/{wanted[service]} healthy" for service, healthy in missing.items())
    )


def down(name: str = "swarm", root: Path | None = None) -> list[str]:
    """Remove the stack and wait until none of its containers, networks or secrets is left; what is left."""
    folder = (root or default_root()) / name
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
