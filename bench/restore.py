"""Benchmark: a restore drill on a database of at least 1 GB, beside a plain pg_restore of the same dump.

Both restore the same dump into a fresh database on the same server in the same run; the drill
also creates and drops its scratch database and compares every table with the backup's record.
Prints both times and the drill's overhead. Run: `uv run python bench/restore.py [ROWS]`
(default 4,000,000 rows, about 1.1 GB on disk).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from infragate.probes.backup.checks import restore_drill
from infragate.probes.backup.postgres import Dsn, query, run
from infragate.profile import load_profile
from infragate.recovery.journal import Journal
from infragate.sandbox import backup_job, local


def main() -> None:
    """Seed, dump once, restore twice (plain, drill), print."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 4_000_000
    state = local.up("bench-restore")
    try:
        profile = load_profile(state.profile)
        assert profile.datastores.postgres is not None and profile.backups and profile.backups.postgres
        folder_set = profile.backups.postgres[0]  # the folder set: the dump is taken straight into it
        assert folder_set.scratch_dsn is not None
        source = Dsn.parse(profile.datastores.postgres.dsn.get_secret_value())
        started = time.monotonic()
        query(
            source,
            "CREATE TABLE events (id bigint PRIMARY KEY, kind text, payload text); "
            f"INSERT INTO events SELECT g, 'kind-' || (g % 17), md5(g::text) || repeat('x', 200) "
            f"FROM generate_series(1, {rows}) AS g; ANALYZE events",
        )
        size = query(source, "SELECT pg_database_size(current_database())")[0][0]
        print(f"seeded {rows:,} rows, database size {int(size) / 1e9:.2f} GB, in {time.monotonic() - started:.0f} s")
        started = time.monotonic()
        backup = backup_job.take_backup(source, Path(folder_set.location))
        dump = next(backup.glob("*.dump"))
        took = time.monotonic() - started
        print(f"dump {dump.stat().st_size / 1e6:.0f} MB (compressed) with its record, in {took:.0f} s")

        scratch = Dsn.parse(folder_set.scratch_dsn.get_secret_value())
        plain = scratch.on("bench_plain")
        query(scratch.on("postgres"), 'CREATE DATABASE "bench_plain"')
        started = time.monotonic()
        result = run(
            "pg_restore",
            plain,
            ["-d", plain.database, "--no-owner", "--no-privileges", "--exit-on-error", str(dump)],
            timeout=3600,
        )
        plain_s = time.monotonic() - started
        query(scratch.on("postgres"), 'DROP DATABASE "bench_plain" WITH (FORCE)')
        assert result.returncode == 0, result.stderr

        journal = Journal(Path(tempfile.mkdtemp(prefix="infragate-bench-journal-")))
        started = time.monotonic()
        drill = restore_drill(profile, folder_set, journal)
        drill_s = time.monotonic() - started
        assert drill.restore_ok and drill.data_check().met, (drill.restore_error, drill.data_check().problems)
        print(f"plain pg_restore:            {plain_s:7.1f} s")
        print(
            f"infragate restore drill:     {drill_s:7.1f} s  (restore {drill.restore_s:.1f} s, create/compare/drop "
            f"{drill_s - drill.restore_s:.1f} s)"
        )
        print(f"drill overhead over plain:   {(drill_s - plain_s) / plain_s:+.1%}")
    finally:
        local.down("bench-restore")


if __name__ == "__main__":
    main()
