"""Swarm probes: each service's declared configuration against the profile, and a failed update's fate."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
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


Finding = tuple[str, str, str, bool]  # service, what was expected, what was observed, whether it holds


def _per_service(name: str, findings: Iterable[Finding]) -> Check:
    """One promise judged on every service it applies to."""
    return Check.combine(
        (
            Check.compare(name, expected, observed, holds, subject=f"service {service}")
            for service, expected, observed, holds in findings
        ),
        name=name,
    )


def replica_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Every service's declared replica count within the profile's bounds."""
    return _per_service(
        "declared replicas",
        (
            (
                name,
                f"{service.replicas.min} to {service.replicas.max} replicas",
                f"{count if count is not None else 'a global service'}",
                count is not None and service.replicas.min <= count <= service.replicas.max,
            )
            for name, service in profile.services.items()
            for count in (declared[name].replicas,)
        ),
    )


def _show(key: str, value: float) -> str:
    return f"{value / 1024**2:g}M" if key == "memory" else f"{value:g}"


def resource_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Limits and reservations present and as declared."""
    findings: list[Finding] = []
    for name, deploy in _deploys(profile).items():
        for kind, wanted, got in (
            ("limit", deploy.limits, declared[name].limits),
            ("reservation", deploy.reservations, declared[name].reservations),
        ):
            for key, value in {"cpus": wanted.cpus, "memory": wanted.memory}.items() if wanted else ():
                if value is not None:
                    seen = got.get(key)
                    holds = seen is not None and abs(seen - value) <= 0.01 * value
                    findings.append((name, f"a {kind} of {key} {_show(key, value)}", _seen(key, seen), holds))
    return _per_service("resources", findings)


def _seen(key: str, value: float | None) -> str:
    return "none" if value is None else _show(key, value)


def restart_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Failed tasks restarted on the declared condition."""
    return _per_service(
        "restart policy",
        (
            (
                name,
                f"failed tasks restarted on condition {deploy.restart_condition}",
                declared[name].restart_condition or "no restart policy",
                declared[name].restart_condition == deploy.restart_condition,
            )
            for name, deploy in _deploys(profile).items()
            if deploy.restart_condition is not None
        ),
    )


def healthcheck_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """A health check wherever the profile declares one."""
    return _per_service(
        "health check",
        (
            (name, "a health check", "one" if declared[name].healthcheck else "none", bool(declared[name].healthcheck))
            for name, deploy in _deploys(profile).items()
            if deploy.healthcheck
        ),
    )


def secret_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Declared secrets mounted as Docker secrets."""
    # Stacks prefix secret names with the stack: ig-ref_db_password holds db_password.
    return _per_service(
        "secrets mounted",
        (
            (
                name,
                f"secret {secret} mounted as a Docker secret",
                ", ".join(mounted) or "no secret",
                any(found == secret or found.endswith(f"_{secret}") for found in mounted),
            )
            for name, deploy in _deploys(profile).items()
            for mounted in (declared[name].secrets,)
            for secret in deploy.secrets
        ),
    )


def environment_secret_check(declared: dict[str, DeclaredService]) -> Check:
    """No environment variable whose name says it carries a secret's value."""
    return _per_service(
        "no secret in the environment",
        (
            (name, "secrets as Docker secrets", f"environment variable {variable}", not SECRET_NAME.search(variable))
            for name, service in sorted(declared.items())
            for variable in service.environment
        ),
    )


def network_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Every network encrypted where the service declares encrypted networks."""
    findings: list[Finding] = []
    for name, deploy in _deploys(profile).items():
        if not deploy.encrypted_networks:
            continue
        networks = declared[name].networks
        if not networks:
            findings.append((name, "encrypted overlay networks", "no network", False))
        findings += [
            (name, f"network {network} encrypted", f"it {'encrypted' if encrypted else 'unencrypted'}", encrypted)
            for network, encrypted in sorted(networks.items())
        ]
    return _per_service("encrypted networks", findings)


def placement_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Every declared placement constraint carried."""
    return _per_service(
        "placement",
        (
            (
                name,
                f"placement constraint {constraint!r}",
                f"{list(declared[name].placement)}",
                constraint in declared[name].placement,
            )
            for name, deploy in _deploys(profile).items()
            for constraint in deploy.placement
        ),
    )


def update_policy_check(profile: Profile, declared: dict[str, DeclaredService]) -> Check:
    """Failed updates handled as declared."""
    return _per_service(
        "update failure action",
        (
            (
                name,
                f"a failed update to {deploy.update_failure_action}",
                f"failure_action {declared[name].update_failure_action or 'unset'}",
                declared[name].update_failure_action == deploy.update_failure_action,
            )
            for name, deploy in _deploys(profile).items()
            if deploy.update_failure_action is not None
        ),
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
        platform.consent,
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
