"""Changing the reference deployment's replicas, as an orchestrator with service discovery would.

Scaling out starts the new replicas, waits until they answer their health check (a readiness
gate) and only then adds them to the registry and the gateway's upstream, reloading the
gateway gracefully. Scaling in first takes replicas out of the upstream, lets in-flight requests drain,
then stops them.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import requests

from infragate.errors import ProbeError
from infragate.platforms.supervisor import SupervisorClient
from infragate.retry import retry
from infragate.sandbox.host import free_ports
from infragate.sandbox.local import gateway
from infragate.sandbox.local.programs import replica_program
from infragate.sandbox.local.state import SERVICE, SandboxState, deployed_spec, read_registry, write_registry

READY_WAIT_S = 60.0
DRAIN_S = 1.0
RELOAD_SETTLE_S = 0.5


def _reload_gateway(directory: Path, state: SandboxState, upstream: dict[str, int]) -> None:
    """Render the gateway's upstream from the registry; reload the gateway when the file changed."""
    spec = deployed_spec(state)
    conf = gateway.conf_path(directory, spec)
    before = conf.read_text() if conf.exists() else ""
    gateway.write_conf(
        directory,
        spec,
        state.ports["https"],
        state.ports["http"],
        upstream,
        status_port=state.ports.get("monitoring-gateway-status"),
    )
    if conf.read_text() != before:
        SupervisorClient(state.supervisor_url).signal("gateway", gateway.RELOAD_SIGNAL[spec.gateway])
        time.sleep(RELOAD_SETTLE_S)  # new workers take over; old ones finish their requests


def _healthy(session: requests.Session, url: str) -> None:
    session.get(url, timeout=2).raise_for_status()


def scale(directory: Path, service: str, count: int) -> None:
    """Bring a service of the sandbox in `directory` to `count` replicas.

    Idempotent, and safe after a scale that was cut short: it starts from what the supervisor runs,
    not only from the registry, so a replica started but never registered is stopped and removed
    (or a program the supervisor already knows is not added twice), and the gateway's upstream is
    rendered again from the registry it ends with.
    """
    if service != SERVICE:
        raise ProbeError(f"the reference deployment has no service '{service}'")
    state = SandboxState.read(directory)
    spec = deployed_spec(state)
    supervisor = SupervisorClient(state.supervisor_url)
    current = read_registry(directory)
    wanted = [f"{service}-{index}" for index in range(1, count + 1)]
    known = {info.name for info in supervisor.processes() if info.name.startswith(f"{service}-")}
    strays = sorted(name for name in known if name not in current and name.removeprefix(f"{service}-").isdigit())
    if strays:
        _stop(supervisor, directory, strays)
    added = [name for name in wanted if name not in current]
    removed = [name for name in current if name not in wanted]
    if added:
        ports = free_ports(len(added))
        for name, port in zip(added, ports, strict=True):
            (directory / "programs" / f"{name}.conf").write_text(replica_program(spec, directory, name, port))
        supervisor.reload_config()
        session = requests.Session()
        for name in added:
            supervisor.add_group(name)
        for name, port in zip(added, ports, strict=True):
            health = partial(_healthy, session, f"http://127.0.0.1:{port}/health")
            retry(health, READY_WAIT_S, 0.1, f"new replica {name} becomes ready")
        current |= dict(zip(added, ports, strict=True))
    if removed and not spec.scale_in_drain:
        _stop(supervisor, directory, removed)  # the defect: replicas go before the gateway stops using them
    if removed:
        current = {name: port for name, port in current.items() if name not in removed}
    if added or removed:
        write_registry(directory, current)
    _reload_gateway(directory, state, current)
    if removed and spec.scale_in_drain:
        time.sleep(DRAIN_S)
        _stop(supervisor, directory, removed)


def _stop(supervisor: SupervisorClient, directory: Path, names: list[str]) -> None:
    """Stop and forget programs; one the supervisor no longer knows, or that is stopped already, is fine."""
    known = {info.name: info for info in supervisor.processes()}
    for name in names:
        info = known.get(name)
        if info is not None:
            if info.state not in ("STOPPED", "EXITED", "FATAL"):
                supervisor.stop(name)
            supervisor.remove_group(name)
        (directory / "programs" / f"{name}.conf").unlink(missing_ok=True)
    supervisor.reload_config()
