"""Steps about a Swarm's declared service configuration and a failed update's rollback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_bdd import given, then, when

from infragate.bdd import Evidence, expect_no_problems
from infragate.platforms import Platform
from infragate.probes import orchestrator
from infragate.profile import Profile
from infragate.recovery.journal import Journal

if TYPE_CHECKING:
    from infragate.platforms.swarm import DeclaredService

Declared = dict[str, "DeclaredService"]


@given("the declared configuration of every service is read from the swarm", target_fixture="declared")
def _(platform: Platform, profile: Profile, evidence: Evidence) -> Declared:
    found = orchestrator.declared_services(orchestrator.swarm_of(platform), profile)
    for service in found.values():
        evidence.record(service)
    return found


@then("every service declares the replicas of the profile")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.replica_check(profile, declared))


@then("every service has its declared resource limits and reservations")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.resource_check(profile, declared))


@then("every service restarts its failed tasks as declared")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.restart_check(profile, declared))


@then("every service that declares a health check has one")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.healthcheck_check(profile, declared))


@then("every declared secret is mounted as a Docker secret")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.secret_check(profile, declared))


@then("no environment variable of a service carries a secret")
def _(declared: Declared) -> None:
    expect_no_problems(orchestrator.environment_secret_check(declared))


@then("every overlay network of a service that declares it is encrypted")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.network_check(profile, declared))


@then("every service carries its declared placement constraints")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.placement_check(profile, declared))


@then("every service rolls back a failed update as declared")
def _(profile: Profile, declared: Declared) -> None:
    expect_no_problems(orchestrator.update_policy_check(profile, declared))


@when("an update whose tasks never become healthy is rolled out to the service", target_fixture="failed_update")
def _(platform: Platform, journal: Journal, profile: Profile, evidence: Evidence) -> orchestrator.FailedUpdateResult:
    return evidence.record(orchestrator.roll_out_failing_update(orchestrator.swarm_of(platform), journal, profile))


@then("the orchestrator rolls the update back")
def _(failed_update: orchestrator.FailedUpdateResult) -> None:
    expect_no_problems(failed_update.rollback_check())


@then("the service is back at its declared replicas, all healthy, on its previous configuration")
def _(platform: Platform, profile: Profile, evidence: Evidence) -> None:
    expect_no_problems(evidence.record(orchestrator.after_update(orchestrator.swarm_of(platform), profile)).check())
