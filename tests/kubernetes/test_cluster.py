"""The Kubernetes adapter and the features against the real reference cluster: a single node built
from Kubernetes' Go modules (scripts/kubernetes.sh) with Debian's containerd, runc and CNI plugins.

These tests need root and the built binaries; without them they fail, never skip.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infragate.platforms import open_platform
from infragate.profile import load_profile
from infragate.retry import poll_until
from infragate.safety import Consent
from infragate.sandbox.kubernetes import cluster
from tests.conftest import kill_outright, run_cli, verify_until


def _features(*paths: str) -> list[str]:
    return [argument for path in paths for argument in ("--features", path)]


def test_the_adapter_sees_the_deployment_pods_and_autoscaler(reference: cluster.ClusterState) -> None:
    platform = open_platform(load_profile(Path(reference.profile)))
    replicas = platform.replicas("api")
    assert len(replicas.ready) == 3 and all(replica.id.startswith("api-") for replica in replicas.ready)
    assert len(replicas.instances()) == 3  # pod uids
    assert platform.desired("api") == 3 and platform.restart_policy("api") == "always"
    hpa = platform.autoscaler("api")  # type: ignore[attr-defined]
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (3, 10)


def test_every_pod_holds_what_the_cluster_promises_read_from_inside_and_out(
    reference: cluster.ClusterState, tmp_path: Path
) -> None:
    features = _features("features/hosts/hardening.feature", "features/hosts/exposure.feature")
    arguments = ("verify", "--target", reference.profile, *features)
    run = run_cli(*arguments, "--reports", str(tmp_path), reports=tmp_path)
    assert run.code == 0, run.output
    verdicts = {name: record["verdict"] for name, record in run.verdicts().items()}
    assert verdicts["No service runs as a user it was not given, root least of all"] == "conformant", run.output
    assert verdicts["Security-relevant packages are at least their declared versions"] == "conformant", run.output
    assert verdicts["Kernel settings are the declared ones"] == "conformant", run.output
    # The Secret's file, a link into its current version, judged by what it leads to: 0440, root's.
    assert verdicts["Keys and secrets are readable only by their owner"] == "conformant", run.output
    # Nothing of the cluster answers from outside: its API server and kubelet are on the node's own link.
    assert verdicts["No port answers from outside that is not declared exposed"] == "conformant", run.output
    (scenario,) = [s for s in run.evidence()["scenarios"] if s["scenario"].startswith("No service runs")]
    observed = scenario["steps"][1]["checks"][0]["observed"]
    assert observed.count(": api as 10001 (") == 3, observed  # one per pod, each read through kubectl exec


def test_platform_resilience_and_autoscaling_scenarios_pass_on_the_cluster(
    reference: cluster.ClusterState, tmp_path: Path
) -> None:
    # The platform's features and the resilience ones; the gateway's features run against the same
    # host nginx in tests/integration (the reference deployment's own), so not again here.
    run = run_cli(
        "verify",
        "--target",
        reference.profile,
        "--allow-destructive",
        "--allow-load",
        *_features("features/platform", "features/resilience"),
        "--reports",
        str(tmp_path),
        reports=tmp_path,
        timeout=900,
    )
    assert run.code == 0, run.output
    verdicts = {name: record["verdict"] for name, record in run.verdicts().items()}
    assert set(verdicts.values()) == {"conformant", "not applicable"}, run.output
    for scenario in (
        "Losing a replica stays within the failover budget",
        "Scaling out makes the new replicas ready and gives them traffic",
        "A rolling restart loses no request",
        "Requests through the gateway reach every replica",
        "The autoscaler scales out under load and back in after it",
        "Every service autoscales within its bounds and asks for its declared resources",
    ):
        assert verdicts[scenario] == "conformant", run.output


def test_recover_after_sigkill_mid_scale_out_puts_the_autoscaler_back(
    reference: cluster.ClusterState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(tmp_path / "journal"))
    platform = open_platform(load_profile(Path(reference.profile)), Consent(destructive=True))
    # At rest first: after the load of the full run the autoscaler may still hold a fourth replica.
    assert poll_until(lambda: platform.desired("api"), lambda count: count == 3, 90, 1).met
    run = verify_until(
        lambda: len(platform.replicas("api").running) >= 5,
        "--target",
        reference.profile,
        "--allow-destructive",
        "--features",
        "features/resilience/scaling.feature",
        "--reports",
        str(tmp_path / "reports"),
        timeout=120,
    )
    kill_outright(run)
    assert len(platform.replicas("api").running) >= 5, "the run was killed before it scaled out"
    assert platform.autoscaler("api").spec.min_replicas == 5  # type: ignore[attr-defined]
    recovered = run_cli("recover", "--target", reference.profile, reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert "api verified back at 3 ready replicas" in recovered.output
    hpa = platform.autoscaler("api")  # type: ignore[attr-defined]
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (3, 10)
    assert "infragate.dev/declared-min-replicas" not in (hpa.metadata.annotations or {})
    deadline = time.monotonic() + 60
    while len(platform.replicas("api").running) != 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(platform.replicas("api").ready) == 3
