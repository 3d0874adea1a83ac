"""The profile of the Kubernetes reference cluster: the same gateway promises as the local
reference deployment (the same nginx gateway renders them), the marketplace's service with its
autoscaling bounds, and the platform's API through the cluster's admin kubeconfig."""

from __future__ import annotations

from pathlib import Path

from infragate.sandbox.kubernetes import workload
from infragate.sandbox.local.reference_profile import MAX_REPLICAS, reference_profile
from infragate.sandbox.spec import KubernetesSpec, SandboxSpec

GATEWAY_CA = "pki-gateway/ca.pem"
# Beside the gateway, only what this cluster runs: no database, cache or backups of its own.
NOT_RUN_HERE = ("datastores", "backups")


def kubernetes_profile(
    name: str, variant: str | None, gateway_url: str, http_url: str, kubeconfig: Path
) -> dict[str, object]:
    """What the cluster promises, whatever defect a variant switched on."""
    profile = reference_profile(name, variant, SandboxSpec(), gateway_url, "", http_url, 0, 0, 0)
    for section in NOT_RUN_HERE:
        profile.pop(section)
    profile["description"] = "infragate Kubernetes reference cluster" + (
        f" with known defect '{variant}'" if variant else ""
    )
    profile["platform"] = {"kind": "kubernetes", "kubeconfig": str(kubeconfig), "namespace": workload.NAMESPACE}
    gateway = profile["gateway"]
    assert isinstance(gateway, dict)
    gateway["ca_bundle"] = GATEWAY_CA
    promised = KubernetesSpec()
    profile["services"] = {
        workload.SERVICE: {
            "replicas": {"min": promised.hpa_min, "max": MAX_REPLICAS},
            "route": "api",
            "replica_header": "X-Replica",
            "health_path": "/health",
            "kubernetes": {
                "autoscaling": {
                    "min": promised.hpa_min,
                    "max": promised.hpa_max,
                    "cpu_utilization": promised.hpa_cpu_percent,
                },
                "requests": {"cpu": promised.cpu_request, "memory": promised.memory_request},
                "limits": {"cpu": promised.cpu_limit, "memory": promised.memory_limit},
                "probes": True,
                "max_unavailable": promised.max_unavailable,
                "anti_affinity": "preferred",
                "non_root": True,
                "secrets": [workload.SECRET],
                "min_available": promised.hpa_min - 1,
            },
        }
    }
    return profile
