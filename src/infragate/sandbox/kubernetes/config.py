"""The reference cluster's configuration: its PKI's identities, kubeconfigs, containerd's, the CNI
network's, the kubelet's and kube-proxy's files, and each component's command line.

One node: the API server and the kubelet listen on the node's own address (NODE_IP, on a link
the cluster makes: the kubelet refuses a loopback node address), everything else on
127.0.0.1; pods live on a bridge of the cluster's own (10.244.0.0/24), services get addresses from
10.96.0.0/24 through kube-proxy's iptables rules. Nothing is pulled: containerd's sandbox image is
the cluster's own pause image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infragate.sandbox.kubernetes.cluster_pki import Identity

NODE = "infragate-node"
NODE_IP = "10.254.0.1"  # the node's address: not loopback (the kubelet refuses that), on a link of its own
CGROUP_ROOT = "infragate-k8s"  # the kubelet's cgroupRoot: every pod's cgroup is under it
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/24"
API_SERVICE_IP = "10.96.0.1"
BRIDGE = "igk8s0"
PAUSE_IMAGE = "infragate.local/pause:1"
NAMESPACE = "k8s.io"  # containerd's namespace for the CRI's containers and images


@dataclass(frozen=True)
class Ports:
    """Every port the cluster's components listen on, all on 127.0.0.1."""

    etcd: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kubelet: int
    kubelet_healthz: int
    proxy_healthz: int
    proxy_metrics: int
    metrics_server: int

    @classmethod
    def from_list(cls, ports: list[int]) -> Ports:
        """Ports in field order, from free_ports(len(fields))."""
        return cls(*ports)


def containerd_socket(run: Path) -> Path:
    """containerd's socket in the cluster's run folder."""
    return run / "containerd.sock"


@dataclass(frozen=True)
class Layout:
    """Where one cluster keeps its files, and the binaries it runs."""

    directory: Path
    binaries: Path
    run: Path  # containerd's state and socket (a short path: sockets are limited to 108 bytes)
    ports: Ports

    @property
    def pki(self) -> Path:
        return self.directory / "pki"

    @property
    def containerd_socket(self) -> Path:
        return containerd_socket(self.run)

    def kubeconfig(self, user: str) -> Path:
        return self.directory / "kubeconfigs" / f"{user}.kubeconfig"

    @property
    def api_url(self) -> str:
        return f"https://{NODE_IP}:{self.ports.apiserver}"


IDENTITIES = (
    Identity(
        "apiserver",
        "kube-apiserver",
        server_names=(
            NODE_IP,
            "127.0.0.1",
            API_SERVICE_IP,
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
        ),
        client=False,
    ),
    Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
    Identity("admin", "infragate-admin", ("system:masters",)),
    Identity("controller-manager", "system:kube-controller-manager"),
    Identity("scheduler", "system:kube-scheduler"),
    Identity("kubelet", f"system:node:{NODE}", ("system:nodes",), server_names=(NODE_IP, "127.0.0.1", NODE)),
    Identity("kube-proxy", "system:kube-proxy", ("system:node-proxier",)),
    Identity("prometheus", "infragate:prometheus"),  # the monitoring beside the cluster: reads pods only
)
FRONT_PROXY = (Identity("front-proxy-client", "front-proxy-client"),)
KUBECONFIG_USERS = ("admin", "controller-manager", "scheduler", "kubelet", "kube-proxy")


def write_kubeconfigs(layout: Layout) -> None:
    """A kubeconfig per component (and the admin's), each with its own client certificate."""
    folder = layout.kubeconfig("admin").parent
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for user in KUBECONFIG_USERS:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "infragate",
                    "cluster": {"server": layout.api_url, "certificate-authority": str(layout.pki / "ca.pem")},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": str(layout.pki / f"{user}.pem"),
                        "client-key": str(layout.pki / f"{user}.key"),
                    },
                }
            ],
            "contexts": [{"name": "infragate", "context": {"cluster": "infragate", "user": user}}],
            "current-context": "infragate",
        }
        path = layout.kubeconfig(user)
        path.write_text(json.dumps(config, indent=2))
        path.chmod(0o600)


def containerd_toml(layout: Layout, snapshotter: str) -> str:
    """containerd's configuration: its own root, state and socket, the CRI with runc on cgroupfs."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{layout.directory / "containerd"}"
state = "{layout.run / "state"}"

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{layout.run / "containerd.sock.ttrpc"}"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  # No lower oom_score_adj than containerd's own: the kubelet asks -998 for pod sandboxes, which
  # needs CAP_SYS_RESOURCE, and machines like these run without it.
  restrict_oom_score_adj = true
  [{cri}.containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{layout.run / "runc"}"
  [{cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{layout.directory / "cni"}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.directory / "containerd-opt"}"
"""


def cni_conflist(layout: Layout) -> str:
    """A bridge of this cluster's own with host-local addresses: pods reach each other and the host."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "infragate",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(layout.directory / "cni-ipam"),
                    },
                }
            ],
        },
        indent=2,
    )


def kubelet_yaml(layout: Layout) -> str:
    """The kubelet's configuration: loopback only, webhook authorization, cgroupfs, no eviction by a full disk."""
    pki = layout.pki
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "port": layout.ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": layout.ports.kubelet_healthz,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.pem")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet.pem"),
        "tlsPrivateKeyFile": str(pki / "kubelet.key"),
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{CGROUP_ROOT}",
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "failSwapOn": False,
        "podCIDR": POD_CIDR,
        "resolvConf": str(layout.directory / "resolv.conf"),
        "serializeImagePulls": False,
        # A test machine's disk may be nearly full; eviction would remove the workload under test.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
    }
    return json.dumps(config, indent=2)


def kube_proxy_yaml(layout: Layout) -> str:
    """kube-proxy in iptables mode on loopback; it leaves the machine's conntrack settings alone."""
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "mode": "iptables",
        "clusterCIDR": POD_CIDR,
        "bindAddress": "127.0.0.1",
        "healthzBindAddress": f"127.0.0.1:{layout.ports.proxy_healthz}",
        "metricsBindAddress": f"127.0.0.1:{layout.ports.proxy_metrics}",
        "hostnameOverride": NODE,
        "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        # Rules follow the endpoints within 0.1 s, not the default 1 s (0 means the default): a pod
        # that is ready gets traffic, and one that is going gets none, as soon as the API says so.
        "iptables": {"minSyncPeriod": "100ms", "syncPeriod": "30s"},
    }
    return json.dumps(config, indent=2)


def commands(layout: Layout) -> dict[str, str]:
    """Each component's command line, in the order they start."""
    bin_, pki, ports, d = layout.binaries, layout.pki, layout.ports, layout.directory
    peer = f"http://127.0.0.1:{ports.etcd_peer}"

    def auth(user: str) -> str:
        config = layout.kubeconfig(user)
        return f"--kubeconfig={config} --authentication-kubeconfig={config} --authorization-kubeconfig={config}"

    return {
        "etcd": (
            f"{bin_ / 'etcd'} --name node --data-dir {d / 'etcd'} "
            f"--listen-client-urls http://127.0.0.1:{ports.etcd} --advertise-client-urls http://127.0.0.1:{ports.etcd} "
            f"--listen-peer-urls {peer} --initial-advertise-peer-urls {peer} --initial-cluster node={peer} "
            "--listen-metrics-urls= --unsafe-no-fsync --log-level warn"
        ),
        "containerd": f"/usr/bin/containerd --config {d / 'containerd.toml'}",
        "kube-apiserver": (
            f"{bin_ / 'kube-apiserver'} --etcd-servers=http://127.0.0.1:{ports.etcd} "
            f"--bind-address={NODE_IP} --advertise-address={NODE_IP} --secure-port={ports.apiserver} "
            f"--service-cluster-ip-range={SERVICE_CIDR} --client-ca-file={pki / 'ca.pem'} "
            f"--tls-cert-file={pki / 'apiserver.pem'} --tls-private-key-file={pki / 'apiserver.key'} "
            "--service-account-issuer=https://kubernetes.default.svc "
            f"--service-account-key-file={pki / 'sa.pub'} --service-account-signing-key-file={pki / 'sa.key'} "
            "--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction "
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.pem'} "
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'} "
            f"--kubelet-certificate-authority={pki / 'ca.pem'} --kubelet-preferred-address-types=InternalIP "
            f"--requestheader-client-ca-file={pki / 'front-proxy-ca.pem'} "
            "--requestheader-allowed-names=front-proxy-client --requestheader-username-headers=X-Remote-User "
            "--requestheader-group-headers=X-Remote-Group --requestheader-extra-headers-prefix=X-Remote-Extra- "
            f"--proxy-client-cert-file={pki / 'front-proxy-client.pem'} "
            f"--proxy-client-key-file={pki / 'front-proxy-client.key'} --enable-aggregator-routing=true "
            "--profiling=false"
        ),
        "kube-controller-manager": (
            f"{bin_ / 'kube-controller-manager'} {auth('controller-manager')} "
            f"--bind-address=127.0.0.1 --secure-port={ports.controller_manager} --leader-elect=false "
            f"--cluster-signing-cert-file={pki / 'ca.pem'} --cluster-signing-key-file={pki / 'ca.key'} "
            f"--root-ca-file={pki / 'ca.pem'} --service-account-private-key-file={pki / 'sa.key'} "
            "--use-service-account-credentials=true --horizontal-pod-autoscaler-sync-period=5s "
            "--profiling=false"
        ),
        "kube-scheduler": (
            f"{bin_ / 'kube-scheduler'} {auth('scheduler')} --bind-address=127.0.0.1 "
            f"--secure-port={ports.scheduler} --leader-elect=false --profiling=false"
        ),
        "kubelet": (
            f"{bin_ / 'kubelet'} --config={d / 'kubelet.yaml'} --kubeconfig={layout.kubeconfig('kubelet')} "
            f"--root-dir={d / 'kubelet'} --hostname-override={NODE} --node-ip={NODE_IP}"
        ),
        "kube-proxy": f"{bin_ / 'kube-proxy'} --config={d / 'kube-proxy.yaml'}",
        # CPU and memory of pods for the autoscaler, from the kubelet's resource metrics, served
        # to the API server through the aggregation layer (metrics_api_objects registers it).
        "metrics-server": (
            f"{bin_ / 'metrics-server'} {auth('admin')} --bind-address={NODE_IP} "
            f"--secure-port={ports.metrics_server} --cert-dir={d / 'metrics-server'} "
            f"--kubelet-preferred-address-types=InternalIP --kubelet-certificate-authority={pki / 'ca.pem'} "
            "--kubelet-use-node-status-port --metric-resolution=10s --kubelet-request-timeout=5s"
        ),
    }


def metrics_api_objects(layout: Layout) -> list[dict[str, object]]:
    """The metrics API's registration: a Service whose one endpoint is metrics-server on the node's
    address, and the APIService that routes metrics.k8s.io there."""
    meta = {"name": "metrics-server", "namespace": "kube-system"}
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"ports": [{"port": 443, "name": "https"}]}},
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": meta,
            "subsets": [
                {"addresses": [{"ip": NODE_IP}], "ports": [{"port": layout.ports.metrics_server, "name": "https"}]}
            ],
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {
                "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443},
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                # metrics-server serves a certificate it makes itself; the API server reaches it on the node.
                "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]
