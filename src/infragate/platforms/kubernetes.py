"""Platform adapter for Kubernetes, through the cluster's API (the official kubernetes client).

A service is a Deployment of the profile's namespace, named as the service. Its replicas are the
pods its selector matches that are not being deleted; a replica's id is the pod's name (the name
the backend answers with) and its instance the pod's uid, which is new for every replacement.
Running is the pod's phase, ready its Ready condition. Killing deletes a pod with no grace
period; a restart deletes it gracefully and waits for the replacement to be ready; a rolling
restart is the Deployment's own rollout (the restartedAt annotation, as `kubectl rollout restart`
sets it), watched until it completed. Scaling sets
the Deployment's scale; when a HorizontalPodAutoscaler owns the count, its minimum follows
(recording the declared minimum on the autoscaler itself, so that scaling back, even by a later
`infragate recover`, puts the declared one back).
"""

from __future__ import annotations

import shutil
import time
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes import client
from kubernetes import config as kubeconfig
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from infragate.errors import ProbeError
from infragate.platforms.base import Replica, ReplicaSet
from infragate.platforms.kubernetes_declared import DeclaredDeployment, Rollout, read_declared
from infragate.profile.model import KubernetesPlatform as KubernetesConfig
from infragate.profile.model import Profile
from infragate.retry import poll_until
from infragate.safety import NONE, Consent

SCALE_TAKEN_S = 30.0  # how long the Deployment may take to show a new replica count
DECLARED_MIN = "infragate.dev/declared-min-replicas"  # on an HPA whose minimum a scaling raised
STOPPED_FROM = "infragate.dev/stopped-replicas"  # on a Deployment an alert drill scaled to zero
CONVERGE_TIMEOUT_S = 120.0
ROLL_TIMEOUT_PER_REPLICA_S = 30.0  # a rollout may take this long per replica before it is called stuck
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REQUEST_TIMEOUT_S = 15.0
_RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "never"}


def _reason(exc: ApiException) -> str:
    return f"{exc.status} {exc.reason}".strip()


class KubernetesPlatform:
    """Deployments of one namespace of a cluster."""

    kind = "kubernetes"

    def __init__(self, profile: Profile, consent: Consent = NONE) -> None:
        config = profile.platform
        if not isinstance(config, KubernetesConfig):
            raise ProbeError(f"profile {profile.name} does not describe a kubernetes platform")
        self._config = config
        self.consent = consent
        self.namespace = config.namespace
        try:
            if config.in_cluster:
                kubeconfig.load_incluster_config()  # type: ignore[no-untyped-call]
                api = client.ApiClient()
            else:
                path = str(config.kubeconfig) if config.kubeconfig else None
                api = kubeconfig.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=path, context=config.context
                )
        except (ConfigException, OSError) as exc:
            raise ProbeError(f"could not load the kubernetes configuration: {exc}") from None
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.autoscaling = client.AutoscalingV2Api(api)
        self.policy = client.PolicyV1Api(api)
        self.batch = client.BatchV1Api(api)
        self._call(lambda: self.core.list_namespaced_pod(self.namespace, limit=1), "list pods")

    def _call(self, request: Any, what: str) -> Any:
        """One API request; what the API or the network says goes into a ProbeError."""
        try:
            return request()
        except ApiException as exc:
            raise ProbeError(f"kubernetes: could not {what} in namespace {self.namespace}: {_reason(exc)}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ProbeError(f"kubernetes: could not {what}: the API server did not answer ({exc})") from None

    def describe(self) -> str:
        """Which cluster and namespace."""
        where = "in-cluster" if self._config.in_cluster else str(self._config.kubeconfig or "the default kubeconfig")
        return f"kubernetes namespace {self.namespace} via {where}"

    def deployment(self, service: str) -> Any:
        """The service's Deployment."""
        return self._call(
            lambda: self.apps.read_namespaced_deployment(service, self.namespace, _request_timeout=REQUEST_TIMEOUT_S),
            f"read deployment {service}",
        )

    def _pods(self, service: str) -> list[Any]:
        labels = self.deployment(service).spec.selector.match_labels or {}
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        pods = self._call(
            lambda: self.core.list_namespaced_pod(
                self.namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT_S
            ),
            f"list the pods of {service}",
        ).items
        return sorted(
            (pod for pod in pods if pod.metadata.deletion_timestamp is None),
            key=lambda pod: (pod.metadata.creation_timestamp, pod.metadata.name),
        )

    def host_specs(self, service: str) -> dict[str, str]:
        """Each running pod of the service, read through `kubectl exec` (testinfra's kubectl backend),
        with the profile's kubeconfig; kubectl must be on the PATH."""
        if shutil.which("kubectl") is None:
            raise ProbeError("kubectl is not on the PATH: testinfra reads a pod from inside through `kubectl exec`")
        config = self._config
        extra = f"&kubeconfig={quote(str(config.kubeconfig))}" if config.kubeconfig else ""
        found = {
            pod.metadata.name: f"kubectl://{pod.metadata.name}?namespace={self.namespace}{extra}"
            for pod in self._pods(service)
            if pod.status.phase == "Running"
        }
        if not found:
            raise ProbeError(f"no running pod of {service} in {self.namespace} to read from inside")
        return found

    def replicas(self, service: str) -> ReplicaSet:
        """The service's pods that are not being deleted: running by phase, ready by their Ready condition."""
        found = []
        for pod in self._pods(service):
            phase = pod.status.phase or "Unknown"
            conditions = {condition.type: condition.status for condition in pod.status.conditions or ()}
            ready = conditions.get("Ready") == "True"
            running = phase == "Running"
            detail = f"pod {pod.metadata.name} {phase}" + (", ready" if ready else ", not ready")
            found.append(Replica(service, pod.metadata.name, pod.metadata.uid, running, running and ready, detail))
        return ReplicaSet(service, tuple(found))

    def desired(self, service: str) -> int:
        """The Deployment's replica count."""
        return int(self.deployment(service).spec.replicas or 0)

    def restart_policy(self, service: str) -> str:
        """The pods' restart policy, in the protocol's words (a Deployment's pods always restart)."""
        policy = self.deployment(service).spec.template.spec.restart_policy or "Always"
        return _RESTART.get(policy, policy.lower())

    def _delete(self, service: str, replica_id: str, grace: int | None) -> None:
        if replica_id not in {replica.id for replica in self.replicas(service).replicas}:
            raise ProbeError(f"{replica_id} is not a pod of {service} in namespace {self.namespace}")
        body = client.V1DeleteOptions(grace_period_seconds=grace)
        self._call(
            lambda: self.core.delete_namespaced_pod(replica_id, self.namespace, body=body, grace_period_seconds=grace),
            f"delete pod {replica_id}",
        )

    def kill(self, service: str, replica_id: str) -> None:
        """Delete the pod with no grace period; the ReplicaSet decides what comes next."""
        self.consent.require_destructive(f"kill replica {replica_id} of {service}")
        self._delete(service, replica_id, 0)

    def restart(self, service: str, replica_id: str) -> None:
        """Delete the pod gracefully; return once a pod that replaces it runs."""
        self.consent.require_destructive(f"restart replica {replica_id} of {service}")
        before = {replica.instance for replica in self.replicas(service).running}
        self._delete(service, replica_id, None)

        def replaced(now: ReplicaSet) -> bool:
            return bool(now.instances() - before) and replica_id not in now.ids()

        if not poll_until(lambda: self.replicas(service), replaced, CONVERGE_TIMEOUT_S, 0.2).met:
            raise ProbeError(f"no pod replaced {replica_id} of {service} within {CONVERGE_TIMEOUT_S:g} s")

    def roll(self, service: str) -> None:
        """The Deployment's own rolling restart; return once every replica is of the new template,
        available, and no pod of the old one is left, or once the rollout stalled or ran out of
        time (which replicas were replaced is then judged from the pods)."""
        self.consent.require_destructive(f"rolling restart of deployment {service}")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        self._call(lambda: self.apps.patch_namespaced_deployment(service, self.namespace, patch), f"restart {service}")
        wanted = self.desired(service)

        def over(rollout: Rollout) -> bool:
            completed = rollout.observed and rollout.updated == rollout.replicas == wanted <= rollout.available
            return rollout.stalled is not None or (completed and len(self.replicas(service).running) == wanted)

        poll_until(lambda: Rollout.of(self.deployment(service)), over, ROLL_TIMEOUT_PER_REPLICA_S * max(wanted, 1), 0.2)

    def autoscaler(self, service: str) -> Any | None:
        """The HorizontalPodAutoscaler whose target is the service's Deployment, if one is."""
        found = self._call(
            lambda: self.autoscaling.list_namespaced_horizontal_pod_autoscaler(self.namespace),
            "list autoscalers",
        ).items
        for hpa in found:
            target = hpa.spec.scale_target_ref
            if target.kind == "Deployment" and target.name == service:
                return hpa
        return None

    def disruption_budget(self, service: str) -> Any | None:
        """The PodDisruptionBudget whose selector picks the Deployment's pods, if one does."""
        labels = self.deployment(service).spec.selector.match_labels or {}
        found = self._call(
            lambda: self.policy.list_namespaced_pod_disruption_budget(self.namespace), "list disruption budgets"
        ).items
        for budget in found:
            wanted = (budget.spec.selector and budget.spec.selector.match_labels) or {}
            if wanted and all(labels.get(key) == value for key, value in wanted.items()):
                return budget
        return None

    def declared(self, service: str) -> DeclaredDeployment:
        """What the Deployment, its autoscaler and its disruption budget declare, and the namespace's CronJobs."""
        jobs = self._call(lambda: self.batch.list_namespaced_cron_job(self.namespace), "list cron jobs").items
        return read_declared(
            service, self.deployment(service), self.autoscaler(service), self.disruption_budget(service), tuple(jobs)
        )

    def scale(self, service: str, replicas: int) -> None:
        """Set the Deployment's scale; on a scale-out an autoscaler's minimum follows, and any other scale
        returns it to the declared one. What is already so is not written again: an undo after a
        refused disruption changes nothing."""
        self.consent.require_destructive(f"scale {service} to {replicas} replicas")
        hpa = self.autoscaler(service)
        if hpa is not None:
            annotations = hpa.metadata.annotations or {}
            declared = int(annotations.get(DECLARED_MIN, hpa.spec.min_replicas or 1))
            if replicas > hpa.spec.max_replicas:
                raise ProbeError(f"{service}'s autoscaler allows at most {hpa.spec.max_replicas} replicas")
            # Only a scale-out holds the minimum up (the autoscaler would undo it otherwise); any other
            # scale, an undo among them, puts the declared minimum back: the count the autoscaler had
            # chosen at the start (4 of 3-10 under load, say) is not a minimum to leave behind.
            hold = replicas > declared and replicas > self.desired(service)
            minimum = replicas if hold else declared
            note = str(declared) if hold else None
            patch = {"metadata": {"annotations": {DECLARED_MIN: note}}, "spec": {"minReplicas": minimum}}
            if (hpa.spec.min_replicas, annotations.get(DECLARED_MIN)) != (minimum, note):  # no write when so already
                self._call(
                    lambda: self.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
                        hpa.metadata.name, self.namespace, patch
                    ),
                    f"set the minimum of autoscaler {hpa.metadata.name}",
                )
        if self.desired(service) != replicas:
            self._call(
                lambda: self.apps.patch_namespaced_deployment_scale(
                    service, self.namespace, {"spec": {"replicas": replicas}}
                ),
                f"scale deployment {service}",
            )
        deadline = time.monotonic() + SCALE_TAKEN_S
        while self.desired(service) != replicas:
            if time.monotonic() > deadline:
                raise ProbeError(f"deployment {service} did not take {replicas} replicas")
            time.sleep(0.2)

    def stop_component(self, name: str) -> None:
        """Scale a Deployment of the namespace to zero, noting its replica count on it first (in the same
        write) so that whoever starts it again, a later process among them, knows what to restore.
        An autoscaler stands aside while its target has no replica."""
        self.consent.require_destructive(f"stop {name}")
        replicas = int(self.deployment(name).spec.replicas or 0)
        if replicas == 0:
            return
        patch = {"metadata": {"annotations": {STOPPED_FROM: str(replicas)}}, "spec": {"replicas": 0}}
        self._patch_deployment(name, patch, f"stop deployment {name}")

    def start_component(self, name: str) -> None:
        """Give a Deployment a drill stopped its replicas back; return once they are all ready."""
        deployment = self.deployment(name)
        noted = (deployment.metadata.annotations or {}).get(STOPPED_FROM)
        if noted is None:
            if not deployment.spec.replicas:
                raise ProbeError(f"deployment {name} has no replica and no note of how many it had")
            return
        patch = {"metadata": {"annotations": {STOPPED_FROM: None}}, "spec": {"replicas": int(noted)}}
        self._patch_deployment(name, patch, f"start deployment {name}")
        ready = poll_until(
            lambda: int(self.deployment(name).status.ready_replicas or 0), lambda count: count >= int(noted),
            CONVERGE_TIMEOUT_S, 0.5,
        )  # fmt: skip
        if not ready.met:
            raise ProbeError(f"deployment {name} did not have {noted} ready replicas in {CONVERGE_TIMEOUT_S:g} s")

    def _patch_deployment(self, name: str, patch: dict[str, Any], what: str) -> None:
        self._call(lambda: self.apps.patch_namespaced_deployment(name, self.namespace, patch), what)

    def component_running(self, name: str) -> bool:
        """Whether a Deployment of the namespace has a ready replica."""
        return int(self.deployment(name).status.ready_replicas or 0) > 0
