"""What the reference cluster runs on the host beside it, under the cluster's supervisor: the nginx
gateway in front of the workload's Service, and the marketplace's monitoring as its seed runs it
(a stack beside the cluster, not in it): Prometheus finding the API's pods through the API server,
with a certificate of its own that may only read pods (built from its Go module by
scripts/kubernetes.sh: Debian's is built without Kubernetes discovery), Alertmanager from Debian
and infragate's webhook receiver, configured as the local reference's monitoring is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
import yaml

from infragate.retry import retry
from infragate.sandbox import pki as gateway_pki
from infragate.sandbox.host import free_ports
from infragate.sandbox.kubernetes import config, workload
from infragate.sandbox.local import gateway
from infragate.sandbox.local import prometheus_stack as stack
from infragate.sandbox.local.programs import program
from infragate.sandbox.monitoring_promise import Watch, monitoring_section
from infragate.sandbox.spec import SandboxSpec

GATEWAY_PKI = "pki-gateway"  # the gateway's CA and certificate, apart from the cluster's
PROMETHEUS_USER = "infragate:prometheus"  # the user of the identity config.IDENTITIES gives Prometheus
NOTIFY_WITHIN = "20s"  # scaled to zero, a pod still answers for its preStop (2 s) and its shutdown


def start_gateway(layout: config.Layout, supervisor: Any, service_address: str) -> tuple[str, str]:
    """The reference nginx gateway on the host, in front of the workload's Service; its https and http URLs."""
    directory = layout.directory
    https, http = free_ports(2)
    gateway_pki.issue(directory / GATEWAY_PKI, ("127.0.0.1", "localhost"))
    spec = SandboxSpec()
    upstream = {f"{workload.SERVICE}-service-{index}": service_address for index in (1, 2, 3)}
    conf = gateway.write_conf(directory, spec, https, http, upstream, pki=directory / GATEWAY_PKI)
    command = gateway.command(directory, spec, conf)
    (directory / "programs" / "gateway.conf").write_text(program("gateway", command, directory))
    supervisor.reload_config()
    supervisor.add_group("gateway")
    url = f"https://127.0.0.1:{https}"
    ca = str(directory / GATEWAY_PKI / "ca.pem")
    retry(lambda: requests.get(f"{url}/health", verify=ca, timeout=2).raise_for_status(), 30, 0.2, "gateway answers")
    return url, f"http://127.0.0.1:{http}"


def prometheus_reader(namespace: str) -> list[dict[str, Any]]:
    """A Role that reads the namespace's pods, bound to Prometheus's identity: all it needs to find them."""
    meta = {"name": "prometheus", "namespace": namespace}
    role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "prometheus"}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": PROMETHEUS_USER}],
            "roleRef": role,
        },
    ]


def _rules(spec: SandboxSpec) -> dict[str, object]:
    """The API's rules, and one for the whole API gone: with no pod, there is no target to be down."""
    down = stack.alert(
        "ApiDown",
        f'absent(up{{job="{workload.SERVICE}"}} == 1)',
        "api",
        f"{spec.alert_down_for_s}s",
        "no API pod answers",
    )
    return {"groups": [{"name": "api", "interval": f"{stack.EVALUATE_S}s", "rules": [*stack.api_rules(spec), down]}]}


def _prometheus_config(layout: config.Layout, alertmanager: int, folder: Path) -> dict[str, object]:
    """The API's pods found through the API server (the running ones, on the API's port), each
    scraped every second and named by its pod."""
    pki = layout.pki
    discovery = {
        "role": "pod",
        "api_server": layout.api_url,
        "namespaces": {"names": [workload.NAMESPACE]},
        "tls_config": {
            "ca_file": str(pki / "ca.pem"),
            "cert_file": str(pki / "prometheus.pem"),
            "key_file": str(pki / "prometheus.key"),
        },
    }

    def keep(label: str, value: str) -> dict[str, object]:
        return {"source_labels": [f"__meta_kubernetes_pod_{label}"], "regex": value, "action": "keep"}

    return {
        **stack.server_settings(str(folder / "rules.yml"), f"127.0.0.1:{alertmanager}"),
        "scrape_configs": [
            {
                "job_name": workload.SERVICE,
                "kubernetes_sd_configs": [discovery],
                "relabel_configs": [
                    keep("label_app", workload.SERVICE),
                    keep("container_port_number", str(workload.PORT)),
                    keep("phase", "Running"),
                    {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "replica"},
                ],
            }
        ],
    }


def start_monitoring(layout: config.Layout, supervisor: Any, replicas: int) -> dict[str, object]:
    """Start the monitoring beside the cluster; the profile's `monitoring:` section for it."""
    directory = layout.directory
    spec = SandboxSpec()
    prometheus, alertmanager, receiver = free_ports(3)
    commands = stack.server_commands(directory, prometheus, alertmanager, receiver, layout.binaries / "prometheus")
    folder = directory / stack.FOLDER
    files = {
        "rules.yml": _rules(spec),
        "prometheus.yml": _prometheus_config(layout, alertmanager, folder),
        "alertmanager.yml": stack.alertmanager_config(spec, receiver),
    }
    for name, content in files.items():
        (folder / name).write_text(yaml.safe_dump(content, sort_keys=False))
    for name, command in commands.items():
        (directory / "programs" / f"{name}.conf").write_text(program(name, command, directory))
    supervisor.reload_config()
    for name in commands:
        supervisor.add_group(name)
    stack.wait_ready(prometheus, alertmanager, 60)
    return _promises(prometheus, alertmanager, receiver, replicas)


def _promises(prometheus: int, alertmanager: int, receiver: int, replicas: int) -> dict[str, object]:
    """The seed's API alerts, routed to the on-call receiver; the whole API gone noticed in time."""
    return monitoring_section(
        Watch(prometheus, alertmanager, receiver),
        {workload.SERVICE: {"min_up": replicas}},
        {"api": ("ApiDown", "ApiReplicaDown", "ApiHighErrorRate", "ApiSlowResponses")},
        drills={"ApiDown": workload.SERVICE},
        notify_within=NOTIFY_WITHIN,
        job=workload.SERVICE,
    )
