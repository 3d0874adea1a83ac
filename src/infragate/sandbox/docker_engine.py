"""The one way infragate reaches the local Docker Engine: in an active swarm, or a clear error."""

from __future__ import annotations

from typing import Any

import docker
from docker.errors import DockerException

from infragate.errors import SandboxError


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
