"""What a Deployment and the objects around it declare, read through the Kubernetes API into frozen
values that the Kubernetes configuration checks judge (probes/kubernetes_config.py) without a cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Probe:
    """A container's liveness or readiness probe: its kind (httpGet, tcpSocket, exec, grpc) and what it runs."""

    kind: str
    target: str
    initial_delay_s: int
    period_s: int


@dataclass(frozen=True)
class DeclaredContainer:
    """One container of the pod template."""

    name: str
    requests: dict[str, str]
    limits: dict[str, str]
    liveness: Probe | None
    readiness: Probe | None
    run_as_non_root: bool | None  # the container's own setting, or the pod's, or None
    run_as_user: int | None
    privileged: bool
    literal_env: tuple[str, ...]  # names of variables with a literal value
    secret_env: tuple[str, ...]  # names of variables taken from a Secret
    pre_stop: bool


@dataclass(frozen=True)
class Rollout:
    """Where the Deployment's latest rollout stands, from its status."""

    observed: bool  # the controller has seen the latest spec
    replicas: int  # pods of every template, not being deleted
    updated: int  # replicas of the latest pod template
    available: int
    stalled: str | None  # the controller's message once the progress deadline passed

    @classmethod
    def of(cls, deployment: Any) -> Rollout:
        """The rollout state of a Deployment as the client returns it."""
        status = deployment.status
        stalled = None
        for condition in (status and status.conditions) or ():
            if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
                stalled = condition.message or "progress deadline exceeded"
        return cls(
            observed=bool(status) and (status.observed_generation or 0) >= (deployment.metadata.generation or 0),
            replicas=int((status and status.replicas) or 0),
            updated=int((status and status.updated_replicas) or 0),
            available=int((status and status.available_replicas) or 0),
            stalled=stalled,
        )


@dataclass(frozen=True)
class DeclaredDeployment:
    """A service's Deployment with its autoscaler, disruption budget and the Secrets its pods use."""

    service: str
    replicas: int
    max_unavailable: str | None  # as declared: "0", "25%", ...
    max_surge: str | None
    containers: tuple[DeclaredContainer, ...]
    secret_volumes: tuple[str, ...]
    anti_affinity: str | None  # "required", "preferred" or None
    hpa_min: int | None
    hpa_max: int | None
    hpa_cpu_percent: int | None
    pdb_min_available: str | None
    pdb_max_unavailable: str | None
    rollout: Rollout
    cronjobs: dict[str, tuple[str, bool]]  # the namespace's CronJobs: schedule, and whether suspended


def _probe(section: Any) -> Probe | None:
    if section is None:
        return None
    for kind in ("http_get", "tcp_socket", "_exec", "grpc"):
        found = getattr(section, kind, None)
        if found is not None:
            target = getattr(found, "path", None) or getattr(found, "command", None) or getattr(found, "port", "")
            return Probe(kind.strip("_"), str(target), section.initial_delay_seconds or 0, section.period_seconds or 10)
    return Probe("unknown", "", section.initial_delay_seconds or 0, section.period_seconds or 10)


def _container(container: Any, pod_security: Any) -> DeclaredContainer:
    security = container.security_context
    non_root = getattr(security, "run_as_non_root", None)
    user = getattr(security, "run_as_user", None)
    if non_root is None and pod_security is not None:
        non_root = pod_security.run_as_non_root
    if user is None and pod_security is not None:
        user = pod_security.run_as_user
    env = container.env or ()
    resources = container.resources
    return DeclaredContainer(
        name=container.name,
        requests={key: str(value) for key, value in ((resources and resources.requests) or {}).items()},
        limits={key: str(value) for key, value in ((resources and resources.limits) or {}).items()},
        liveness=_probe(container.liveness_probe),
        readiness=_probe(container.readiness_probe),
        run_as_non_root=non_root,
        run_as_user=user,
        privileged=bool(getattr(security, "privileged", False)),
        literal_env=tuple(sorted(item.name for item in env if item.value is not None)),
        secret_env=tuple(
            sorted(
                item.name for item in env if item.value_from is not None and item.value_from.secret_key_ref is not None
            )
        ),
        pre_stop=bool(container.lifecycle and container.lifecycle.pre_stop),
    )


def _anti_affinity(affinity: Any) -> str | None:
    anti = getattr(affinity, "pod_anti_affinity", None)
    if anti is None:
        return None
    if anti.required_during_scheduling_ignored_during_execution:
        return "required"
    if anti.preferred_during_scheduling_ignored_during_execution:
        return "preferred"
    return None


def read_declared(
    service: str, deployment: Any, hpa: Any | None, pdb: Any | None, cronjobs: tuple[Any, ...] = ()
) -> DeclaredDeployment:
    """The declared values of a Deployment (and its autoscaler and budget), from the client's objects."""
    spec = deployment.spec
    pod = spec.template.spec
    rolling = spec.strategy.rolling_update if spec.strategy and spec.strategy.rolling_update else None
    cpu = None
    if hpa is not None:
        for metric in hpa.spec.metrics or ():
            if (
                metric.type == "Resource"
                and metric.resource.name == "cpu"
                and metric.resource.target.average_utilization
            ):
                cpu = int(metric.resource.target.average_utilization)
    return DeclaredDeployment(
        service=service,
        replicas=int(spec.replicas or 0),
        max_unavailable=None if rolling is None or rolling.max_unavailable is None else str(rolling.max_unavailable),
        max_surge=None if rolling is None or rolling.max_surge is None else str(rolling.max_surge),
        containers=tuple(_container(container, pod.security_context) for container in pod.containers),
        secret_volumes=tuple(sorted(v.secret.secret_name for v in pod.volumes or () if v.secret is not None)),
        anti_affinity=_anti_affinity(pod.affinity),
        hpa_min=None if hpa is None else int(hpa.spec.min_replicas or 1),
        hpa_max=None if hpa is None else int(hpa.spec.max_replicas),
        hpa_cpu_percent=cpu,
        pdb_min_available=None if pdb is None or pdb.spec.min_available is None else str(pdb.spec.min_available),
        pdb_max_unavailable=None if pdb is None or pdb.spec.max_unavailable is None else str(pdb.spec.max_unavailable),
        rollout=Rollout.of(deployment),
        cronjobs={job.metadata.name: (job.spec.schedule, bool(job.spec.suspend)) for job in cronjobs},
    )
