"""What a running local sandbox is, recorded in its folder: its state, its service registry, and the
spec it was started with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infragate.errors import SandboxError
from infragate.sandbox.host import default_root
from infragate.sandbox.local.prometheus_stack import API_TARGETS, FOLDER
from infragate.sandbox.spec import SandboxSpec
from infragate.sandbox.variants import local_spec

STATE_FILE = "state.json"
PROFILE_FILE = "profile.yaml"
SERVICE = "api"


@dataclass(frozen=True)
class SandboxState:
    """What a running sandbox is: recorded in its folder so that any later process can find and stop it."""

    name: str
    variant: str | None
    directory: str
    profile: str
    supervisor_url: str
    supervisor_pid: int
    gateway_url: str
    started_at: float
    ports: dict[str, int]
    gateway: str = "nginx"  # the gateway kind it runs (older state files have none: nginx)

    @classmethod
    def read(cls, directory: Path) -> SandboxState:
        """The state recorded in a sandbox folder."""
        try:
            return cls(**json.loads((directory / STATE_FILE).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise SandboxError(f"no usable sandbox state in {directory} ({exc})") from None


def deployed_spec(state: SandboxState) -> SandboxSpec:
    """The spec a sandbox was started with (its variant applied to the conformant one)."""
    return local_spec(state.variant, SandboxSpec(gateway=state.gateway))


def write_registry(directory: Path, upstream: dict[str, int]) -> None:
    """The service registry: which replicas the service has, and where (what service discovery would hold)."""
    members = [{"name": replica, "url": f"http://127.0.0.1:{port}"} for replica, port in upstream.items()]
    temporary = directory / "registry.json.new"
    temporary.write_text(json.dumps({"services": {SERVICE: members}}, indent=2))
    temporary.replace(directory / "registry.json")
    monitoring = directory / FOLDER
    if monitoring.is_dir():  # Prometheus finds the API replicas here (file-based service discovery)
        groups = [{"targets": [f"127.0.0.1:{port}"], "labels": {"replica": name}} for name, port in upstream.items()]
        (monitoring / f"{API_TARGETS}.new").write_text(json.dumps(groups))
        (monitoring / f"{API_TARGETS}.new").replace(monitoring / API_TARGETS)


def read_registry(directory: Path) -> dict[str, int]:
    """Replica name -> port, from the service registry."""
    members = json.loads((directory / "registry.json").read_text())["services"][SERVICE]
    return {member["name"]: int(member["url"].rsplit(":", 1)[1]) for member in members}


def list_sandboxes(root: Path | None = None) -> list[str]:
    """Names of the sandboxes that have a state file under the root."""
    base = root or default_root()
    return sorted(path.parent.name for path in base.glob(f"*/{STATE_FILE}"))
