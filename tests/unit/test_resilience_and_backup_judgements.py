"""Judgements of disruptions (kill, scale, rolling restart, traffic during a fault) and of backups
(restore drills, cluster drills, Redis persistence) on constructed results. No live service."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infragate.probes.backup.checks import DrillResult
from infragate.probes.backup.cluster_drill import ClusterDrillResult
from infragate.probes.backup.layout import TableRecord
from infragate.probes.backup.redis_persistence import RedisPersistenceResult
from infragate.probes.disruption import KillResult, RollingRestartResult, ScaleResult, TrafficReport


def _kill(replacement: str | None, back_after_s: float | None) -> KillResult:
    return KillResult(
        "api", "api-2", "pid 4242", 3, replacement, 1.2 if replacement else None, back_after_s, 10.0, "on-failure"
    )


def test_a_kill_needs_a_new_instance_and_the_service_back_in_time() -> None:
    assert _kill("pid 5151", 4.0).replaced_check().met
    assert _kill("pid 5151", 4.0).recovery_check().met
    assert _kill(None, None).replaced_check().problem == (
        "expected the killed replica api-2 (instance pid 4242) of api to be replaced by a new instance, observed "
        "none within 20 s (restart policy: on-failure)"
    )
    assert _kill("pid 5151", 14.5).recovery_check().problem == (
        "expected api back at 3 ready replicas within 10 s of the kill, observed after 14.5 s"
    )
    assert "observed not within the wait" in (_kill("pid 5151", None).recovery_check().problem or "")


def test_scaling_must_be_ready_within_the_declared_time() -> None:
    assert ScaleResult("api", 3, 5, 12.0, 5, 30.0).ready_check().met
    assert ScaleResult("api", 3, 5, None, 4, 30.0).ready_check().problem == (
        "expected api at 5 ready replicas within 30 s, observed 4 ready when the wait ended"
    )


def test_a_rolling_restart_must_replace_every_instance() -> None:
    before = {"api-1": "a", "api-2": "b", "api-3": "c"}
    assert (
        RollingRestartResult("api", before, {"api-1": "x", "api-2": "y", "api-3": "z"}, 9.0).replaced_check().problem
        is None
    )
    assert RollingRestartResult(
        "api", before, {"api-1": "x", "api-2": "b", "api-3": "c"}, 9.0
    ).replaced_check().problem == (
        "expected every replica of api replaced, observed the same instance for api-2, api-3"
    )


def _traffic(window_sent: int, window_failed: int, sent: int = 400, failed: int = 0) -> TrafficReport:
    failures = tuple(f"GET /api -> 502 at {n}" for n in range(max(failed, window_failed)))
    return TrafficReport(40.0, sent, failed, 0, {}, (2.0, 6.0), window_sent, window_failed, failures, ())


def test_the_failover_budget_is_a_share_of_the_fault_window() -> None:
    assert _traffic(160, 0).budget_check(0.001).met
    problem = _traffic(160, 2).budget_check(0.001).problem
    assert problem is not None and problem.startswith(
        "expected at most 0.10% of requests to fail during the fault, observed 1.25% (2 of 160"
    )
    # No request during the fault is no evidence of a clean failover.
    assert _traffic(0, 0).budget_check(0.5).problem == (
        "expected steady traffic during the fault, observed no request in that window"
    )


@given(st.integers(1, 5000), st.data())
def test_the_budget_is_met_exactly_when_the_failed_share_is_within_it(sent: int, data: st.DataObject) -> None:
    failed = data.draw(st.integers(0, sent))
    budget = data.draw(st.floats(0, 1))
    assert (_traffic(sent, failed).budget_check(budget).problem is None) == (failed / sent <= budget)


def test_no_failed_request_also_needs_traffic() -> None:
    assert _traffic(160, 0).none_failed_check().met
    assert _traffic(160, 1, failed=1).none_failed_check().problem == (
        "expected no failed request, observed 1 of 400 (first: GET /api -> 502 at 0)"
    )
    assert _traffic(0, 0, sent=0).none_failed_check().problem == "expected steady traffic, observed no request"


RECORDED = {
    "public.items": TableRecord(1000, "abcdef0123456789"),
    "public.bookings": TableRecord(5000, "0011223344556677"),
}


def _drill(restored: dict[str, TableRecord], ok: bool = True, seconds: float = 3.0) -> DrillResult:
    return DrillResult(
        "local/20261202T0600Z",
        "infragate_scratch",
        ok,
        "" if ok else "pg_restore: error",
        seconds,
        8.0,
        RECORDED,
        restored,
        True,
    )


def test_a_restore_drill_compares_every_table_with_its_record() -> None:
    assert _drill(dict(RECORDED)).data_check().met
    changed = {"public.items": TableRecord(999, "ffffffffffffffff")}
    assert list(_drill(changed).data_check().problems) == [
        "expected table public.bookings (5000 rows) in the restored backup local/20261202T0600Z, observed it missing",
        "expected table public.items restored as recorded (1000 rows, checksum abcdef0123), observed 999 rows, "
        "checksum ffffffffff",
    ]


def test_a_restore_drill_must_succeed_within_the_rto() -> None:
    assert _drill(dict(RECORDED)).rto_check().met
    assert _drill(dict(RECORDED), seconds=9.5).rto_check().problem == (
        "expected backup local/20261202T0600Z restored within the RTO of 8 s, observed 9.5 s"
    )
    assert _drill({}, ok=False).rto_check().problem == (
        "expected backup local/20261202T0600Z to restore, observed pg_restore: error"
    )


def test_a_cluster_drill_needs_every_database_of_the_manifest_readable() -> None:
    def drill(found: tuple[str, ...], unreadable: dict[str, str]) -> ClusterDrillResult:
        return ClusterDrillResult(
            "20261202-060000F", "/drills/x", True, "", 40.0, 900.0, ("app", "postgres"), found, {}, unreadable, True
        )

    assert drill(("app", "postgres"), {}).data_check().met
    assert list(drill(("postgres",), {"postgres": "invalid page in block 0"}).data_check().problems) == [
        "expected database app (in the manifest of backup 20261202-060000F) in the restored cluster, "
        "observed it missing",
        "expected every table of database postgres to read to its end, observed invalid page in block 0",
    ]
    failed = ClusterDrillResult(
        "20261202-060000F", "/drills/x", False, "did not start", 5.0, 900.0, (), (), {}, {}, True
    )
    assert failed.rto_check().problem == "expected backup 20261202-060000F to restore and start, observed did not start"


def test_redis_persistence_judges_only_what_is_declared() -> None:
    assert RedisPersistenceResult("yes", "900 1 300 10", True, "900 1  300 10").check().met
    persisting_nothing = RedisPersistenceResult("no", "", True, "900 1").check()
    assert persisting_nothing.observed == "appendonly no, save ''"
    assert list(persisting_nothing.problems) == [
        "expected Redis appendonly yes, observed no",
        "expected Redis save '900 1', observed ''",
    ]
    assert RedisPersistenceResult("no", "", None, None).check().met
