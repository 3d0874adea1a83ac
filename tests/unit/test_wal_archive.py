"""Continuous WAL archiving: how profiles declare it, and the verdicts drawn from what the primary reports."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from infragate.errors import ProfileError
from infragate.probes.backup.wal import WalArchiveState
from infragate.profile import parse_profile

PROMISES = {"schedule": "1d", "rpo": "1d", "rto": "1h", "retention": "30d"}
SCRATCH = "postgresql://drill:x@restore-host:5432/scratch"
SETS = [
    {"name": "dumps", "location": "s3://bucket/db", "scratch_dsn": SCRATCH, **PROMISES},
    {"name": "pitr", "location": "pgbackrest:main", **PROMISES},
]


def _profile_text(wal_archive: dict[str, Any], datastores: bool = True) -> str:
    return yaml.safe_dump(
        {
            "name": "t",
            "gateway": {"base_url": "https://gw.example.test"},
            "datastores": {"postgres": {"dsn": "postgresql://app:x@db:5432/app"}} if datastores else {},
            # Without the source database, a set of dumps (drilled from it) is refused first.
            "backups": {"postgres": SETS if datastores else SETS[1:], "wal_archive": wal_archive},
            "safety": {"environment": "staging"},
        },
        sort_keys=False,
    )


def test_the_repository_is_a_declared_pgbackrest_set() -> None:
    profile = parse_profile(_profile_text({"rpo": "15m", "repository": "pitr"}))
    assert profile.backups is not None and profile.backups.wal_archive is not None
    assert profile.backups.wal_archive.rpo == 900.0
    repository = profile.backups.wal_repository()
    assert repository is not None and repository.location == "pgbackrest:main"


@pytest.mark.parametrize(
    ("wal_archive", "datastores", "message"),
    [
        ({"rpo": "15m", "repository": "dumps"}, True, "backups.wal_archive.repository: the name of a pgbackrest: "),
        ({"rpo": "15m", "repository": "nope"}, True, "(known: pitr)"),
        ({"rpo": "15m"}, False, "backups.wal_archive.dsn: a DSN of the primary (or datastores.postgres.dsn)"),
        ({"rpo": "soon"}, True, "backups.wal_archive.rpo: "),
    ],
)
def test_a_wrong_wal_archive_section_is_one_line(wal_archive: dict[str, Any], datastores: bool, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(_profile_text(wal_archive, datastores), file="p.yaml")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("p.yaml")


HEALTHY = WalArchiveState(
    server="db:5432/app",
    rpo_s=900.0,
    archive_mode="on",
    has_command=True,
    archive_library="",
    archive_timeout_s=300.0,
    archived_count=40,
    last_archived_wal="000000010000000A00000041",
    last_archived_at="2026-11-23T10:00:00Z",
    failed_count=2,
    last_failed_wal="000000010000000A00000030",
    last_failed_at="2026-11-23T09:00:00Z",
    failing=False,
    counted_since="2026-11-01T00:00:00Z",
    waiting=1,
    oldest_waiting="000000010000000A00000042",
    oldest_waiting_age_s=5.0,
    repository="pitr",
    repository_newest="000000010000000A00000041",
)


def _problems(state: WalArchiveState) -> list[str]:
    found = [
        state.archiving_check().problem,
        state.switch_check().problem,
        state.failure_check().problem,
        state.backlog_check().problem,
        state.repository_check().problem,
    ]
    return [problem for problem in found if problem]


def test_a_healthy_archive_has_no_problem() -> None:
    # An old failure that a later success followed, and one segment waiting for a few seconds, are normal.
    assert _problems(HEALTHY) == []


@pytest.mark.parametrize(
    ("changes", "method", "expected"),
    [
        ({"archive_mode": "off"}, "archiving_check", "expected archive_mode on, observed off"),
        ({"has_command": False}, "archiving_check", "observed neither"),
        ({"archive_timeout_s": 0.0}, "switch_check", "observed 0 (off)"),
        (
            {"archive_timeout_s": 1800.0, "waiting": 0},
            "switch_check",
            "at most the RPO of 15.0 min, observed 30.0 min",
        ),
        (
            {"failing": True, "last_failed_at": "2026-11-23T10:01:00Z"},
            "failure_check",
            "observed 000000010000000A00000030 failing at 2026-11-23T10:01:00Z (2 failures since 2026-11-01T00:00:00Z)",
        ),
        (
            {"failing": True, "last_archived_wal": "", "last_archived_at": ""},
            "failure_check",
            "nothing was archived since 2026-11-01T00:00:00Z",
        ),
        (
            {"waiting": 7, "oldest_waiting_age_s": 601.0},
            "backlog_check",
            "7 WAL segment(s) waiting, the oldest (000000010000000A00000042) for 10.0 min, with changes up to 15.0 min",
        ),
        ({"repository_newest": None}, "repository_check", "observed no WAL at all in the repository"),
        (
            {"repository_newest": "000000010000000A00000040"},
            "repository_check",
            "newest segment 000000010000000A00000040 behind the server's 000000010000000A00000041",
        ),
    ],
)
def test_each_defect_is_named_by_its_own_check(changes: dict[str, Any], method: str, expected: str) -> None:
    state = dataclasses.replace(HEALTHY, **changes)
    problem = getattr(state, method)().problem
    assert problem is not None and expected in problem, problem
    assert _problems(state) == [problem]


def test_the_backlog_counts_the_wait_plus_the_switch_interval() -> None:
    # 600 s waiting + 300 s archive_timeout = 900 s: exactly the RPO is still kept.
    assert dataclasses.replace(HEALTHY, waiting=3, oldest_waiting_age_s=600.0).backlog_check().met
    assert dataclasses.replace(HEALTHY, waiting=3, oldest_waiting_age_s=600.5).backlog_check().problem is not None


@pytest.mark.parametrize(
    ("last_archived_wal", "repository_newest", "conformant"),
    [
        # A backup history file names the segment the backup started in: that segment must be there.
        ("000000010000000A00000041.00000028.backup", "000000010000000A00000041", True),
        ("000000010000000A00000042.00000028.backup", "000000010000000A00000041", False),
        # A timeline history file names no segment; nothing archived yet means nothing to look for.
        ("00000002.history", "000000010000000A00000041", True),
        ("", None, True),
        # A later timeline sorts after every segment of an earlier one.
        ("000000020000000A00000001", "000000010000000A00000041", False),
        ("000000010000000A00000041", "000000020000000A00000001", True),
        # Without a declared repository, there is nothing to hold the server's word against.
        ("000000010000000A00000099", None, None),
    ],
)
def test_the_repository_check_reads_wal_file_names(
    last_archived_wal: str, repository_newest: str | None, conformant: bool | None
) -> None:
    state = dataclasses.replace(HEALTHY, last_archived_wal=last_archived_wal, repository_newest=repository_newest)
    if conformant is None:
        state = dataclasses.replace(state, repository=None)
    assert (state.repository_check().problem is None) == (conformant is not False)
