"""Run history: figures read from run records, kept in the SQLite store, judged for regressions over
ten runs (with a planted drift and without), and the trend page with a chart per figure."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from infragate.cli import main
from infragate.errors import UsageError
from infragate.history.figures import figures_of
from infragate.history.gate import keep_run, trend
from infragate.history.store import STORE_FILE, series
from infragate.history.trend import Regression
from infragate.loadgen.histogram import encode, new_histogram, record_seconds
from infragate.reports.records import RunRecord, StepRecord
from infragate.verdicts import Verdict
from tests.unit.run_records import PLANNED, scenario_record


def _run(day: int, p95_ms: float, restore_s: float, rng: random.Random) -> RunRecord:
    """A nightly run: a load test whose latencies centre on p95_ms, a restore drill, a certificate."""
    histogram = new_histogram()
    for _ in range(2000):
        record_seconds(histogram, rng.uniform(0.2, 1.0) * p95_ms / 1000 / 0.96)
    load = {
        "histogram_text": encode(histogram),
        "scheduled": 2000,
        "counts": {"ok_in_window": 2000, "errors": 0},
        "plan": {"duration_s": 10.0},
        "objectives": {"p95": 0.2},
    }
    drill = {"restore_ok": True, "restore_s": restore_s, "rto_s": 3600.0}
    certificate = {"url": "https://shop.example.test", "days_left": 80.0 - day, "min_days_valid": 30.0}
    passed = [StepRecord(f"{s['keyword']} {s['name']}", "passed", 0.5) for s in PLANNED]
    scenario = scenario_record("Nightly", Verdict.CONFORMANT, passed)
    scenario.evidence = [
        {"type": "LoadResult", "data": load},
        {"type": "DrillResult", "data": drill},
        {"type": "CertificateReport", "data": certificate},
        {"type": "RouteExchanges", "data": {"exchanges": []}},  # no figure of its own
    ]
    return RunRecord("shop", "shop.yaml", 1_800_000_000.0 + day * 86400, 1_800_000_060.0 + day * 86400, [scenario])


def _history(folder: Path, drift: bool) -> None:
    rng = random.Random(7)
    for day in range(10):
        p95 = 120.0 * (1.3 if drift and day == 9 else 1.0) * rng.uniform(0.98, 1.02)
        keep_run(folder, _run(day, p95, 40.0 * rng.uniform(0.95, 1.05), rng), folder / f"run-{day}")


def test_a_run_gives_its_figures() -> None:
    figures = {figure.name: figure for figure in figures_of(_run(0, 120.0, 40.0, random.Random(1)))}
    assert set(figures) == {
        "scenarios conformant",
        "scenarios non-conformant",
        "scenarios could not verify",
        "load p50",
        "load p95",
        "load p99",
        "load throughput",
        "load error ratio",
        "restore time",
        "certificate days left https://shop.example.test",
    }
    assert 110 < figures["load p95"].value < 130 and figures["load p95"].better == "lower"
    assert (figures["load throughput"].value, figures["load throughput"].better) == (200.0, "higher")
    # The declared bounds come along: the p95 objective in ms, the RTO, the least days left; none for p50.
    assert figures["load p95"].threshold == 200.0 and figures["load p50"].threshold is None
    assert figures["restore time"].threshold == 3600.0
    assert figures["certificate days left https://shop.example.test"].threshold == 30.0


def test_ten_runs_with_a_planted_drift_flag_it_and_only_it(tmp_path: Path) -> None:
    _history(tmp_path, drift=True)
    found = trend(tmp_path)
    # Every request slower by 30 %: each latency percentile regressed, nothing else did.
    assert [regression.name for regression in found.regressions] == ["load p50", "load p95", "load p99"]
    regression = found.regressions[1]
    assert isinstance(regression, Regression)
    assert regression.runs == 5 and regression.latest > regression.median * 1.2
    assert regression.line().startswith("load p95: ") and "the median of the 5 runs before it" in regression.line()


def test_ten_runs_without_drift_flag_nothing(tmp_path: Path) -> None:
    _history(tmp_path, drift=False)
    found = trend(tmp_path)
    assert found.regressions == ()
    by_name = {entry.name: entry for entry in found.series}
    assert len(by_name["load p95"].points) == 10
    days = [point.value for point in by_name["certificate days left https://shop.example.test"].points]
    assert days == [80.0 - day for day in range(10)]  # oldest first


def test_the_trend_page_has_a_chart_with_axes_per_figure_and_marks_the_regression(tmp_path: Path) -> None:
    _history(tmp_path, drift=True)
    page = trend(tmp_path).page.read_text()
    assert page.count('<svg class="chart"') == 10
    assert page.count("run (oldest left, 10 runs)") == 10  # the x axis, labelled
    assert "<h3>load p95 · regression</h3>" in page and "stroke: #c62828" in page  # its red marks
    assert "<h2>Regressions (3)</h2>" in page


def test_the_command_writes_the_page_and_fails_on_a_regression_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(tmp_path, drift=True)
    with pytest.raises(SystemExit) as ended:
        main(["trend", "--history", str(tmp_path), "--fail-on-regression"])
    out = capsys.readouterr().out
    assert ended.value.code == 1, out
    assert f"infragate: trend of 'shop': 10 figures over 10 runs; page {tmp_path / 'trend.html'}" in out
    assert "  regression        load p95: " in out
    with pytest.raises(SystemExit) as ended:
        main(["trend", "--history", str(tmp_path), "--tolerance", "50"])
    assert ended.value.code == 0 and "no figure regressed" in capsys.readouterr().out


def test_a_store_of_another_schema_or_no_store_is_one_clear_error(tmp_path: Path) -> None:
    _history(tmp_path, drift=False)
    with pytest.raises(UsageError, match="has no run of target 'bank'"):
        trend(tmp_path, "bank")
    with pytest.raises(UsageError, match=r"no history in .*empty"):
        trend(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()  # looking made nothing
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is not a folder"):
        series(tmp_path / "file", "shop")
    with sqlite3.connect(tmp_path / STORE_FILE) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(UsageError, match="has schema 99; this infragate reads 2"):
        series(tmp_path, "shop")
