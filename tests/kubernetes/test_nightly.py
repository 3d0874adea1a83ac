"""The nightly CronJob of deploy/kubernetes runs in the reference cluster: infragate's image (built
here, imported into the cluster's containerd), the read-only Role of deploy/kubernetes/rbac.yaml,
the manifests applied as they are but for the profile (the reference's promises about its
Deployments, read in-cluster) and the features (the Kubernetes ones: the reference's gateway listens
on the host's loopback, which no pod reaches). A run started from the CronJob (as `kubectl create
job --from` does) completes, its pod's log ends conformant, and its report folder and history are on
the volume."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import yaml

from infragate.image.build import build_image
from infragate.sandbox.kubernetes import cluster, workload

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
JOB = "infragate-now"
WAIT_S = 300


def _kubectl(reference: cluster.ClusterState, *arguments: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(cluster.binaries() / "kubectl"), "--kubeconfig", reference.kubeconfig, *arguments],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"kubectl {' '.join(arguments)}: {done.stderr}"
    return done.stdout


def _in_cluster_profile(reference: cluster.ClusterState) -> str:
    """The reference's promises about its Deployments, read with the pod's service account."""
    promised = yaml.safe_load(Path(reference.profile).read_text())
    profile = {
        "version": 1,
        "name": promised["name"],
        "platform": {"kind": "kubernetes", "in_cluster": True, "namespace": workload.NAMESPACE},
        "gateway": {"base_url": promised["gateway"]["base_url"], "routes": promised["gateway"]["routes"]},
        "services": promised["services"],
        "safety": {**promised["safety"], "allow_destructive": False},
    }
    return yaml.safe_dump(profile, sort_keys=False)


def _manifests(reference: cluster.ClusterState, state: Path) -> str:
    """nightly.yaml with the reference's profile, and a volume for its claim on this machine's disk
    (the cluster has no storage provisioner: the claim binds to this volume)."""
    documents = list(yaml.safe_load_all((DEPLOY / "nightly.yaml").read_text()))
    (config_map,) = [item for item in documents if item["kind"] == "ConfigMap"]
    config_map["data"]["profile.yaml"] = _in_cluster_profile(reference)
    (cronjob,) = [item for item in documents if item["kind"] == "CronJob"]
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    container["args"].append("--features=/features/platform/kubernetes.feature")
    (claim,) = [item for item in documents if item["kind"] == "PersistentVolumeClaim"]
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "infragate-state-test"},
        "spec": {
            "capacity": claim["spec"]["resources"]["requests"],
            "accessModes": claim["spec"]["accessModes"],
            "hostPath": {"path": str(state), "type": "Directory"},
            "claimRef": {"namespace": workload.NAMESPACE, "name": claim["metadata"]["name"]},
            "persistentVolumeReclaimPolicy": "Retain",
        },
    }
    return yaml.safe_dump_all([volume, *documents], sort_keys=False)


def test_the_nightly_cronjob_runs_the_image_in_the_cluster_with_the_read_only_role(
    reference: cluster.ClusterState, tmp_path: Path
) -> None:
    image = build_image()
    cluster.import_image(image.archive, image.tag)
    state = tmp_path / "state"
    state.mkdir()
    os.chown(state, 65534, 65534)
    manifests = _manifests(reference, state)
    _kubectl(reference, "apply", "-f", str(DEPLOY / "rbac.yaml"))
    _kubectl(reference, "apply", "-f", "-", stdin=manifests)
    try:
        _kubectl(reference, "-n", workload.NAMESPACE, "create", "job", "--from=cronjob/infragate-nightly", JOB)
        deadline = time.monotonic() + WAIT_S
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            status = json.loads(_kubectl(reference, "-n", workload.NAMESPACE, "get", "job", JOB, "-o", "json"))[
                "status"
            ]
            if status.get("succeeded") or status.get("failed"):
                break
            time.sleep(2)
        log = _kubectl(reference, "-n", workload.NAMESPACE, "logs", f"job/{JOB}")
        assert status.get("succeeded") == 1, f"{status}\n{log}"
        assert "infragate: conformant: 5 conformant" in log, log
        (run_dir,) = (state / "reports").iterdir()  # on the volume, as the history kept for the next night
        evidence = json.loads((run_dir / "evidence.json").read_text())
        verdicts = {scenario["scenario"]: scenario["verdict"] for scenario in evidence["scenarios"]}
        assert set(verdicts.values()) == {"conformant"} and len(verdicts) == 5, verdicts
        assert (state / "history" / "history.sqlite").is_file()
    finally:
        _kubectl(reference, "-n", workload.NAMESPACE, "delete", "job", JOB, "--ignore-not-found", "--wait=true")
        _kubectl(reference, "delete", "-f", "-", "--wait=true", stdin=manifests)
        _kubectl(reference, "delete", "-f", str(DEPLOY / "rbac.yaml"), "--wait=true")
