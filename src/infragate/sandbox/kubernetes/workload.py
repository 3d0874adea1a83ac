"""The marketplace's workload, as the reference cluster runs it: a backend Deployment (3 replicas,
an autoscaler from 3 to 10 on CPU, requests and limits, distinct liveness and readiness probes,
a rolling update that never lets a replica go before its successor is ready, preferred
anti-affinity, a non-root container, a Secret mounted as a volume, a disruption budget), its
Service, and the backup CronJob.

Requests are scaled to the machine: ten replicas at the seed's 250m would ask for more CPU than a
2-core node has, so the reference asks 100m and promises exactly what it runs.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from infragate.sandbox.spec import KubernetesSpec

NAMESPACE = "marketplace"
SERVICE = "api"
PORT = 8000
SECRET = "api-secrets"
SECRET_MODE = 0o440  # the Secret volume's files: owner root, group the API's (fsGroup), no one else
SECRET_FILE = "/run/secrets/api/database-password"
BROKEN_IMAGE = "infragate/api:missing"  # never imported: its pods cannot start (imagePullPolicy Never)


def _labels() -> dict[str, str]:
    return {"app": SERVICE}


def _container(spec: KubernetesSpec, image: str, password: str) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": SERVICE,
        "image": image,
        "imagePullPolicy": "Never",
        # The warm-up is cut short by a stop; then the API starts.
        "command": [
            "/bin/sh",
            "-c",
            f"trap 'exit 143' TERM; sleep {spec.warm_up_s} & wait $!; exec /opt/infragate/api.sh",
        ],
        "ports": [{"containerPort": PORT, "name": "http"}],
        "resources": {"requests": {"cpu": spec.cpu_request, "memory": spec.memory_request}},
        # Liveness: is the process there at all (a TCP connect); readiness: does it answer its health check.
        "livenessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 5, "failureThreshold": 3},
        "securityContext": {"allowPrivilegeEscalation": False, "privileged": False},
        "volumeMounts": [{"name": "secrets", "mountPath": "/run/secrets/api", "readOnly": True}],
    }
    if spec.limits:
        container["resources"]["limits"] = {"cpu": spec.cpu_limit, "memory": spec.memory_limit}
    if spec.pre_stop_s:
        # Keep answering while the Service's endpoints and kube-proxy's rules let go of the pod.
        container["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sleep", str(spec.pre_stop_s)]}}}
    if spec.readiness_probe:
        container["readinessProbe"] = {
            "httpGet": {"path": "/health", "port": PORT},
            "periodSeconds": 1,
            "failureThreshold": 1,
            "successThreshold": 1,
        }
    if spec.secret_as_env_value:
        container["env"] = [{"name": "DATABASE_PASSWORD", "value": password}]
    else:
        container["env"] = [
            {"name": "DATABASE_PASSWORD_FILE", "value": SECRET_FILE},
        ]
    return container


def manifests(spec: KubernetesSpec, image: str, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Every object of the workload in a namespace of its own, in the order they are created."""
    password = secrets.token_urlsafe(18)
    pod_spec: dict[str, Any] = {
        # The Secret's files readable by the API's group only (the volume's default is 0644, readable by
        # every user of the pod): the kubelet gives them to fsGroup, which the API's user is in.
        "securityContext": {
            "runAsNonRoot": spec.run_as_user != 0,
            "runAsUser": spec.run_as_user,
            "fsGroup": spec.run_as_user,
        },
        "containers": [_container(spec, image, password)],
        "volumes": [{"name": "secrets", "secret": {"secretName": SECRET, "defaultMode": SECRET_MODE}}],
        "terminationGracePeriodSeconds": 10,
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
    }
    if spec.anti_affinity:
        term = {"labelSelector": {"matchLabels": _labels()}, "topologyKey": "kubernetes.io/hostname"}
        pod_spec["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]
            }
        }
    meta = {"name": SERVICE, "namespace": namespace, "labels": _labels()}
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET, "namespace": namespace},
            "data": {"database-password": base64.b64encode(password.encode()).decode()},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": spec.replicas,
                "selector": {"matchLabels": _labels()},
                "minReadySeconds": 1,
                "progressDeadlineSeconds": spec.progress_deadline_s,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": spec.max_unavailable, "maxSurge": 1},
                },
                "template": {"metadata": {"labels": _labels()}, "spec": pod_spec},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {"selector": _labels(), "ports": [{"port": PORT, "targetPort": PORT, "name": "http"}]},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "postgres-backup", "namespace": namespace},
            "spec": {
                "schedule": spec.backup_schedule,
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                                "containers": [
                                    {
                                        "name": "backup",
                                        "image": image,
                                        "imagePullPolicy": "Never",
                                        "command": ["/bin/true"],
                                    }
                                ],
                            }
                        }
                    }
                },
            },
        },
    ]
    if spec.autoscaler:
        objects.insert(4, _autoscaler(spec, meta))
    if spec.disruption_budget:
        objects.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": meta,
                "spec": {"minAvailable": spec.hpa_min - 1, "selector": {"matchLabels": _labels()}},
            }
        )
    return objects


def _autoscaler(spec: KubernetesSpec, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": SERVICE},
            "minReplicas": spec.hpa_min,
            "maxReplicas": spec.hpa_max,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": spec.hpa_cpu_percent},
                    },
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": spec.scale_down_window_s}},
        },
    }
