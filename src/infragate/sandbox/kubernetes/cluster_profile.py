"""The profile of the Kubernetes reference cluster: the same gateway promises as the local
reference deployment (the same nginx gateway renders them), the marketplace's service with its
autoscaling bounds, and the platform's API through the cluster's admin kubeconfig."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infragate.sandbox.kubernetes import workload
from infragate.sandbox.local.reference_profile import MAX_REPLICAS, exposure_promise, reference_profile
from infragate.sandbox.spec import KubernetesSpec, SandboxSpec
from infragate.sandbox.swarm.stack import OPENSSL_FLOOR, OPENSSL_PACKAGES

GATEWAY_CA = "pki-gateway/ca.pem"
# Metrics every 10 s, the autoscaler every 5 s, a pod ready in about 4 s (3 s of warm-up): the
# first added replica was ready 21-25 s into the load; scaling in waits out the shortened 15 s
# stabilisation window after the load's last busy metrics (15-19 s).
SCALE_OUT_WITHIN_S = 45
SCALE_IN_WITHIN_S = 120
# The autoscaling scenario runs the declared load for the scale-out time and 5 s more.
MAX_REQUESTS = 20_000
# Beside the gateway, only what this cluster runs: no database, cache or backups of its own.
NOT_RUN_HERE = ("datastores", "backups")


def kubernetes_profile(
    name: str,
    variant: str | None,
    gateway_url: str,
    http_url: str,
    kubeconfig: Path,
    monitoring: dict[str, object],
    cluster_ports: list[int],
) -> dict[str, object]:
    """What the cluster promises, whatever defect a variant switched on."""
    profile = reference_profile(name, variant, SandboxSpec(), gateway_url, "", http_url, 0, 0, 0)
    for section in NOT_RUN_HERE:
        profile.pop(section)
    profile["description"] = "infragate Kubernetes reference cluster" + (
        f" with known defect '{variant}'" if variant else ""
    )
    safety = profile["safety"]
    assert isinstance(safety, dict)
    safety["max_requests"] = MAX_REQUESTS
    profile["monitoring"] = monitoring  # beside the cluster, watching the namespace of the reference
    # From outside, nothing answers: the API server and the kubelet listen on the node's address of
    # the cluster's own link, every other component, the gateway and the monitoring on the loopback.
    # The scan covers every port the cluster and its host services were given.
    given = [int(port) for port in re.findall(r"://[^/\s]+:(\d+)", json.dumps([gateway_url, http_url, monitoring]))]
    profile["exposure"] = exposure_promise([*cluster_ports, *given])
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
                    "scale_out_within": f"{SCALE_OUT_WITHIN_S}s",
                    "scale_in_within": f"{SCALE_IN_WITHIN_S}s",
                },
                "requests": {"cpu": promised.cpu_request, "memory": promised.memory_request},
                "limits": {"cpu": promised.cpu_limit, "memory": promised.memory_limit},
                "probes": True,
                "max_unavailable": promised.max_unavailable,
                "anti_affinity": "preferred",
                "non_root": True,
                "secrets": [workload.SECRET],
                "min_available": promised.hpa_min - 1,
                "cronjobs": {"postgres-backup": "1d"},
            },
        }
    }
    # Each pod read from inside (kubectl exec): the API as the user its pod's securityContext gives it
    # (10001, which has no name in the image, so ps shows the number), its image's OpenSSL at least
    # the floor the Swarm stack's images share, SYN cookies on in its network namespace, its Secret's
    # file readable by its group only.
    api = {"command": r"backend\.py", "users": [str(promised.run_as_user)]}
    profile["hosts"] = {
        "api": {
            "service": workload.SERVICE,
            "processes": {"api": api},
            "packages": dict.fromkeys(OPENSSL_PACKAGES, OPENSSL_FLOOR),
            "sysctls": {"net.ipv4.tcp_syncookies": 1},
            "files": {workload.SECRET_FILE: {"max_mode": f"{workload.SECRET_MODE:04o}", "owner": "root"}},
        }
    }
    return profile
