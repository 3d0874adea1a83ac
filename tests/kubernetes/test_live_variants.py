"""The variants whose defect shows only behind the gateway, switched on in the reference's own
namespace and switched off again: without an autoscaler the autoscaling scenario fails on its step;
without a readiness probe, or with a rollout that may take every replica away at once, a rolling
restart (the Deployment's own rollout) loses requests: the API warms up before it listens.
That the reference passes both scenarios is part of the full run in test_cluster.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from infragate.retry import poll_until
from infragate.sandbox.kubernetes import cluster, workload
from infragate.sandbox.spec import KubernetesSpec
from infragate.sandbox.variants import VARIANTS
from infragate.sandbox.variants.scenarios import AUTOSCALE, ROLLING
from tests.conftest import run_cli


def _verdict(
    reference: cluster.ClusterState, tmp_path: Path, feature: str, scenario: str, profile: str | None = None
) -> tuple[str, str]:
    target = profile or reference.profile
    run = run_cli("verify", "--target", target, "--allow-destructive", "--allow-load", "--features", feature,
                  "--reports", str(tmp_path / "reports"), reports=tmp_path / "reports", timeout=600)  # fmt: skip
    assert run.code in (0, 1), run.output
    found = run.verdicts()[scenario]
    return found["verdict"], found["failed_step"]


def _expected(variant: str, scenario: str) -> tuple[str, str]:
    (failure,) = [failure for failure in VARIANTS[variant].breaks if failure.scenario == scenario]
    return "non-conformant", failure.step


def _apps(reference: cluster.ClusterState) -> client.AppsV1Api:
    return client.AppsV1Api(config.new_client_from_config(config_file=reference.kubeconfig))  # type: ignore[no-untyped-call]


def _rolled_out(apps: client.AppsV1Api) -> Callable[[], bool]:
    def done() -> bool:
        found: Any = apps.read_namespaced_deployment(workload.SERVICE, workload.NAMESPACE)
        status, wanted = found.status, found.spec.replicas
        return bool(
            (status.observed_generation or 0) >= found.metadata.generation
            and status.updated_replicas == wanted == status.ready_replicas == status.replicas
        )

    return done


@contextmanager
def _patched(
    reference: cluster.ClusterState, change: list[dict[str, Any]], back: list[dict[str, Any]]
) -> Iterator[None]:
    """The reference's Deployment with a JSON patch applied (and its rollout over), then patched back."""
    apps = _apps(reference)
    apps.patch_namespaced_deployment(workload.SERVICE, workload.NAMESPACE, change)
    try:
        assert poll_until(_rolled_out(apps), bool, 120, 1).met
        yield
    finally:
        apps.patch_namespaced_deployment(workload.SERVICE, workload.NAMESPACE, back)
        assert poll_until(_rolled_out(apps), bool, 120, 1).met


def _declared(reference: cluster.ClusterState, path: str) -> Any:
    """What the reference workload's Deployment declares at a JSON pointer."""
    (deployment,) = [
        item for item in workload.manifests(KubernetesSpec(), reference.api_image) if item["kind"] == "Deployment"
    ]
    found: Any = deployment
    for part in path.strip("/").split("/"):
        found = found[int(part)] if isinstance(found, list) else found[part]
    return found


def test_without_an_autoscaler_the_scenario_fails_on_its_step(reference: cluster.ClusterState, tmp_path: Path) -> None:
    api = config.new_client_from_config(config_file=reference.kubeconfig)  # type: ignore[no-untyped-call]
    scaling = client.AutoscalingV2Api(api)
    kept = scaling.read_namespaced_horizontal_pod_autoscaler(workload.SERVICE, workload.NAMESPACE)
    scaling.delete_namespaced_horizontal_pod_autoscaler(workload.SERVICE, workload.NAMESPACE)
    try:
        # Without an autoscaler nothing scales out however long the wait: a shorter declared time
        # (25 s, where the reference is seen to scale out after 18-25 s) shows it sooner.
        profile = yaml.safe_load(Path(reference.profile).read_text())
        profile["services"][workload.SERVICE]["kubernetes"]["autoscaling"]["scale_out_within"] = "25s"
        profile["gateway"]["ca_bundle"] = str(Path(reference.directory) / "pki-gateway" / "ca.pem")
        shorter = tmp_path / "profile.yaml"
        shorter.write_text(yaml.safe_dump(profile, sort_keys=False))
        verdict = _verdict(reference, tmp_path, "features/platform/autoscaling.feature", AUTOSCALE, str(shorter))
    finally:
        kept.metadata = client.V1ObjectMeta(name=workload.SERVICE, namespace=workload.NAMESPACE)
        kept.status = None
        scaling.create_namespaced_horizontal_pod_autoscaler(workload.NAMESPACE, kept)
    assert verdict == _expected("k8s-no-autoscaler", AUTOSCALE)


def test_without_a_readiness_probe_a_rolling_restart_loses_requests(
    reference: cluster.ClusterState, tmp_path: Path
) -> None:
    path = "/spec/template/spec/containers/0/readinessProbe"
    back = [{"op": "add", "path": path, "value": _declared(reference, path)}]
    with _patched(reference, [{"op": "remove", "path": path}], back):
        verdict = _verdict(reference, tmp_path, "features/resilience/scaling.feature", ROLLING)
    assert verdict == _expected("k8s-no-readiness-probe", ROLLING)


def test_when_a_rollout_may_take_every_replica_away_a_rolling_restart_loses_requests(
    reference: cluster.ClusterState, tmp_path: Path
) -> None:
    path = "/spec/strategy/rollingUpdate/maxUnavailable"
    change = [{"op": "replace", "path": path, "value": "100%"}]
    with _patched(reference, change, [{"op": "replace", "path": path, "value": _declared(reference, path)}]):
        verdict = _verdict(reference, tmp_path, "features/resilience/scaling.feature", ROLLING)
    assert verdict == _expected("k8s-all-unavailable", ROLLING)
