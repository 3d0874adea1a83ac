"""Platform adapter for Docker Swarm, through the Docker Engine API (the docker SDK).

A replica is a task slot of the service ("api.2"); its instance is the task id, which changes when
Swarm replaces the task. Running is the task's state; ready is the container's health status when
the service declares a health check (else running). Killing a replica kills its container
(SIGKILL) and leaves the rest to Swarm's restart policy; scaling sets the service's replica
count; a rolling restart is a forced update, which follows the service's update config.

The adapter also reads each service's declared configuration (replicas, resources, restart policy,
health check, secrets, environment, networks and their encryption, update and rollback config,
placement) for the swarm configuration scenarios.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import docker
import requests
from docker.errors import DockerException, NotFound

from infragate.errors import ProbeError
from infragate.platforms.base import Replica, ReplicaSet
from infragate.profile.model import Profile
from infragate.profile.model import SwarmPlatform as SwarmPlatformConfig
from infragate.retry import poll_until
from infragate.safety import NONE, Consent

_RESTART = {"any": "always", "on-failure": "on-failure", "none": "never"}
CONVERGE_TIMEOUT_S = 120.0
STOPPED_FROM = "infragate.dev/stopped-replicas"  # on a service an alert drill scaled to zero


@dataclass(frozen=True)
class DeclaredService:
    """A Swarm service's declared configuration, as the engine holds it."""

    service: str
    replicas: int | None
    limits: dict[str, float]
    reservations: dict[str, float]
    restart_condition: str | None
    restart_max_attempts: int | None
    healthcheck: tuple[str, ...]
    secrets: tuple[str, ...]
    environment: tuple[str, ...]  # variable names only: values may be secrets
    networks: dict[str, bool]  # network name -> encrypted
    update_failure_action: str | None
    update_order: str | None
    rollback_configured: bool
    placement: tuple[str, ...]
    image: str
    version: int


def _nano(value: int | None) -> float:
    return (value or 0) / 1e9


def _replicas(spec: dict[str, Any]) -> int | None:
    """The replica count a service spec asks for (None for a global service)."""
    replicated = spec.get("Mode", {}).get("Replicated")
    return None if replicated is None else int(replicated.get("Replicas", 1))


def _environment_names(spec: dict[str, Any]) -> tuple[str, ...]:
    """The names of the environment variables a service spec gives its tasks."""
    env = spec.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Env") or []
    return tuple(sorted(item.split("=", 1)[0] for item in env))


def _resources(section: dict[str, Any] | None) -> dict[str, float]:
    section = section or {}
    found = {}
    if section.get("NanoCPUs"):
        found["cpus"] = _nano(section["NanoCPUs"])
    if section.get("MemoryBytes"):
        found["memory"] = float(section["MemoryBytes"])
    return found


class SwarmPlatform:
    """Services of one stack on a Swarm, through the Docker Engine API."""

    kind = "swarm"

    def __init__(self, profile: Profile, consent: Consent = NONE) -> None:
        config = profile.platform
        if not isinstance(config, SwarmPlatformConfig):
            raise ProbeError(f"profile {profile.name} does not describe a swarm platform")
        self._config = config
        self._profile = profile
        self.consent = consent
        try:
            self.client = docker.DockerClient(base_url=config.docker_host, timeout=30)
            info = self.client.info()
        except DockerException as exc:
            raise ProbeError(f"could not reach the Docker Engine at {config.docker_host}: {exc}") from None
        if info.get("Swarm", {}).get("LocalNodeState") != "active":
            raise ProbeError(f"the Docker Engine at {config.docker_host} is not part of an active swarm")

    def describe(self) -> str:
        """Which engine and stack."""
        return f"swarm stack {self._config.stack} via {self._config.docker_host}"

    def service_name(self, service: str) -> str:
        """The Swarm service name of a profile service (stack prefix)."""
        return f"{self._config.stack}_{service}"

    def _service(self, service: str) -> Any:
        try:
            return self.client.services.get(self.service_name(service))
        except NotFound:
            raise ProbeError(f"swarm has no service {self.service_name(service)}") from None
        except DockerException as exc:
            raise ProbeError(f"could not read service {self.service_name(service)}: {exc}") from None

    def _tasks(self, service: str) -> list[dict[str, Any]]:
        try:
            tasks: list[dict[str, Any]] = self._service(service).tasks(filters={"desired-state": "running"})
        except DockerException as exc:
            raise ProbeError(f"could not list the tasks of {self.service_name(service)}: {exc}") from None
        return tasks

    def _health(self, task: dict[str, Any]) -> str | None:
        container_id = task.get("Status", {}).get("ContainerStatus", {}).get("ContainerID")
        if not container_id:
            return None
        try:
            state = self.client.api.inspect_container(container_id)["State"]
        except NotFound:
            return None
        health: str | None = state.get("Health", {}).get("Status")
        return health

    def replicas(self, service: str) -> ReplicaSet:
        """Every task the service wants running, by slot: running per its state, ready per its health."""
        found = []
        for task in sorted(self._tasks(service), key=lambda item: item.get("Slot", 0)):
            state = task.get("Status", {}).get("State", "unknown")
            running = state == "running"
            health = self._health(task) if running else None
            ready = running and health in (None, "healthy")
            detail = f"task {task['ID'][:12]} {state}" + (f", {health}" if health else "")
            found.append(Replica(service, f"{service}-{task.get('Slot')}", task["ID"], running, ready, detail))
        return ReplicaSet(service, tuple(found))

    def host_specs(self, service: str) -> dict[str, str]:
        """Each running task's container, reached through the docker command line of this machine
        (its engine must be the one running the task)."""
        found = {
            f"{service}-{task.get('Slot')}": f"docker://{container}"
            for task in sorted(self._tasks(service), key=lambda item: item.get("Slot", 0))
            if task.get("Status", {}).get("State") == "running"
            and (container := task.get("Status", {}).get("ContainerStatus", {}).get("ContainerID"))
        }
        if not found:
            raise ProbeError(f"no running task of {self.service_name(service)} to read from inside")
        return found

    def desired(self, service: str) -> int:
        """The service's replica count in its spec (a global service: one per node, not counted here)."""
        spec = self._service(service).attrs["Spec"]
        replicas = _replicas(spec)
        if replicas is None:
            mode = ", ".join(spec.get("Mode", {}))
            raise ProbeError(f"{self.service_name(service)} is not a replicated service (mode {mode})")
        return replicas

    def _task_for(self, service: str, replica_id: str) -> dict[str, Any]:
        slot = replica_id.rpartition("-")[2]
        for task in self._tasks(service):
            if str(task.get("Slot")) == slot and task.get("Status", {}).get("State") == "running":
                return task
        raise ProbeError(f"no running task in slot {slot} of {self.service_name(service)}")

    def kill(self, service: str, replica_id: str) -> None:
        """SIGKILL the task's container; Swarm's restart policy decides what comes next."""
        self.consent.require_destructive(f"kill replica {replica_id} of {service}")
        task = self._task_for(service, replica_id)
        container_id = task["Status"]["ContainerStatus"]["ContainerID"]
        try:
            self.client.api.kill(container_id, signal="SIGKILL")
        except DockerException as exc:
            raise ProbeError(f"could not kill the container of {replica_id}: {exc}") from None

    def restart(self, service: str, replica_id: str) -> None:
        """Stop the task's container gracefully; return once Swarm runs a new task in its slot."""
        self.consent.require_destructive(f"restart replica {replica_id} of {service}")
        task = self._task_for(service, replica_id)
        try:
            self.client.api.stop(task["Status"]["ContainerStatus"]["ContainerID"], timeout=10)
        except DockerException as exc:
            raise ProbeError(f"could not stop the container of {replica_id}: {exc}") from None

        def slot_task() -> str | None:
            try:
                return str(self._task_for(service, replica_id)["ID"])
            except ProbeError:  # between the old task and the new one, the slot may be empty
                return None

        if poll_until(slot_task, lambda found: found not in (None, task["ID"]), CONVERGE_TIMEOUT_S, 0.2).met:
            return
        raise ProbeError(f"swarm did not start a new task in the slot of {replica_id} within {CONVERGE_TIMEOUT_S:g} s")

    def scale(self, service: str, replicas: int) -> None:
        """Set the service's replica count, and read it back (a concurrent update can make Swarm drop it)."""
        self.consent.require_destructive(f"scale {service} to {replicas} replicas")
        self._set(service, replicas)

    def stop_component(self, name: str) -> None:
        """Scale a service of the stack to zero, noting its replica count on it in the same update (a
        service label, which changes no task) so that whoever starts it again, a later process among
        them, knows what to restore."""
        self.consent.require_destructive(f"stop {name}")
        labels = dict(self._service(name).attrs["Spec"].get("Labels") or {})
        replicas = self.desired(name)
        if replicas:
            self._set(name, 0, {**labels, STOPPED_FROM: str(replicas)})

    def start_component(self, name: str) -> None:
        """Give a service a drill stopped its replicas back; return once they all run healthy."""
        labels = dict(self._service(name).attrs["Spec"].get("Labels") or {})
        noted = labels.pop(STOPPED_FROM, None)
        if noted is None:
            if not self.desired(name):
                raise ProbeError(f"{self.service_name(name)} has no replica and no note of how many it had")
            return
        self._set(name, int(noted), labels)
        if not poll_until(
            lambda: len(self.replicas(name).ready), lambda n: n >= int(noted), CONVERGE_TIMEOUT_S, 0.5
        ).met:
            raise ProbeError(f"{self.service_name(name)} did not run {noted} healthy tasks in {CONVERGE_TIMEOUT_S:g} s")

    def component_running(self, name: str) -> bool:
        """Whether a task of the service runs healthy."""
        return bool(self.replicas(name).ready)

    def _set(self, name: str, replicas: int, labels: dict[str, str] | None = None) -> None:
        """Replica count (and labels, when given) in one update, read back until Swarm has taken it: a
        concurrent update can make Swarm drop it."""
        deadline = time.monotonic() + 30
        while True:
            current = self._service(name)
            spec = current.attrs["Spec"]
            if _replicas(spec) == replicas and labels in (None, spec.get("Labels") or {}):
                return
            try:
                self.client.api.update_service(
                    current.id, current.version, labels=labels, mode={"Replicated": {"Replicas": replicas}},
                    fetch_current_spec=True,
                )  # fmt: skip
            except DockerException as exc:
                if time.monotonic() > deadline:
                    raise ProbeError(f"could not update {self.service_name(name)}: {exc}") from None
            if time.monotonic() > deadline:
                raise ProbeError(f"swarm did not take {self.service_name(name)} to {replicas} replicas")
            time.sleep(0.5)

    def restart_policy(self, service: str) -> str:
        """The restart condition of the service's tasks, in the protocol's words."""
        condition = self.declared(service).restart_condition
        return _RESTART.get(condition or "", "never" if condition is None else condition)

    # Declared configuration -------------------------------------------------------------------

    def declared(self, service: str) -> DeclaredService:
        """What the service is configured with."""
        attrs = self._service(service).attrs
        spec = attrs["Spec"]
        template = spec.get("TaskTemplate", {})
        container = template.get("ContainerSpec", {})
        resources = template.get("Resources", {})
        restart = template.get("RestartPolicy")
        networks = {}
        for attachment in template.get("Networks", []) or spec.get("Networks", []):
            try:
                network = self.client.networks.get(attachment["Target"])
            except DockerException:
                continue
            options = network.attrs.get("Options") or {}
            networks[network.name] = "encrypted" in options and options["encrypted"] not in ("false", "0")
        update = spec.get("UpdateConfig") or {}
        health = container.get("Healthcheck") or {}
        test = tuple(health.get("Test") or ())
        return DeclaredService(
            service=service,
            replicas=_replicas(spec),
            limits=_resources(resources.get("Limits")),
            reservations=_resources(resources.get("Reservations")),
            restart_condition=restart.get("Condition") if restart else None,
            restart_max_attempts=restart.get("MaxAttempts") if restart else None,
            healthcheck=() if test[:1] == ("NONE",) else test,
            secrets=tuple(sorted(secret["SecretName"] for secret in container.get("Secrets") or [])),
            environment=_environment_names(spec),
            networks=networks,
            update_failure_action=update.get("FailureAction") if update else None,
            update_order=update.get("Order") if update else None,
            rollback_configured=bool(spec.get("RollbackConfig")),
            placement=tuple(template.get("Placement", {}).get("Constraints") or ()),
            image=container.get("Image", ""),
            version=int(attrs.get("Version", {}).get("Index", 0)),
        )

    def update_state(self, service: str) -> tuple[str, str]:
        """The state of the service's latest update ("completed", "rollback_completed", ...) and its message."""
        status = self._service(service).attrs.get("UpdateStatus") or {}
        return str(status.get("State", "")), str(status.get("Message", ""))

    def update_environment(self, service: str, add: dict[str, str], remove: tuple[str, ...] = ()) -> None:
        """Roll out a change of environment: the service's update config decides how, and what a failure does."""
        self.consent.require_destructive(f"update the environment of {service}")
        current = self._service(service)
        template = copy.deepcopy(current.attrs["Spec"]["TaskTemplate"])
        container = template["ContainerSpec"]
        env = [item for item in container.get("Env") or [] if item.split("=", 1)[0] not in (*add, *remove)]
        container["Env"] = env + [f"{key}={value}" for key, value in add.items()]
        try:
            # The whole task template, changed in one place; the rest of the spec stays as it is.
            self.client.api.update_service(current.id, current.version, task_template=template, fetch_current_spec=True)
        except DockerException as exc:
            raise ProbeError(f"could not update {self.service_name(service)}: {exc}") from None

    def environment_names(self, service: str) -> tuple[str, ...]:
        """The names of the service's environment variables."""
        return _environment_names(self._service(service).attrs["Spec"])

    def previous_environment_names(self, service: str) -> tuple[str, ...] | None:
        """The same in the spec from before the service's last update (what a rollback returns to);
        None when Swarm keeps no such spec."""
        previous = self._service(service).attrs.get("PreviousSpec")
        return _environment_names(previous) if previous else None

    def roll_back(self, service: str) -> None:
        """Put the service back on its spec from before its last update, as its rollback config says how
        (the server-side rollback `docker service rollback` asks for)."""
        self.consent.require_destructive(f"roll {service} back")
        current = self._service(service)
        api = self.client.api
        try:
            response = api.post(
                f"{api.base_url}/v{api.api_version}/services/{current.id}/update",
                params={"version": current.version, "rollback": "previous"},
                json=current.attrs["Spec"],
            )
            response.raise_for_status()
        except (requests.RequestException, DockerException) as exc:
            raise ProbeError(f"could not roll {self.service_name(service)} back: {exc}") from None
