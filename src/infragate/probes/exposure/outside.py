"""A client that is really outside: a network namespace of the run's own, joined to this machine by a
veth pair on a link-local /30. It is journalled before it is made and removed afterwards, verified
by listing namespaces and links again; `infragate recover` removes one a killed run left."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infragate.errors import ProbeError
from infragate.recovery.journal import Journal, Undo

REMOVE_NAMESPACE = "remove_scan_namespace"
# Link-local addresses (never routed off a link), in /30 slots: one per scan running on this machine.
SLOTS = ipaddress.ip_network("169.254.213.0/24")
PREFIX = "igscan-"
IP_TIMEOUT_S = 10.0
LOCK = Path("/run/lock/infragate-scan.lock")


@dataclass(frozen=True)
class Outside:
    """A namespace and its link: the machine's end address is what the scan connects to."""

    namespace: str
    host_link: str
    peer_link: str
    host_address: str
    peer_address: str


def _ip(*arguments: str, namespace: str | None = None, check: bool = True) -> str:
    command = ["ip", *(("-n", namespace) if namespace else ()), *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(f"`{' '.join(command)}`: {exc}") from None
    if check and done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        root = "" if os.geteuid() == 0 else " (a network namespace needs root)"
        raise ProbeError(f"`{' '.join(command)}` failed: {reason}{root}")
    return done.stdout


def _free_slot() -> tuple[str, str]:
    """The machine's and the namespace's address of a /30 no link of this machine uses."""
    used = {
        ipaddress.ip_interface(word).network
        for line in _ip("-o", "-4", "addr", "show").splitlines()
        for word in line.split()
        if "/" in word and word[0].isdigit()
    }
    for slot in SLOTS.subnets(new_prefix=30):
        if not any(slot.overlaps(network) for network in used):
            host, peer = list(slot.hosts())
            return f"{host}/30", f"{peer}/30"
    raise ProbeError(f"no free /30 in {SLOTS} for a scan namespace: {len(used)} addresses in use")


def names(pid: int | None = None) -> tuple[str, str, str]:
    """The namespace and the two link names of a scan by this process (link names: 15 characters)."""
    pid = os.getpid() if pid is None else pid
    return f"{PREFIX}{pid}", f"igs{pid}h", f"igs{pid}p"


@contextmanager
def outside(journal: Journal) -> Iterator[Outside]:
    """Make the namespace and its link, yield them, and remove them (verified) whatever happens."""
    namespace, host_link, peer_link = names()
    entry = journal.record(
        f"create network namespace {namespace} and veth {host_link} for an outside scan",
        Undo(REMOVE_NAMESPACE, {"namespace": namespace, "link": host_link}),
    )
    remove(namespace, host_link)  # a leftover of an earlier run with the same pid must not be reused
    try:
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        with open(LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two scans must not pick the same slot
            host_address, peer_address = _free_slot()
            _ip("netns", "add", namespace)
            _ip("link", "add", host_link, "type", "veth", "peer", "name", peer_link)
            _ip("link", "set", peer_link, "netns", namespace)
            _ip("addr", "add", host_address, "dev", host_link)
            _ip("link", "set", host_link, "up")
        _ip("addr", "add", peer_address, "dev", peer_link, namespace=namespace)
        _ip("link", "set", peer_link, "up", namespace=namespace)
        _ip("link", "set", "lo", "up", namespace=namespace)
        yield Outside(namespace, host_link, peer_link, host_address.split("/")[0], peer_address.split("/")[0])
    finally:
        journal.settle(entry, "undone", remove(namespace, host_link))


def remove(namespace: str, host_link: str) -> str:
    """Delete the namespace (its end of the pair goes with it) and the machine's end, then verify by
    listing both again that neither is left."""
    if namespace in _namespaces():
        _ip("netns", "delete", namespace, check=False)
    if _link_exists(host_link):
        _ip("link", "delete", host_link, check=False)
    left = [
        what for what, there in ((namespace, namespace in _namespaces()), (host_link, _link_exists(host_link))) if there
    ]
    if left:
        raise ProbeError(f"still there after removing them: {', '.join(left)}")
    return f"network namespace {namespace} and veth {host_link} verified removed"


def _namespaces() -> set[str]:
    return {line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()}


def _link_exists(link: str) -> bool:
    return bool(_ip("-o", "link", "show", "dev", link, check=False).strip())


def leftovers() -> list[str]:
    """Scan namespaces of any run still on this machine (what a test looks for after a kill)."""
    return sorted(name for name in _namespaces() if name.startswith(PREFIX))
