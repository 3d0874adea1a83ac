"""Courses towards a declared bound: a figure still within what its profile allows, whose line over
the recent runs passes the bound within the horizon, is flagged; flat, improving, unbounded or
already failing figures are not. Also a store of schema 1 is brought to 2 in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from infragate.cli import main
from infragate.history.figures import Figure
from infragate.history.gate import trend
from infragate.history.store import STORE_FILE, Point, Series, append, series
from infragate.history.trend import Crossing, crossing_of
from infragate.reports.records import RunRecord

DAY = 86400.0
START = 1_800_000_000.0


def _series(values: list[float], better: str = "lower", threshold: float | None = 200.0) -> Series:
    points = tuple(Point(START + day * DAY, value) for day, value in enumerate(values))
    return Series("load p95", "ms", better, points, threshold)  # type: ignore[arg-type]


def test_a_p95_creeping_towards_its_objective_is_flagged_before_it_crosses() -> None:
    # +5 ms a night from 140 ms: 185 ms today, 8.8 % over the median of the five before (no
    # regression at 10 %), and 220 ms a week from now, past the declared 200 ms.
    found = crossing_of(_series([140.0 + 5 * day for day in range(10)]), window=5, horizon_days=7)
    assert isinstance(found, Crossing)
    assert (found.latest, found.threshold, found.runs) == (185.0, 200.0, 6)
    assert found.per_day == pytest.approx(5.0) and found.projected == pytest.approx(220.0)
    assert found.line() == (
        "load p95: 185 ms in the newest run, within its declared 200 ms, but moving +5 ms a day over the last "
        "6 runs: 220 ms in 7 days, past the bound"
    )
    # A shorter horizon does not reach the bound: 185 + 5 * 2 = 195 ms.
    assert crossing_of(_series([140.0 + 5 * day for day in range(10)]), window=5, horizon_days=2) is None


@pytest.mark.parametrize(
    ("why", "figure"),
    [
        ("flat, far below", _series([150.0, 152.0, 149.0, 151.0, 150.0, 150.5])),
        ("improving", _series([190.0, 185.0, 180.0, 175.0, 170.0, 165.0])),
        ("no declared bound", _series([140.0 + 5 * day for day in range(10)], threshold=None)),
        ("already past: the scenario fails that run itself", _series([190.0, 195.0, 200.0, 205.0])),
        ("too few runs for a course", _series([180.0, 195.0])),
    ],
)
def test_no_crossing_is_flagged_when_the_course_stays_within_or_cannot_be_told(why: str, figure: Series) -> None:
    assert crossing_of(figure, window=5, horizon_days=7) is None, why


def test_a_certificate_running_out_is_flagged_by_its_days_left_against_the_least_declared() -> None:
    # Days left fall one a day; 36 today, 29 in a week, below the declared 30.
    days = _series([45.0 - day for day in range(10)], better="higher", threshold=30.0)
    found = crossing_of(days, window=5, horizon_days=7)
    assert found is not None and found.per_day == pytest.approx(-1.0) and found.projected == pytest.approx(29.0)
    assert crossing_of(_series([80.0 - day for day in range(10)], "higher", 30.0), 5, 7) is None


def _keep(folder: Path, day: int, p95: float) -> None:
    run = RunRecord("shop", "shop.yaml", START + day * DAY, START + day * DAY + 60, [])
    append(folder, run, [Figure("load p95", p95, "ms", "lower", 200.0)], folder / f"run-{day}")


def test_the_command_and_the_page_name_the_crossing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for day in range(10):
        _keep(tmp_path, day, 140.0 + 5 * day)
    with pytest.raises(SystemExit) as ended:
        main(["trend", "--history", str(tmp_path), "--fail-on-regression"])
    out = capsys.readouterr().out
    assert ended.value.code == 1, out
    assert "  crossing          load p95: 185 ms in the newest run, within its declared 200 ms" in out
    page = (tmp_path / "trend.html").read_text()
    assert "<h3>load p95 · crossing its bound</h3>" in page and "declared bound 200" in page
    assert "on course to pass it within 7 days (+5 a day)" in page  # the chart's caption and text alternative
    with pytest.raises(SystemExit) as ended:
        main(["trend", "--history", str(tmp_path), "--horizon", "2"])
    assert ended.value.code == 0 and "no figure regressed or is on course" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ended:
        main(["trend", "--history", str(tmp_path), "--horizon", "-1"])
    said = capsys.readouterr()
    assert ended.value.code == 3 and "trend: --horizon: expected days from 0 to 3650, got -1" in said.out + said.err


def test_a_store_of_schema_1_is_brought_to_2_and_keeps_its_runs(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / STORE_FILE) as connection:
        connection.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, target TEXT NOT NULL, started_at REAL NOT NULL,"
            " exit_code INTEGER NOT NULL, reports TEXT NOT NULL);"
            "CREATE TABLE figures (run INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, value REAL NOT NULL,"
            " unit TEXT NOT NULL, better TEXT NOT NULL CHECK (better IN ('lower', 'higher')));"
            f"INSERT INTO runs VALUES (1, 'shop', {START}, 0, 'run-old');"
            "INSERT INTO figures VALUES (1, 'load p95', 130.0, 'ms', 'lower');"
        )
    _keep(tmp_path, 1, 135.0)
    (kept,) = series(tmp_path, "shop")
    assert [point.value for point in kept.points] == [130.0, 135.0] and kept.threshold == 200.0
    with sqlite3.connect(tmp_path / STORE_FILE) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("2",)
    assert trend(tmp_path).regressions == ()
