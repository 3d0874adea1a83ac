"""The platform probes' judgements on constructed observations: the replica census, the spread of
traffic over replicas, and a Swarm service's declared configuration against the profile (the
reference stack's own profile, judged against the configuration of a conformant and of broken
services). No live platform."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infragate.platforms.base import Replica, ReplicaSet
from infragate.platforms.swarm import DeclaredService
from infragate.probes import orchestrator, spread
from infragate.probes.replicas import ReplicaCensus
from infragate.probes.spread import ServiceSpread, SpreadResult, SpreadSurvey
from infragate.profile import Profile, parse_profile
from infragate.profile.model import ReplicaBounds
from infragate.sandbox.swarm.stack import profile_for

MB = 1024**2


def _replicas(running: int, ready: int, stopped: int = 0) -> ReplicaSet:
    members = [Replica("api", f"api-{n}", f"pid{n}", True, n <= ready, f"pid {n}") for n in range(1, running + 1)]
    members += [Replica("api", f"api-x{n}", "", False, False, "STOPPED") for n in range(stopped)]
    return ReplicaSet("api", tuple(members))


def test_the_census_counts_running_replicas_against_the_bounds() -> None:
    bounds = ReplicaBounds(min=3, max=10)
    assert ReplicaCensus("local", ((_replicas(3, 3, stopped=2), bounds),)).count_check().met
    (problem,) = list(ReplicaCensus("local", ((_replicas(2, 2, stopped=1), bounds),)).count_check().problems)
    assert problem.startswith("service api: expected 3 to 10 running replicas, observed 2 (api-1: pid 1")


def test_the_census_names_each_running_replica_that_is_not_ready() -> None:
    census = ReplicaCensus("local", ((_replicas(3, 1), ReplicaBounds(min=3, max=3)),))
    assert census.count_check().met
    assert list(census.health_check().problems) == [
        "service api: expected replica api-2 to report healthy, observed pid 2",
        "service api: expected replica api-3 to report healthy, observed pid 3",
    ]


@given(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20))
def test_a_count_is_a_problem_exactly_when_it_is_outside_the_bounds(low: int, span: int, count: int) -> None:
    bounds = ReplicaBounds(min=low, max=low + span + 1)
    census = ReplicaCensus("local", ((_replicas(count, count), bounds),))
    assert bool(list(census.count_check().problems)) == (not low <= count <= low + span + 1)


def test_the_spread_fails_when_a_replica_answers_nothing() -> None:
    expected = frozenset({"api-1", "api-2", "api-3"})
    even = SpreadResult("api", 30, 10.0, {"api-1": 10, "api-2": 10, "api-3": 10}, {200: 30}, 0)
    skewed = SpreadResult("api", 30, 10.0, {"api-1": 15, "api-2": 15}, {200: 30}, 0)
    survey = SpreadSurvey((ServiceSpread("api", expected, even), ServiceSpread("search", expected, skewed)))
    check = survey.check()
    assert check.observed.startswith("service api: {'api-1': 10, 'api-2': 10, 'api-3': 10} from 30 requests at 10/s; ")
    (problem,) = check.problems
    assert problem.startswith("service search: expected answers from every replica of route api (api-1, api-2, api-3)")
    assert problem.endswith("(none from api-3; statuses {200: 30})")


class _Answer:
    def __init__(self, replica: str) -> None:
        self.status, self._replica = 200, replica

    def header(self, name: str) -> str | None:
        return self._replica if name == "X-Replica" else None


class _Balancer:
    """A gateway that sends each stream round the replicas in its rules: api-3 joins them at the
    second stream (a proxy that had not synced yet), or never."""

    def __init__(self, joins: bool) -> None:
        self.calls, self.joins = 0, joins

    def call(self, route: object) -> _Answer:
        self.calls += 1
        members = ["api-1", "api-2", "api-3"] if self.joins and self.calls > 30 else ["api-1", "api-2"]
        return _Answer(members[self.calls % len(members)])


class _Three:
    def replicas(self, service: str) -> ReplicaSet:
        return _replicas(3, 3)


@pytest.mark.parametrize("joins", [True, False])
def test_a_replica_the_proxy_adds_late_is_given_a_second_stream_and_one_never_reached_fails(
    joins: bool, profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spread, "UNLIMITED_ROUTE_RATE", 10_000.0)  # no pacing worth waiting for here
    balancer = _Balancer(joins)
    survey = spread.survey_spread(balancer, _Three(), profile)  # type: ignore[arg-type]
    assert balancer.calls == 60  # two streams of ten requests per replica, api-3 missing from the first
    (entry,) = survey.services
    assert entry.spread.sent == 60
    assert survey.check().met is joins
    if not joins:
        assert next(iter(survey.check().problems)).endswith("(none from api-3; statuses {200: 60})")


@pytest.fixture(scope="module")
def profile() -> Profile:
    return parse_profile(yaml.safe_dump(profile_for("t", None, "ig-t", 8080)), environ={})


def _declared(**changes: object) -> dict[str, DeclaredService]:
    """The reference stack as the engine holds it; changes apply to the API service."""

    def service(name: str, replicas: int, limits: dict[str, float], secrets: tuple[str, ...]) -> DeclaredService:
        return DeclaredService(
            service=name,
            replicas=replicas,
            limits=limits,
            reservations={"cpus": 0.05, "memory": 32 * MB},
            restart_condition="any",
            restart_max_attempts=None,
            healthcheck=("CMD", "true"),
            secrets=tuple(f"ig-t_{secret}" for secret in secrets),
            environment=("DB_HOST", "DB_PASSWORD_FILE"),
            networks={"ig-t_backend": True},
            update_failure_action="rollback",
            update_order="start-first",
            rollback_configured=True,
            placement=("node.role == manager",),
            image=f"infragate/stack-{name}:1",
            version=1,
        )

    small = {"cpus": 0.5, "memory": 256 * MB}
    found = {
        "api": service("api", 3, {"cpus": 0.25, "memory": 128 * MB}, ("db_password",)),
        "gateway": service("gateway", 1, small, ()),
        "postgres": service("postgres", 1, small, ("postgres_password",)),
        "redis": service("redis", 1, small, ("redis_password",)),
    }
    found["api"] = dataclasses.replace(found["api"], **changes)  # type: ignore[arg-type]
    return found


CHECKS = (
    orchestrator.replica_check,
    orchestrator.resource_check,
    orchestrator.restart_check,
    orchestrator.healthcheck_check,
    orchestrator.secret_check,
    orchestrator.network_check,
    orchestrator.placement_check,
    orchestrator.update_policy_check,
)


def test_the_reference_stack_meets_its_own_profile(profile: Profile) -> None:
    declared = _declared()
    assert all(check(profile, declared).met for check in CHECKS)
    assert orchestrator.environment_secret_check(declared).met


BROKEN = [
    ({"replicas": 7}, orchestrator.replica_check, "service api: expected 3 to 5 replicas, observed 7"),
    (
        {"replicas": None},
        orchestrator.replica_check,
        "service api: expected 3 to 5 replicas, observed a global service",
    ),
    (
        {"limits": {"memory": 128 * MB}},
        orchestrator.resource_check,
        "service api: expected a limit of cpus 0.25, observed none",
    ),
    (
        {"limits": {"cpus": 0.25, "memory": 512 * MB}},
        orchestrator.resource_check,
        "service api: expected a limit of memory 128M, observed 512M",
    ),
    (
        {"restart_condition": None},
        orchestrator.restart_check,
        "service api: expected failed tasks restarted on condition any, observed no restart policy",
    ),
    ({"healthcheck": ()}, orchestrator.healthcheck_check, "service api: expected a health check, observed none"),
    (
        {"secrets": ()},
        orchestrator.secret_check,
        "service api: expected secret db_password mounted as a Docker secret, observed no secret",
    ),
    (
        {"networks": {"ig-t_backend": False}},
        orchestrator.network_check,
        "service api: expected network ig-t_backend encrypted, observed it unencrypted",
    ),
    (
        {"networks": {}},
        orchestrator.network_check,
        "service api: expected encrypted overlay networks, observed no network",
    ),
    (
        {"placement": ()},
        orchestrator.placement_check,
        "service api: expected placement constraint 'node.role == manager', observed []",
    ),
    (
        {"update_failure_action": "pause"},
        orchestrator.update_policy_check,
        "service api: expected a failed update to rollback, observed failure_action pause",
    ),
]


@pytest.mark.parametrize(("changes", "check", "expected"), BROKEN)
def test_each_broken_setting_is_named_by_its_check_and_only_by_it(
    profile: Profile, changes: dict[str, object], check: object, expected: str
) -> None:
    declared = _declared(**changes)
    found = {other.__name__: other(profile, declared) for other in CHECKS}
    assert found.pop(check.__name__).problems == (expected,)  # type: ignore[attr-defined]
    assert all(other.met for other in found.values())


def test_a_secret_in_an_environment_variable_is_named_but_a_file_reference_is_not() -> None:
    declared = _declared(environment=("DB_HOST", "DB_PASSWORD", "API_KEY", "DB_PASSWORD_FILE", "TOKEN_URL"))
    assert list(orchestrator.environment_secret_check(declared).problems) == [
        "service api: expected secrets as Docker secrets, observed environment variable DB_PASSWORD",
        "service api: expected secrets as Docker secrets, observed environment variable API_KEY",
    ]


def test_a_failed_update_counts_as_rolled_back_only_when_swarm_says_so() -> None:
    rolled = orchestrator.FailedUpdateResult("api", "rollback_completed", "", 31.0, 4)
    assert rolled.rollback_check().met
    paused = orchestrator.FailedUpdateResult("api", "paused", "update paused due to failure", 12.0, 4)
    assert paused.rollback_check().problem == (
        "expected the failed update of api rolled back, observed state paused (update paused due to failure)"
    )
    silent = orchestrator.FailedUpdateResult("api", "updating", "", None, 4)
    assert silent.rollback_check().problem == (
        "expected the failed update of api rolled back, observed no outcome within 120 s (state updating)"
    )
