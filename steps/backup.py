"""Steps about backups: freshness, schedule, retention, integrity, restore drills, WAL archiving, Redis."""

from __future__ import annotations

from pytest_bdd import then, when

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.probes.backup.catalogue import BackupCatalogue, list_backups
from infragate.probes.backup.checks import BackupCheck, Drill, check_integrity, restore_drills
from infragate.probes.backup.redis_persistence import RedisPersistenceResult, redis_persistence
from infragate.probes.backup.wal import WalArchiveState, read_wal_archive
from infragate.profile import Profile
from infragate.recovery.journal import Journal
from infragate.verdicts import Check


def _require_postgres_backups(profile: Profile) -> None:
    if profile.backups is None or not profile.backups.postgres:
        not_applicable("the profile declares no backups.postgres section")


@when("the backups of the database are listed", target_fixture="catalogues")
@needs("backups.postgres")
def _(profile: Profile, evidence: Evidence) -> tuple[BackupCatalogue, ...]:
    _require_postgres_backups(profile)
    return tuple(evidence.record(catalogue) for catalogue in list_backups(profile))


@then("the newest backup is younger than the declared recovery point objective")
def _(catalogues: tuple[BackupCatalogue, ...]) -> None:
    expect_no_problems(Check.combine(catalogue.freshness_check() for catalogue in catalogues))


@then("there is a backup for every scheduled period inside the retention window")
def _(catalogues: tuple[BackupCatalogue, ...]) -> None:
    expect_no_problems(Check.combine(catalogue.schedule_check() for catalogue in catalogues))


@then("no backup is kept beyond the retention")
def _(catalogues: tuple[BackupCatalogue, ...]) -> None:
    expect_no_problems(Check.combine(catalogue.retention_check() for catalogue in catalogues))


@when("every backup inside the retention window is checked", target_fixture="checks")
@needs("backups.postgres")
def _(profile: Profile, evidence: Evidence) -> tuple[BackupCheck, ...]:
    _require_postgres_backups(profile)
    return evidence.record(check_integrity(profile))


@then("every backup is readable to its end, lists its contents and matches its checksum")
def _(checks: tuple[BackupCheck, ...]) -> None:
    expect_no_problems(Check.combine(check.check() for check in checks))


@when("the newest backup is restored into the scratch database", target_fixture="drills")
@needs("backups.postgres", "a set of logical dumps, or a pgBackRest set with a scratch_folder")
def _(profile: Profile, journal: Journal, evidence: Evidence) -> tuple[Drill, ...]:
    _require_postgres_backups(profile)
    drills = restore_drills(profile, journal)
    if not drills:
        not_applicable("no backup set holds logical dumps, and no pgBackRest set has a scratch_folder to restore into")
    return tuple(evidence.record(drill) for drill in drills)


@then("the restore finishes within the declared recovery time objective")
def _(drills: tuple[Drill, ...]) -> None:
    expect_no_problems(Check.combine(drill.rto_check() for drill in drills))


@then("the restored data matches the record taken when the backup was made")
def _(drills: tuple[Drill, ...]) -> None:
    expect_no_problems(Check.combine(drill.data_check() for drill in drills))


@when("the cache's persistence settings are read", target_fixture="persistence")
@needs("backups.redis")
def _(profile: Profile, evidence: Evidence) -> RedisPersistenceResult:
    if profile.backups is None or profile.backups.redis is None:
        not_applicable("the profile declares no backups.redis section")
    return evidence.record(redis_persistence(profile))


@then("the cache persists its data as declared")
def _(persistence: RedisPersistenceResult) -> None:
    expect_no_problems(persistence.check())


@when("the primary's WAL archiving is read", target_fixture="wal")
@needs("backups.wal_archive")
def _(profile: Profile, evidence: Evidence) -> WalArchiveState:
    if profile.backups is None or profile.backups.wal_archive is None:
        not_applicable("the profile declares no backups.wal_archive section")
    return evidence.record(read_wal_archive(profile))


@then("WAL archiving is on and has somewhere to send the WAL")
def _(wal: WalArchiveState) -> None:
    expect_no_problems(wal.archiving_check())


@then("a WAL segment is closed for archiving within the recovery point objective")
def _(wal: WalArchiveState) -> None:
    expect_no_problems(wal.switch_check())


@then("the archiver's last attempt succeeded")
def _(wal: WalArchiveState) -> None:
    expect_no_problems(wal.failure_check())


@then("no change waits for the archive longer than the recovery point objective")
def _(wal: WalArchiveState) -> None:
    expect_no_problems(wal.backlog_check())


@then("the repository holds the newest WAL the primary reports archived")
def _(wal: WalArchiveState) -> None:
    expect_no_problems(wal.repository_check())
