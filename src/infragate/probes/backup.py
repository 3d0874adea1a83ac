"""Backup probes: the catalogue of backups, their integrity, a restore drill, Redis persistence.

A restore drill restores the newest backup into the scratch database (never the source: the
profile loader refuses that), compares what came back with the record taken when the backup was
made, and drops the scratch database whatever happens. Its creation is journalled first, so a
killed run's scratch database is dropped by ``infragate recover``.
"""

from __future__ import annotations

import datetime
import itertools
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from infragate.backup_format import Manifest, TableRecord, parse_folder_name, sha256_of
from infragate.errors import ProbeError
from infragate.journal import Journal, Undo
from infragate.postgres import Dsn, query, run, table_records
from infragate.profile.model import PostgresBackups, Profile

DROP_SCRATCH = "drop_scratch_database"
PRUNE_SLACK = 1.0  # a job prunes when it runs: a backup may outlive the retention by one schedule period
GAP_TOLERANCE = 1.5  # a run may be late: a gap up to 1.5 schedule periods is not yet a missed one


def _human(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.1f}m" if seconds >= 60 else f"{seconds:.1f}s"


def postgres_backups(profile: Profile) -> PostgresBackups:
    """The profile's PostgreSQL backup section."""
    if profile.backups is None or profile.backups.postgres is None:
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

    def freshness_problem(self) -> str | None:
        """Why the newest backup is older than the RPO, or None."""
        times, now = self._times(), datetime.datetime.fromisoformat(self.now)
        if not times:
            return f"expected a backup younger than {_human(self.rpo_s)} in {self.location}, observed none at all"
        age = (now - times[0]).total_seconds()
        if age > self.rpo_s:
            return (
                f"expected the newest backup younger than the RPO of {_human(self.rpo_s)}, observed "
                f"{_human(age)} old ({self.taken[0]})"
            )
        return None

    def schedule_problems(self) -> list[str]:
        """Gaps longer than the schedule allows, inside the retention window."""
        times, now = self._times(), datetime.datetime.fromisoformat(self.now)
        window = [when for when in times if (now - when).total_seconds() <= self.retention_s]
        problems = []
        for newer, older in itertools.pairwise(window):
            gap = (newer - older).total_seconds()
            if gap > GAP_TOLERANCE * self.schedule_s:
                problems.append(
                    f"expected a backup every {_human(self.schedule_s)} inside the retention window, "
                    f"observed a gap of {_human(gap)} between {older.isoformat()} and {newer.isoformat()}"
                )
        if not window:
            problems.append(
                f"expected backups inside the retention window of {_human(self.retention_s)}, observed none"
            )
        return problems

    def retention_problem(self) -> str | None:
        """Backups kept beyond the retention, or None."""
        now = datetime.datetime.fromisoformat(self.now)
        limit = self.retention_s + PRUNE_SLACK * self.schedule_s
        old = [when for when in self._times() if (now - when).total_seconds() > limit]
        if old:
            return (
                f"expected no backup older than the retention of {_human(self.retention_s)} (plus one schedule "
                f"period), observed {len(old)}, the oldest from {old[-1].isoformat()}"
            )
        return None


def _folders(config: PostgresBackups) -> list[tuple[datetime.datetime, Path]]:
    try:
        entries = list(config.location.iterdir())
    except OSError as exc:
        raise ProbeError(f"could not list the backups in {config.location}: {exc.strerror}") from None
    found = [(when, entry) for entry in entries if entry.is_dir() and (when := parse_folder_name(entry.name))]
    return sorted(found, reverse=True)


def list_backups(profile: Profile) -> BackupCatalogue:
    """The backups in the declared location, newest first."""
    config = postgres_backups(profile)
    now = datetime.datetime.now(datetime.UTC)
    return BackupCatalogue(
        str(config.location),
        tuple(when.isoformat() for when, _ in _folders(config)),
        now.isoformat(),
        config.schedule,
        config.rpo,
        config.retention,
    )


@dataclass(frozen=True)
class BackupCheck:
    """One backup's integrity: manifest, checksum, table of contents, full read."""

    backup: str
    problems: tuple[str, ...]


def check_integrity(profile: Profile) -> tuple[BackupCheck, ...]:
    """Check every backup inside the retention window."""
    config = postgres_backups(profile)
    now = datetime.datetime.now(datetime.UTC)
    checks = []
    scratch = Dsn.parse(config.scratch_dsn.get_secret_value())
    for when, folder in _folders(config):
        if (now - when).total_seconds() > config.retention:
            continue
        problems = []
        try:
            manifest = Manifest.read(folder)
        except (OSError, ValueError, TypeError) as exc:
            checks.append(BackupCheck(folder.name, (f"backup {folder.name}: no readable manifest ({exc})",)))
            continue
        dump = folder / manifest.dump
        if not dump.exists():
            problems.append(f"backup {folder.name}: the dump {manifest.dump} is missing")
        else:
            digest = sha256_of(dump)
            if digest != manifest.sha256:
                problems.append(
                    f"backup {folder.name}: expected SHA-256 {manifest.sha256[:12]}..., observed {digest[:12]}..."
                )
            listing = run("pg_restore", scratch, ["--list", str(dump)])
            if listing.returncode != 0:
                problems.append(
                    f"backup {folder.name}: its table of contents cannot be listed ({listing.stderr.strip()[-160:]})"
                )
            read = run("pg_restore", scratch, ["-f", "/dev/null", str(dump)])
            if read.returncode != 0:
                problems.append(
                    f"backup {folder.name}: the archive cannot be read to its end ({read.stderr.strip()[-160:]})"
                )
        checks.append(BackupCheck(folder.name, tuple(problems)))
    return tuple(checks)


@dataclass(frozen=True)
class DrillResult:
    """A restore of the newest backup into the scratch database, compared with its record."""

    backup: str
    scratch: str
    restore_ok: bool
    restore_error: str
    restore_s: float
    rto_s: float
    expected: dict[str, TableRecord]
    restored: dict[str, TableRecord]
    scratch_dropped: bool

    def rto_problem(self) -> str | None:
        """Why the restore failed or was too slow, or None."""
        if not self.restore_ok:
            return f"expected backup {self.backup} to restore, observed: {self.restore_error}"
        if self.restore_s > self.rto_s:
            return (
                f"expected backup {self.backup} restored within the RTO of {_human(self.rto_s)}, observed "
                f"{self.restore_s:.1f} s"
            )
        return None

    def data_problems(self) -> list[str]:
        """Tables that came back different from the record taken when the backup was made."""
        problems = []
        for table, record in sorted(self.expected.items()):
            got = self.restored.get(table)
            if got is None:
                problems.append(
                    f"expected table {table} ({record.rows} rows) in the restored backup {self.backup}, "
                    f"observed it missing"
                )
            elif got != record:
                problems.append(
                    f"expected table {table} restored as recorded ({record.rows} rows, checksum "
                    f"{record.checksum[:10]}), observed {got.rows} rows, checksum {got.checksum[:10]}"
                )
        return problems


def drop_scratch(profile: Profile) -> str:
    """Drop the scratch database if it exists, and verify that it is gone."""
    scratch = Dsn.parse(postgres_backups(profile).scratch_dsn.get_secret_value())
    maintenance = scratch.on("postgres")
    query(maintenance, f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
    left = query(maintenance, f"SELECT 1 FROM pg_database WHERE datname = '{scratch.database}'")
    if left:
        raise ProbeError(f"scratch database {scratch.where()} is still there after DROP DATABASE")
    return f"scratch database {scratch.where()} verified dropped"


def restore_drill(profile: Profile, journal: Journal) -> DrillResult:
    """Restore the newest backup into the scratch database, compare, drop the scratch database."""
    config = postgres_backups(profile)
    folders = _folders(config)
    if not folders:
        raise ProbeError(f"no backup to restore in {config.location}")
    _, newest = folders[0]
    try:
        manifest = Manifest.read(newest)
    except (OSError, ValueError, TypeError) as exc:
        raise ProbeError(f"backup {newest.name} has no readable manifest, so nothing to compare with ({exc})") from None
    scratch = Dsn.parse(config.scratch_dsn.get_secret_value())
    journal.record(f"create scratch database {scratch.where()} for a restore drill", Undo(DROP_SCRATCH, {}))
    drop_scratch(profile)  # a leftover of an earlier run must not mix with this restore
    restored: dict[str, TableRecord] = {}
    try:
        query(scratch.on("postgres"), f'CREATE DATABASE "{scratch.database}"')
        started = time.monotonic()
        result = run(
            "pg_restore",
            scratch,
            ["-d", scratch.database, "--no-owner", "--no-privileges", "--exit-on-error", str(newest / manifest.dump)],
            timeout=max(3 * config.rto, 60.0),
        )
        elapsed = time.monotonic() - started
        if result.returncode == 0:
            methods = {table: record.checksum.split(":", 1)[0] for table, record in manifest.tables.items()}
            restored = table_records(scratch, methods)
        error = result.stderr.strip().splitlines()[-1] if result.returncode != 0 and result.stderr.strip() else ""
    finally:
        drop_scratch(profile)
    return DrillResult(
        newest.name,
        scratch.where(),
        result.returncode == 0,
        error,
        elapsed,
        config.rto,
        manifest.tables,
        restored,
        True,
    )


@dataclass(frozen=True)
class RedisPersistenceResult:
    """Redis's persistence settings as the server reports them."""

    appendonly: str
    save: str
    declared_appendonly: bool | None
    declared_save: str | None

    def problems(self) -> list[str]:
        """Settings that differ from the declaration."""
        problems = []
        if self.declared_appendonly is not None and (self.appendonly == "yes") != self.declared_appendonly:
            problems.append(
                f"expected Redis appendonly {'yes' if self.declared_appendonly else 'no'}, observed {self.appendonly}"
            )
        if self.declared_save is not None and self.save.split() != self.declared_save.split():
            problems.append(f"expected Redis save {self.declared_save!r}, observed {self.save!r}")
        return problems


def _resp(command: list[str]) -> bytes:
    parts = [f"*{len(command)}\r\n".encode()]
    for word in command:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _reply(stream: socket.SocketIO) -> object:
    line = stream.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise ProbeError(f"Redis refused: {rest.decode()}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        return None if length < 0 else stream.read(length + 2)[:-2].decode()
    if kind == b"*":
        return [_reply(stream) for _ in range(int(rest))]
    raise ProbeError(f"unexpected answer from Redis: {line[:40]!r}")


def redis_persistence(profile: Profile) -> RedisPersistenceResult:
    """Ask Redis (CONFIG GET) how it persists."""
    if profile.backups is None or profile.backups.redis is None or profile.datastores.redis is None:
        raise ProbeError("the profile declares no backups.redis section or no datastores.redis URL")
    url = urlsplit(profile.datastores.redis.url.get_secret_value())
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=5) as connection:
            stream = socket.SocketIO(connection, "rwb")
            if url.password:
                stream.write(_resp(["AUTH", unquote(url.password)]))
                _reply(stream)
            settings = {}
            for name in ("appendonly", "save"):
                stream.write(_resp(["CONFIG", "GET", name]))
                answer = _reply(stream)
                settings[name] = str(answer[1]) if isinstance(answer, list) and len(answer) == 2 else ""
    except OSError as exc:
        raise ProbeError(f"could not reach Redis at {url.hostname}:{url.port}: {exc}") from None
    declared = profile.backups.redis
    return RedisPersistenceResult(settings["appendonly"], settings["save"], declared.appendonly, declared.save)
