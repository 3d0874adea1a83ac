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
from infragate.verdicts import Check

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


def replica_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Every service's declared replica count within the profile's bounds."""
    return Check.combine(
        (
            Check.compare(
                "declared replicas",
                f"{service.replicas.min} to {service.replicas.max} replicas",
                f"{count if count is not None else 'a global service'}",
                count is not None and service.replicas.min <= count <= service.replicas.max,
                subject=f"service {name}",
            )
            for name, service in profile.services.items()
            for count in (declared[name].replicas,)
        ),
        name="declared replicas",
    )


def _resource_checks(name: str, kind: str, wanted: dict[str, float | None], got: dict[str, float]) -> list[Check]:
    checks = []
    for key, value in wanted.items():
        if value is None:
            continue
        observed = got.get(key)
        checks.append(
            Check.compare(
                "resources",
                f"a {kind} of {key} {_show(key, value)}",
                "none" if observed is None else _show(key, observed),
                observed is not None and abs(observed - value) <= 0.01 * value,
                subject=f"service {name}",
            )
        )
    return checks


def _show(key: str, value: float) -> str:
    return f"{value / 1024**2:g}M" if key == "memory" else f"{value:g}"


def resource_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Limits and reservations present and as declared."""
    checks = []
    for name, deploy in _deploys(profile).items():
        for kind, wanted, got in (
            ("limit", deploy.limits, declared[name].limits),
            ("reservation", deploy.reservations, declared[name].reservations),
        ):
            if wanted is not None:
                checks += _resource_checks(name, kind, {"cpus": wanted.cpus, "memory": wanted.memory}, got)
    return Check.combine(checks, name="resources")


def restart_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Failed tasks restarted on the declared condition."""
    return Check.combine(
        (
            Check.compare(
                "restart policy",
                f"failed tasks restarted on condition {deploy.restart_condition}",
                declared[name].restart_condition or "no restart policy",
                declared[name].restart_condition == deploy.restart_condition,
                subject=f"service {name}",
            )
            for name, deploy in _deploys(profile).items()
            if deploy.restart_condition is not None
        ),
        name="restart policy",
    )


def healthcheck_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """A health check wherever the profile declares one."""
    return Check.combine(
        (
            Check.compare(
                "health check",
                "a health check",
                "one" if declared[name].healthcheck else "none",
                bool(declared[name].healthcheck),
                subject=f"service {name}",
            )
            for name, deploy in _deploys(profile).items()
            if deploy.healthcheck
        ),
        name="health check",
    )


def secret_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Declared secrets mounted as Docker secrets."""
    # Stacks prefix secret names with the stack: ig-ref_db_password holds db_password.
    return Check.combine(
        (
            Check.compare(
                "secrets mounted",
                f"secret {secret} mounted as a Docker secret",
                ", ".join(mounted) or "no secret",
                any(found == secret or found.endswith(f"_{secret}") for found in mounted),
                subject=f"service {name}",
            )
            for name, deploy in _deploys(profile).items()
            for mounted in (declared[name].secrets,)
            for secret in deploy.secrets
        ),
        name="secrets mounted",
    )


def environment_secret_check(declared: dict[str, DeclaredService]) -> Check:
    """No environment variable whose name says it carries a secret's value."""
    return Check.combine(
        (
            Check.compare(
                "no secret in the environment",
                "secrets as Docker secrets",
                f"environment variable {variable}" if SECRET_NAME.search(variable) else "none in the environment",
                not SECRET_NAME.search(variable),
                subject=f"service {name}",
            )
            for name, service in sorted(declared.items())
            for variable in service.environment
        ),
        name="no secret in the environment",
    )


def network_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Every network encrypted where the service declares encrypted networks."""
    checks = []
    for name, deploy in _deploys(profile).items():
        if not deploy.encrypted_networks:
            continue
        networks = declared[name].networks
        subject = f"service {name}"
        if not networks:
            checks.append(
                Check.compare("encrypted networks", "encrypted overlay networks", "no network", False, subject)
            )
        checks += [
            Check.compare(
                "encrypted networks",
                f"network {network} encrypted",
                f"it {'encrypted' if encrypted else 'unencrypted'}",
                encrypted,
                subject,
            )
            for network, encrypted in sorted(networks.items())
        ]
    return Check.combine(checks, name="encrypted networks")


def placement_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Every declared placement constraint carried."""
    return Check.combine(
        (
            Check.compare(
                "placement",
                f"placement constraint {constraint!r}",
                f"{list(declared[name].placement)}",
                constraint in declared[name].placement,
                subject=f"service {name}",
            )
            for name, deploy in _deploys(profile).items()
            for constraint in deploy.placement
        ),
        name="placement",
    )


def update_policy_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Failed updates handled as declared."""
    return Check.combine(
        (
            Check.compare(
                "update failure action",
                f"a failed update to {deploy.update_failure_action}",
                f"failure_action {declared[name].update_failure_action or 'unset'}",
                declared[name].update_failure_action == deploy.update_failure_action,
                subject=f"service {name}",
            )
            for name, deploy in _deploys(profile).items()
            if deploy.update_failure_action is not None
        ),
        name="update failure action",
    )


@dataclass(frozen=True)
class FailedUpdateResult:
    """A rollout whose tasks never become healthy, and what the orchestrator made of it."""

    service: str
    state: str
    message: str
    took_s: float | None
    version_before: int

    def rollback_check(self) -> Check:
        """The failed update was rolled back."""
        if self.took_s is None:
            seen = f"no outcome within {UPDATE_TIMEOUT_S:g} s (state {self.state or 'none'})"
        else:
            seen = f"state {self.state}" + (f" ({self.message})" if self.message else "")
        expected = f"the failed update of {self.service} rolled back"
        return Check.compare("rolled back", expected, seen, self.state == "rollback_completed")


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

    def check(self) -> Check:
        """The service is back on its previous configuration, at its declared healthy replicas."""
        configuration = Check.compare(
            "back as before",
            f"{self.service} back on its previous configuration",
            "the failed one" if self.fault_in_spec else "the previous one",
            not self.fault_in_spec,
        )
        healthy = Check.compare(
            "back as before",
            f"{self.service} at {self.declared_min} healthy replicas",
            f"{self.ready} healthy of {self.running} running",
            self.ready >= self.declared_min,
        )
        return Check.combine((configuration, healthy))


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
