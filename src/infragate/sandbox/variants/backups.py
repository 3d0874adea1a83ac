"""Known-bad variants of backups: stale, truncated, incomplete, unpruned or slow dumps, pgBackRest and
WAL archiving, Redis persistence."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import DRILL, FRESH, INTACT, SCHEDULE, WAL_FLOW, WAL_SETUP
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, replace_fields

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="backup-stale",
        summary="the newest backup is 8 hours old (RPO 6.5 hours)",
        breaks=(
            ExpectedFailure(FRESH, "Then the newest backup is younger than the declared recovery point objective"),
        ),
        defect=LocalDefect(replace_fields(backup_newest_age_s=8 * 3600)),
    ),
    Variant(
        name="backup-truncated",
        summary="the newest dump was cut off halfway (a full disk, a killed upload)",
        breaks=(
            ExpectedFailure(
                INTACT, "Then every backup is readable to its end, lists its contents and matches its checksum"
            ),
            ExpectedFailure(DRILL, "Then the restore finishes within the declared recovery time objective"),
        ),
        defect=LocalDefect(replace_fields(backup_truncated=True)),
    ),
    Variant(
        name="backup-missing-table",
        summary="the backup job silently leaves the bookings table out of every dump",
        breaks=(ExpectedFailure(DRILL, "And the restored data matches the record taken when the backup was made"),),
        defect=LocalDefect(replace_fields(backup_excluded_tables=("public.bookings",))),
    ),
    Variant(
        name="backup-gap",
        summary="one scheduled backup inside the retention window never happened",
        breaks=(
            ExpectedFailure(SCHEDULE, "Then there is a backup for every scheduled period inside the retention window"),
        ),
        defect=LocalDefect(replace_fields(backup_gap=True)),
    ),
    Variant(
        name="backup-not-pruned",
        summary="backups older than the retention are kept",
        breaks=(ExpectedFailure(SCHEDULE, "And no backup is kept beyond the retention"),),
        defect=LocalDefect(replace_fields(backup_unpruned=True)),
    ),
    Variant(
        name="restore-slow",
        summary="restoring the newest backup takes about 12 s (RTO 8 s)",
        breaks=(ExpectedFailure(DRILL, "Then the restore finishes within the declared recovery time objective"),),
        defect=LocalDefect(replace_fields(restore_heavy=True)),
    ),
    Variant(
        name="redis-no-aof",
        summary="Redis runs without its append-only file",
        breaks=(
            ExpectedFailure("The cache persists its data as declared", "Then the cache persists its data as declared"),
        ),
        defect=LocalDefect(replace_fields(redis_appendonly=False)),
    ),
    Variant(
        name="backup-offsite-stale",
        summary="uploads to the S3 copy stopped a day ago; the local backups are fine",
        breaks=(
            ExpectedFailure(FRESH, "Then the newest backup is younger than the declared recovery point objective"),
        ),
        defect=LocalDefect(replace_fields(backup_offsite_lag_s=86_400.0)),
    ),
    Variant(
        name="pgbackrest-no-backup",
        summary="the pgBackRest stanza exists but no backup was ever taken",
        breaks=(
            ExpectedFailure(FRESH, "Then the newest backup is younger than the declared recovery point objective"),
            ExpectedFailure(SCHEDULE, "Then there is a backup for every scheduled period inside the retention window"),
            ExpectedFailure(DRILL, "Then the restore finishes within the declared recovery time objective"),
        ),
        defect=LocalDefect(replace_fields(pgbackrest_backup=False)),
    ),
    Variant(
        name="pgbackrest-corrupt",
        summary="a file in the pgBackRest repository no longer matches its checksum",
        breaks=(
            ExpectedFailure(
                INTACT, "Then every backup is readable to its end, lists its contents and matches its checksum"
            ),
            ExpectedFailure(DRILL, "Then the restore finishes within the declared recovery time objective"),
        ),
        defect=LocalDefect(replace_fields(pgbackrest_corrupt=True)),
    ),
    Variant(
        name="pgbackrest-wal-missing",
        summary="the WAL from the start to the end of the newest pgBackRest backup is gone from the repository",
        # pgbackrest verify finds nothing wrong (every file it has matches): only a restore shows it.
        breaks=(ExpectedFailure(DRILL, "Then the restore finishes within the declared recovery time objective"),),
        defect=LocalDefect(replace_fields(pgbackrest_wal_missing=True)),
    ),
    Variant(
        name="wal-archive-timeout-off",
        summary="archive_timeout is 0: on a quiet database a change waits until a 16 MB WAL segment fills",
        breaks=(
            ExpectedFailure(WAL_SETUP, "And a WAL segment is closed for archiving within the recovery point objective"),
        ),
        defect=LocalDefect(replace_fields(wal_archive_timeout_s=0)),
    ),
    Variant(
        name="wal-archive-failing",
        summary="after the first backup the archive command names a stanza that does not exist, and fails",
        breaks=(ExpectedFailure(WAL_FLOW, "Then the archiver's last attempt succeeded"),),
        defect=LocalDefect(replace_fields(wal_archive_fault="failing")),
    ),
    Variant(
        name="wal-archive-discarded",
        summary="after the first backup the archive command is 'true': every segment counts archived, none is kept",
        breaks=(ExpectedFailure(WAL_FLOW, "And the repository holds the newest WAL the primary reports archived"),),
        defect=LocalDefect(replace_fields(wal_archive_fault="discarded")),
    ),
)
