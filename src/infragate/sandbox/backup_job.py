"""The reference deployment's backup job: compressed dumps with a checksum manifest, on a schedule,
with retention pruning. Run as ``python -m infragate.sandbox.backup_job --dsn-file F --root DIR ...``.

The table records in the manifest are taken just before and just after the dump; if they differ
(the database changed meanwhile), the dump is taken again, so the record matches what was dumped.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import time
from pathlib import Path

from infragate.backup_format import Manifest, folder_name, parse_folder_name, sha256_of
from infragate.errors import ProbeError
from infragate.postgres import Dsn, run, table_records
from infragate.quantities import parse_duration

ATTEMPTS = 3


def take_backup(
    dsn: Dsn, root: Path, exclude_tables: tuple[str, ...] = (), when: datetime.datetime | None = None
) -> Path:
    """One dump and its manifest, in a new folder named by its time."""
    when = when or datetime.datetime.now(datetime.UTC)
    folder = root / folder_name(when)
    partial = root / f".partial-{folder.name}"
    for _ in range(ATTEMPTS):
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        before = table_records(dsn)
        dump = partial / f"{dsn.database}.dump"
        excluded = [argument for table in exclude_tables for argument in ("--exclude-table", table)]
        result = run("pg_dump", dsn, ["-d", dsn.database, "-Fc", "-Z", "6", "-f", str(dump), *excluded])
        if result.returncode != 0:
            raise ProbeError(f"pg_dump of {dsn.where()} failed: {result.stderr.strip()[-300:]}")
        if table_records(dsn) == before:
            Manifest(when.isoformat(), dsn.database, dump.name, sha256_of(dump), before).write(partial)
            partial.rename(folder)
            return folder
    raise ProbeError(f"{dsn.where()} kept changing during {ATTEMPTS} dumps; no consistent backup taken")


def prune(root: Path, retention_s: float, now: datetime.datetime | None = None) -> list[Path]:
    """Remove backups older than the retention; returns what was removed."""
    now = now or datetime.datetime.now(datetime.UTC)
    removed = []
    for folder in sorted(root.iterdir()):
        taken = parse_folder_name(folder.name)
        if taken is not None and (now - taken).total_seconds() > retention_s:
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def backfill(root: Path, source: Path, interval_s: float, count: int, newest: datetime.datetime) -> list[Path]:
    """Copies of one backup labelled at the `count` schedule slots before `newest`: a history for a
    deployment that has just started (the copies hold what the database held then: it did not change)."""
    made = []
    manifest = Manifest.read(source)
    for index in range(1, count + 1):
        when = newest - datetime.timedelta(seconds=interval_s * index)
        target = root / folder_name(when)
        shutil.copytree(source, target)
        Manifest(when.isoformat(), manifest.database, manifest.dump, manifest.sha256, manifest.tables).write(target)
        made.append(target)
    return made


def main() -> None:
    """Take a backup now and then every interval, pruning past the retention, until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn-file", required=True, type=Path, help="file holding the source DSN (a secret)")
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--interval", default="6h")
    parser.add_argument("--retention", default="2d")
    parser.add_argument("--exclude-table", action="append", default=[])
    parser.add_argument("--no-prune", action="store_true")
    parser.add_argument("--skip-first", action="store_true", help="the first backup is due after one interval")
    args = parser.parse_args()
    dsn = Dsn.parse(args.dsn_file.read_text().strip())
    interval, retention = parse_duration(args.interval), parse_duration(args.retention)
    args.root.mkdir(parents=True, exist_ok=True)
    if args.skip_first:
        time.sleep(interval)
    while True:
        take_backup(dsn, args.root, tuple(args.exclude_table))
        if not args.no_prune:
            prune(args.root, retention)
        time.sleep(interval)


if __name__ == "__main__":
    main()
