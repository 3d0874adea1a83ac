"""Trust under faults: no disruption without consent, and an interrupted run leaves the target as it was.

The target's state is observed, never read from a record the disruption wrote: the replica
processes of the sandbox (from /proc), each answering its own health check.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from infragate.recovery.journal import Journal
from infragate.sandbox import local
from tests.conftest import descendants, run_cli

UNTAGGED_DESTRUCTIVE = """\
Feature: Steps that disrupt, written without any tag
  Scenario: A replica is killed
    Given steady traffic through the gateway
    When one replica of the service is killed
    Then the killed replica is replaced by a new one

  Scenario: The service is scaled out
    When the service is scaled out
    Then the new replicas are ready within the scaling time

  Scenario: The service is scaled back in
    Given the service runs scaled out
    And steady traffic through the gateway
    When the service is scaled back to its declared replicas
    Then no request fails

  Scenario: The replicas are restarted
    When every replica of the service is restarted one after another
    Then every replica was replaced

  Scenario: Load is offered
    Given the declared load has been offered through the gateway
    Then the p95 latency is below the declared bound

  Scenario: An alert drill runs
    When every declared alert drill stops its component and starts it again
    Then every drilled alert reached its receiver within the declared time
"""
REFUSED_STEPS = {
    "A replica is killed": "When one replica of the service is killed",
    "The service is scaled out": "When the service is scaled out",
    "The service is scaled back in": "Given the service runs scaled out",
    "The replicas are restarted": "When every replica of the service is restarted one after another",
    "Load is offered": "Given the declared load has been offered through the gateway",
    "An alert drill runs": "When every declared alert drill stops its component and starts it again",
}


def observed_replicas(directory: str) -> dict[str, int]:
    """Replica name -> pid of every backend process of this sandbox running now, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            zombie = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        match = re.search(r"infragate\.sandbox\.backend --name (\S+) --port (\d+) --sandbox (\S+)", command)
        if match and match.group(3) == directory and not zombie:
            found[match.group(1)] = int(entry.name)
    return found


def observed_redis(directory: str) -> int | None:
    """The pid of the sandbox's redis-server running now (from /proc: Redis titles itself with its
    address), or None."""
    address = f"redis-server 127.0.0.1:{local.SandboxState.read(Path(directory)).ports['redis']}"
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode() if entry.name.isdigit() else ""
            zombie = command and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        if command.strip().endswith(address) and not zombie:
            return int(entry.name)
    return None


def healthy(directory: str) -> set[str]:
    """The replicas whose processes run and whose own health check answers 200 (read from /proc)."""
    ports = {}
    for pid in observed_replicas(directory).values():
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        match = re.search(r"--name (\S+) --port (\d+)", command)
        if match:
            ports[match.group(1)] = int(match.group(2))
    answered = set()
    for name, port in ports.items():
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                answered.add(name)
        except requests.RequestException:
            pass
    return answered


def configuration(directory: str) -> dict[str, tuple[int, bytes]]:
    """Every configuration file of the sandbox (the gateway's, supervisord's, Redis's, ...): mtime and content."""
    return {
        str(path): (path.stat().st_mtime_ns, path.read_bytes())
        for pattern in ("*.conf", "*.cfg", "*.yml", "*.yaml")
        for path in sorted(Path(directory).rglob(pattern))
        if path.is_file() and "pgdata" not in path.parts
    }


@pytest.fixture(scope="module")
def target(sandbox_root: Path) -> Iterator[local.SandboxState]:
    state = local.up("trust", root=sandbox_root)
    yield state
    assert not local.down("trust", root=sandbox_root).left_running


@pytest.fixture
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "journal"
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(folder))
    return folder


def _profile_with(source: str, folder: Path, **safety: object) -> Path:
    data = yaml.safe_load(Path(source).read_text())
    data["safety"].update(safety)
    copy = Path(source).parent / f"{folder.name}-{'-'.join(f'{k}{v}' for k, v in safety.items())}.yaml"
    copy.write_text(yaml.safe_dump(data))
    return copy


@pytest.mark.parametrize(
    ("safety", "options"),
    [
        ({"environment": "production", "allow_destructive": False, "allow_load": False}, []),
        ({"environment": "staging", "allow_destructive": False, "allow_load": False}, ["--allow-load"]),
        ({"environment": "staging", "allow_destructive": True, "allow_load": True}, []),
    ],
    ids=["production", "profile-forbids", "no-command-line-consent"],
)
def test_every_destructive_step_is_refused_without_consent_whatever_the_tags(
    target: local.SandboxState,
    journal_dir: Path,
    tmp_path: Path,
    safety: dict[str, object],
    options: list[str],
) -> None:
    feature = tmp_path / "untagged.feature"
    feature.write_text(UNTAGGED_DESTRUCTIVE)
    profile = _profile_with(target.profile, tmp_path, **safety)
    before = observed_replicas(target.directory)
    redis_before = observed_redis(target.directory)
    configuration_before = configuration(target.directory)
    if "--allow-load" in options:  # the profile forbids load: asking for it is refused before anything runs
        asked = run_cli(
            "verify", "--target", str(profile), *options, "--reports", str(tmp_path / "r0"), reports=tmp_path
        )
        assert asked.code == 4 and "refused by the safety policy" in asked.output, asked.output
    run = run_cli(
        "verify",
        "--target",
        str(profile),
        "--features",
        str(feature),
        "--reports",
        str(tmp_path / "r"),
        reports=tmp_path / "r",
    )
    assert run.code == 4, run.output
    verdicts = run.verdicts()
    for scenario, step in REFUSED_STEPS.items():
        assert verdicts[scenario]["verdict"] == "refused by the safety policy", verdicts[scenario]
        assert verdicts[scenario]["failed_step"] == step
        assert "refused by the safety policy" in verdicts[scenario]["message"]
    assert observed_replicas(target.directory) == before, "a replica was disrupted without consent"
    assert observed_redis(target.directory) == redis_before is not None, "Redis was stopped without consent"
    # A refusal leaves no trace on the target (issue 28: the refused scale was journalled, then "undone",
    # which rewrote the gateway's configuration): its configuration files unchanged, content and mtime,
    # and nothing journalled, so nothing to undo.
    assert configuration(target.directory) == configuration_before, "a refused disruption touched the target"
    assert list(journal_dir.rglob("*.jsonl")) == [], "a refused disruption was journalled"


ROLLING_RESTART = """\
@platform @destructive @scaling
Feature: Rolling restarts alone
  Scenario: A rolling restart loses no request
    Given steady traffic through the gateway
    When every replica of the service is restarted one after another
    Then every replica was replaced
    And no request fails
"""
MODES = ("sigkill-all", "sigkill-command", "sigint", "sigterm")
RUNS = 12  # every stop mode on every feature once (4 x 3)


def _pending(journal_dir: Path) -> bool:
    return any(Journal(folder).pending() for folder in journal_dir.glob("*") if folder.is_dir())


def _interrupt(run: subprocess.Popen[bytes], mode: str) -> None:
    if mode == "sigkill-all":  # the command and every process under it: only the journal remembers
        for pid in [*descendants(run.pid), run.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    elif mode == "sigkill-command":  # the command's process group; the suite runs in its own session
        os.killpg(run.pid, signal.SIGKILL)
    else:
        run.send_signal(signal.SIGINT if mode == "sigint" else signal.SIGTERM)


def test_interrupted_destructive_runs_leave_the_target_as_it_was(
    target: local.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    """RUNS runs cut at random moments by every kind of stop; recover after each; the target observed."""
    chooser = random.Random(20261202)
    rolling = tmp_path / "rolling.feature"
    rolling.write_text(ROLLING_RESTART)
    features = ["features/resilience/failover.feature", "features/resilience/scaling.feature", str(rolling)]
    before = sorted(observed_replicas(target.directory))
    assert before == ["api-1", "api-2", "api-3"] and healthy(target.directory) == set(before)
    outcomes = []
    mid_disruption = 0
    for index in range(RUNS):
        mode, feature = MODES[index % len(MODES)], features[(index // len(MODES) + index) % len(features)]
        delay = chooser.uniform(0.0, 3.0)
        reports = tmp_path / f"run-{index}"
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infragate",
                "verify",
                "--target",
                target.profile,
                "--allow-destructive",
                "--features",
                feature,
                "--reports",
                str(reports),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Cut the run while a disruption is under way: once its intent is journalled, after a random delay.
        deadline = time.monotonic() + 60
        while not _pending(journal_dir) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(delay)
        interrupted = run.poll() is None
        _interrupt(run, mode)
        output = run.communicate(timeout=240)[0].decode()
        mid_disruption += interrupted
        assert not interrupted or run.returncode != 0, f"run {index} ({mode}) was interrupted but exited 0:\n{output}"
        for folder in reports.iterdir():
            if not (folder / "summary.md").exists():
                continue  # killed outright before any report: nothing claims a verdict
            head = (folder / "summary.md").read_text().splitlines()[0]
            evidence = json.loads((folder / "evidence.json").read_text())
            finished = not evidence["interrupted"] and all(
                scenario["verdict"] == "conformant" for scenario in evidence["scenarios"]
            )
            # Conformant only where the suite ran to its end before the stop came, never when interrupted.
            assert (": conformant" in head) == finished, f"run {index} ({mode}): {head}; {evidence['notes']}"
        recovered = run_cli("recover", "--target", target.profile, reports=tmp_path, timeout=240)
        after = sorted(observed_replicas(target.directory))
        settled = time.monotonic() + 15
        while healthy(target.directory) != set(after) and time.monotonic() < settled:
            time.sleep(0.2)  # a replica killed just before recovery may still be starting again
        undone_by_recover = recovered.output.count("  undone ")
        outcomes.append((index, mode, Path(feature).stem, round(delay, 1), run.returncode, undone_by_recover, after))
        assert recovered.code == 0, f"run {index} ({mode}, {feature}): {recovered.output}"
        assert after == before, f"run {index} ({mode}, {feature}, {delay:.1f} s) left {after}: {recovered.output}"
        assert healthy(target.directory) == set(before), f"run {index} ({mode}): not every replica is healthy"
    print("\n".join(map(str, outcomes)))
    assert mid_disruption >= RUNS * 3 // 4, f"only {mid_disruption} of {RUNS} runs were cut short"


def test_a_sigkilled_alert_drill_is_put_back_by_recover(
    target: local.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    """Every process of a run killed while its drill has Redis stopped; `infragate recover` starts
    Redis again, observed from /proc and by Redis answering."""
    replicas = observed_replicas(target.directory)
    assert observed_redis(target.directory) is not None
    run = subprocess.Popen(
        [
            *(sys.executable, "-m", "infragate", "verify", "--target", target.profile, "--allow-destructive"),
            *("--features", "features/monitoring/alert_drills.feature", "--reports", str(tmp_path / "r")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while observed_redis(target.directory) is not None and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert observed_redis(target.directory) is None, "the drill never stopped Redis"
    _interrupt(run, "sigkill-all")
    run.wait(timeout=30)
    assert _pending(journal_dir)
    recovered = run_cli("recover", "--target", target.profile, reports=tmp_path, timeout=120)
    assert recovered.code == 0, recovered.output
    assert "  undone " in recovered.output, recovered.output
    assert observed_redis(target.directory) is not None
    password = (Path(target.directory) / "secrets" / "redis-password").read_text().strip()
    with socket.create_connection(("127.0.0.1", target.ports["redis"]), timeout=5) as connection:
        connection.sendall(f"AUTH {password}\r\nPING\r\n".encode())
        time.sleep(0.2)
        assert b"+PONG" in connection.recv(256)
    assert observed_replicas(target.directory) == replicas
    assert not _pending(journal_dir)


TWO_DISRUPTIONS = """\
@platform @destructive
Feature: Two disruptions in a row
  Scenario: A replica is killed
    Given steady traffic through the gateway
    When one replica of the service is killed
    Then the killed replica is replaced by a new one

  Scenario: The replicas are restarted
    Given steady traffic through the gateway
    When every replica of the service is restarted one after another
    Then every replica was replaced
"""
PHASES = ("before", "during", "undo", "after")
STOP_RUNS = 20  # every phase with both signals, at least twice each
# How long a stop may take from the test's kill to the suite's signal handler (verify forwards it).
DELIVERY_S = 0.25


def _journal_lines(journal_dir: Path) -> list[dict[str, object]]:
    lines = []
    for file in sorted(journal_dir.rglob("*.jsonl")):
        for line in file.read_text().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
    return lines


def _first_with(journal_dir: Path, status: str) -> bool:
    return any(line.get("status") == status for line in _journal_lines(journal_dir))


def _phase_at(moment: float, lines: list[dict[str, object]]) -> str:
    """Where a moment falls in the life of the run's first disruption, from what the journal wrote."""
    times: dict[str, float] = {}
    for line in lines:
        times.setdefault(str(line["status"]), float(str(line["written_at"])))
    for phase, status in (("before", "pending"), ("during", "undoing"), ("undo", "undone")):
        if status not in times or moment < times[status]:
            return phase
    return "after"


def test_a_stop_at_any_phase_of_a_disruption_starts_nothing_new_and_is_reported_interrupted(
    target: local.SandboxState, journal_dir: Path, tmp_path: Path
) -> None:
    """Issue 28: a SIGTERM that came while an undo held the signals was lost: the run went on to a rolling
    restart and a kill, and its reports said conformant. SIGTERM and SIGINT to verify's process group, aimed
    before the first disruption, during it, during its undo and after it; the journal and the target observed."""
    chooser = random.Random(20261207)
    feature = tmp_path / "two.feature"
    feature.write_text(TWO_DISRUPTIONS)
    before = sorted(observed_replicas(target.directory))
    gateway_conf = (Path(target.directory) / "nginx" / "nginx.conf").read_bytes()
    assert before == ["api-1", "api-2", "api-3"] and healthy(target.directory) == set(before)
    hit: list[tuple[str, str, str]] = []
    for index in range(STOP_RUNS):
        aim = PHASES[index % len(PHASES)]
        stop = (signal.SIGTERM, signal.SIGINT)[(index // len(PHASES)) % 2]
        for stale in journal_dir.rglob("*.jsonl"):
            stale.unlink()
        reports = tmp_path / f"stop-{index}"
        run = subprocess.Popen(
            [
                *(sys.executable, "-m", "infragate", "verify", "--target", target.profile, "--allow-destructive"),
                *("--features", str(feature), "--reports", str(reports)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        if aim == "before":
            time.sleep(chooser.uniform(0.5, 2.5))
        else:
            status = {"during": "pending", "undo": "undoing", "after": "undone"}[aim]
            while not _first_with(journal_dir, status) and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if aim == "during":
                time.sleep(chooser.uniform(0.0, 1.0))
        assert run.poll() is None, f"run {index} ended before its stop ({aim}):\n{run.communicate()[0].decode()}"
        sent_at = time.time()
        os.killpg(run.pid, stop)
        output = run.communicate(timeout=240)[0].decode()
        lines = _journal_lines(journal_dir)
        phase = _phase_at(sent_at, lines)
        hit.append((aim, phase, stop.name))
        started_after = [
            line["disruption"]
            for line in lines
            if line["status"] == "pending" and float(str(line["written_at"])) > sent_at + DELIVERY_S
        ]
        assert started_after == [], f"run {index} ({stop.name} {phase}): started after the stop: {started_after}"
        assert run.returncode == 2, f"run {index} ({stop.name} {phase}) exited {run.returncode}:\n{output}"
        assert "interrupted" in output, output
        for folder in reports.iterdir() if reports.exists() else []:
            if not (folder / "evidence.json").exists():
                continue  # stopped before the suite wrote anything: no report claims a verdict
            evidence = json.loads((folder / "evidence.json").read_text())
            head = (folder / "summary.md").read_text().splitlines()[0]
            assert evidence["interrupted"] and evidence["exit_code"] == 2, (index, phase, evidence["notes"])
            assert "interrupted" in head and "conformant" not in head.replace("could not verify", ""), head
            verdicts = {scenario["scenario"]: scenario["verdict"] for scenario in evidence["scenarios"]}
            if phase == "during":  # the scenario the stop cut short proves nothing
                assert verdicts["A replica is killed"] == "interrupted", (index, phase, verdicts)
            if phase == "undo":  # the undo was held to its end, and nothing started after it
                assert list(verdicts) == ["A replica is killed"], (index, phase, verdicts)
            assert all(s["verdict"] != "conformant" or s["steps"] for s in evidence["scenarios"]), verdicts
        # The target as before, observed: no undo left to anyone, the same replicas, healthy, the gateway's
        # configuration as it was.
        assert not _pending(journal_dir), f"run {index} ({stop.name} {phase}) left an undo pending:\n{output}"
        settled = time.monotonic() + 15
        while healthy(target.directory) != set(before) and time.monotonic() < settled:
            time.sleep(0.2)
        assert sorted(observed_replicas(target.directory)) == before, f"run {index} ({stop.name} {phase})"
        assert healthy(target.directory) == set(before), f"run {index} ({stop.name} {phase})"
        assert (Path(target.directory) / "nginx" / "nginx.conf").read_bytes() == gateway_conf
    print("\n".join(f"{aim:>6} -> {phase:<6} {name}" for aim, phase, name in hit))
    for phase in PHASES:
        assert sum(seen == phase for _, seen, _ in hit) >= 2, f"the stop landed {phase} too rarely: {hit}"
