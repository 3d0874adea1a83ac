"""The Swarm adapter and features against the real Swarm reference stack on a local single-node swarm.

These tests need a Docker Engine (scripts/docker.sh starts one); without it they fail, never skip.
The known-bad stacks are in test_variants.py, which runs after this module has removed its stack
(fewer containers at once: every health check a second costs CPU).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from infragate.image.build import build_image, load_into_docker
from infragate.platforms import open_platform
from infragate.platforms.swarm import STOPPED_FROM
from infragate.profile import load_profile
from infragate.sandbox import swarm
from tests.conftest import CliRun, drill_timeline, kill_outright, run_cli, verify_until

SWARM_FEATURES = ("features/platform/swarm.feature", "features/resilience/rollback.feature")
RESILIENCE = ("features/resilience", "features/platform/replicas.feature")


def _labels(stack: swarm.SwarmState, service: str) -> dict[str, str]:
    """A service's labels as the Docker Engine has them (not through the adapter)."""
    labels: dict[str, str] = docker.from_env().services.get(f"{stack.stack}_{service}").attrs["Spec"]["Labels"]
    return labels


def _features(*paths: str) -> list[str]:
    return [argument for path in paths for argument in ("--features", path)]


@pytest.fixture(scope="module")
def stack(sandbox_root: Path) -> Iterator[swarm.SwarmState]:
    state = swarm.up("t-ref", root=sandbox_root)
    print(f"\nswarm reference stack: image build {state.image_build_s:.1f} s, deploy {state.deploy_s:.1f} s")
    yield state
    assert swarm.down("t-ref", root=sandbox_root) == []


# The tests on the shared reference stack stay on one xdist worker.
REFERENCE = pytest.mark.xdist_group("swarm-reference")


@REFERENCE
def test_the_swarm_adapter_reads_tasks_and_declared_configuration(stack: swarm.SwarmState) -> None:
    platform = open_platform(load_profile(Path(stack.profile)))
    replicas = platform.replicas("api")
    assert sorted(replica.id for replica in replicas.ready) == ["api-1", "api-2", "api-3"]
    assert platform.restart_policy("api") == "always"
    declared = platform.declared("api")  # type: ignore[attr-defined]
    assert declared.limits == {"cpus": 0.25, "memory": 128 * 1024**2}
    assert declared.update_failure_action == "rollback"
    assert declared.secrets == (f"{stack.stack}_db_password",)
    assert "DB_PASSWORD_FILE" in declared.environment and "DB_PASSWORD" not in declared.environment
    assert declared.networks == {f"{stack.stack}_backend": True}


@REFERENCE
def test_resilience_and_swarm_scenarios_pass_on_the_reference_stack(stack: swarm.SwarmState, tmp_path: Path) -> None:
    run = run_cli(
        "verify",
        "--target",
        stack.profile,
        "--allow-destructive",
        "--reports",
        str(tmp_path),
        *_features(*RESILIENCE, *SWARM_FEATURES),
        reports=tmp_path,
        timeout=600,
    )
    assert run.code == 0, run.output
    verdicts = run.verdicts()
    assert {record["verdict"] for record in verdicts.values()} == {"conformant"}
    assert len(verdicts) == 12  # 4 resilience, 2 replicas, 5 swarm configuration, 1 rollback


def _observed(run: CliRun, scenario: str) -> str:
    """What the judging step of a scenario observed (the step after the Background's)."""
    (record,) = [s for s in run.evidence()["scenarios"] if s["scenario"] == scenario]
    observed: str = record["steps"][1]["checks"][0]["observed"]
    return observed


@REFERENCE
def test_every_task_holds_what_the_stack_promises_read_from_inside_and_out(
    stack: swarm.SwarmState, tmp_path: Path
) -> None:
    features = _features("features/hosts/hardening.feature", "features/hosts/exposure.feature")
    run = run_cli("verify", "--target", stack.profile, *features, "--reports", str(tmp_path), reports=tmp_path)
    assert run.code == 0, run.output
    verdicts = {name: record["verdict"] for name, record in run.verdicts().items()}
    assert verdicts == {
        "No service runs as a user it was not given, root least of all": "conformant",
        "Keys and secrets are readable only by their owner": "conformant",
        "The configuration on disk is valid": "conformant",
        "Security-relevant packages are at least their declared versions": "conformant",
        "Kernel settings are the declared ones": "conformant",
        "No port answers from outside that is not declared exposed": "conformant",
        "No copy of a secret lies where others can read it": "not applicable",
        "Services listen only where declared": "not applicable",
    }, run.output
    users = _observed(run, "No service runs as a user it was not given, root least of all")
    assert all(f"api/api-{slot}: api as nobody" in users for slot in (1, 2, 3)), users
    assert "redis/redis-1: redis as redis" in users and "postgres/postgres-1: postgres as postgres" in users
    files = _observed(run, "Keys and secrets are readable only by their owner")
    assert "api/api-1: /run/secrets/db_password 0400 nobody" in files, files
    assert "redis/redis-1: /run/secrets/redis_password 0400 redis" in files, files
    packages = _observed(run, "Security-relevant packages are at least their declared versions")
    assert packages.count("libssl3 3.0.") == 3, packages


@REFERENCE
def test_recover_after_sigkill_mid_scale_out_on_swarm(
    stack: swarm.SwarmState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(tmp_path / "journal"))
    platform = open_platform(load_profile(Path(stack.profile)))
    run = verify_until(
        lambda: len(platform.replicas("api").running) >= 5,
        "--target",
        stack.profile,
        "--allow-destructive",
        "--features",
        "features/resilience/scaling.feature",
        "--reports",
        str(tmp_path / "reports"),
        timeout=120,
    )
    kill_outright(run)
    assert len(platform.replicas("api").running) >= 5, "the run was killed before it scaled out"
    recovered = run_cli("recover", "--target", stack.profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "scale api from 3 to 5" in recovered.output
    assert "api verified back at 3 ready replicas" in recovered.output
    deadline = time.monotonic() + 30
    while len(platform.replicas("api").running) != 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    # Swarm chooses which slots go on a scale-in; what counts is three ready replicas.
    assert len(platform.replicas("api").ready) == 3


@REFERENCE
def test_monitoring_scenarios_and_the_redis_drill_pass_on_the_reference_stack(
    stack: swarm.SwarmState, tmp_path: Path
) -> None:
    run = run_cli(
        "verify", "--target", stack.profile, "--allow-destructive", "--features", "features/monitoring",
        "--reports", str(tmp_path), reports=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.code == 0, run.output
    verdicts = {name: record["verdict"] for name, record in run.verdicts().items()}
    assert set(verdicts.values()) == {"conformant"} and len(verdicts) == 5, run.output
    timeline = drill_timeline(tmp_path)
    assert timeline["pending"] < timeline["firing"] <= timeline["delivered"] <= 15
    assert timeline["running again"] < timeline["resolved"]
    platform = open_platform(load_profile(Path(stack.profile)))
    assert platform.desired("redis") == 1 and platform.component_running("redis")  # type: ignore[attr-defined]


@REFERENCE
def test_recover_after_sigkill_mid_drill_gives_redis_back(
    stack: swarm.SwarmState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(tmp_path / "journal"))
    platform = open_platform(load_profile(Path(stack.profile)))
    run = verify_until(
        lambda: platform.desired("redis") == 0,
        "--target", stack.profile, "--allow-destructive", "--features", "features/monitoring/alert_drills.feature",
        "--reports", str(tmp_path / "reports"), timeout=60,
    )  # fmt: skip
    kill_outright(run)
    labels = _labels(stack, "redis")
    assert platform.desired("redis") == 0 and labels[STOPPED_FROM] == "1", "killed before the drill stopped Redis"
    recovered = run_cli("recover", "--target", stack.profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "redis verified running again" in recovered.output
    labels = _labels(stack, "redis")
    assert platform.desired("redis") == 1 and STOPPED_FROM not in labels
    assert platform.component_running("redis")  # type: ignore[attr-defined]


# What the image runs against the stack: the gateway through its published port, the platform's
# configuration through the Engine's socket. (Not the hosts: the image has no docker client for
# testinfra's docker backend; they would be could not verify.)
IMAGE_FEATURES = ("/features/gateway/health.feature", "/features/platform/swarm.feature")


@REFERENCE
def test_the_container_image_verifies_the_reference_stack(stack: swarm.SwarmState, tmp_path: Path) -> None:
    image = build_image()
    load_into_docker(image)
    reports = tmp_path / "reports"
    reports.mkdir(mode=0o777)
    reports.chmod(0o777)  # the image runs as nobody
    folder = Path(stack.directory)
    socket = "/var/run/docker.sock"
    command = [
        "docker", "run", "--rm", "--network", "host", "--group-add", str(os.stat(socket).st_gid),
        "-v", f"{socket}:{socket}", "-v", f"{folder}:{folder}:ro", "-v", f"{reports}:/work/reports",
        image.tag, "verify", "--target", stack.profile, *_features(*IMAGE_FEATURES), "--format", "json",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert (document["verdict"], document["target"]) == ("conformant", "reference-swarm")
    verdicts = {scenario["scenario"]: scenario["verdict"] for scenario in document["scenarios"]}
    assert set(verdicts.values()) == {"conformant"} and len(verdicts) == 6, verdicts
    (run_dir,) = reports.iterdir()  # written by nobody into the mounted folder
    assert document["reports"] == f"reports/{run_dir.name}"  # under the working folder, /work
    assert {"report.html", "junit.xml", "evidence.json"} <= {path.name for path in run_dir.iterdir()}
    assert run_dir.stat().st_uid == 65534
