"""Platform adapter for services run by a local supervisord (the reference deployment).

Replicas are the registry's members for a service; supervisord says whether each runs (and its
pid is the replica's instance), and the replica's own health endpoint says whether it is ready,
as a readiness probe would. Scaling goes through the sandbox's topology, which also updates the
gateway's upstream, as service discovery would.
"""

from __future__ import annotations

import configparser
import json

import requests

from infragate.errors import ProbeError
from infragate.platforms.base import Replica, ReplicaSet
from infragate.platforms.supervisor import SupervisorClient
from infragate.profile.model import LocalPlatform as LocalPlatformConfig
from infragate.profile.model import Profile
from infragate.safety import NONE, Consent

_AT_REST = ("STOPPED", "EXITED", "FATAL")


class LocalPlatform:
    """Replicas under supervisord, with a registry file naming each replica's address."""

    kind = "local"

    def __init__(self, profile: Profile, consent: Consent = NONE) -> None:
        config = profile.platform
        if not isinstance(config, LocalPlatformConfig):
            raise ProbeError(f"profile {profile.name} does not describe a local platform")
        self._profile = profile
        self._config = config
        self.consent = consent
        self.supervisor = SupervisorClient(config.supervisor_url)
        self._session = requests.Session()
        self._session.trust_env = False

    def describe(self) -> str:
        """Where the supervisor listens."""
        return f"local supervisor at {self._config.supervisor_url}"

    def _members(self, service: str) -> list[dict[str, str]]:
        try:
            registry = json.loads(self._config.registry.read_text())
            members: list[dict[str, str]] = registry["services"][service]
        except (OSError, ValueError) as exc:
            raise ProbeError(f"could not read the service registry {self._config.registry}: {exc}") from None
        except KeyError:
            raise ProbeError(f"service registry {self._config.registry} has no service '{service}'") from None
        return members

    def host_specs(self, service: str) -> dict[str, str]:
        """Every program of the local platform runs on this machine: one host, read in place."""
        self.replicas(service)  # a service the platform does not know is an error, as elsewhere
        return {"local": "local://"}

    def replicas(self, service: str) -> ReplicaSet:
        """Every registered replica of a service: running per supervisord, ready per its health endpoint."""
        health_path = self._profile.services[service].health_path if service in self._profile.services else "/health"
        processes = {info.name: info for info in self.supervisor.processes()}
        members = self._members(service)
        found = []
        # What runs is what the supervisor runs, not only what the registry lists: a replica started
        # but never registered (a scale cut short) is running, and counts.
        registered = {member["name"] for member in members}
        for name, process in sorted(processes.items()):
            stem, _, number = name.rpartition("-")
            if name not in registered and stem == service and number.isdigit() and process.state not in _AT_REST:
                detail = f"pid {process.pid}, {process.state}, not in the service registry"
                found.append(Replica(service, name, str(process.pid), running=True, ready=False, detail=detail))
        for member in members:
            info = processes.get(member["name"])
            if info is None or not info.running:
                state = info.state if info is not None else "unknown to the supervisor"
                found.append(Replica(service, member["name"], "", running=False, ready=False, detail=state))
                continue
            ready, detail = self._probe(member["url"] + health_path)
            found.append(
                Replica(
                    service,
                    member["name"],
                    str(info.pid),
                    running=True,
                    ready=ready,
                    detail=f"pid {info.pid}, {detail}",
                )
            )
        return ReplicaSet(service, tuple(found))

    def desired(self, service: str) -> int:
        """The replicas the service registry lists (the sandbox's topology writes it on every scale)."""
        return len(self._members(service))

    def _probe(self, url: str) -> tuple[bool, str]:
        try:
            response = self._session.get(url, timeout=self._profile.gateway.timeout)
        except requests.RequestException as exc:
            return False, f"health check {url} failed: {type(exc).__name__}"
        return response.status_code == 200, f"health check {url} answered {response.status_code}"

    def kill(self, service: str, replica_id: str) -> None:
        """SIGKILL one replica's process; supervisord's restart policy decides what follows."""
        self.consent.require_destructive(f"kill replica {replica_id} of {service}")
        self._known(service, replica_id)
        self.supervisor.signal(replica_id, "KILL")

    def restart(self, service: str, replica_id: str) -> None:
        """Stop (SIGTERM, graceful) and start one replica."""
        self.consent.require_destructive(f"restart replica {replica_id} of {service}")
        self._known(service, replica_id)
        self.supervisor.stop(replica_id)
        self.supervisor.start(replica_id)

    def scale(self, service: str, replicas: int) -> None:
        """Change the replica count through the sandbox's topology (registry, upstream, programs)."""
        self.consent.require_destructive(f"scale {service} to {replicas} replicas")
        from infragate.sandbox.local import topology

        topology.scale(self._config.registry.parent, service, replicas)
        for member in self._members(service):
            info = self.supervisor.process(member["name"])
            if info is not None and info.state in _AT_REST:
                self.supervisor.start(member["name"])

    def restart_policy(self, service: str) -> str:
        """The autorestart setting of the service's replicas, from their program files (the RPC does not say)."""
        names = {"true": "always", "false": "never", "unexpected": "on-failure"}
        policies = set()
        for member in self._members(service):
            program = configparser.ConfigParser(interpolation=None)
            program.read(self._config.registry.parent / "programs" / f"{member['name']}.conf")
            section = f"program:{member['name']}"
            value = program.get(section, "autorestart", fallback="unexpected") if program.has_section(section) else "?"
            policies.add(names.get(value.lower(), value))
        return ", ".join(sorted(policies))

    def stop_component(self, name: str) -> None:
        """Stop one program of the deployment (a database, an exporter) through the supervisor."""
        self.consent.require_destructive(f"stop {name}")
        if self.component_running(name):
            self.supervisor.stop(name)

    def start_component(self, name: str) -> None:
        """Start a program again (putting back what a drill stopped needs no consent to disrupt)."""
        if not self.component_running(name):
            self.supervisor.start(name)

    def component_running(self, name: str) -> bool:
        """Whether the supervisor runs the program."""
        info = self.supervisor.process(name)
        if info is None:
            raise ProbeError(f"the supervisor runs no program '{name}'")
        return info.running

    def _known(self, service: str, replica_id: str) -> None:
        if replica_id not in {member["name"] for member in self._members(service)}:
            raise ProbeError(f"service {service} has no replica {replica_id}")
