"""The Roles in deploy/kubernetes are enough, and no more than needed: a run with only rbac.yaml
(the read-only part) passes every read-only Kubernetes scenario and is refused a disruption by the API
(could not verify, never non-conformant); with rbac-disrupt.yaml too, the disruption runs and passes."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from kubernetes import client, config, utils

from infragate.sandbox.kubernetes import cluster, workload
from tests.conftest import run_cli

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
READ_ONLY = ("features/platform/kubernetes.feature", "features/platform/replicas.feature")
KILL = "Losing a replica stays within the failover budget"


def _service_account_profile(reference: cluster.ClusterState, api: client.ApiClient, folder: Path) -> Path:
    """A kubeconfig with the infragate service account's token, and the reference's profile using it."""
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    granted = client.CoreV1Api(api).create_namespaced_service_account_token("infragate", workload.NAMESPACE, request)
    assert granted.status is not None
    ca = Path(reference.directory) / "pki" / "ca.pem"
    kubeconfig = folder / "infragate.kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "c", "cluster": {"server": reference.api_url, "certificate-authority": str(ca)}}],
        "users": [{"name": "sa", "user": {"token": granted.status.token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "sa"}}],
    }))  # fmt: skip
    profile = yaml.safe_load(Path(reference.profile).read_text())
    profile["platform"]["kubeconfig"] = str(kubeconfig)
    profile["gateway"]["ca_bundle"] = str(Path(reference.directory) / "pki-gateway" / "ca.pem")
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def test_the_documented_role_is_enough_for_each_kind_of_run(reference: cluster.ClusterState, tmp_path: Path) -> None:
    api = config.new_client_from_config(config_file=reference.kubeconfig)  # type: ignore[no-untyped-call]
    read_only = list(yaml.safe_load_all((DEPLOY / "rbac.yaml").read_text()))
    disrupt = list(yaml.safe_load_all((DEPLOY / "rbac-disrupt.yaml").read_text()))
    assert not any(item["metadata"]["name"] == "infragate-disrupt" for item in read_only)
    utils.create_from_yaml(api, yaml_objects=read_only)  # type: ignore[no-untyped-call]
    profile = _service_account_profile(reference, api, tmp_path)

    read = run_cli("verify", "--target", str(profile), *_features(*READ_ONLY), "--reports", str(tmp_path / "read"),
                   reports=tmp_path / "read")  # fmt: skip
    assert read.code == 0, read.output
    assert {record["verdict"] for record in read.verdicts().values()} == {"conformant"}

    refused = run_cli("verify", "--target", str(profile), "--allow-destructive", "--features",
                      "features/resilience/failover.feature", "--reports", str(tmp_path / "refused"),
                      reports=tmp_path / "refused")  # fmt: skip
    assert refused.code == 2, refused.output
    assert refused.verdicts()[KILL]["verdict"] == "could not verify"
    assert "403" in refused.output and "delete pod" in refused.output

    utils.create_from_yaml(api, yaml_objects=disrupt)  # type: ignore[no-untyped-call]
    allowed = run_cli("verify", "--target", str(profile), "--allow-destructive", "--features",
                      "features/resilience/failover.feature", "--reports", str(tmp_path / "allowed"),
                      reports=tmp_path / "allowed")  # fmt: skip
    assert allowed.code == 0, allowed.output


def _features(*paths: str) -> list[str]:
    return [argument for path in paths for argument in ("--features", path)]
