"""The backup layout infragate reads and the reference deployment's backup job writes.

One folder per backup, named by its UTC time: ``<root>/<YYYYmmddTHHMMSSZ>/`` holding the
compressed custom-format dump ``<database>.dump`` and ``manifest.json``: when the backup was made,
the dump's SHA-256, and for every table its row count and a content checksum taken in the same
snapshot as the dump. The manifest is the record a restore drill compares against.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST = "manifest.json"
STAMP = "%Y%m%dT%H%M%SZ"
# Order-independent content checksums of one table, computed identically at backup and after restore:
# the sum of a 64-bit hash of every row. One (parallel) sequential scan, no sort, no large intermediate.
# Rows are hashed as records where every column type has a hash function, else through their text.
TABLE_CHECKSUM_SQL = {
    "record": "SELECT count(*), coalesce(sum(hash_record_extended(t, 0)), 0)::text FROM {table} t",
    "text": "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM {table} t",
}


@dataclass(frozen=True)
class TableRecord:
    """A table as it was when the backup was taken."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and how to check it."""

    created_at: str
    database: str
    dump: str
    sha256: str
    tables: dict[str, TableRecord]

    @property
    def created(self) -> datetime.datetime:
        """When the backup was taken."""
        return datetime.datetime.fromisoformat(self.created_at)

    def write(self, folder: Path) -> None:
        """Save next to the dump."""
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2, sort_keys=True))

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Load from a backup folder; ValueError/OSError when it is missing or malformed."""
        raw = json.loads((folder / MANIFEST).read_text())
        raw["tables"] = {name: TableRecord(**record) for name, record in raw["tables"].items()}
        return cls(**raw)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_name(when: datetime.datetime) -> str:
    """The folder name of a backup taken at `when`."""
    return when.astimezone(datetime.UTC).strftime(STAMP)


def parse_folder_name(name: str) -> datetime.datetime | None:
    """When a backup folder says it was taken, or None for anything else."""
    try:
        return datetime.datetime.strptime(name, STAMP).replace(tzinfo=datetime.UTC)
    except ValueError:
        return None
