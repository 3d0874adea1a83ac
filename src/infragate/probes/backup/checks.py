"""Backup probes: the integrity of every backup and the restore drill.

A restore drill restores the newest backup into the scratch database (never the source: the
profile loader refuses that), compares what came back with the record taken when the backup was
made, and drops the scratch database whatever happens. Its creation is journalled first, so a
killed run's scratch database is dropped by ``infragate recover``.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass
from pathlib import Path

from infragate.errors import ProbeError
from infragate.probes.backup.catalogue import backup_sets
from infragate.probes.backup.cluster_drill import NO_BACKUP, ClusterDrillResult, TimedRestore, cluster_drill
from infragate.probes.backup.layout import Manifest, TableRecord, sha256_of
from infragate.probes.backup.postgres import Dsn, query, run, start, table_records
from infragate.probes.backup.sources import Listed, PgBackRestSource, source_of
from infragate.profile.model import Profile
from infragate.profile.storage import PostgresBackups
from infragate.recovery.journal import Journal, Undo
from infragate.verdicts import Check

DROP_SCRATCH = "drop_scratch_database"
DROP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class BackupCheck:
    """One backup's integrity: manifest, checksum, table of contents, full read."""

    backup: str
    problems: tuple[str, ...]

    def check(self) -> Check:
        """The backup is complete, lists its contents and matches its checksum."""
        observed = f"{self.backup}: " + ("; ".join(self.problems) if self.problems else "complete and matching")
        return Check.judged("backup integrity", f"{self.backup} readable and matching", observed, self.problems)


def check_integrity(profile: Profile) -> tuple[BackupCheck, ...]:
    """Check every backup inside the retention window of every set."""
    checks: list[BackupCheck] = []
    for config in backup_sets(profile):
        source = source_of(config)
        now = datetime.datetime.now(datetime.UTC)
        window = [item for item in source.listing() if (now - item.taken).total_seconds() <= config.retention]
        if isinstance(source, PgBackRestSource):
            checks += _pgbackrest_checks(source, window)
            continue
        scratch = Dsn.parse(config.scratch_dsn.get_secret_value()) if config.scratch_dsn else None
        for item in window:
            with source.fetched(item) as folder:
                checks.append(BackupCheck(f"{config.label}/{item.name}", tuple(_dump_problems(item, folder, scratch))))
    return tuple(checks)


def _dump_problems(item: Listed, folder: Path, scratch: Dsn | None) -> list[str]:
    try:
        manifest = Manifest.read(folder)
    except (OSError, ValueError, TypeError) as exc:
        return [f"backup {item.name}: no readable manifest ({exc})"]
    dump = folder / manifest.dump
    if not dump.exists():
        return [f"backup {item.name}: the dump {manifest.dump} is missing"]
    problems = []
    digest = sha256_of(dump)
    if digest != manifest.sha256:
        problems.append(f"backup {item.name}: expected SHA-256 {manifest.sha256[:12]}..., observed {digest[:12]}...")
    if scratch is not None:  # pg_restore needs a server only for its version; it writes nothing here
        listing = run("pg_restore", scratch, ["--list", str(dump)])
        if listing.returncode != 0:
            problems.append(
                f"backup {item.name}: its table of contents cannot be listed ({listing.stderr.strip()[-160:]})"
            )
        read = run("pg_restore", scratch, ["-f", "/dev/null", str(dump)])
        if read.returncode != 0:
            problems.append(f"backup {item.name}: the archive cannot be read to its end ({read.stderr.strip()[-160:]})")
    return problems


def _pgbackrest_checks(source: PgBackRestSource, window: list[Listed]) -> list[BackupCheck]:
    """pgBackRest's own verdicts: `verify` reads every file of the repository against its checksums.

    `verify` exits 0 even when it finds damage (pgBackRest 2.45): its text report is what counts.
    """
    info = {backup["label"]: backup for backup in source.info().get("backup", [])}
    verified = source.run("verify", "--output=text")
    if verified.returncode != 0:
        raise ProbeError(
            f"pgbackrest verify could not run for stanza {source.stanza}: {verified.stderr.strip()[-200:]}"
        )
    findings = verify_findings(verified.stdout)
    checks = []
    for item in window:
        problems = [f"backup {item.name}: {finding}" for finding in findings.get(item.name, [])]
        problems += [f"backup {item.name}: {finding}" for finding in findings.get("", [])]
        if info.get(item.name, {}).get("error"):
            problems.append(f"backup {item.name}: pgBackRest found checksum errors in the database while taking it")
        checks.append(BackupCheck(f"{source.where}/{item.name}", tuple(problems)))
    return checks


def verify_findings(report: str) -> dict[str, list[str]]:
    """Damage `pgbackrest verify --output=text` reports, by backup label ("" for the WAL archive)."""
    findings: dict[str, list[str]] = {}
    current: str | None = None
    for line in report.splitlines():
        text = line.strip()
        backup = re.match(r"backup: (\S+), status: (\w+)", text)
        archive = re.match(r"archiveId: (\S+), total WAL checked: (\d+), total valid WAL: (\d+)", text)
        if backup:
            current = backup.group(1) if backup.group(2) != "valid" else None
            if current is not None:
                findings.setdefault(current, []).append(f"pgbackrest verify: {text.split(', ', 1)[1]}")
        elif archive:
            current = "" if archive.group(2) != archive.group(3) else None
            if current is not None:
                findings.setdefault("", []).append(f"pgbackrest verify: WAL archive {text}")
        elif current is not None and text and not text.startswith(("stanza:", "status:")):
            findings[current][-1] += f" ({text})"
    return findings


@dataclass(frozen=True)
class DrillResult(TimedRestore):
    """A restore of the newest backup into the scratch database, compared with its record."""

    expected: dict[str, TableRecord]
    restored: dict[str, TableRecord]
    scratch_dropped: bool

    def data_check(self) -> Check:
        """Every table came back as recorded when the backup was made."""
        expected = f"{len(self.expected)} tables of backup {self.backup} as recorded"
        same = sum(1 for table, record in self.expected.items() if self.restored.get(table) == record)
        return Check.judged("restored data", expected, f"{same} as recorded", self._data_problems())

    def _data_problems(self) -> list[str]:
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
    """Drop every set's scratch database if it exists, and verify that each is gone."""
    said = []
    for scratch in _scratch_databases(profile):
        maintenance = scratch.on("postgres")
        _drop_database(maintenance, scratch.database)
        left = query(maintenance, f"SELECT 1 FROM pg_database WHERE datname = '{scratch.database}'")
        if left:
            raise ProbeError(f"scratch database {scratch.where()} is still there after DROP DATABASE")
        said.append(f"scratch database {scratch.where()} verified dropped")
    return "; ".join(said) or "no scratch database declared"


def _drop_database(maintenance: Dsn, database: str, timeout_s: float = DROP_TIMEOUT_S) -> None:
    """DROP DATABASE, with the sessions a killed drill left behind (FORCE) and past autovacuum (plain).

    Plain DROP stops autovacuum workers itself; FORCE also ends other sessions (a killed pg_restore's
    backend may linger), but only those the drill role may signal. Between the two, it goes.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            query(maintenance, f'DROP DATABASE IF EXISTS "{database}"')
            return
        except ProbeError as plain:
            # psql's last line is the DETAIL: "There is 1 other session using the database."
            if not any(words in str(plain) for words in ("being accessed by other users", "using the database")):
                raise
        try:
            query(maintenance, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            return
        except ProbeError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _scratch_databases(profile: Profile) -> list[Dsn]:
    found: dict[str, Dsn] = {}
    for config in backup_sets(profile):
        if config.scratch_dsn is not None:
            dsn = Dsn.parse(config.scratch_dsn.get_secret_value())
            found.setdefault(dsn.where(), dsn)
    return list(found.values())


Drill = DrillResult | ClusterDrillResult


def restore_drills(profile: Profile, journal: Journal) -> tuple[Drill, ...]:
    """A restore drill of the newest backup of every set of logical dumps, and of every pgBackRest set
    with a scratch folder."""
    drills: list[Drill] = []
    for config in backup_sets(profile):
        if config.holds_dumps:
            drills.append(restore_drill(profile, config, journal))
        elif config.scratch_folder is not None:
            drills.append(cluster_drill(config, journal))
    return tuple(drills)


def restore_drill(profile: Profile, config: PostgresBackups, journal: Journal) -> DrillResult:
    """Restore a set's newest backup into its scratch database, compare, drop the scratch database."""
    source = source_of(config)
    listing = source.listing()
    if config.scratch_dsn is None:  # the model insists for sets of dumps
        raise ProbeError(f"backup set {config.name}: no scratch_dsn to restore a drill into")
    scratch = Dsn.parse(config.scratch_dsn.get_secret_value())
    if not listing:  # a promise to restore within the RTO is not kept by having nothing to restore
        return DrillResult(f"{config.label}/(none)", scratch.where(), False, NO_BACKUP, 0.0, config.rto, {}, {}, True)
    newest = listing[0]
    with source.fetched(newest) as folder:
        try:
            manifest = Manifest.read(folder)
        except (OSError, ValueError, TypeError) as exc:
            raise ProbeError(
                f"backup {newest.name} has no readable manifest, so nothing to compare with ({exc})"
            ) from None
        journal.record(f"create scratch database {scratch.where()} for a restore drill", Undo(DROP_SCRATCH, {}))
        drop_scratch(profile)  # a leftover of an earlier run must not mix with this restore
        try:
            query(scratch.on("postgres"), f'CREATE DATABASE "{scratch.database}"')
            ok, error, elapsed, restored = _restore_and_compare(scratch, folder / manifest.dump, manifest, config.rto)
        finally:
            drop_scratch(profile)
    return DrillResult(
        f"{config.label}/{newest.name}",
        scratch.where(),
        ok,
        error,
        elapsed,
        config.rto,
        manifest.tables,
        restored,
        True,
    )


def _restore_and_compare(
    scratch: Dsn, dump: Path, manifest: Manifest, rto_s: float
) -> tuple[bool, str, float, dict[str, TableRecord]]:
    """Restore in pg_restore's three sections; compare the tables while the last one builds indexes.

    Once the data section is in, every row is there: index and constraint builds (post-data) do not
    change it, so the per-table checksums run beside them instead of after them. One pg_restore job
    at a time, plus one connection for the checksums: bounded resources.
    """
    restore = ["-d", scratch.database, "--no-owner", "--no-privileges", "--exit-on-error"]
    timeout = max(3 * rto_s, 60.0)
    started = time.monotonic()
    for section in ("pre-data", "data"):
        result = run("pg_restore", scratch, [*restore, f"--section={section}", str(dump)], timeout=timeout)
        if result.returncode != 0:
            return False, _error_line(result.stderr), time.monotonic() - started, {}
    post_data = start("pg_restore", scratch, [*restore, "--section=post-data", str(dump)])
    try:
        methods = {table: record.checksum.split(":", 1)[0] for table, record in manifest.tables.items()}
        restored = table_records(scratch, methods)
        _, errors = post_data.communicate(timeout=timeout)
    finally:
        if post_data.poll() is None:
            post_data.kill()
            post_data.wait()
    elapsed = time.monotonic() - started
    if post_data.returncode != 0:
        return False, _error_line(errors), elapsed, restored
    return True, "", elapsed, restored


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else "pg_restore failed without a message"
