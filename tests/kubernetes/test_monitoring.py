"""The monitoring features against the reference cluster's monitoring (Prometheus finding the API's
pods through the API server, Alertmanager, infragate's receiver) and its alert drill: the API's
Deployment scaled to zero through the adapter and given its replicas back."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.errors import SafetyError
from infragate.platforms import open_platform
from infragate.platforms.kubernetes import STOPPED_FROM
from infragate.profile import load_profile
from infragate.retry import poll_until
from infragate.safety import Consent
from infragate.sandbox.kubernetes import cluster
from tests.conftest import DRILL_SCENARIO, drill_timeline, kill_outright, run_cli, verify_until


def test_a_drill_is_refused_by_the_adapter_without_consent(reference: cluster.ClusterState) -> None:
    platform = open_platform(load_profile(Path(reference.profile)))
    with pytest.raises(SafetyError, match="stop api"):
        platform.stop_component("api")  # type: ignore[attr-defined]
    assert platform.desired("api") >= 3


def test_monitoring_scenarios_and_the_drill_pass_on_the_cluster(
    reference: cluster.ClusterState, tmp_path: Path
) -> None:
    run = run_cli(
        "verify", "--target", reference.profile, "--allow-destructive", "--features", "features/monitoring",
        "--reports", str(tmp_path), reports=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.code == 0, run.output
    verdicts = {name: record["verdict"] for name, record in run.verdicts().items()}
    assert set(verdicts.values()) == {"conformant"}, run.output
    assert DRILL_SCENARIO in verdicts
    timeline = drill_timeline(tmp_path)
    # Scaled to zero, the pods answer through their preStop, then the whole API is gone from the scrape.
    assert timeline["target down"] < timeline["pending"] < timeline["firing"] <= timeline["delivered"] <= 20
    assert timeline["running again"] < timeline["resolved"]
    platform = open_platform(load_profile(Path(reference.profile)))
    deployment = platform.deployment("api")  # type: ignore[attr-defined]
    assert deployment.spec.replicas >= 3 and STOPPED_FROM not in (deployment.metadata.annotations or {})
    assert len(platform.replicas("api").ready) >= 3


def test_recover_after_sigkill_mid_drill_gives_the_deployment_its_replicas_back(
    reference: cluster.ClusterState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(tmp_path / "journal"))
    platform = open_platform(load_profile(Path(reference.profile)), Consent(destructive=True))
    before = platform.desired("api")
    run = verify_until(
        lambda: platform.desired("api") == 0,
        "--target", reference.profile, "--allow-destructive", "--features",
        "features/monitoring/alert_drills.feature", "--reports", str(tmp_path / "reports"),
        timeout=60,
    )  # fmt: skip
    kill_outright(run)
    deployment = platform.deployment("api")  # type: ignore[attr-defined]
    assert deployment.spec.replicas == 0, "the run was killed before the drill stopped the API"
    assert deployment.metadata.annotations[STOPPED_FROM] == str(before)
    recovered = run_cli("recover", "--target", reference.profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "api verified running again" in recovered.output
    deployment = platform.deployment("api")  # type: ignore[attr-defined]
    assert deployment.spec.replicas == before and STOPPED_FROM not in (deployment.metadata.annotations or {})
    assert poll_until(lambda: len(platform.replicas("api").ready), lambda n: n == before, 30, 0.5).met
