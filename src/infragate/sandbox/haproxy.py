"""A real HAProxy (Debian's) as a rate-limiting gateway: stick-table limits that count requests
over a sliding window (HAProxy's period counters), in front of one sandbox backend.

Used by the HAProxy integration tests and the rate-limit benchmark: the configured limits are the
truth the measurement is compared with.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from infragate.errors import SandboxError
from infragate.retry import retry
from infragate.sandbox.host import free_ports

ROUTES = {"api": "/api/", "search": "/search"}  # route name -> path prefix the frontend matches


@dataclass(frozen=True)
class HaproxyLimits:
    """The limits one configuration enforces: (requests, window) per route, keyed on key."""

    per_route: dict[str, tuple[int, str]] = field(default_factory=lambda: {"api": (50, "1s"), "search": (20, "1s")})
    key: str = "src"  # what a client is: its source address; str(x) keys every client on x
    status: int = 429
    every_request: bool = False  # count every request (http_req_rate), not only admitted ones (gpc0)


def haproxy_config(port: int, backend: int, limits: HaproxyLimits) -> str:
    """haproxy.cfg for a frontend on 127.0.0.1:port limiting each route, in front of the backend."""
    counter = "http_req_rate" if limits.every_request else "gpc0_rate"
    stored = "http_req_rate({window})" if limits.every_request else "gpc0,gpc0_rate({window})"
    tables = "".join(
        f"backend rate_{route}\n    stick-table type string size 10k expire 30s store {stored.format(window=w)}\n\n"
        for route, (_, w) in limits.per_route.items()
    )
    acls = "".join(f"    acl {route} path_beg {ROUTES[route]}\n" for route in limits.per_route)
    rules = ""
    for index, (route, (count, _)) in enumerate(limits.per_route.items()):
        rules += f"    http-request track-sc{index} {limits.key} table rate_{route} if {route}\n"
        rules += (
            f"    http-request deny deny_status {limits.status} if {route} {{ sc_{counter}({index}) ge {count} }}\n"
        )
    # Count after the deny rules: with gpc0 only admitted requests count.
    counting = "".join(
        f"    http-request sc-inc-gpc0({index}) if {route}\n"
        for index, route in enumerate(limits.per_route)
        if not limits.every_request
    )
    return (
        "global\n    maxconn 4096\n\n"
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n"
        f"frontend gateway\n    bind 127.0.0.1:{port}\n{acls}{rules}{counting}    default_backend app\n\n"
        f"backend app\n    server app1 127.0.0.1:{backend}\n\n{tables}"
    )


@contextmanager
def backend_server(folder: Path) -> Iterator[int]:
    """One sandbox backend on a free port, for as long as the block runs."""
    (port,) = free_ports(1)
    server = subprocess.Popen(
        [sys.executable, "-m", "infragate.sandbox.backend", "--name", "app-1", "--port", str(port)],
        stdout=(folder / "backend.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        retry(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=1), 20, 0.1, "the backend answers")
        yield port
    finally:
        server.terminate()
        server.wait(10)


@contextmanager
def haproxy_gateway(folder: Path, backend: int, limits: HaproxyLimits) -> Iterator[int]:
    """HAProxy with these limits on a free port, checked and answering, for as long as the block runs."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (port,) = free_ports(1)
    conf = folder / "haproxy.cfg"
    conf.write_text(haproxy_config(port, backend, limits))
    checked = subprocess.run([haproxy, "-c", "-q", "-f", str(conf)], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise SandboxError(f"{conf}: HAProxy refuses the configuration: {(checked.stdout + checked.stderr).strip()}")
    gateway = subprocess.Popen([haproxy, "-db", "-f", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = next(iter(limits.per_route))
        url = f"http://127.0.0.1:{port}{ROUTES[first]}items"
        retry(lambda: requests.get(url, timeout=1), 20, 0.1, "HAProxy answers")
        time.sleep(2.5)  # the readiness probe was counted in the table: let it leave the window
        yield port
    finally:
        gateway.terminate()
        gateway.wait(10)
