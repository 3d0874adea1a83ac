"""The Kubernetes reference cluster the tests of this folder share: up once, down at the end, and
then the machine checked with its own tools for anything the cluster left."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infragate.sandbox.kubernetes import cluster


@pytest.fixture(scope="session")
def reference(sandbox_root: Path) -> Iterator[cluster.ClusterState]:
    # testinfra reads pods through `kubectl exec`: the cluster's own kubectl, for the runs under test.
    os.environ["PATH"] = f"{cluster.binaries()}{os.pathsep}{os.environ['PATH']}"
    state = cluster.up("t-k8s", root=sandbox_root)
    print(f"\nkubernetes reference cluster up in {state.up_s:.1f} s")
    yield state
    report, left = cluster.down("t-k8s", root=sandbox_root)
    assert left == [] and report.left_running == ()
    _assert_machine_clean(Path(state.directory))


def _assert_machine_clean(directory: Path) -> None:
    """What `down` claims, seen with the machine's own tools rather than the cluster's code."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert "igk8s" not in links
    for binary in ("iptables-save", "ip6tables-save"):
        rules = subprocess.run([binary], capture_output=True, text=True, check=True).stdout
        assert "KUBE-" not in rules and "CNI-" not in rules, binary
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(directory) not in mounts and str(cluster.RUN_DIR) not in mounts
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    for program in ("kube-apiserver", "kubelet", str(cluster.RUN_DIR), "etcd --name node", "/opt/infragate/api.sh"):
        assert program not in processes, program
    assert not list(Path("/var/run/netns").glob("cni-*"))
