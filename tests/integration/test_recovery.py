"""Disruptions are journalled before they happen: a run killed mid-scenario is put right by `recover`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infragate.platforms import open_platform
from infragate.postgres import Dsn, query
from infragate.profile import load_profile
from infragate.sandbox import deployment
from tests.conftest import run_cli


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _verify_until(condition: Callable[[], bool], *arguments: str) -> subprocess.Popen[bytes]:
    """Start `infragate verify` in the background and return once condition holds (or 60 s passed)."""
    run = subprocess.Popen(
        [sys.executable, "-m", "infragate", "verify", *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)
    return run


def _kill_outright(run: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command and every process under it: no teardown, no finally; only the journal remembers."""
    for pid in [*_descendants(run.pid), run.pid]:
        os.kill(pid, signal.SIGKILL)
    run.wait(timeout=10)


@pytest.fixture
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "journal"
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(folder))
    return folder


@pytest.fixture
def sandbox(sandbox_root: Path) -> Iterator[deployment.SandboxState]:
    state = deployment.up("kill-recover", root=sandbox_root)
    yield state
    assert not deployment.down("kill-recover", root=sandbox_root).left_running


def test_recover_after_sigkill_mid_scale_out(
    sandbox: deployment.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    registry = Path(sandbox.directory) / "registry.json"
    run = _verify_until(
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
    _kill_outright(run)
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
def slow_restore_sandbox(sandbox_root: Path) -> Iterator[deployment.SandboxState]:
    state = deployment.up("kill-drill", "restore-slow", root=sandbox_root)
    yield state
    assert not deployment.down("kill-drill", root=sandbox_root).left_running


def _databases(profile_path: str) -> set[str]:
    profile = load_profile(profile_path)
    assert profile.backups is not None and profile.backups.postgres
    scratch_dsn = profile.backups.postgres[0].scratch_dsn
    assert scratch_dsn is not None
    scratch = Dsn.parse(scratch_dsn.get_secret_value())
    return {row[0] for row in query(scratch.on("postgres"), "SELECT datname FROM pg_database")}


def test_no_scratch_database_survives_a_run_killed_during_the_restore(
    slow_restore_sandbox: deployment.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    profile = slow_restore_sandbox.profile
    run = _verify_until(
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
    _kill_outright(run)
    assert "infragate_scratch" in _databases(profile), "the killed drill left its scratch database"

    recovered = run_cli("recover", "--target", profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "scratch database 127.0.0.1" in recovered.output and "verified dropped" in recovered.output
    assert "infragate_scratch" not in _databases(profile)
    assert "app" in _databases(profile), "the source database must be untouched"
