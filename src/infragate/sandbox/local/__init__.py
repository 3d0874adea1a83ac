"""The local reference deployment: every part a real program on 127.0.0.1 under one supervisord.

``lifecycle`` brings it up and down; ``state`` is what a running one records; ``programs`` its
supervisord programs; ``database`` its PostgreSQL, pgBackRest and backup history; ``gateway``
its gateway, nginx (``nginx_conf``) or HAProxy (``haproxy_conf``); ``reference_profile`` what it
promises; ``topology`` changes its replicas as an orchestrator would.
"""

from __future__ import annotations

from infragate.sandbox.host import free_ports
from infragate.sandbox.local.lifecycle import down, status, up
from infragate.sandbox.local.programs import DownReport, replica_program
from infragate.sandbox.local.state import (
    SERVICE,
    SandboxState,
    deployed_spec,
    list_sandboxes,
    read_registry,
    write_registry,
)

__all__ = [
    "SERVICE",
    "DownReport",
    "SandboxState",
    "deployed_spec",
    "down",
    "free_ports",
    "list_sandboxes",
    "read_registry",
    "replica_program",
    "status",
    "up",
    "write_registry",
]
