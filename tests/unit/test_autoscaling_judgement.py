"""The autoscaling judgements, on results made here (no cluster): a scale-out that did not come is
non-conformant only under the declared load; a load that did not run or fell behind is "could not
verify"."""

from __future__ import annotations

import dataclasses

import pytest

from infragate.errors import ProbeError
from infragate.loadgen.plan import LoadPlan
from infragate.loadgen.result import LoadResult, result_from_records
from infragate.probes.autoscaling import AutoscalingResult
from tests.unit.test_loadgen import _records

PLAN = LoadPlan(base_url="https://127.0.0.1:1", rate_per_s=100, duration_s=10, mix={"get": 1})
KEPT = result_from_records(PLAN, _records([0.01] * 1000, {"sent": 1000, "ok": 1000}))
BEHIND = result_from_records(PLAN, _records([0.01] * 1000, {"sent": 1000, "ok": 1000, "late": 400}))
FAILED = result_from_records(PLAN, _records([0.01] * 1000, {"sent": 1000, "ok": 990, "errors": 10}))
SCALED = AutoscalingResult("api", 3, 4, 21.0, 17.0, 45.0, 120.0, None, KEPT, None)


def test_a_scale_out_and_in_within_the_declared_times_under_the_declared_load_holds() -> None:
    assert not SCALED.scaled_out_check().problems
    assert not SCALED.scaled_in_check().problems
    assert not SCALED.no_failure_check().problems


def test_no_scale_out_under_the_declared_load_is_a_broken_promise() -> None:
    stuck = dataclasses.replace(SCALED, peak=3, out_after_s=None)
    assert "still 3 replicas after 45 s" in " ".join(stuck.scaled_out_check().problems)
    assert "the added replicas answering" in " ".join(stuck.answered_check().problems)


@pytest.mark.parametrize(
    ("load", "error", "says"),
    [(None, "refused by the safety policy", "the load did not run"), (BEHIND, None, "could not keep its schedule")],
)
def test_no_scale_out_under_a_load_that_was_not_the_declared_one_cannot_be_judged(
    load: LoadResult | None, error: str | None, says: str
) -> None:
    stuck = dataclasses.replace(SCALED, peak=3, out_after_s=None, load=load, load_error=error)
    with pytest.raises(ProbeError, match=says):
        stuck.scaled_out_check()


def test_a_failed_request_of_the_load_is_a_broken_promise() -> None:
    assert dataclasses.replace(SCALED, load=FAILED).no_failure_check().problems
    assert not dataclasses.replace(SCALED, in_after_s=None).scaled_out_check().problems
    assert dataclasses.replace(SCALED, in_after_s=None).scaled_in_check().problems
