"""The Kubernetes reference cluster's configuration and workload, judged without a cluster."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from infragate.sandbox.kubernetes import cluster_pki, config, workload
from infragate.sandbox.spec import KubernetesSpec

LAYOUT = config.Layout(Path("/tmp/k8s-test"), Path("/opt/bin"), Path("/run/k8s-test"), config.Ports(*range(2001, 2011)))


def test_every_component_listens_on_loopback_or_the_node_address_only() -> None:
    commands = " ".join(config.commands(LAYOUT).values())
    kubelet = json.loads(config.kubelet_yaml(LAYOUT))
    proxy = json.loads(config.kube_proxy_yaml(LAYOUT))
    addresses = set(re.findall(r"(?:address|urls?)=(?:https?://)?([0-9.]+)", commands))
    addresses |= {kubelet["address"], kubelet["healthzBindAddress"], proxy["bindAddress"]}
    addresses |= {proxy["healthzBindAddress"].split(":")[0], proxy["metricsBindAddress"].split(":")[0]}
    assert addresses == {"127.0.0.1", config.NODE_IP}
    assert "0.0.0.0" not in commands


def test_containerd_keeps_to_its_own_paths_and_never_lowers_oom_scores() -> None:
    toml = tomllib.loads(config.containerd_toml(LAYOUT, "overlayfs"))
    cri = toml["plugins"]["io.containerd.grpc.v1.cri"]
    assert toml["grpc"]["address"] == "/run/k8s-test/containerd.sock"
    assert toml["root"].startswith("/tmp/k8s-test/") and toml["state"].startswith("/run/k8s-test/")
    assert cri["restrict_oom_score_adj"] is True  # machines without CAP_SYS_RESOURCE refuse -998
    assert cri["sandbox_image"] == config.PAUSE_IMAGE
    assert cri["containerd"]["runtimes"]["runc"]["options"]["Root"] == "/run/k8s-test/runc"


def test_the_kubelet_puts_pods_under_its_own_cgroup_root_and_never_evicts_for_disk() -> None:
    kubelet = json.loads(config.kubelet_yaml(LAYOUT))
    assert kubelet["cgroupRoot"] == f"/{config.CGROUP_ROOT}"
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["authorization"]["mode"] == "Webhook"
    assert kubelet["readOnlyPort"] == 0


def test_each_component_gets_a_certificate_naming_its_user_and_groups(tmp_path: Path) -> None:
    cluster_pki.issue(tmp_path, config.IDENTITIES, config.FRONT_PROXY)
    admin = x509.load_pem_x509_certificate((tmp_path / "admin.pem").read_bytes())
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    kubelet = x509.load_pem_x509_certificate((tmp_path / "kubelet.pem").read_bytes())
    names = kubelet.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert config.NODE_IP in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    assert kubelet.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"system:node:{config.NODE}"
    proxy_client = x509.load_pem_x509_certificate((tmp_path / "front-proxy-client.pem").read_bytes())
    front_ca = x509.load_pem_x509_certificate((tmp_path / "front-proxy-ca.pem").read_bytes())
    assert proxy_client.issuer == front_ca.subject
    assert oct((tmp_path / "ca.key").stat().st_mode & 0o777) == "0o600"


def _deployment(spec: KubernetesSpec) -> dict[str, object]:
    (deployment,) = [item for item in workload.manifests(spec, "image:1") if item["kind"] == "Deployment"]
    return deployment


def test_the_conformant_workload_has_every_promise_of_the_seed() -> None:
    objects = workload.manifests(KubernetesSpec(), "image:1")
    kinds = [item["kind"] for item in objects]
    assert kinds == ["Namespace", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler", "CronJob",
                     "PodDisruptionBudget"]  # fmt: skip
    deployment = _deployment(KubernetesSpec())
    pod = deployment["spec"]["template"]["spec"]  # type: ignore[index]
    (container,) = pod["containers"]
    assert container["readinessProbe"] != container["livenessProbe"]
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/sleep", "2"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0  # type: ignore[index]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}
    assert pod["volumes"] == [{"name": "secrets", "secret": {"secretName": "api-secrets", "defaultMode": 0o440}}]
    assert all("value" not in item or "PASSWORD" not in item["name"] or item["name"].endswith("_FILE")
               for item in container["env"])  # fmt: skip
    (hpa,) = [item for item in objects if item["kind"] == "HorizontalPodAutoscaler"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)


def test_the_workload_knobs_change_what_they_name() -> None:
    bad = KubernetesSpec(readiness_probe=False, run_as_user=0, secret_as_env_value=True, pre_stop_s=0)
    (container,) = _deployment(bad)["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
    assert "readinessProbe" not in container and "lifecycle" not in container
    assert container["env"][0]["name"] == "DATABASE_PASSWORD" and "value" in container["env"][0]
    objects = workload.manifests(KubernetesSpec(disruption_budget=False), "image:1")
    assert "PodDisruptionBudget" not in [item["kind"] for item in objects]
