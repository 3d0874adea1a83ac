"""Continuous WAL archiving: the part of a backup setup that holds a recovery point of minutes.

A base backup a day cannot keep an RPO of 15 minutes; the WAL archived between backups can, if
four things hold: archiving is switched on with somewhere to send the WAL, a segment is closed
and archived at least once per RPO even on a quiet database (``archive_timeout``), the archiver
is not failing or falling behind, and what the server counts as archived is really in the
repository (``archive_command = 'true'`` makes the server count everything and keep nothing).

All of it is read, never written: ``pg_stat_archiver``, the settings and the archive status
folder (``pg_ls_archive_statusdir()``, which needs ``pg_monitor``) on the primary, and
``pgbackrest info`` for the repository. Ages are taken on the server's clock.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from infragate.errors import ProbeError
from infragate.probes.backup.postgres import Dsn, query
from infragate.probes.backup.sources import PgBackRestSource
from infragate.profile.model import Profile
from infragate.profile.storage import PostgresBackups, WalArchive
from infragate.retry import poll_until
from infragate.verdicts import Check

SEGMENT = re.compile(r"^[0-9A-F]{24}")  # timeline, log and segment: what a WAL file name starts with
REPOSITORY_WAIT_S = 10.0  # asynchronous archiving may report a segment archived a moment before it lands
MIN_SERVER_VERSION = 120000  # pg_ls_archive_statusdir() came with PostgreSQL 12

_STATE_SQL = """
SELECT current_setting('server_version_num'),
       pg_is_in_recovery(),
       current_setting('archive_mode'),
       current_setting('archive_command') NOT IN ('', '(disabled)'),
       coalesce(current_setting('archive_library', true), ''),
       (SELECT setting FROM pg_settings WHERE name = 'archive_timeout'),
       a.archived_count,
       coalesce(a.last_archived_wal, ''),
       coalesce(to_char(a.last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ''),
       a.failed_count,
       coalesce(a.last_failed_wal, ''),
       coalesce(to_char(a.last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ''),
       coalesce(a.last_failed_time > a.last_archived_time OR (a.last_failed_time IS NOT NULL
                AND a.last_archived_time IS NULL), false),
       to_char(coalesce(a.stats_reset, pg_postmaster_start_time()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM pg_stat_archiver a
"""
_WAITING_SQL = """
SELECT count(*), coalesce(min(name), ''), coalesce(extract(epoch FROM now() - min(modification)), 0)
FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'
"""


def _human(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


@dataclass(frozen=True)
class WalArchiveState:
    """What the primary says about its WAL archiving, and what the repository holds."""

    server: str
    rpo_s: float
    archive_mode: str
    has_command: bool
    archive_library: str
    archive_timeout_s: float
    archived_count: int
    last_archived_wal: str
    last_archived_at: str
    failed_count: int
    last_failed_wal: str
    last_failed_at: str
    failing: bool
    counted_since: str
    waiting: int
    oldest_waiting: str
    oldest_waiting_age_s: float
    repository: str | None = None
    repository_newest: str | None = None

    def archiving_check(self) -> Check:
        """WAL reaches an archive at all."""
        how = "an archive_command" if self.has_command else "an archive_library" if self.archive_library else "neither"
        observed = f"{self.server}: archive_mode {self.archive_mode}, {how}"
        expected = "archive_mode on with an archive_command or archive_library"
        return Check.judged("WAL archived", expected, observed, self._archiving_problem())

    def switch_check(self) -> Check:
        """A change waits at most the RPO before its segment is closed for archiving."""
        timeout = _human(self.archive_timeout_s) if self.archive_timeout_s > 0 else "0 (off)"
        expected = f"archive_timeout at most the RPO of {_human(self.rpo_s)}"
        observed = f"{self.server}: archive_timeout {timeout}"
        return Check.judged("segment switch", expected, observed, self._switch_problem())

    def failure_check(self) -> Check:
        """The archiver's most recent attempt succeeded."""
        observed = f"{self.server}: {self.failed_count} failures since {self.counted_since}" + (
            f", last success {self.last_archived_wal} at {self.last_archived_at}" if self.last_archived_at else ""
        )
        return Check.judged(
            "archiver succeeding", "the archiver's last attempt to succeed", observed, self._failure_problem()
        )

    def backlog_check(self) -> Check:
        """No WAL waits for the archive longer than the RPO allows."""
        observed = f"{self.server}: {self.waiting} WAL segment(s) waiting" + (
            f", the oldest for {_human(self.oldest_waiting_age_s)}" if self.waiting else ""
        )
        expected = f"no change waiting for the archive longer than the RPO of {_human(self.rpo_s)}"
        return Check.judged("archive backlog", expected, observed, self._backlog_problem())

    def repository_check(self) -> Check:
        """The repository holds the WAL the server counts as archived (met when none is declared)."""
        observed = f"{self.repository or 'no repository declared'}: newest {self.repository_newest or 'none'}"
        expected = f"the WAL {self.server} reports archived ({self.last_archived_wal or 'none yet'})"
        return Check.judged("WAL in the repository", expected, observed, self._repository_problem())

    def _archiving_problem(self) -> str | None:
        """Why no WAL reaches an archive at all, or None."""
        if self.archive_mode == "off":
            return f"{self.server}: expected archive_mode on, observed off: no WAL reaches any archive"
        if not self.has_command and not self.archive_library:
            return (
                f"{self.server}: expected an archive_command or archive_library, observed neither: "
                "WAL piles up in pg_wal and reaches no archive"
            )
        return None

    def _switch_problem(self) -> str | None:
        """Why a change may wait longer than the RPO before its segment is closed for archiving, or None."""
        rpo = _human(self.rpo_s)
        if self.archive_timeout_s <= 0:
            return (
                f"{self.server}: expected archive_timeout at most the RPO of {rpo}, observed 0 (off): on a quiet "
                "database a change waits in its WAL segment until the segment fills, which may take hours"
            )
        if self.archive_timeout_s > self.rpo_s:
            return (
                f"{self.server}: expected archive_timeout at most the RPO of {rpo}, observed "
                f"{_human(self.archive_timeout_s)}: a change may wait that long before its segment is archived"
            )
        return None

    def _failure_problem(self) -> str | None:
        """Why the archiver's most recent attempt failed, or None."""
        if not self.failing:
            return None
        success = (
            f"the last success was {self.last_archived_wal} at {self.last_archived_at}"
            if self.last_archived_at
            else f"nothing was archived since {self.counted_since}"
        )
        return (
            f"{self.server}: expected the archiver's last attempt to succeed, observed {self.last_failed_wal} failing "
            f"at {self.last_failed_at} ({self.failed_count} failures since {self.counted_since}); {success}"
        )

    def _backlog_problem(self) -> str | None:
        """Why the WAL waiting for the archive is older than the RPO allows, or None.

        A segment waiting since t holds changes from up to archive_timeout before t: they are at risk
        for the wait plus that.
        """
        if not self.waiting:
            return None
        at_risk = self.oldest_waiting_age_s + max(self.archive_timeout_s, 0.0)
        if at_risk <= self.rpo_s:
            return None
        return (
            f"{self.server}: expected no change to wait for the archive longer than the RPO of {_human(self.rpo_s)}, "
            f"observed {self.waiting} WAL segment(s) waiting, the oldest ({self.oldest_waiting}) for "
            f"{_human(self.oldest_waiting_age_s)}, with changes up to {_human(at_risk)} old"
        )

    def _repository_problem(self) -> str | None:
        """Why the repository lacks WAL the server counts as archived, or None (also when none is declared)."""
        if self.repository is None:
            return None
        claimed = SEGMENT.match(self.last_archived_wal)
        if claimed is None:
            return None  # nothing archived yet, or a timeline history file: no segment to look for
        if self.repository_newest is None:
            return (
                f"{self.repository}: expected the WAL {self.server} reports archived, observed no WAL at all in the "
                f"repository, while the server counts {self.archived_count} files archived, the newest "
                f"{self.last_archived_wal} at {self.last_archived_at}"
            )
        if claimed.group(0) > self.repository_newest:
            return (
                f"{self.repository}: expected the WAL {self.server} reports archived, observed the repository's "
                f"newest segment {self.repository_newest} behind the server's {self.last_archived_wal} (archived at "
                f"{self.last_archived_at}): the archive command reports success for WAL it does not keep"
            )
        return None


def _server_state(dsn: Dsn, rpo_s: float) -> WalArchiveState:
    ((version, standby, mode, command, library, timeout, *archiver, since),) = query(dsn, _STATE_SQL)
    if int(version) < MIN_SERVER_VERSION:
        raise ProbeError(f"{dsn.where()} runs PostgreSQL {version}; reading the archive status needs 12 or later")
    if standby == "t" and mode != "always":
        raise ProbeError(f"{dsn.where()} is a standby, which does not archive (archive_mode {mode}): use the primary")
    archived, last_wal, last_at, failed, failed_wal, failed_at, failing = archiver
    waiting, oldest, oldest_age = _waiting(dsn)
    return WalArchiveState(
        server=dsn.where(),
        rpo_s=rpo_s,
        archive_mode=mode,
        has_command=command == "t",
        archive_library=library,
        archive_timeout_s=float(timeout),
        archived_count=int(archived),
        last_archived_wal=last_wal,
        last_archived_at=last_at,
        failed_count=int(failed),
        last_failed_wal=failed_wal,
        last_failed_at=failed_at,
        failing=failing == "t",
        counted_since=since,
        waiting=int(waiting),
        oldest_waiting=oldest.removesuffix(".ready"),
        oldest_waiting_age_s=float(oldest_age),
    )


def _waiting(dsn: Dsn) -> list[str]:
    try:
        ((*waiting,),) = query(dsn, _WAITING_SQL)
    except ProbeError as exc:
        if "permission denied" in str(exc):
            raise ProbeError(
                f"{exc}: the role {dsn.user} may not read the archive status (GRANT pg_monitor TO {dsn.user})"
            ) from None
        raise
    return waiting


def repository_newest(config: PostgresBackups) -> str | None:
    """The newest WAL segment in a pgBackRest repository (over every database id), or None."""
    archives: list[dict[str, Any]] = PgBackRestSource(config).info().get("archive", [])
    newest = [entry["max"] for entry in archives if entry.get("max")]
    return max(newest) if newest else None


def _dsn(profile: Profile, wal: WalArchive) -> Dsn:
    secret = wal.dsn or (profile.datastores.postgres.dsn if profile.datastores.postgres else None)
    if secret is None:  # the loader refuses such a profile; a profile built in code may still lack it
        raise ProbeError("backups.wal_archive names no database (dsn, or datastores.postgres.dsn)")
    return Dsn.parse(secret.get_secret_value())


def read_wal_archive(profile: Profile) -> WalArchiveState:
    """The primary's archiving, read in one go, then the repository (which can only have gained since)."""
    wal = profile.backups.wal_archive if profile.backups else None
    if profile.backups is None or wal is None:
        raise ProbeError("the profile declares no backups.wal_archive section")
    state = _server_state(_dsn(profile, wal), wal.rpo)
    repository = profile.backups.wal_repository()
    if repository is None:
        return state
    # The archiver may be a segment or two behind the primary's report: give it a moment.
    return poll_until(
        lambda: dataclasses.replace(
            state, repository=repository.label, repository_newest=repository_newest(repository)
        ),
        lambda checked: checked.repository_check().met,
        REPOSITORY_WAIT_S,
        1.0,
    ).value
