"""The history store: one SQLite file in a folder the user names, a row per run and a row per figure
of it. Runs append; nothing is rewritten. The schema carries its version; a store of schema 1
(before figures kept their declared bound) is brought to 2 by adding the column, empty for old runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from infragate.errors import UsageError
from infragate.history.figures import Better, Figure
from infragate.reports.records import RunRecord

STORE_FILE = "history.sqlite"
SCHEMA = 2
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, target TEXT NOT NULL, started_at REAL NOT NULL, exit_code INTEGER NOT NULL,
    reports TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS figures (
    run INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,
    better TEXT NOT NULL CHECK (better IN ('lower', 'higher')), threshold REAL
);
CREATE INDEX IF NOT EXISTS figures_by_name ON figures (name);
"""


@dataclass(frozen=True)
class Point:
    """A figure's value in one run."""

    started_at: float
    value: float


@dataclass(frozen=True)
class Series:
    """One figure of one target over its runs, oldest first, with the bound the newest run declared."""

    name: str
    unit: str
    better: Better
    points: tuple[Point, ...]
    threshold: float | None = None


def _open(folder: Path) -> sqlite3.Connection:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--history: {folder} is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(folder / STORE_FILE, timeout=30)
    try:
        connection.executescript(_TABLES)
        found = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if found is None:
            connection.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
        elif found[0] == "1":
            with connection:
                connection.execute("ALTER TABLE figures ADD COLUMN threshold REAL")
                connection.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA),))
        elif found[0] != str(SCHEMA):
            raise UsageError(f"--history: {folder / STORE_FILE} has schema {found[0]}; this infragate reads {SCHEMA}")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise UsageError(f"--history: {folder / STORE_FILE} is not a history store ({exc})") from None
    return connection


def append(folder: Path, run: RunRecord, figures: Sequence[Figure], reports: Path) -> None:
    """Keep a run and its figures."""
    with closing(_open(folder)) as connection, connection:
        cursor = connection.execute(
            "INSERT INTO runs (target, started_at, exit_code, reports) VALUES (?, ?, ?, ?)",
            (run.target, run.started_at, run.exit_code, str(reports)),
        )
        connection.executemany(
            "INSERT INTO figures (run, name, value, unit, better, threshold) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (cursor.lastrowid, figure.name, figure.value, figure.unit, figure.better, figure.threshold)
                for figure in figures
            ],
        )


def targets(folder: Path) -> list[str]:
    """The targets the store has runs of."""
    with closing(_open(folder)) as connection:
        return [row[0] for row in connection.execute("SELECT DISTINCT target FROM runs ORDER BY target")]


def series(folder: Path, target: str) -> list[Series]:
    """Every figure of a target over its runs, oldest first, by name."""
    with closing(_open(folder)) as connection:
        rows = connection.execute(
            "SELECT f.name, f.unit, f.better, r.started_at, f.value, f.threshold FROM figures f "
            "JOIN runs r ON f.run = r.id WHERE r.target = ? ORDER BY f.name, r.started_at, r.id",
            (target,),
        ).fetchall()
    found: dict[str, tuple[str, Better, list[Point]]] = {}
    bounds: dict[str, float | None] = {}
    for name, unit, better, started_at, value, threshold in rows:
        found.setdefault(name, (unit, better, []))[2].append(Point(started_at, value))
        bounds[name] = threshold  # the newest run's bound: the profile may have changed it
    return [Series(name, unit, better, tuple(points), bounds[name]) for name, (unit, better, points) in found.items()]
