"""Backup sets: how profiles declare them, S3 listings against a real S3-compatible server, pgBackRest reports."""

from __future__ import annotations

import dataclasses
import datetime
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from infragate.errors import ProbeError, ProfileError
from infragate.probes.backup.checks import verify_findings
from infragate.probes.backup.cluster_drill import ClusterDrillResult
from infragate.probes.backup.sources import FolderSource, S3Source, source_of
from infragate.profile import parse_profile
from infragate.profile.storage import PostgresBackups

PROMISES = {"schedule": "6h", "rpo": "7h", "rto": "15m", "retention": "2d"}
SCRATCH = "postgresql://drill:x@restore-host:5432/scratch"


def _profile_text(backups: Any) -> str:
    return yaml.safe_dump(
        {
            "name": "t",
            "gateway": {"base_url": "https://gw.example.test"},
            "datastores": {"postgres": {"dsn": "postgresql://app:x@db:5432/app"}},
            "backups": {"postgres": backups},
            "safety": {"environment": "staging"},
        }
    )


def test_one_set_or_a_list_of_sets(tmp_path: Path) -> None:
    single = parse_profile(_profile_text({"location": str(tmp_path), "scratch_dsn": SCRATCH, **PROMISES}))
    assert single.backups is not None and len(single.backups.postgres) == 1
    assert single.backups.postgres[0].label == str(tmp_path)
    several = parse_profile(
        _profile_text(
            [
                {"name": "local", "location": str(tmp_path), "scratch_dsn": SCRATCH, **PROMISES},
                {
                    "name": "offsite",
                    "location": "s3://bucket/db/",
                    "s3": {"region": "eu-west-1"},
                    "scratch_dsn": SCRATCH,
                    **PROMISES,
                },
                {"name": "pitr", "location": "pgbackrest:main", **PROMISES},
            ]
        )
    )
    assert several.backups is not None
    assert [(s.label, s.holds_dumps) for s in several.backups.postgres] == [
        ("local", True),
        ("offsite", True),
        ("pitr", False),
    ]
    assert several.backups.postgres[1].location == "s3://bucket/db"


@pytest.mark.parametrize(
    ("backups", "message"),
    [
        (
            {"location": "s3://", "scratch_dsn": SCRATCH, **PROMISES},
            "p.yaml:3: backups.postgres.location: s3://BUCKET/PREFIX with a bucket name",
        ),
        (
            {"location": "pgbackrest:", **PROMISES},
            "p.yaml:3: backups.postgres.location: pgbackrest:STANZA with a stanza name",
        ),
        (
            {"location": "/no/such/folder", "scratch_dsn": SCRATCH, **PROMISES},
            "backups.postgres.location: an existing file (no file at /no/such/folder)",
        ),
        (
            {"location": "s3://b/p", **PROMISES},
            "backups.postgres: scratch_dsn for restore drills (backups of logical dumps are always drilled)",
        ),
        (
            [
                {"location": "pgbackrest:main", **PROMISES},
                {"location": "s3://b", "scratch_dsn": "postgresql://a:b@db:5432/app", **PROMISES},
            ],
            "p.yaml:13: backups.postgres[1].scratch_dsn: a scratch database other than the source database",
        ),
        (
            {"location": "s3://b/p", "scratch_dsn": SCRATCH, "scratch_folder": "/tmp", **PROMISES},
            "backups.postgres: scratch_folder only on a pgbackrest: set (sets of dumps restore into scratch_dsn)",
        ),
        (
            {"location": "pgbackrest:main", "scratch_folder": "/no/such/folder", **PROMISES},
            "backups.postgres.scratch_folder: an existing file (no file at /no/such/folder)",
        ),
    ],
)
def test_bad_backup_sets_get_one_line(backups: Any, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(_profile_text(backups), file="p.yaml")
    assert message in str(caught.value)


VERIFY_REPORT = """stanza: main
status: error
  archiveId: 15-1, total WAL checked: 4, total valid WAL: 3
    missing: 0, checksum invalid: 1, size invalid: 0, other: 0
  backup: 20261123-173008F, status: invalid, total files checked: 1276, total valid files: 1275
    missing: 0, checksum invalid: 1, size invalid: 0, other: 0
  backup: 20261124-010000F, status: valid, total files checked: 1276, total valid files: 1276
    missing: 0, checksum invalid: 0, size invalid: 0, other: 0
"""


def test_pgbackrest_verify_reports_are_read_per_backup() -> None:
    findings = verify_findings(VERIFY_REPORT)
    assert set(findings) == {"", "20261123-173008F"}
    assert "total valid files: 1275 (missing: 0, checksum invalid: 1" in findings["20261123-173008F"][0]
    assert "total valid WAL: 3" in findings[""][0]
    assert verify_findings("stanza: main\nstatus: ok\n  backup: 1F, status: valid, total files checked: 1\n") == {}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait()


def _s3_set(endpoint: str, location: str) -> PostgresBackups:
    return PostgresBackups.model_validate(
        {
            "location": location,
            "s3": {"endpoint_url": endpoint, "access_key_id": "k", "secret_access_key": "s"},
            "scratch_dsn": SCRATCH,
            **PROMISES,
        }
    )


def test_an_s3_set_lists_and_fetches_backups_by_their_time_prefix(s3_endpoint: str, tmp_path: Path) -> None:
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket="backups")
    for name in ("20261122T000000Z", "20261123T060000Z", "not-a-backup"):
        client.put_object(Bucket="backups", Key=f"db/{name}/manifest.json", Body=b"{}")
        client.put_object(Bucket="backups", Key=f"db/{name}/app.dump", Body=name.encode())
    source = source_of(_s3_set(s3_endpoint, "s3://backups/db"))
    assert isinstance(source, S3Source)
    listing = source.listing()
    assert [item.name for item in listing] == ["20261123T060000Z", "20261122T000000Z"]
    assert listing[0].taken == datetime.datetime(2026, 11, 23, 6, tzinfo=datetime.UTC)
    with source.fetched(listing[0]) as folder:
        assert (folder / "app.dump").read_bytes() == b"20261123T060000Z"
        assert (folder / "manifest.json").exists()
    assert not folder.exists()  # downloads go when the check is done


def test_an_unreachable_or_missing_bucket_is_a_probe_error(s3_endpoint: str) -> None:
    with pytest.raises(ProbeError, match="could not list the backups in s3://absent/db: NoSuchBucket"):
        source_of(_s3_set(s3_endpoint, "s3://absent/db")).listing()
    with pytest.raises(ProbeError, match="could not list the backups in s3://b/db"):
        source_of(_s3_set("http://127.0.0.1:9", "s3://b/db")).listing()


def test_a_folder_set_ignores_what_is_not_a_backup(tmp_path: Path) -> None:
    for name in ("20261123T060000Z", ".partial-20261123T120000Z", "notes"):
        (tmp_path / name).mkdir()
    assert [item.name for item in FolderSource(tmp_path).listing()] == ["20261123T060000Z"]


def test_a_cluster_drill_names_what_did_not_come_back() -> None:
    drill = ClusterDrillResult(
        backup="pitr/20261124-010000F",
        scratch="/var/tmp/drills/x",
        restore_ok=True,
        restore_error="",
        restore_s=42.0,
        rto_s=3600.0,
        databases_expected=("app", "postgres"),
        databases_found=("postgres", "template1"),
        tables={},
        unreadable={"postgres": "query failed: ERROR:  invalid page in block 0 of relation base/5/16390"},
        scratch_removed=True,
    )
    assert drill.rto_check().met
    assert list(drill.data_check().problems) == [
        "expected database app (in the manifest of backup pitr/20261124-010000F) in the restored cluster, "
        "observed it missing",
        "expected every table of database postgres to read to its end, observed query failed: ERROR:  invalid "
        "page in block 0 of "
        "relation base/5/16390",
    ]
    slow = dataclasses.replace(drill, restore_s=3700.0)
    assert slow.rto_check().problem == (
        "expected backup pitr/20261124-010000F restored and accepting queries within the RTO of 3600 s, "
        "observed 3700.0 s"
    )
    broken = dataclasses.replace(drill, restore_ok=False, restore_error="could not locate required checkpoint record")
    assert broken.rto_check().problem == (
        "expected backup pitr/20261124-010000F to restore and start, "
        "observed could not locate required checkpoint record"
    )
