"""A platform or store whose extra is not installed is one clear line naming the extra to install."""

from __future__ import annotations

import sys

import pytest
import yaml

from infragate.errors import ProbeError, UsageError
from infragate.platforms import open_platform
from infragate.probes.backup.sources import S3Source
from infragate.profile import parse_profile
from infragate.sandbox.swarm.stack import profile_for


def test_a_swarm_target_without_the_swarm_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = parse_profile(yaml.safe_dump(profile_for("t", None, "ig-t", 8080)), environ={})
    monkeypatch.delitem(sys.modules, "infragate.platforms.swarm", raising=False)
    monkeypatch.setitem(sys.modules, "docker", None)  # as if the docker SDK were not installed
    with pytest.raises(
        UsageError, match=r"platform.kind swarm needs the 'swarm' extra \(pip install 'infragate\[swarm\]'\)"
    ):
        open_platform(profile)


def test_an_s3_backup_set_without_the_s3_extra_cannot_be_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    text = """
version: 1
name: shop
gateway: {base_url: "https://127.0.0.1:8443"}
datastores: {postgres: {dsn: "postgresql://app:x@127.0.0.1:5432/app"}}
backups:
  postgres:
    location: s3://backups/postgres
    schedule: 6h
    rpo: 7h
    rto: 1h
    retention: 2d
    scratch_dsn: postgresql://drill:x@127.0.0.2:5432/scratch
safety: {environment: staging}
"""
    config = parse_profile(text, environ={}).backups.postgres[0]  # type: ignore[union-attr]
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ProbeError, match=r"reading s3:// needs the 's3' extra"):
        S3Source(config)
