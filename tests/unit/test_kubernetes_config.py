"""The Kubernetes configuration judgements, on declared values made here (no cluster)."""

from __future__ import annotations

import dataclasses

import pytest

from infragate.errors import ProbeError
from infragate.platforms.kubernetes_declared import DeclaredContainer, DeclaredDeployment, Probe, Rollout
from infragate.probes import cron
from infragate.probes import kubernetes_config as judge
from infragate.profile.model import Profile

PROMISES = {
    "autoscaling": {"min": 3, "max": 10, "cpu_utilization": 50},
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
    "probes": True,
    "max_unavailable": 0,
    "anti_affinity": "preferred",
    "non_root": True,
    "secrets": ["api-secrets"],
    "min_available": 2,
    "cronjobs": {"postgres-backup": "1d"},
}
PROFILE = Profile.model_validate(
    {
        "version": 1,
        "name": "k",
        "platform": {"kind": "none"},
        "gateway": {"base_url": "https://127.0.0.1:1"},
        "services": {"api": {"replicas": {"min": 3, "max": 10}, "kubernetes": PROMISES}},
        "safety": {"environment": "sandbox"},
    }
)
CONTAINER = DeclaredContainer(
    name="api",
    requests={"cpu": "250m", "memory": "512Mi"},
    limits={"cpu": "1000m", "memory": "1Gi"},
    liveness=Probe("tcp_socket", "8000", 0, 5),
    readiness=Probe("http_get", "/health", 0, 1),
    run_as_non_root=True,
    run_as_user=10001,
    privileged=False,
    literal_env=("DATABASE_PASSWORD_FILE", "LOG_LEVEL"),
    secret_env=(),
    pre_stop=True,
)
GOOD = DeclaredDeployment(
    service="api",
    replicas=3,
    max_unavailable="0",
    max_surge="1",
    containers=(CONTAINER,),
    secret_volumes=("api-secrets",),
    anti_affinity="preferred",
    hpa_min=3,
    hpa_max=10,
    hpa_cpu_percent=50,
    pdb_min_available="2",
    pdb_max_unavailable=None,
    rollout=Rollout(observed=True, replicas=3, updated=3, available=3, stalled=None),
    cronjobs={"postgres-backup": ("0 2 * * *", False), "report": ("0 3 * * 0", False)},
)
STALLED = Rollout(
    observed=True, replicas=4, updated=1, available=3, stalled='ReplicaSet "api-5f" has timed out progressing.'
)


def _problems(declared: DeclaredDeployment) -> dict[str, list[str]]:
    checks = {
        "autoscaling": judge.autoscaling_check(PROFILE, {"api": declared}),
        "resources": judge.resources_check(PROFILE, {"api": declared}),
        "probes": judge.probes_check(PROFILE, {"api": declared}, 10.0),
        "rollout": judge.rollout_check(PROFILE, {"api": declared}),
        "completed": judge.rollout_complete_check(PROFILE, {"api": declared}),
        "budget": judge.budget_check(PROFILE, {"api": declared}),
        "placement": judge.placement_check(PROFILE, {"api": declared}),
        "security": judge.security_check(PROFILE, {"api": declared}),
        "secrets": judge.secrets_check(PROFILE, {"api": declared}),
        "jobs": judge.cronjobs_check(PROFILE, {"api": declared}),
    }
    return {name: list(check.problems) for name, check in checks.items() if check.problems}


def _container(**changes: object) -> tuple[DeclaredContainer, ...]:
    return (dataclasses.replace(CONTAINER, **changes),)  # type: ignore[arg-type]


def test_the_declared_workload_of_the_seed_holds_every_promise() -> None:
    assert _problems(GOOD) == {}


@pytest.mark.parametrize(
    ("changes", "broken", "says"),
    [
        ({"hpa_min": None, "hpa_max": None, "hpa_cpu_percent": None}, "autoscaling", "observed no autoscaler"),
        ({"hpa_max": 5}, "autoscaling", "observed 3 to 5 replicas"),
        ({"containers": _container(limits={})}, "resources", "a cpu limit of 1, observed none"),
        ({"containers": _container(readiness=None)}, "probes", "readiness none"),
        ({"containers": _container(readiness=Probe("tcp_socket", "8000", 0, 5))}, "probes", "the same check"),
        ({"containers": _container(liveness=Probe("tcp_socket", "8000", 30, 5))}, "probes", "initialDelaySeconds 30"),
        ({"max_unavailable": "100%"}, "rollout", "maxUnavailable 100%"),
        ({"rollout": STALLED}, "completed", "1 of 3 replicas updated, 3 available; stalled: ReplicaSet"),
        ({"pdb_min_available": None}, "budget", "no disruption budget"),
        ({"anti_affinity": None}, "placement", "observed none"),
        ({"containers": _container(run_as_user=0, run_as_non_root=None)}, "security", "runAsUser 0"),
        ({"containers": _container(privileged=True)}, "security", "observed privileged"),
        ({"containers": _container(literal_env=("DATABASE_PASSWORD",))}, "secrets", "DATABASE_PASSWORD"),
        ({"secret_volumes": ()}, "secrets", "Secret api-secrets mounted, observed not mounted"),
        ({"cronjobs": {}}, "jobs", "observed no such CronJob"),
        ({"cronjobs": {"postgres-backup": ("0 2 * * 0", False)}}, "jobs", "up to 604800 s between runs"),
        ({"cronjobs": {"postgres-backup": ("0 2 * * *", True)}}, "jobs", "86400 s between runs, suspended"),
        ({"cronjobs": {"postgres-backup": ("0 2 * * MON", False)}}, "jobs", "cron schedule '0 2 * * MON'"),
    ],
)
def test_each_broken_promise_is_named(changes: dict[str, object], broken: str, says: str) -> None:
    problems = _problems(dataclasses.replace(GOOD, **changes))  # type: ignore[arg-type]
    assert list(problems) == [broken]
    assert any(says in problem for problem in problems[broken]), problems


def test_a_budget_by_max_unavailable_counts_against_the_autoscaler_minimum() -> None:
    assert _problems(dataclasses.replace(GOOD, pdb_min_available=None, pdb_max_unavailable="1")) == {}
    assert "budget" in _problems(dataclasses.replace(GOOD, pdb_min_available=None, pdb_max_unavailable="50%"))


def test_quantities_read_as_kubernetes_writes_them() -> None:
    assert judge.quantity("250m") == 0.25 and judge.quantity("1") == 1.0
    assert judge.quantity("512Mi") == 512 * 2**20 and judge.quantity("1G") == 1e9
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        judge.quantity("lots")


def test_a_rollout_still_under_way_cannot_be_judged_yet() -> None:
    under_way = dataclasses.replace(
        GOOD, rollout=Rollout(observed=True, replicas=4, updated=2, available=3, stalled=None)
    )
    with pytest.raises(ProbeError, match="still under way"):
        judge.rollout_complete_check(PROFILE, {"api": under_way})
    unseen = dataclasses.replace(
        GOOD, rollout=Rollout(observed=False, replicas=3, updated=3, available=3, stalled=None)
    )
    with pytest.raises(ProbeError, match="still under way"):
        judge.rollout_complete_check(PROFILE, {"api": unseen})


@pytest.mark.parametrize(
    ("schedule", "hours"),
    [("0 2 * * *", 24), ("*/15 * * * *", 0.25), ("0 */6 * * *", 6), ("0 2 * * 0", 168), ("0 0 * * 7", 168),
     ("@daily", 24), ("@monthly", 31 * 24), ("30 1 1,15 * 1", 7 * 24), ("0 9-17 * * 1-5", 64)],
)  # fmt: skip
def test_the_longest_gap_of_a_cron_schedule(schedule: str, hours: float) -> None:
    assert cron.longest_gap(schedule).total_seconds() == hours * 3600


@pytest.mark.parametrize("schedule", ["61 * * * *", "* * *", "0 0 31 2 *", "0 0 * * MON", "*/0 * * * *"])
def test_a_cron_schedule_that_cannot_be_read_says_why(schedule: str) -> None:
    with pytest.raises(ValueError, match="cron schedule"):
        cron.longest_gap(schedule)
