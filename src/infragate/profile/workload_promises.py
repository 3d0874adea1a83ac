"""What a service's Kubernetes objects must declare (a profile's `services.<name>.kubernetes`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infragate.profile.fields import Duration, StrictModel


class Autoscaling(StrictModel):
    """The HorizontalPodAutoscaler that must own the service's replica count."""

    min: int = Field(ge=1, description="its minReplicas")
    max: int = Field(ge=1, description="its maxReplicas")
    cpu_utilization: int | None = Field(default=None, ge=1, description="its CPU target, percent of the request")
    scale_out_within: Duration | None = Field(
        default=None, description="under the declared load (load section), replicas are added within this time"
    )
    scale_in_within: Duration | None = Field(
        default=None,
        description="after the load, the added replicas go within this time (default: twice scale_out_within)",
    )


class Quantities(StrictModel):
    """CPU and memory as Kubernetes writes them."""

    cpu: str | None = Field(default=None, description='CPU, e.g. "250m" or "1"')
    memory: str | None = Field(default=None, description='memory, e.g. "512Mi" or "1Gi"')


class KubernetesPromises(StrictModel):
    """What the service's Deployment and the objects around it must declare (all keys optional)."""

    autoscaling: Autoscaling | None = Field(default=None, description="an autoscaler with these bounds")
    requests: Quantities | None = Field(default=None, description="every container's resource requests")
    limits: Quantities | None = Field(default=None, description="every container's resource limits")
    probes: bool = Field(
        default=False,
        description="every container has a liveness and a distinct readiness probe, and neither waits longer "
        "before its first check than max_initial_delay",
    )
    max_initial_delay: Duration | None = Field(
        default=None, description="the longest initialDelaySeconds a probe may have (default: resilience.recovery_time)"
    )
    max_unavailable: int | None = Field(
        default=None, ge=0, description="a rolling update may take at most this many replicas away (0: none)"
    )
    anti_affinity: Literal["preferred", "required"] | None = Field(
        default=None, description="pods keep away from each other's nodes, at least as strongly as this"
    )
    non_root: bool = Field(default=False, description="every container runs as a non-root user, none privileged")
    secrets: list[str] = Field(
        default_factory=list, description="Secrets the pods use (as volumes or secretKeyRef); no literal secret values"
    )
    min_available: int | None = Field(
        default=None, ge=0, description="a PodDisruptionBudget keeps at least this many replicas during disruptions"
    )
    cronjobs: dict[str, Duration] = Field(
        default_factory=dict,
        description="CronJobs of the namespace that go with the service (a backup, say), each by name with the "
        "longest time its schedule may leave between two runs; none may be suspended",
    )
