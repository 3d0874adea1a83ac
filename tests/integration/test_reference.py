"""The features against the real, conformant reference deployment, through the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from infragate.sandbox import local
from infragate.sandbox.variants import scenario_steps
from infragate.suite import BUILTIN_FEATURES
from tests.conftest import allure_reader, cucumber_reader, run_cli, run_measuring, server_processes

# The full runs and the load tests measure time (rate limits, latency, failover budgets): they take
# one xdist worker, in turn, while the other runs the rest of this folder (scripts/test.sh).
pytestmark = pytest.mark.xdist_group("timing")

REPORT_FILES = ("report.html", "summary.md", "junit.xml", "cucumber.json", "evidence.json")


def test_a_target_run_writes_every_report(reference: local.SandboxState, tmp_path: Path) -> None:
    run = run_cli(
        "verify",
        "--target",
        reference.profile,
        "--features",
        "features/gateway/health.feature",
        "--reports",
        str(tmp_path),
        reports=tmp_path,
    )
    assert run.code == 0, run.output
    verdicts = run.verdicts()
    assert {scenario["verdict"] for scenario in verdicts.values()} == {"conformant"}
    (folder,) = tmp_path.iterdir()
    for name in REPORT_FILES:
        assert (folder / name).stat().st_size > 0, name
    assert 'failures="0"' in (folder / "junit.xml").read_text()
    assert cucumber_reader(folder / "cucumber.json") == "cucumber-js"
    assert [(row["Name"], row["Status"]) for row in allure_reader(folder / "allure-results")] == [
        ("The gateway's health endpoint answers", "passed")
    ]
    assert "  conformant        Gateway health: The gateway's health endpoint answers (" in run.output


def test_the_main_job_passes_every_scenario_and_tears_down(sandbox_root: Path, tmp_path: Path) -> None:
    """`infragate verify` with no target: every built-in scenario, destructive ones included, passes."""
    before = server_processes(sandbox_root)
    run = run_measuring("verify", reports=tmp_path)
    assert run.code == 0, run.output
    scenarios = run.evidence()["scenarios"]
    assert len(scenarios) == len(scenario_steps([str(BUILTIN_FEATURES)]))
    # The @swarm and @kubernetes scenarios need such a target (tests/swarm and tests/kubernetes run them there).
    other_platforms = {
        "platform/swarm.feature",
        "resilience/rollback.feature",
        "platform/kubernetes.feature",
        "platform/autoscaling.feature",
    }
    verdicts = {(scenario["feature_file"] in other_platforms, scenario["verdict"]) for scenario in scenarios}
    assert verdicts == {(False, "conformant"), (True, "not applicable")}
    # The terminal: one line per scenario as it ends (a feature's not-applicable scenarios folded into
    # one line with their reason), a few around them: the run's start and end (six), a line per alert
    # drill and per 5 s of load (progress of long work).
    lines = run.output.splitlines()
    folded = {scenario["feature"] for scenario in scenarios if scenario["verdict"] == "not applicable"}
    for scenario in scenarios:
        if scenario["verdict"] != "not applicable":
            assert sum(f"{scenario['feature']}: {scenario['scenario']} (" in line for line in lines) == 1, scenario
    for feature in folded:
        assert sum(line.startswith(f"  not applicable    {feature}: ") for line in lines) == 1, feature
    ran = len(scenarios) - sum(scenario["verdict"] == "not applicable" for scenario in scenarios)
    assert len(lines) <= ran + len(folded) + 15, run.output
    assert run.evidence()["notes"] == ["reference deployment torn down; verified that none of its processes is left"]
    assert server_processes(sandbox_root) - before == set()
    assert [path.name for path in sandbox_root.iterdir() if path.name.startswith("verify-")] == []


def test_ctrl_c_during_the_run_leaves_no_process(sandbox_root: Path, tmp_path: Path) -> None:
    before = server_processes(sandbox_root)
    child = subprocess.Popen(
        [sys.executable, "-m", "infragate", "verify", "--reports", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(tmp_path.iterdir()), "the run never reached the suite"
    child.send_signal(signal.SIGINT)
    output, _ = child.communicate(timeout=60)
    assert child.returncode == 2, output
    assert "interrupted by SIGINT" in output
    assert "verified that none of its processes is left" in output
    assert server_processes(sandbox_root) - before == set()


def test_an_unreachable_gateway_could_not_be_verified(tmp_path: Path) -> None:
    profile = tmp_path / "unreachable.yaml"
    profile.write_text(
        "name: unreachable\ngateway: {base_url: 'https://127.0.0.1:9'}\nsafety: {environment: staging}\n"
    )
    run = run_cli("verify", "--target", str(profile), "--reports", str(tmp_path / "r"), reports=tmp_path / "r")
    assert run.code == 2, run.output
    assert "could not reach https://127.0.0.1:9/health: connection refused" in run.output
    assert "Traceback" not in run.output


def test_a_role_without_pg_monitor_could_not_verify_wal_archiving(
    reference: local.SandboxState, tmp_path: Path
) -> None:
    # The application's role may not read the archive status: the WAL scenarios are errors that say
    # which grant is missing, never passes on half the evidence.
    profile = Path(reference.profile)
    data = yaml.safe_load(profile.read_text())
    data["backups"]["wal_archive"]["dsn"] = data["datastores"]["postgres"]["dsn"]
    unprivileged = profile.with_name("profile-no-monitor.yaml")
    unprivileged.write_text(yaml.safe_dump(data, sort_keys=False))
    features = ("--features", "features/backup/wal_archive.feature")
    run = run_cli("verify", "--target", str(unprivileged), *features, "--reports", str(tmp_path), reports=tmp_path)
    assert run.code == 2, run.output
    verdicts = run.verdicts()
    assert {record["verdict"] for record in verdicts.values()} == {"could not verify"}
    assert "GRANT pg_monitor TO app" in run.output
    assert "Traceback" not in run.output


def test_a_profile_typo_is_one_line_and_exit_3(tmp_path: Path) -> None:
    profile = tmp_path / "typo.yaml"
    profile.write_text("name: t\ngateway: {base_url: 'https://127.0.0.1:9'}\nsafety: {enviroment: staging}\n")
    run = run_cli("verify", "--target", str(profile), reports=tmp_path)
    assert run.code == 3
    assert run.output.strip() == (
        f"infragate: {profile}:3: safety.enviroment: unknown key; did you mean "
        "'environment'? expected one of: allow_destructive, allow_load, environment, "
        "max_duration, max_rate, max_requests (and 1 more problem)"
    )


def test_asking_for_destructive_work_the_profile_forbids_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "prod.yaml"
    profile.write_text("name: prod\ngateway: {base_url: 'https://127.0.0.1:9'}\nsafety: {environment: production}\n")
    run = run_cli("verify", "--target", str(profile), "--allow-destructive", reports=tmp_path)
    assert run.code == 4
    assert "refused by the safety policy: target 'prod' (environment production)" in run.output


def test_a_bad_option_is_one_line_and_exit_3(tmp_path: Path) -> None:
    run = run_cli("verify", "--targte", "x.yaml", reports=tmp_path)
    assert (run.code, run.output.strip()) == (3, "infragate: unrecognized arguments: --targte x.yaml")
    run = run_cli("verify", "--variant", "no-such-defect", reports=tmp_path)
    assert run.code == 3 and "unknown variant 'no-such-defect'" in run.output


def test_sandbox_commands_round_trip(sandbox_root: Path, tmp_path: Path) -> None:
    up = run_cli("sandbox", "up", "--name", "cli-roundtrip", reports=tmp_path)
    assert up.code == 0, up.output
    assert f"profile: {sandbox_root}/cli-roundtrip/profile.yaml" in up.output
    assert run_cli("profile", "check", str(sandbox_root / "cli-roundtrip" / "profile.yaml"), reports=tmp_path).code == 0
    status = run_cli("sandbox", "status", "--name", "cli-roundtrip", reports=tmp_path)
    assert status.code == 0 and "api-1        RUNNING" in status.output
    down = run_cli("sandbox", "down", "--name", "cli-roundtrip", reports=tmp_path)
    assert down.code == 0 and "verified that none of its processes is left" in down.output
    assert not (sandbox_root / "cli-roundtrip").exists()
