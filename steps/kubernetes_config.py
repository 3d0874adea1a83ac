"""Steps about what a service's Kubernetes objects declare."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pytest_bdd import given, then

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.platforms import Platform
from infragate.probes import kubernetes_config
from infragate.profile import Profile

if TYPE_CHECKING:
    from infragate.platforms.kubernetes import KubernetesPlatform

Declared = kubernetes_config.Declared


@given("the declared configuration of every service is read from the cluster", target_fixture="deployments")
@needs("services.<name>.kubernetes")
def _(platform: Platform, profile: Profile, evidence: Evidence) -> Declared:
    promised = kubernetes_config.promises(profile)
    if not promised:
        not_applicable("no service of the profile declares Kubernetes promises (services.<name>.kubernetes)")
    cluster = cast("KubernetesPlatform", platform)
    found = {name: cluster.declared(name) for name in promised}
    for declared in found.values():
        evidence.record(declared)
    return found


@then("every service is scaled by an autoscaler within its declared bounds")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.autoscaling_check(profile, deployments))


@then("every container requests and is limited to its declared resources")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.resources_check(profile, deployments))


@then("every container has distinct liveness and readiness probes that start in time")
def _(profile: Profile, deployments: Declared) -> None:
    recovery = profile.resilience.recovery_time if profile.resilience else None
    expect_no_problems(kubernetes_config.probes_check(profile, deployments, recovery))


@then("a rolling update takes no more replicas away than declared")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.rollout_check(profile, deployments))


@then("the latest rollout of every service has completed")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.rollout_complete_check(profile, deployments))


@then("every declared scheduled job runs as often as declared")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.cronjobs_check(profile, deployments))


@then("a disruption budget keeps the declared replicas")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.budget_check(profile, deployments))


@then("pods keep away from each other as declared")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.placement_check(profile, deployments))


@then("every container runs as a non-root user, none privileged")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.security_check(profile, deployments))


@then("secrets reach the pods as Secrets, never as literal values")
def _(profile: Profile, deployments: Declared) -> None:
    expect_no_problems(kubernetes_config.secrets_check(profile, deployments))
