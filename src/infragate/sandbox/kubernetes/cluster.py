"""The Kubernetes reference cluster: a real single node built from Kubernetes' own Go modules
(etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy) with Debian's
containerd, runc and CNI plugins, under one supervisord, running the marketplace's workload behind
the reference nginx gateway on the host.

`up` makes a PKI, starts the components, imports the images (nothing is pulled), creates the
workload, waits until its replicas are ready and writes the profile; `down` stops everything and
verifies that no process, mount, network namespace, link, iptables chain or cgroup of it is left.
One cluster at a time: the node's link, bridge and cgroup root are the machine's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from infragate.errors import ProbeError, SandboxError
from infragate.retry import poll_until, retry
from infragate.sandbox.host import alive, free_ports, sandbox_dir
from infragate.sandbox.kubernetes import cluster_pki, config, containerd_images, host_services, node, workload
from infragate.sandbox.kubernetes.cluster_profile import kubernetes_profile
from infragate.sandbox.local.programs import DownReport, launch_supervisor, program, stop, wait_running
from infragate.sandbox.spec import KubernetesSpec
from infragate.sandbox.variants import kubernetes_spec

VERSION = "v1.34.4"
STATE_FILE = "state.json"
PROFILE_FILE = "profile.yaml"
RUN_DIR = Path("/run/infragate-k8s")
READY_TIMEOUT_S = 120.0
LINGER_S = 2.0
STOP_WAIT_S = "3"  # supervisord's stopwaitsecs for the cluster's programs
OWNER_FILE = "owner"  # in RUN_DIR: the folder of the cluster that holds the node
COMPONENTS = (
    "etcd",
    "containerd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "metrics-server",
)


def import_image(archive: Path, tag: str) -> None:
    """Import a docker-archive (infragate's own image) into the running cluster's containerd."""
    containerd_images.import_into(config.containerd_socket(RUN_DIR), archive, tag)


def binaries() -> Path:
    """Where scripts/kubernetes.sh puts the cluster's binaries."""
    tools = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "infragate" / "tools"
    return Path(os.environ.get("INFRAGATE_KUBERNETES_BIN", tools / f"kubernetes-{VERSION}" / "bin"))


@dataclass(frozen=True)
class ClusterState:
    """What a running cluster is, recorded in its folder for any later process."""

    name: str
    variant: str | None
    directory: str
    profile: str
    kubeconfig: str
    api_url: str
    gateway_url: str
    supervisor_url: str
    started_at: float
    up_s: float
    api_image: str

    @classmethod
    def read(cls, directory: Path) -> ClusterState:
        """The state recorded in a cluster's folder."""
        try:
            return cls(**json.loads((directory / STATE_FILE).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise SandboxError(f"no usable cluster state in {directory} ({exc})") from None


def _layout(directory: Path) -> config.Layout:
    ports = config.Ports.from_list(free_ports(len(config.Ports.__dataclass_fields__)))
    return config.Layout(directory, binaries(), RUN_DIR, ports)


def _check_machine() -> None:
    built = (*COMPONENTS[:1], *COMPONENTS[2:], "pause", "prometheus")
    missing = [name for name in built if not (binaries() / name).exists()]
    if missing:
        raise SandboxError(
            f"the Kubernetes binaries are not built ({', '.join(missing)} missing in {binaries()}); "
            "run `bash scripts/kubernetes.sh`"
        )
    for tool, package in (
        ("/usr/bin/containerd", "containerd"),
        ("/usr/lib/cni/bridge", "containernetworking-plugins"),
    ):
        if not Path(tool).exists():
            raise SandboxError(f"{tool} is missing (apt-get install {package})")
    if os.geteuid() != 0:
        raise SandboxError(
            "the Kubernetes reference cluster needs root (a kubelet manages cgroups, mounts and iptables)"
        )


def _write_files(layout: config.Layout) -> None:
    directory = layout.directory
    for folder in ("logs", "programs", "cni", "kubelet", "etcd", "metrics-server", "nginx/logs", "nginx/temp"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    (directory / "etcd").chmod(0o700)
    layout.run.mkdir(parents=True, exist_ok=True)
    cluster_pki.issue(layout.pki, config.IDENTITIES, config.FRONT_PROXY)
    config.write_kubeconfigs(layout)
    (directory / "containerd.toml").write_text(config.containerd_toml(layout, "overlayfs"))
    (directory / "cni" / "10-infragate.conflist").write_text(config.cni_conflist(layout))
    (directory / "kubelet.yaml").write_text(config.kubelet_yaml(layout))
    (directory / "kube-proxy.yaml").write_text(config.kube_proxy_yaml(layout))
    (directory / "resolv.conf").write_text("nameserver 127.0.0.1\n")  # pods resolve nothing: no cluster DNS
    for name, command in config.commands(layout).items():
        # A disposable cluster: the API server's graceful shutdown (about 12 s) buys nothing here.
        conf = program(name, command, directory, stopwaitsecs=STOP_WAIT_S)
        (directory / "programs" / f"{name}.conf").write_text(conf)


class _Api:
    """The API server as the cluster's admin. Trust and client certificate go with every request: a
    session's own `verify` loses to REQUESTS_CA_BUNDLE when that is set (as on these machines)."""

    def __init__(self, pki: Path, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.tls: dict[str, Any] = {
            "cert": (str(pki / "admin.pem"), str(pki / "admin.key")),
            "verify": str(pki / "ca.pem"),
        }

    @classmethod
    def of(cls, layout: config.Layout) -> _Api:
        return cls(layout.pki, layout.api_url)

    def get(self, url: str, timeout: float) -> requests.Response:
        return self.session.get(url, timeout=timeout, **self.tls)

    def post(self, url: str, body: dict[str, Any], timeout: float) -> requests.Response:
        return self.session.post(url, json=body, timeout=timeout, **self.tls)

    def delete(self, url: str, timeout: float) -> requests.Response:
        return self.session.delete(url, timeout=timeout, **self.tls)

    def patch(self, url: str, body: dict[str, Any], timeout: float) -> requests.Response:
        headers = {"Content-Type": "application/strategic-merge-patch+json"}
        return self.session.patch(url, json=body, headers=headers, timeout=timeout, **self.tls)


def _wait_api(layout: config.Layout) -> None:
    session = _Api.of(layout)

    def ready() -> None:
        session.get(f"{layout.api_url}/readyz", timeout=2).raise_for_status()

    retry(ready, READY_TIMEOUT_S, 0.3, "the API server is ready")

    def node_ready() -> bool:
        found = session.get(f"{layout.api_url}/api/v1/nodes/{config.NODE}", timeout=2)
        if found.status_code != 200:
            return False
        conditions = {item["type"]: item["status"] for item in found.json()["status"].get("conditions", [])}
        return conditions.get("Ready") == "True"

    if not poll_until(node_ready, bool, READY_TIMEOUT_S, 0.5).met:
        raise SandboxError(f"node {config.NODE} did not become Ready within {READY_TIMEOUT_S:g} s")


def _apply(session: _Api, objects: list[dict[str, Any]]) -> None:
    """Create each object through the API (a plain POST to its collection)."""
    for item in objects:
        group = item["apiVersion"]
        base = f"{session.url}/api/v1" if group == "v1" else f"{session.url}/apis/{group}"
        plural = {
            "PodDisruptionBudget": "poddisruptionbudgets",
            "HorizontalPodAutoscaler": "horizontalpodautoscalers",
            "Endpoints": "endpoints",
        }
        kind = plural.get(item["kind"], item["kind"].lower() + "s")
        namespace = item["metadata"].get("namespace")
        url = f"{base}/namespaces/{namespace}/{kind}" if namespace else f"{base}/{kind}"
        created = session.post(url, item, timeout=10)
        if created.status_code not in (200, 201):
            raise SandboxError(f"could not create {item['kind']} {item['metadata']['name']}: {created.text[:300]}")


def _service_address(layout: config.Layout) -> str:
    session = _Api.of(layout)
    url = f"{layout.api_url}/api/v1/namespaces/{workload.NAMESPACE}/services/{workload.SERVICE}"
    service = session.get(url, timeout=5).json()
    return f"{service['spec']['clusterIP']}:{workload.PORT}"


def _deployment_url(session: _Api, namespace: str) -> str:
    return f"{session.url}/apis/apps/v1/namespaces/{namespace}/deployments/{workload.SERVICE}"


def _wait_workload(session: _Api, namespace: str, replicas: int) -> None:
    url = _deployment_url(session, namespace)

    def ready() -> int:
        return int(session.get(url, timeout=5).json().get("status", {}).get("readyReplicas") or 0)

    if not poll_until(ready, lambda count: count >= replicas, READY_TIMEOUT_S, 0.5).met:
        raise SandboxError(f"the {workload.SERVICE} deployment did not have {replicas} ready replicas in time")


def _break_update(session: _Api, namespace: str, deadline_s: int) -> None:
    """Update the rolled-out Deployment to an image that cannot start and wait until Kubernetes calls
    the rollout stalled: a surge pod that never runs beside the old ones, left as it is."""
    url = _deployment_url(session, namespace)
    container = {"name": workload.SERVICE, "image": workload.BROKEN_IMAGE}
    patched = session.patch(url, {"spec": {"template": {"spec": {"containers": [container]}}}}, timeout=10)
    if patched.status_code != 200:
        raise SandboxError(f"could not update {workload.SERVICE} to a broken image: {patched.text[:300]}")

    def stalled() -> bool:
        conditions = session.get(url, timeout=5).json().get("status", {}).get("conditions", [])
        return any(item.get("reason") == "ProgressDeadlineExceeded" for item in conditions)

    if not poll_until(stalled, bool, deadline_s + 30, 0.5).met:
        raise SandboxError(f"the broken update of {workload.SERVICE} was not reported stalled in time")


def _wait_autoscaler(session: _Api, namespace: str) -> None:
    """The reference is up once its autoscaler reads the pods' CPU (metrics-server's first samples
    and the HPA's first sync come some 20 s after the pods are ready): an experiment started before
    would measure the metrics pipeline's warm-up, not the autoscaler."""
    url = f"{session.url}/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{workload.SERVICE}"

    def reading() -> bool:
        metrics = session.get(url, timeout=5).json().get("status", {}).get("currentMetrics") or []
        return any((m.get("resource") or {}).get("current", {}).get("averageUtilization") is not None for m in metrics)

    if not poll_until(reading, bool, READY_TIMEOUT_S, 1.0).met:
        raise SandboxError(f"the autoscaler of {workload.SERVICE} read no CPU utilisation in {READY_TIMEOUT_S:g} s")


def _deploy(session: _Api, spec: KubernetesSpec, image: str, namespace: str) -> None:
    """Create the workload and wait for it; a variant with a broken update then gets that update."""
    _apply(session, workload.manifests(spec, image, namespace))
    _wait_workload(session, namespace, spec.replicas)
    if spec.broken_update:
        _break_update(session, namespace, spec.progress_deadline_s)


def up(name: str = "kubernetes", variant: str | None = None, root: Path | None = None) -> ClusterState:
    """Start the cluster with the workload (optionally a known-bad variant of it) and write its profile."""
    _check_machine()
    directory = sandbox_dir(name, root)
    owner = _owner()
    if owner is not None and alive(_leader(owner)):
        raise SandboxError(
            f"a Kubernetes reference cluster is up ({owner}): one at a time (the node's link, bridge and cgroups "
            f"are the machine's); run `infragate sandbox down --runtime kubernetes --name {owner.name}`"
        )
    started = time.monotonic()
    shutil.rmtree(directory, ignore_errors=True)
    layout = _layout(directory)
    node.tear_down(directory, layout.run)  # whatever an earlier cluster, killed, left behind
    node.prepare()
    try:
        layout.run.mkdir(parents=True, exist_ok=True)
        (layout.run / OWNER_FILE).write_text(str(directory))
        _write_files(layout)
        supervisor, _ = launch_supervisor(name, directory)
        wait_running(supervisor, set(COMPONENTS), directory)
        retry(lambda: layout.containerd_socket.stat(), 30, 0.1, "containerd answers")
        with tempfile.TemporaryDirectory(prefix="infragate-images-") as scratch:
            containerd_images.import_pause(layout, config.PAUSE_IMAGE, Path(scratch))
            api_image = containerd_images.import_role(layout, "api", Path(scratch))
        _wait_api(layout)
        spec = kubernetes_spec(variant)
        _apply(_Api.of(layout), config.metrics_api_objects(layout))
        _deploy(_Api.of(layout), spec, api_image, workload.NAMESPACE)
        _apply(_Api.of(layout), host_services.prometheus_reader(workload.NAMESPACE))
        monitoring = host_services.start_monitoring(layout, supervisor, spec.replicas)
        if spec.autoscaler:
            _wait_autoscaler(_Api.of(layout), workload.NAMESPACE)
        gateway_url, http_url = host_services.start_gateway(layout, supervisor, _service_address(layout))
    except BaseException:
        _stop(directory, layout.run)
        raise
    profile = directory / PROFILE_FILE
    ports = list(asdict(layout.ports).values())
    promised = kubernetes_profile(name, variant, gateway_url, http_url, layout.kubeconfig("admin"), monitoring, ports)
    profile.write_text(yaml.safe_dump(promised, sort_keys=False))
    state = ClusterState(
        name, variant, str(directory), str(profile), str(layout.kubeconfig("admin")), layout.api_url, gateway_url,
        supervisor.url, time.time(), round(time.monotonic() - started, 1), api_image,
    )  # fmt: skip
    (directory / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
    return state


def deploy_variant(state: ClusterState, variant: str, namespace: str) -> Path:
    """A known-bad variant's workload in a namespace of its own in a running cluster, and a profile
    for it beside the cluster's (the same promises: the variant changes only what is deployed)."""
    directory = Path(state.directory)
    # No warm-up: what the configuration feature judges is declared, not served, and each variant
    # is ready 3 s sooner.
    spec = dataclasses.replace(kubernetes_spec(variant), warm_up_s=0)
    _deploy(_Api(directory / "pki", state.api_url), spec, state.api_image, namespace)
    profile = yaml.safe_load(Path(state.profile).read_text())
    profile["platform"]["namespace"] = namespace
    profile.pop("monitoring", None)  # it watches the reference's namespace, not this one
    profile["description"] = f"infragate Kubernetes reference cluster with known defect '{variant}'"
    path = directory / f"profile-{namespace}.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def remove_namespace(state: ClusterState, namespace: str) -> None:
    """Delete a namespace a variant was deployed in (its pods go in the background)."""
    api = _Api(Path(state.directory) / "pki", state.api_url)
    api.delete(f"{state.api_url}/api/v1/namespaces/{namespace}", timeout=10).raise_for_status()


def _owner() -> Path | None:
    """The folder of the cluster that holds the node now, if one does."""
    try:
        return Path((RUN_DIR / OWNER_FILE).read_text().strip())
    except OSError:
        return None


def _leader(directory: Path) -> int:
    try:
        return int((directory / "supervisord.pid").read_text().strip())
    except (OSError, ValueError):
        return 0


def _stop(directory: Path, run: Path) -> DownReport:
    # containerd's shims outlive the supervisor by design (they keep pods running through a restart
    # of containerd): no use waiting for them; they are killed, and reported, after a moment.
    report = stop(directory, linger_s=LINGER_S)
    owner = _owner()
    if owner is None or owner == directory:  # the node is another cluster's: leave it be
        node.tear_down(directory, run)
    return report


def down(name: str = "kubernetes", root: Path | None = None) -> tuple[DownReport, list[str]]:
    """Stop the cluster, take back what its node changed, and say what (if anything) is left."""
    directory = sandbox_dir(name, root)
    if not directory.exists():
        raise SandboxError(f"no cluster named '{name}' in {directory.parent}")
    report = _stop(directory, RUN_DIR)
    left = node.leftovers(directory, RUN_DIR)
    if not left and not report.left_running:
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(RUN_DIR, ignore_errors=True)
    return report, left


def status(name: str = "kubernetes", root: Path | None = None) -> ClusterState:
    """The recorded state of a running cluster."""
    state = ClusterState.read(sandbox_dir(name, root))
    if not alive(_leader(Path(state.directory))):
        raise ProbeError(f"cluster '{name}' is recorded but its supervisor is not running")
    return state
