"""Disruptions are journalled before they happen: a run killed mid-scenario is put right by `recover`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infragate.platforms import open_platform
from infragate.probes.backup.postgres import Dsn, query
from infragate.profile import load_profile
from infragate.sandbox import local
from tests.conftest import kill_outright, run_cli, verify_until


@pytest.fixture
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "journal"
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(folder))
    return folder


@pytest.fixture
def sandbox(sandbox_root: Path) -> Iterator[local.SandboxState]:
    state = local.up("kill-recover", root=sandbox_root)
    yield state
    assert not local.down("kill-recover", root=sandbox_root).left_running


def test_recover_after_sigkill_mid_scale_out(sandbox: local.SandboxState, journal_dir: Path, tmp_path: Path) -> None:
    registry = Path(sandbox.directory) / "registry.json"
    run = verify_until(
        lambda: len(json.loads(registry.read_text())["services"]["api"]) >= 5,
        "--target",
        sandbox.profile,
        "--allow-destructive",
        "--features",
        "features/resilience/scaling.feature",
        "--reports",
        str(tmp_path / "reports"),
    )
    assert len(json.loads(registry.read_text())["services"]["api"]) == 5, "the scale-out never happened"
    kill_outright(run)
    time.sleep(0.5)
    assert len(json.loads(registry.read_text())["services"]["api"]) == 5, "the killed run left the target scaled out"
    assert list(journal_dir.rglob("*.jsonl")), "no journal was written before the disruption"

    recovered = run_cli("recover", "--target", sandbox.profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "verified back at its starting state" in recovered.output
    replicas = open_platform(load_profile(sandbox.profile)).replicas("api")
    assert (len(replicas.running), len(replicas.ready)) == (3, 3)
    assert len(json.loads(registry.read_text())["services"]["api"]) == 3

    again = run_cli("recover", "--target", sandbox.profile, reports=tmp_path)
    assert again.code == 0 and "nothing to recover" in again.output


@pytest.fixture
def slow_restore_sandbox(sandbox_root: Path) -> Iterator[local.SandboxState]:
    state = local.up("kill-drill", "restore-slow", root=sandbox_root)
    yield state
    assert not local.down("kill-drill", root=sandbox_root).left_running


def _databases(profile_path: str) -> set[str]:
    profile = load_profile(profile_path)
    assert profile.backups is not None and profile.backups.postgres
    scratch_dsn = profile.backups.postgres[0].scratch_dsn
    assert scratch_dsn is not None
    scratch = Dsn.parse(scratch_dsn.get_secret_value())
    return {row[0] for row in query(scratch.on("postgres"), "SELECT datname FROM pg_database")}


def test_no_scratch_database_survives_a_run_killed_during_the_restore(
    slow_restore_sandbox: local.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    profile = slow_restore_sandbox.profile
    run = verify_until(
        lambda: "infragate_scratch" in _databases(profile),
        "--target",
        profile,
        "--tags",
        "backup",
        "--features",
        "features/backup/backups.feature",
        "--reports",
        str(tmp_path / "reports"),
    )
    assert "infragate_scratch" in _databases(profile), "the drill never created its scratch database"
    kill_outright(run)
    assert "infragate_scratch" in _databases(profile), "the killed drill left its scratch database"

    recovered = run_cli("recover", "--target", profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "scratch database 127.0.0.1" in recovered.output and "verified dropped" in recovered.output
    assert "infragate_scratch" not in _databases(profile)
    assert "app" in _databases(profile), "the source database must be untouched"


def test_no_scratch_cluster_survives_a_run_killed_during_a_pgbackrest_drill(
    sandbox: local.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    drills = Path(sandbox.directory) / "drills"
    run = verify_until(
        lambda: any(drills.glob("*/data/postmaster.pid")),
        "--target",
        sandbox.profile,
        "--features",
        "features/backup/backups.feature",
        "--reports",
        str(tmp_path / "reports"),
    )
    assert any(drills.glob("*/data/postmaster.pid")), "the drill never started its restored cluster"
    kill_outright(run)
    (left,) = list(drills.iterdir())
    assert (left / "data" / "PG_VERSION").exists(), "the killed drill left no restored cluster"

    recovered = run_cli("recover", "--target", sandbox.profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert f"scratch cluster {left} verified removed" in recovered.output
    assert list(drills.iterdir()) == []
    assert not list(Path("/tmp").glob("ig-drill-*")), "the drill's socket folder was left"
    assert "app" in _databases(sandbox.profile), "the source database must be untouched"
