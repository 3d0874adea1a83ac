"""A real Traefik (v3, built from its Go module by scripts/gateways.sh) as a rate-limiting gateway:
its RateLimit middleware is a token bucket (``average`` tokens a ``period``, ``burst`` of them at
most), per client address by default, in front of one sandbox backend.

Used by the Traefik integration tests and the rate-limit benchmark: the configured limits are the
truth the measurement is compared with. Traefik is told never to call home (no version check, no
usage statistics); it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from infragate.errors import SandboxError
from infragate.retry import retry
from infragate.sandbox.haproxy import ROUTES
from infragate.sandbox.host import free_ports

TRAEFIK_ENV = "INFRAGATE_TRAEFIK"  # where scripts/gateways.sh put the binary, when not on PATH


@dataclass(frozen=True)
class TraefikLimits:
    """The limits one configuration enforces: (average per second, burst) per route, and what a client is."""

    per_route: dict[str, tuple[int, int]] = field(default_factory=lambda: {"api": (50, 10), "search": (20, 5)})
    shared_by_host: bool = False  # key every client on the Host header (one bucket for all), not its address


def traefik_binary() -> str | None:
    """The traefik executable: $INFRAGATE_TRAEFIK, or on PATH; None when neither is there."""
    named = os.environ.get(TRAEFIK_ENV)
    if named and Path(named).is_file():
        return named
    return shutil.which("traefik")


def traefik_config(port: int, backend: int, limits: TraefikLimits, folder: Path) -> tuple[str, str]:
    """(static, dynamic) configuration: an entry point on 127.0.0.1:port and a router per route."""
    dynamic_file = folder / "dynamic.yaml"
    static = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"web": {"address": f"127.0.0.1:{port}"}},
        "providers": {"file": {"filename": str(dynamic_file), "watch": False}},
        "log": {"level": "ERROR"},
    }
    criterion = {"requestHost": True} if limits.shared_by_host else {"ipStrategy": {"depth": 0}}
    routers, middlewares = {}, {}
    for route, (average, burst) in limits.per_route.items():
        middlewares[f"limit-{route}"] = {
            "rateLimit": {"average": average, "period": "1s", "burst": burst, "sourceCriterion": criterion}
        }
        routers[route] = {
            "rule": f"PathPrefix(`{ROUTES[route]}`)",
            "entryPoints": ["web"],
            "service": "app",
            "middlewares": [f"limit-{route}"],
        }
    routers["health"] = {"rule": "Path(`/health`)", "entryPoints": ["web"], "service": "app"}
    dynamic = {
        "http": {
            "routers": routers,
            "middlewares": middlewares,
            "services": {"app": {"loadBalancer": {"servers": [{"url": f"http://127.0.0.1:{backend}"}]}}},
        }
    }
    return yaml.safe_dump(static), yaml.safe_dump(dynamic)


@contextmanager
def traefik_gateway(folder: Path, backend: int, limits: TraefikLimits) -> Iterator[int]:
    """Traefik with these limits on a free port, answering through its routers, for as long as the block runs."""
    binary = traefik_binary()
    if binary is None:
        raise SandboxError(f"traefik is not installed: bash scripts/gateways.sh builds it (or set {TRAEFIK_ENV})")
    (port,) = free_ports(1)
    static, dynamic = traefik_config(port, backend, limits, folder)
    (folder / "dynamic.yaml").write_text(dynamic)
    conf = folder / "traefik.yaml"
    conf.write_text(static)
    log = (folder / "traefik.log").open("w")
    gateway = subprocess.Popen([binary, f"--configFile={conf}"], stdout=log, stderr=subprocess.STDOUT)
    try:

        def routed() -> None:  # 404 until the file provider's routers are in place
            answer = requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            if answer.status_code != 200:
                raise SandboxError(f"Traefik answers /health with {answer.status_code}")

        retry(routed, 20, 0.1, "Traefik routes to the backend")
        if gateway.poll() is not None:
            raise SandboxError(f"Traefik exited: see {folder / 'traefik.log'}")
        time.sleep(0.5)
        yield port
    finally:
        gateway.terminate()
        gateway.wait(10)
        log.close()
