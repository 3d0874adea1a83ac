"""Swarm probes: each service's declared configuration against the profile, and a failed update's fate."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from infragate.errors import ProbeError
from infragate.probes import disruption
from infragate.probes.disruption import resilience_of
from infragate.profile.model import Deploy, Profile
from infragate.recovery.journal import Journal, Undo
from infragate.retry import poll_until

if TYPE_CHECKING:  # the adapter imports the docker SDK, which only Swarm targets need
    from infragate.platforms.swarm import DeclaredService, SwarmPlatform

RESTORE_ENVIRONMENT = "restore_environment"
FAULT_VARIABLE = "INFRAGATE_FAULTS"
UPDATE_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 90.0
# Names of variables that carry a secret's value (a *_FILE variable only names a file).
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)$", re.IGNORECASE)
_UPDATING = ("updating", "rollback_started")
_FINAL_UPDATE_STATES = ("completed", "paused", "rollback_completed", "rollback_paused")


def swarm_of(platform: object) -> SwarmPlatform:
    """The platform as a Swarm adapter (the @swarm tag keeps other platforms out)."""
    if getattr(platform, "kind", None) != "swarm":
        raise ProbeError("these checks read a Swarm's service configuration; the platform is not a swarm")
    return cast("SwarmPlatform", platform)


def declared_services(platform: SwarmPlatform, profile: Profile) -> dict[str, DeclaredService]:
    """The declared configuration of every service in the profile."""
    return {name: platform.declared(name) for name in profile.services}


def _deploys(profile: Profile) -> dict[str, Deploy]:
    return {name: service.deploy for name, service in profile.services.items() if service.deploy is not None}


def replica_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Services whose replica count lies outside the profile's bounds."""
    problems = []
    for name, service in profile.services.items():
        count = declared[name].replicas
        if count is None or not service.replicas.min <= count <= service.replicas.max:
            problems.append(
                f"service {name}: expected {service.replicas.min} to {service.replicas.max} replicas, "
                f"observed {count if count is not None else 'a global service'}"
            )
    return problems


def _resource_problem(name: str, kind: str, wanted: dict[str, float | None], got: dict[str, float]) -> list[str]:
    problems = []
    for key, value in wanted.items():
        if value is None:
            continue
        observed = got.get(key)
        if observed is None:
            problems.append(f"service {name}: expected a {kind} of {key} {_show(key, value)}, observed none")
        elif abs(observed - value) > 0.01 * value:
            problems.append(
                f"service {name}: expected a {kind} of {key} {_show(key, value)}, observed {_show(key, observed)}"
            )
    return problems


def _show(key: str, value: float) -> str:
    return f"{value / 1024**2:g}M" if key == "memory" else f"{value:g}"


def resource_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Limits and reservations that are missing or differ from the declaration."""
    problems = []
    for name, deploy in _deploys(profile).items():
        for kind, wanted, got in (
            ("limit", deploy.limits, declared[name].limits),
            ("reservation", deploy.reservations, declared[name].reservations),
        ):
            if wanted is not None:
                problems += _resource_problem(name, kind, {"cpus": wanted.cpus, "memory": wanted.memory}, got)
    return problems


def restart_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Services that do not restart failed tasks as declared."""
    problems = []
    for name, deploy in _deploys(profile).items():
        observed = declared[name].restart_condition
        if deploy.restart_condition is not None and observed != deploy.restart_condition:
            problems.append(
                f"service {name}: expected failed tasks restarted on condition {deploy.restart_condition}, "
                f"observed {observed or 'no restart policy'}"
            )
    return problems


def healthcheck_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Services that declare a health check in the profile but have none."""
    return [
        f"service {name}: expected a health check, observed none"
        for name, deploy in _deploys(profile).items()
        if deploy.healthcheck and not declared[name].healthcheck
    ]


def secret_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Declared secrets that are not mounted as Docker secrets."""
    problems = []
    for name, deploy in _deploys(profile).items():
        # Stacks prefix secret names with the stack: ig-ref_db_password holds db_password.
        mounted = declared[name].secrets
        for secret in deploy.secrets:
            if not any(found == secret or found.endswith(f"_{secret}") for found in mounted):
                problems.append(
                    f"service {name}: expected secret {secret} mounted as a Docker secret, observed "
                    f"{', '.join(mounted) or 'no secret'}"
                )
    return problems


def environment_secret_problems(declared: dict[str, DeclaredService]) -> list[str]:
    """Environment variables whose names say they carry a secret's value."""
    return [
        f"service {name}: expected secrets as Docker secrets, observed environment variable {variable}"
        for name, service in sorted(declared.items())
        for variable in service.environment
        if SECRET_NAME.search(variable)
    ]


def network_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Networks that are not encrypted although the service declares encrypted networks."""
    problems = []
    for name, deploy in _deploys(profile).items():
        if not deploy.encrypted_networks:
            continue
        networks = declared[name].networks
        if not networks:
            problems.append(f"service {name}: expected encrypted overlay networks, observed no network")
        problems += [
            f"service {name}: expected network {network} encrypted, observed it unencrypted"
            for network, encrypted in sorted(networks.items())
            if not encrypted
        ]
    return problems


def placement_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Declared placement constraints a service does not carry."""
    return [
        f"service {name}: expected placement constraint {constraint!r}, observed {list(declared[name].placement)}"
        for name, deploy in _deploys(profile).items()
        for constraint in deploy.placement
        if constraint not in declared[name].placement
    ]


def update_policy_problems(profile: Profile, declared: dict[str, DeclaredService]) -> list[str]:
    """Services whose failed updates are not handled as declared."""
    return [
        f"service {name}: expected a failed update to {deploy.update_failure_action}, observed failure_action "
        f"{declared[name].update_failure_action or 'unset'}"
        for name, deploy in _deploys(profile).items()
        if deploy.update_failure_action is not None
        and declared[name].update_failure_action != deploy.update_failure_action
    ]


@dataclass(frozen=True)
class FailedUpdateResult:
    """A rollout whose tasks never become healthy, and what the orchestrator made of it."""

    service: str
    state: str
    message: str
    took_s: float | None
    version_before: int

    def rollback_problem(self) -> str | None:
        """Why the update counts as not rolled back, or None."""
        if self.state == "rollback_completed":
            return None
        if self.took_s is None:
            return (
                f"expected the failed update of {self.service} rolled back, observed no outcome within "
                f"{UPDATE_TIMEOUT_S:g} s (state {self.state or 'none'})"
            )
        return f"expected the failed update of {self.service} rolled back, observed state {self.state}" + (
            f" ({self.message})" if self.message else ""
        )


def roll_out_failing_update(platform: SwarmPlatform, journal: Journal, profile: Profile) -> FailedUpdateResult:
    """Switch on a fault that fails the new tasks' health check, and wait for the update's outcome."""
    service = resilience_of(profile).service
    disruption.settled(platform, service, resilience_of(profile).recovery_time)
    before = platform.declared(service)
    journal.record(
        f"roll out an update of {service} whose tasks never become healthy",
        Undo(RESTORE_ENVIRONMENT, {"service": service, "remove": FAULT_VARIABLE}),
    )
    started = time.monotonic()
    platform.update_environment(service, {FAULT_VARIABLE: "unhealthy"})
    outcome = poll_until(
        lambda: platform.update_state(service), lambda seen: seen[0] in _FINAL_UPDATE_STATES, UPDATE_TIMEOUT_S, 1.0
    )
    state, message = outcome.value
    took = time.monotonic() - started if outcome.met else None
    return FailedUpdateResult(service, state, message, took, before.version)


@dataclass(frozen=True)
class SettledService:
    """The service after an update's outcome: ready replicas and whether the faulty change is gone."""

    service: str
    declared_min: int
    ready: int
    running: int
    fault_in_spec: bool

    def problem(self) -> str | None:
        """Why the service is not back as it was, or None."""
        problems = []
        if self.fault_in_spec:
            problems.append(f"expected {self.service} back on its previous configuration, observed the failed one")
        if self.ready < self.declared_min:
            problems.append(
                f"expected {self.service} at {self.declared_min} healthy replicas, observed {self.ready} "
                f"healthy of {self.running} running"
            )
        return "; ".join(problems) or None


def after_update(platform: SwarmPlatform, profile: Profile, timeout_s: float = 30.0) -> SettledService:
    """Wait (a bounded time) for the service to be healthy at its declared size; how it stands then."""
    service = resilience_of(profile).service
    wanted = profile.services[service].replicas.min
    polled = poll_until(
        lambda: (platform.replicas(service), FAULT_VARIABLE in platform.environment_names(service)),
        lambda seen: len(seen[0].ready) >= wanted and not seen[1],
        timeout_s,
        1.0,
    )
    found, fault = polled.value
    return SettledService(service, wanted, len(found.ready), len(found.running), fault)


def restore_environment(platform: SwarmPlatform, service: str, variable: str) -> str:
    """Undo: take the faulty variable out again (unless Swarm's rollback did) and wait for healthy replicas.

    While the faulty update is still the service's last one, a rollback to the spec before it is the
    exact undo, carried out as the service's rollback config says (all tasks at once here); else the
    variable is taken out by a new update.
    """
    if variable in platform.environment_names(service):
        previous = platform.previous_environment_names(service)
        if previous is not None and variable not in previous:
            platform.roll_back(service)
        else:
            platform.update_environment(service, {}, remove=(variable,))
    polled = poll_until(
        lambda: (platform.replicas(service), platform.update_state(service)[0], platform.desired(service)),
        lambda seen: len(seen[0].ready) == len(seen[0].running) == seen[2] and seen[1] not in _UPDATING,
        SETTLE_TIMEOUT_S,
        1.0,
    )
    if polled.met:
        return (
            f"{service} verified back on its previous configuration with {len(polled.value[0].ready)} healthy replicas"
        )
    raise ProbeError(f"{service} not back to healthy replicas within {SETTLE_TIMEOUT_S:g} s after removing {variable}")
