"""The profile's datastores and backups: PostgreSQL and Redis, sets of backups (folders, S3,
pgBackRest), WAL archiving and Redis persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from infragate.profile.fields import Duration, ExistingPath, StrictModel, Url, profile_path, server_url


def _server_url(schemes: tuple[str, ...], example: str, socket_scheme: str | None = None) -> AfterValidator:
    """A secret URL of a server of one of these schemes, with a host and a port from 1 to 65535."""

    def check(value: SecretStr) -> SecretStr:
        server_url(value.get_secret_value(), schemes, example, socket_scheme)
        return value

    return AfterValidator(check)


PostgresDsn = Annotated[SecretStr, _server_url(("postgresql", "postgres"), "postgresql://USER:PASSWORD@HOST:5432/DB")]
RedisUrl = Annotated[SecretStr, _server_url(("redis", "rediss"), "redis://:PASSWORD@HOST:6379/0", "unix")]


class Postgres(StrictModel):
    """A PostgreSQL database of the deployment."""

    dsn: PostgresDsn = Field(description="postgresql:// URL; a secret (use ${env:NAME} or ${file:PATH})")


class Redis(StrictModel):
    """A Redis instance of the deployment."""

    url: RedisUrl = Field(description="redis:// URL; a secret (use ${env:NAME} or ${file:PATH})")


def _backup_location(value: object, info: ValidationInfo) -> object:
    """A folder (resolved against the profile's folder), s3://bucket/prefix, or pgbackrest:STANZA."""
    if isinstance(value, str) and value.startswith("s3://"):
        bucket = value.removeprefix("s3://").split("/", 1)[0]
        if not bucket:
            raise ValueError("s3://BUCKET/PREFIX with a bucket name")
        return value.rstrip("/")
    if isinstance(value, str) and value.startswith("pgbackrest:"):
        if not value.removeprefix("pgbackrest:"):
            raise ValueError("pgbackrest:STANZA with a stanza name")
        return value
    resolved = profile_path(value, info)
    if isinstance(resolved, Path) and not resolved.is_dir():
        raise ValueError(f"a folder, s3://BUCKET/PREFIX or pgbackrest:STANZA (no folder at {resolved})")
    return str(resolved)


class S3Access(StrictModel):
    """How to reach an S3-compatible store (any endpoint boto3 can talk to)."""

    endpoint_url: Url | None = Field(default=None, description="default: AWS; e.g. http://127.0.0.1:9000")
    region: str = Field(default="us-east-1", description="the store's region")
    access_key_id: SecretStr | None = Field(default=None, description="default: boto3's usual credential chain")
    secret_access_key: SecretStr | None = Field(
        default=None, description="a secret; default: boto3's usual credential chain"
    )


class PgBackRestAccess(StrictModel):
    """How to run pgBackRest against the repository."""

    config: ExistingPath | None = Field(default=None, description="pgbackrest.conf; default: pgBackRest's own")
    command: str = Field(default="pgbackrest", description="the pgbackrest program to run")


class PostgresBackups(StrictModel):
    """One set of the database's backups: where it lives and what was promised about it."""

    name: str = Field(default="", description="how reports name this set; default: its location")
    location: Annotated[str, BeforeValidator(_backup_location)] = Field(
        description="a folder of backup folders (named by UTC time), s3://BUCKET/PREFIX, or pgbackrest:STANZA"
    )
    s3: S3Access | None = Field(default=None, description="how to reach the store of an s3:// location")
    pgbackrest: PgBackRestAccess | None = Field(
        default=None, description="how to run pgBackRest for a pgbackrest: location"
    )
    schedule: Duration = Field(description="a backup every ...")
    rpo: Duration = Field(description="the newest backup is never older than this")
    rto: Duration = Field(description="a restore finishes within this")
    retention: Duration = Field(description="backups are kept this long, and no longer")
    scratch_dsn: PostgresDsn | None = Field(
        default=None, description="where restore drills restore to; never the source database"
    )
    allow_same_server: bool = Field(default=False, description="may the scratch database share the source's server")
    scratch_folder: ExistingPath | None = Field(
        default=None,
        description="pgBackRest sets: a local folder where restore drills restore the cluster (in a fresh subfolder)",
    )

    @property
    def label(self) -> str:
        """The set's name in reports."""
        return self.name or self.location

    @property
    def holds_dumps(self) -> bool:
        """Logical dumps with infragate's manifest (a folder or S3), which restore drills can restore."""
        return not self.location.startswith("pgbackrest:")

    @model_validator(mode="after")
    def _dumps_need_a_scratch_database(self) -> PostgresBackups:
        if self.holds_dumps and self.scratch_dsn is None:
            raise ValueError("scratch_dsn for restore drills (backups of logical dumps are always drilled)")
        if self.holds_dumps and self.scratch_folder is not None:
            raise ValueError("scratch_folder only on a pgbackrest: set (sets of dumps restore into scratch_dsn)")
        return self


def _one_or_more(value: object) -> object:
    return [value] if isinstance(value, dict) else value


class RedisPersistence(StrictModel):
    """How Redis was declared to persist its data."""

    appendonly: bool | None = Field(default=None, description="the append-only file must be on (true) or off (false)")
    save: str | None = Field(default=None, description='RDB schedule as in redis.conf, e.g. "900 1 300 10"')


class WalArchive(StrictModel):
    """Continuous WAL archiving of the source database: what makes a recovery point of minutes possible."""

    rpo: Duration = Field(description="no committed change waits longer than this before it is in the archive")
    dsn: PostgresDsn | None = Field(
        default=None, description="a role with pg_monitor on the primary; default: datastores.postgres.dsn"
    )
    repository: str | None = Field(
        default=None,
        description="the name of the pgBackRest backup set whose repository receives the WAL (checked against it)",
    )


class Backups(StrictModel):
    """Backup promises per data store."""

    postgres: Annotated[tuple[PostgresBackups, ...], BeforeValidator(_one_or_more)] = Field(
        default=(), description="one backup set, or a list of sets (say a local folder, S3 and pgBackRest)"
    )
    wal_archive: WalArchive | None = Field(default=None, description="continuous WAL archiving of the source database")
    redis: RedisPersistence | None = Field(default=None, description="how Redis persists its data")

    def wal_repository(self) -> PostgresBackups | None:
        """The pgBackRest set wal_archive.repository names, if any."""
        name = self.wal_archive.repository if self.wal_archive else None
        return next((config for config in self.postgres if name is not None and config.name == name), None)


class Datastores(StrictModel):
    """The deployment's data stores."""

    postgres: Postgres | None = Field(default=None, description="the PostgreSQL database")
    redis: Redis | None = Field(default=None, description="the Redis instance")
