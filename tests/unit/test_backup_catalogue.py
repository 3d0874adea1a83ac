"""Freshness, schedule and retention verdicts over a catalogue of backup times."""

from __future__ import annotations

import datetime

from infragate.probes.backup.catalogue import BackupCatalogue

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
HOUR = 3600.0


def _catalogue(*hours_ago: float) -> BackupCatalogue:
    taken = tuple((NOW - datetime.timedelta(hours=hours)).isoformat() for hours in sorted(hours_ago))
    return BackupCatalogue(
        "/backups", taken, NOW.isoformat(), schedule_s=6 * HOUR, rpo_s=6.5 * HOUR, retention_s=48 * HOUR
    )


def test_a_regular_history_passes_every_check() -> None:
    catalogue = _catalogue(*(1 + 6 * slot for slot in range(8)))
    assert catalogue.freshness_check().met
    assert catalogue.schedule_check().met
    assert catalogue.retention_check().met


def test_a_stale_newest_backup_breaks_the_rpo() -> None:
    problem = _catalogue(8, 14, 20).freshness_check().problem
    assert problem is not None and "observed 8.0h old" in problem


def test_no_backup_at_all_is_named() -> None:
    assert (
        _catalogue().freshness_check().problem == "/backups: expected a backup younger than 6.5h, observed none at all"
    )


def test_a_missed_run_is_a_gap() -> None:
    (problem,) = list(_catalogue(1, 7, 19, 25).schedule_check().problems)
    assert "observed a gap of 12.0h" in problem


def test_a_late_run_within_tolerance_is_not_a_gap() -> None:
    assert _catalogue(1, 9, 15).schedule_check().met


def test_backups_beyond_retention_and_one_period_are_findings() -> None:
    assert _catalogue(1, 50).retention_check().problem is None  # within one schedule period of the retention
    problem = _catalogue(1, 55, 60).retention_check().problem
    assert problem is not None and "observed 2" in problem
