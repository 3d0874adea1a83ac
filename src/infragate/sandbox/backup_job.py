"""The reference deployment's backup job: compressed dumps with a checksum manifest, on a schedule,
with retention pruning, kept in a folder and uploaded to an S3-compatible store.
Run as ``python -m infragate.sandbox.backup_job --dsn-file F --root DIR [--s3-url s3://B/P ...]``.

The table records in the manifest are taken just before and just after the dump; if they differ
(the database changed meanwhile), the dump is taken again, so the record matches what was dumped.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infragate.errors import ProbeError
from infragate.probes.backup.layout import Manifest, folder_name, parse_folder_name, sha256_of
from infragate.probes.backup.postgres import Dsn, run, table_records
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


@dataclass(frozen=True)
class S3Target:
    """Where the job uploads: s3://BUCKET/PREFIX on an endpoint, with a key pair."""

    endpoint_url: str
    url: str
    access_key_id: str
    secret_access_key: str

    @property
    def bucket(self) -> str:
        return self.url.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        parts = self.url.removeprefix("s3://").split("/", 1)
        return parts[1].strip("/") + "/" if len(parts) > 1 and parts[1].strip("/") else ""

    def client(self) -> Any:
        import boto3  # most of a second to import: only where S3 is used

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


def upload(target: S3Target, folders: list[Path]) -> None:
    """Upload backup folders (their dump and manifest) under the target's prefix."""
    client = target.client()
    for folder in folders:
        for item in sorted(folder.iterdir()):
            client.upload_file(str(item), target.bucket, f"{target.prefix}{folder.name}/{item.name}")


def prune_s3(target: S3Target, retention_s: float, now: datetime.datetime | None = None) -> int:
    """Delete uploaded backups older than the retention; how many objects went."""
    now = now or datetime.datetime.now(datetime.UTC)
    client = target.client()
    removed = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=target.prefix):
        for item in page.get("Contents", []):
            taken = parse_folder_name(item["Key"][len(target.prefix) :].split("/", 1)[0])
            if taken is not None and (now - taken).total_seconds() > retention_s:
                client.delete_object(Bucket=target.bucket, Key=item["Key"])
                removed += 1
    return removed


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
    parser.add_argument("--s3-endpoint", help="S3-compatible endpoint URL to upload to")
    parser.add_argument("--s3-url", help="s3://BUCKET/PREFIX")
    parser.add_argument("--s3-key-file", type=Path, help="file holding 'ACCESS_KEY_ID SECRET_ACCESS_KEY'")
    args = parser.parse_args()
    target = None
    if args.s3_url:
        key_id, secret = args.s3_key_file.read_text().split()
        target = S3Target(args.s3_endpoint, args.s3_url, key_id, secret)
    dsn = Dsn.parse(args.dsn_file.read_text().strip())
    interval, retention = parse_duration(args.interval), parse_duration(args.retention)
    args.root.mkdir(parents=True, exist_ok=True)
    if args.skip_first:
        time.sleep(interval)
    while True:
        folder = take_backup(dsn, args.root, tuple(args.exclude_table))
        if target is not None:
            upload(target, [folder])
        if not args.no_prune:
            prune(args.root, retention)
            if target is not None:
                prune_s3(target, retention)
        time.sleep(interval)


if __name__ == "__main__":
    main()
