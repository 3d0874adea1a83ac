"""Where backups live: a folder, an S3-compatible bucket, or a pgBackRest repository.

Folder and S3 sets hold infragate's layout (one folder or key prefix per backup, named by its UTC
time, with the dump and ``manifest.json``); S3 is read through boto3 with any endpoint URL, so
MinIO, Ceph, moto or AWS all work. A pgBackRest repository is read through ``pgbackrest info
--output=json`` (physical backups: listed and verified here, drilled by probes.backup.cluster_drill).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from infragate.errors import ProbeError
from infragate.probes.backup.layout import parse_folder_name
from infragate.profile.storage import PostgresBackups

PGBACKREST_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Listed:
    """One backup of a set: when it was taken and how the set names it."""

    taken: datetime.datetime
    name: str


class BackupSource(Protocol):
    """A backup set's storage."""

    where: str

    def listing(self) -> list[Listed]:
        """Every backup, newest first; ProbeError when the storage cannot be listed."""
        ...

    def fetched(self, backup: Listed) -> contextlib.AbstractContextManager[Path]:
        """A local folder holding the backup's dump and manifest, for as long as the context lasts."""
        ...


class FolderSource:
    """Backups as folders on a file system this machine mounts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def listing(self) -> list[Listed]:
        try:
            entries = list(self.root.iterdir())
        except OSError as exc:
            raise ProbeError(f"could not list the backups in {self.root}: {exc.strerror}") from None
        found = [
            Listed(when, entry.name) for entry in entries if entry.is_dir() and (when := parse_folder_name(entry.name))
        ]
        return sorted(found, key=lambda item: item.taken, reverse=True)

    @contextlib.contextmanager
    def fetched(self, backup: Listed) -> Iterator[Path]:
        yield self.root / backup.name


class S3Source:
    """Backups as key prefixes in an S3-compatible bucket: s3://BUCKET/PREFIX/<time>/{dump, manifest.json}."""

    def __init__(self, config: PostgresBackups) -> None:
        try:
            import boto3  # boto3 takes most of a second to import: only for S3 sets
            from botocore.config import Config
        except ModuleNotFoundError:
            raise ProbeError(
                f"backup set {config.label}: reading s3:// needs the 's3' extra (pip install 'infragate[s3]')"
            ) from None

        self.where = config.location
        self.bucket, _, prefix = config.location.removeprefix("s3://").partition("/")
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        access = config.s3
        self.client = boto3.client(
            "s3",
            endpoint_url=access.endpoint_url if access else None,
            region_name=access.region if access else None,
            aws_access_key_id=access.access_key_id.get_secret_value() if access and access.access_key_id else None,
            aws_secret_access_key=(
                access.secret_access_key.get_secret_value() if access and access.secret_access_key else None
            ),
            config=Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2}),
        )

    def _call(self, what: str, function: Any, **arguments: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(**arguments)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ProbeError(f"could not {what} {self.where}: {error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise ProbeError(f"could not {what} {self.where}: {exc}") from None

    def listing(self) -> list[Listed]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(
            "list the backups in",
            lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=self.prefix, Delimiter="/")),
        )
        found = []
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(self.prefix) :].strip("/")
                if when := parse_folder_name(name):
                    found.append(Listed(when, name))
        return sorted(found, key=lambda item: item.taken, reverse=True)

    @contextlib.contextmanager
    def fetched(self, backup: Listed) -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp(prefix=f"infragate-s3-{backup.name}-"))
        try:
            key_prefix = f"{self.prefix}{backup.name}/"
            listed = self._call("list", lambda: self.client.list_objects_v2(Bucket=self.bucket, Prefix=key_prefix))
            for item in listed.get("Contents", []):
                name = item["Key"][len(key_prefix) :]
                if name and "/" not in name:
                    self._call(
                        f"download {item['Key']} from",
                        lambda key=item["Key"], target=folder / name: self.client.download_file(
                            self.bucket, key, str(target)
                        ),
                    )
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class PgBackRestSource:
    """A pgBackRest stanza, read through `pgbackrest info --output=json`."""

    def __init__(self, config: PostgresBackups) -> None:
        self.stanza = config.location.removeprefix("pgbackrest:")
        self.where = config.location
        access = config.pgbackrest
        self.command = [access.command if access else "pgbackrest"]
        if access and access.config:
            self.command.append(f"--config={access.config}")
        self.command.append(f"--stanza={self.stanza}")

    def run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run a pgBackRest command against the stanza."""
        try:
            return subprocess.run(
                [*self.command, *arguments], capture_output=True, text=True, timeout=PGBACKREST_TIMEOUT_S, check=False
            )
        except FileNotFoundError:
            raise ProbeError(f"pgBackRest is not installed here ({self.command[0]} not found)") from None
        except subprocess.TimeoutExpired:
            raise ProbeError(f"pgbackrest {arguments[0]} did not finish within {PGBACKREST_TIMEOUT_S:g} s") from None

    def info(self, *options: str) -> dict[str, Any]:
        """The stanza's entry of `pgbackrest info --output=json` (options such as --set=LABEL added)."""
        result = self.run("--output=json", *options, "info")
        if result.returncode != 0:
            raise ProbeError(f"pgbackrest info failed for stanza {self.stanza}: {result.stderr.strip()[-200:]}")
        stanzas = json.loads(result.stdout)
        entry = next((item for item in stanzas if item.get("name") == self.stanza), None)
        if entry is None:
            raise ProbeError(f"pgbackrest info knows no stanza {self.stanza}")
        status = entry.get("status", {})
        if status.get("code", 0) not in (0, 2):  # 2: no backup yet (the catalogue says so itself)
            raise ProbeError(f"pgBackRest stanza {self.stanza} is not usable: {status.get('message')}")
        info: dict[str, Any] = entry
        return info

    def listing(self) -> list[Listed]:
        found = [
            Listed(datetime.datetime.fromtimestamp(int(backup["timestamp"]["stop"]), datetime.UTC), backup["label"])
            for backup in self.info().get("backup", [])
        ]
        return sorted(found, key=lambda item: item.taken, reverse=True)

    def fetched(self, backup: Listed) -> contextlib.AbstractContextManager[Path]:
        raise ProbeError(f"{self.where} holds physical backups; restore drills need a set of logical dumps")


def source_of(config: PostgresBackups) -> BackupSource:
    """The storage a backup set declares."""
    if config.location.startswith("s3://"):
        return S3Source(config)
    if config.location.startswith("pgbackrest:"):
        return PgBackRestSource(config)
    return FolderSource(Path(config.location))
