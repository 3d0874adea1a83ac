"""The load engine's parent side: plans, mixes, histogram merging, verdicts and the self-check."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infragate.bdd import expect_no_problems
from infragate.loadgen.histogram import encode, merged, new_histogram, percentile_s, record_seconds
from infragate.loadgen.plan import LoadPlan, SourceRotation, expand_sources, smooth_cycle
from infragate.loadgen.result import LoadResult, result_from_records
from infragate.verdicts import Outcome

PLAN = LoadPlan(base_url="https://127.0.0.1:8443", rate_per_s=100, duration_s=10, mix={"browse": 7, "search": 3})


@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(min_value=1, max_value=40), min_size=1))
def test_a_mix_cycle_holds_every_kind_in_its_exact_share(weights: dict[str, int]) -> None:
    cycle = smooth_cycle({name: float(weight) for name, weight in weights.items()})
    counts = Counter(cycle)
    total = sum(weights.values())
    for name, weight in weights.items():
        assert counts[name] * total == weight * len(cycle)


def test_a_mix_cycle_interleaves_instead_of_bunching() -> None:
    cycle = smooth_cycle({"browse": 70, "search": 25, "login": 5})
    assert len(cycle) == 20
    assert "login" not in cycle[:5] or "login" not in cycle[-5:]
    assert max(len(run) for run in "".join(name[0] for name in cycle).split("s")) <= 4


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.integers(min_value=1, max_value=40), min_size=1),
    st.integers(min_value=1, max_value=64),
)
def test_every_kind_of_the_mix_leaves_from_every_source_in_turn(weights: dict[str, int], sources: int) -> None:
    cycle = smooth_cycle({name: float(weight) for name, weight in weights.items()})
    rotation = SourceRotation.of(cycle)
    sent: dict[str, list[int]] = {name: [] for name in cycle}
    for n in range(len(cycle) * sources):
        sent[cycle[n % len(cycle)]].append(rotation.source(n, sources))
    for name, used in sent.items():
        # Each source sends the kind equally often, and one after another, never twice running.
        assert Counter(used) == dict.fromkeys(range(sources), cycle.count(name))
        assert all(later == (earlier + 1) % sources for earlier, later in itertools.pairwise(used))


def test_the_reference_mix_no_longer_sends_every_login_from_one_source() -> None:
    cycle = smooth_cycle({"browse": 70, "search": 25, "login": 5})  # 20 long, like the 20 sources
    rotation = SourceRotation.of(cycle)
    logins = [rotation.source(n, 20) for n in range(200) if cycle[n % 20] == "login"]
    assert len(set(logins)) == 10  # in plain turn (n mod 20) all ten came from one source


def test_source_ranges_expand_and_bad_ones_are_refused() -> None:
    assert expand_sources("127.0.0.10-127.0.0.12, 127.0.0.20") == (
        "127.0.0.10",
        "127.0.0.11",
        "127.0.0.12",
        "127.0.0.20",
    )
    assert expand_sources(["::1"]) == ("::1",)
    assert expand_sources(None) == ()
    with pytest.raises(ValueError, match="address range"):
        expand_sources("127.0.0.20-127.0.0.10")
    with pytest.raises(ValueError):
        expand_sources("not-an-address")


def test_a_plan_survives_its_json() -> None:
    plan = LoadPlan(**{**PLAN.__dict__, "sources": ("127.0.0.2",), "headers": (("X-A", "b"),), "workers": 3})
    assert LoadPlan.from_json(plan.to_json()) == plan
    assert plan.requests == 1000


@settings(max_examples=40)
@given(st.lists(st.floats(min_value=1e-5, max_value=30.0), min_size=1, max_size=400), st.integers(1, 5))
def test_merged_worker_histograms_equal_the_histogram_of_all_samples(samples: list[float], workers: int) -> None:
    union = new_histogram()
    parts = [new_histogram() for _ in range(workers)]
    for index, sample in enumerate(samples):
        record_seconds(union, sample)
        record_seconds(parts[index % workers], sample)
    total = merged([encode(part) for part in parts])
    assert total.get_total_count() == len(samples)
    for percentile in (0, 50, 90, 95, 99, 99.9, 100):
        assert percentile_s(total, percentile) == percentile_s(union, percentile)


@settings(max_examples=40)
@given(st.lists(st.floats(min_value=1e-4, max_value=10.0), min_size=50, max_size=500))
def test_percentiles_are_within_a_tenth_of_a_percent_of_the_exact_ones(samples: list[float]) -> None:
    histogram = new_histogram()
    for sample in samples:
        record_seconds(histogram, sample)
    ordered = sorted(int(sample * 1_000_000) / 1_000_000 for sample in samples)
    for percentile in (50, 95, 99):
        # HdrHistogram's rank: the value of the round(p * n)-th sample (at least the first).
        exact = ordered[max(1, int(percentile * len(ordered) / 100 + 0.5)) - 1]
        assert percentile_s(histogram, percentile) == pytest.approx(exact, rel=1e-3, abs=2e-6)


def _records(latencies: list[float], counts: dict[str, int], workers: int = 1, **final: Any) -> list[dict[str, Any]]:
    records = []
    for worker in range(workers):
        histogram = new_histogram()
        for latency in latencies[worker::workers]:
            record_seconds(histogram, latency)
        records.append(
            {
                "type": "final",
                "worker": worker,
                "scheduled": len(latencies[worker::workers]),
                "counts": {name: value // workers for name, value in counts.items()},
                "statuses": {"200": counts.get("ok", 0) // workers},
                "kinds": {},
                "errors": {},
                "max_lag_s": 0.001,
                "cpu_s": final.get("cpu_s", 1.0),
                "wall_s": 10.0,
                "connections": 4,
                "histogram": encode(histogram),
            }
        )
    return records


def _result(latencies: list[float], **counts: int) -> LoadResult:
    return result_from_records(PLAN, _records(latencies, counts))


def test_latency_bounds_pass_below_and_fail_at_or_above() -> None:
    latencies = [0.010] * 950 + [0.300] * 50
    result = _result(latencies, ok=1000, ok_in_window=1000, sent=1000)
    met = result.latency_check(95, 0.2)
    assert (met.outcome, met.name, met.expected) == (Outcome.MET, "p95 below 200 ms", "below 200 ms")
    violated = result.latency_check(99, 0.2)
    assert violated.outcome is Outcome.NOT_MET and violated.observed.startswith("300.0 ms")
    assert "p99 latency: expected below 200 ms, observed 300.0 ms" in violated.explain()


def test_throughput_errors_and_throttling_are_judged_apart() -> None:
    result = _result([0.01] * 1000, ok=980, ok_in_window=950, errors=5, throttled=15, sent=1000)
    assert result.throughput_per_s == 95.0
    assert result.throughput_check(95).met
    assert "observed 95.0/s" in result.throughput_check(96).explain()
    assert result.error_share == pytest.approx(0.005)
    assert result.error_check(0.01).met
    assert "observed 0.500%" in result.error_check(0.001).explain()
    assert result.throttled_share == pytest.approx(0.015)
    assert "counted apart from errors" in result.throttled_check(0.0).explain()


def test_throttling_and_errors_are_split_by_request_kind_over_the_workers() -> None:
    records = _records([0.01] * 1000, {"ok": 940, "throttled": 40, "errors": 20, "sent": 1000}, workers=2)
    for record in records:  # each worker's half: login throttled, search with errors, one login never ended
        record["kinds"] = {"browse": 350, "search": 100, "login": 50}
        record["outcomes"] = {
            "browse": {"ok": 350},
            "search": {"ok": 91, "errors": 9},
            "login": {"ok": 29, "throttled": 20},
        }
    result = result_from_records(PLAN, records)
    assert [(row.kind, row.started, row.ok, row.throttled, row.errors) for row in result.per_kind] == [
        ("browse", 700, 700, 0, 0),
        ("login", 100, 58, 40, 2),
        ("search", 200, 182, 0, 18),
    ]
    throttled = result.throttled_check(0.01).explain()
    assert "by kind: login 40.0% (40 of 100), browse 0.0% (0 of 700), search 0.0% (0 of 200)" in throttled
    assert "by kind: search 9.0% (18 of 200), login 2.0% (2 of 100), browse 0.0%" in result.error_check(0.001).explain()


def test_throughput_above_the_offered_rate_is_not_judged_and_says_why() -> None:
    result = _result([0.01] * 1000, ok=1000, ok_in_window=1000, sent=1000)
    check = result.throughput_check(PLAN.rate_per_s + 1)
    assert check.outcome is Outcome.NOT_JUDGED
    assert check.observed == f"{PLAN.rate_per_s:g}/s offered is less than that"
    expect_no_problems(check)  # not judged is not a violation


def test_a_violated_check_fails_the_step_with_its_problems() -> None:
    result = _result([0.5] * 100, ok=100, ok_in_window=100, sent=100)
    with pytest.raises(AssertionError, match="p95 latency: expected below 200 ms"):
        expect_no_problems(result.latency_check(95, 0.2))


def test_the_self_check_refuses_a_verdict_when_the_generator_fell_behind() -> None:
    assert _result([0.01] * 1000, ok=1000, sent=1000, late=5).self_check_problem() is None
    late = _result([0.01] * 1000, ok=1000, sent=1000, late=50).self_check_problem()
    assert late is not None and "50 of 1000 requests (5.0%) started more than 10 ms after" in late
    held = _result([0.01] * 1000, ok=1000, held_back=1).self_check_problem()
    assert held is not None and "in-flight cap" in held
    busy = result_from_records(PLAN, _records([0.01] * 100, {"ok": 100}, cpu_s=9.5)).self_check_problem()
    assert busy is not None and "95% of a core" in busy


def test_a_missing_worker_makes_the_run_unverifiable() -> None:
    plan = LoadPlan(**{**PLAN.__dict__, "workers": 2})
    records = _records([random.random() for _ in range(100)], {"ok": 100}, workers=2)
    assert result_from_records(plan, records).self_check_problem() is None
    partial = result_from_records(plan, records[:1]).self_check_problem()
    assert partial is not None and "only 1 of 2 workers reported" in partial


def test_the_latency_histogram_has_a_bar_for_every_step_between_the_fastest_and_the_slowest() -> None:
    result = _result([0.0008] * 10 + [0.3] * 5, ok=15)
    bars = dict(result.bars)
    assert bars[1.0] == 10 and bars[500] == 5
    assert list(bars) == [1.0, 2.0, 5, 10, 20, 50, 100, 200, 500]
    assert sum(bars.values()) == 15


def test_warming_up_opens_the_connections_before_the_clock_starts_and_gives_up_on_a_closed_port() -> None:
    import socket

    from infragate.loadgen.connection import Pool

    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        port = server.getsockname()[1]
        pool = Pool(LoadPlan(base_url=f"http://127.0.0.1:{port}", rate_per_s=100, duration_s=1, mix={"get": 1}))
        pool.warm([None, "127.0.0.1"], 5, budget_s=5.0)
        assert pool.opened == 10 and {source: len(idle) for source, idle in pool.idle.items()} == {
            None: 5,
            "127.0.0.1": 5,
        }
        pool.take("127.0.0.1")  # an idle one: nothing new is opened
        assert pool.opened == 10 and len(pool.idle["127.0.0.1"]) == 4
        pool.close()
    closed = Pool(LoadPlan(base_url=f"http://127.0.0.1:{port}", rate_per_s=100, duration_s=1, mix={"get": 1}))
    closed.warm([None], 5, budget_s=5.0)  # the listener is gone: the schedule will try, and count the errors
    assert closed.opened == 0 and not closed.idle


def _closing_server(answer_first: bool) -> tuple[Any, int]:
    """A server that answers the first request of each connection (or none), keeps it open a moment
    as a kept-alive one, then lets it go (as a server's idle timeout does)."""
    import socket
    import threading
    import time

    server = socket.create_server(("127.0.0.1", 0), backlog=16)

    def serve() -> None:
        while True:
            try:
                peer, _ = server.accept()
            except OSError:
                return
            peer.recv(65536)
            if answer_first:
                peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.05)
            peer.close()

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def _pool(port: int) -> Any:
    from infragate.loadgen.connection import Pool

    return Pool(LoadPlan(base_url=f"http://127.0.0.1:{port}", rate_per_s=1, duration_s=1, mix={"get": 1}))


def test_a_kept_alive_connection_the_server_let_go_is_stale_and_an_old_idle_one_is_not_reused() -> None:
    import time

    from infragate.loadgen import connection as pooled

    server, port = _closing_server(answer_first=True)
    try:
        pool = _pool(port)
        first = pool.fresh(None)
        assert first.exchange(REQUEST, head_only=False) == 200
        time.sleep(0.2)  # the server has let it go
        with pytest.raises(pooled.Stale):
            first.exchange(REQUEST, head_only=False)
        old = pool.fresh(None)
        pool.give_back(None, old)
        old.idle_since -= pooled.IDLE_LIMIT_S + 1
        taken = pool.take(None)
        assert taken is not old and old.sock.fileno() == -1 and pool.opened == 3
        pool.close()
    finally:
        server.close()


def test_a_connection_closed_before_its_first_answer_is_an_error_not_stale() -> None:
    from infragate.loadgen import connection as pooled

    server, port = _closing_server(answer_first=False)
    try:
        with pytest.raises(pooled.Closed) as raised:
            _pool(port).fresh(None).exchange(REQUEST, head_only=False)
        assert raised.type is pooled.Closed
    finally:
        server.close()
