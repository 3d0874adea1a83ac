"""The catalogue of a backup set: every backup found, judged for freshness, schedule and retention."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from infragate.errors import ProbeError
from infragate.probes.backup.sources import source_of
from infragate.profile.model import Profile
from infragate.profile.storage import PostgresBackups
from infragate.verdicts import Check

PRUNE_SLACK = 1.0  # a job prunes when it runs: a backup may outlive the retention by one schedule period
GAP_TOLERANCE = 1.5  # a run may be late: a gap up to 1.5 schedule periods is not yet a missed one


def _human(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.1f}m" if seconds >= 60 else f"{seconds:.1f}s"


def backup_sets(profile: Profile) -> tuple[PostgresBackups, ...]:
    """The profile's PostgreSQL backup sets."""
    if profile.backups is None or not profile.backups.postgres:
        raise ProbeError("the profile declares no backups.postgres section")
    return profile.backups.postgres


@dataclass(frozen=True)
class BackupCatalogue:
    """Every backup found, newest first, with what was declared about them."""

    location: str
    taken: tuple[str, ...]
    now: str
    schedule_s: float
    rpo_s: float
    retention_s: float

    def _times(self) -> list[datetime.datetime]:
        return [datetime.datetime.fromisoformat(when) for when in self.taken]

    def freshness_check(self) -> Check:
        """The newest backup is younger than the RPO."""
        expected = f"{self.location}: the newest backup younger than the RPO of {_human(self.rpo_s)}"
        return Check.judged("backup freshness", expected, self._newest(), self._freshness_problem())

    def schedule_check(self) -> Check:
        """A backup for every scheduled period inside the retention window."""
        expected = f"{self.location}: a backup every {_human(self.schedule_s)} for {_human(self.retention_s)}"
        observed = f"{len(self.taken)} backups, {self._newest()}"
        return Check.judged("backup schedule", expected, observed, self._schedule_problems())

    def retention_check(self) -> Check:
        """No backup kept beyond the retention (plus one schedule period)."""
        expected = f"{self.location}: no backup older than the retention of {_human(self.retention_s)}"
        observed = f"the oldest from {self.taken[-1]}" if self.taken else "no backup"
        return Check.judged("backup retention", expected, observed, self._retention_problem())

    def _newest_age_s(self) -> float | None:
        if not self.taken:
            return None
        return (datetime.datetime.fromisoformat(self.now) - self._times()[0]).total_seconds()

    def _newest(self) -> str:
        age = self._newest_age_s()
        return "no backup" if age is None else f"the newest {_human(age)} old ({self.taken[0]})"

    def _freshness_problem(self) -> str | None:
        """Why the newest backup is older than the RPO, or None."""
        age = self._newest_age_s()
        if age is None:
            return f"{self.location}: expected a backup younger than {_human(self.rpo_s)}, observed none at all"
        if age > self.rpo_s:
            return (
                f"{self.location}: expected the newest backup younger than the RPO of {_human(self.rpo_s)}, "
                f"observed {_human(age)} old ({self.taken[0]})"
            )
        return None

    def _schedule_problems(self) -> list[str]:
        """Gaps longer than the schedule allows, inside the retention window."""
        times, now = self._times(), datetime.datetime.fromisoformat(self.now)
        window = [when for when in times if (now - when).total_seconds() <= self.retention_s]
        problems = []
        for newer, older in itertools.pairwise(window):
            gap = (newer - older).total_seconds()
            if gap > GAP_TOLERANCE * self.schedule_s:
                problems.append(
                    f"{self.location}: expected a backup every {_human(self.schedule_s)} inside the retention "
                    f"window, observed a gap of {_human(gap)} between {older.isoformat()} and {newer.isoformat()}"
                )
        if not window:
            problems.append(
                f"{self.location}: expected backups inside the retention window of {_human(self.retention_s)}, "
                "observed none"
            )
        return problems

    def _retention_problem(self) -> str | None:
        """Backups kept beyond the retention, or None."""
        now = datetime.datetime.fromisoformat(self.now)
        limit = self.retention_s + PRUNE_SLACK * self.schedule_s
        old = [when for when in self._times() if (now - when).total_seconds() > limit]
        if old:
            return (
                f"{self.location}: expected no backup older than the retention of {_human(self.retention_s)} "
                f"(plus one schedule period), observed {len(old)}, the oldest from {old[-1].isoformat()}"
            )
        return None


def list_backups(profile: Profile) -> tuple[BackupCatalogue, ...]:
    """The backups of every declared set, newest first."""
    catalogues = []
    for config in backup_sets(profile):
        listing = source_of(config).listing()
        now = datetime.datetime.now(datetime.UTC)
        catalogues.append(
            BackupCatalogue(
                config.label,
                tuple(item.taken.isoformat() for item in listing),
                now.isoformat(),
                config.schedule,
                config.rpo,
                config.retention,
            )
        )
    return tuple(catalogues)
