"""What the reference cluster's node changes on the machine, made and taken back here: the node's
address (on a link of its own), the cgroup its pods live under, and, on the way down, the
pods' processes, the mounts, network namespaces, bridge and iptables rules that the kubelet,
containerd, the CNI plugins and kube-proxy leave. `leftovers` says what is still there.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from pathlib import Path

from infragate.sandbox.kubernetes.config import BRIDGE, CGROUP_ROOT, NODE_IP

NODE_LINK = "igk8s-node"
CGROUPS = Path("/sys/fs/cgroup")
NETNS = Path("/var/run/netns")
CHAIN_PREFIXES = ("KUBE-", "CNI-")
TABLES = ("filter", "nat", "mangle", "raw")


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


def prepare() -> None:
    """The node's address and the cgroup root the kubelet puts pods under, in every hierarchy."""
    if _ip("link", "show", NODE_LINK).returncode != 0:
        # A bridge with no ports: these kernels have no dummy links, and a bridge holds an address as well.
        _ip("link", "add", NODE_LINK, "type", "bridge")
    _ip("addr", "replace", f"{NODE_IP}/32", "dev", NODE_LINK)
    _ip("link", "set", NODE_LINK, "up")
    for hierarchy in _hierarchies():
        (hierarchy / CGROUP_ROOT).mkdir(exist_ok=True)


def _hierarchies() -> list[Path]:
    return sorted(path for path in CGROUPS.iterdir() if path.is_dir() and (path / "cgroup.procs").exists())


def _pod_cgroups() -> list[Path]:
    """Every cgroup under the cluster's root, deepest first."""
    found = [path for hierarchy in _hierarchies() for path in (hierarchy / CGROUP_ROOT).rglob("*") if path.is_dir()]
    roots = [hierarchy / CGROUP_ROOT for hierarchy in _hierarchies() if (hierarchy / CGROUP_ROOT).is_dir()]
    return sorted(found, key=lambda path: len(path.parts), reverse=True) + roots


def pod_processes() -> set[int]:
    """Processes in the pods' cgroups (the containers and what they started)."""
    pids: set[int] = set()
    for group in _pod_cgroups():
        with contextlib.suppress(OSError):
            pids.update(int(line) for line in (group / "cgroup.procs").read_text().split())
    return pids


def kill_pods() -> None:
    """SIGKILL every process in the pods' cgroups."""
    for pid in pod_processes():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def shims(containerd_socket: Path) -> set[int]:
    """containerd's shims for this cluster (they outlive containerd by design)."""
    marker = str(containerd_socket).encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "cmdline").read_bytes()
                if b"containerd-shim" in command and marker in command:
                    found.add(int(entry.name))
    return found


def mounts_under(*folders: Path) -> list[str]:
    """Mount points under these folders, deepest first."""
    prefixes = tuple(str(folder) for folder in folders)
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def _netns() -> list[Path]:
    """The pod network namespaces containerd's CRI pinned (named cni-<uuid>; Docker keeps its own elsewhere)."""
    return sorted(NETNS.glob("cni-*"))


def _rules(binary: str, table: str) -> list[str]:
    done = subprocess.run([binary, "-w", "5", "-t", table, "-S"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines() if done.returncode == 0 else []


def chains() -> list[str]:
    """The cluster's iptables chains still defined ("iptables nat KUBE-SERVICES")."""
    found = []
    for binary in ("iptables", "ip6tables"):
        for table in TABLES:
            for rule in _rules(binary, table):
                if rule.startswith("-N ") and rule.split()[1].startswith(CHAIN_PREFIXES):
                    found.append(f"{binary} {table} {rule.split()[1]}")
    return found


def remove_chains() -> None:
    """Delete the rules that jump to the cluster's chains, then the chains."""
    for binary in ("iptables", "ip6tables"):
        for table in TABLES:
            rules = _rules(binary, table)
            ours = [
                rule.split()[1]
                for rule in rules
                if rule.startswith("-N ") and rule.split()[1].startswith(CHAIN_PREFIXES)
            ]
            for rule in rules:
                words = shlex.split(rule)  # comments are quoted: "kubernetes forwarding rules"
                if (
                    words[0] == "-A"
                    and not words[1].startswith(CHAIN_PREFIXES)
                    and any(f"-j {chain}" in rule or f"-g {chain}" in rule for chain in ours)
                ):
                    subprocess.run([binary, "-w", "5", "-t", table, "-D", *words[1:]], capture_output=True, check=False)
            for action in ("-F", "-X"):
                for chain in ours:
                    subprocess.run([binary, "-w", "5", "-t", table, action, chain], capture_output=True, check=False)


def tear_down(directory: Path, run: Path) -> None:
    """Take back everything the node changed; what could not be taken back shows in `leftovers`."""
    kill_pods()
    for pid in shims(run / "containerd.sock"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for point in mounts_under(directory, run):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    for namespace in _netns():
        _ip("netns", "delete", namespace.name)
    for link in (BRIDGE, NODE_LINK):
        if _ip("link", "show", link).returncode == 0:
            _ip("link", "delete", link)
    remove_chains()
    for group in _pod_cgroups():
        with contextlib.suppress(OSError):
            group.rmdir()


def leftovers(directory: Path, run: Path) -> list[str]:
    """What of the node is still on the machine: processes, mounts, namespaces, links, chains, cgroups."""
    found = [f"process {pid}" for pid in sorted(pod_processes() | shims(run / "containerd.sock"))]
    found += [f"mount {point}" for point in mounts_under(directory, run)]
    found += [f"network namespace {path.name}" for path in _netns()]
    found += [f"link {link}" for link in (BRIDGE, NODE_LINK) if _ip("link", "show", link).returncode == 0]
    found += chains()
    found += [f"cgroup {group}" for group in _pod_cgroups()]
    return found
