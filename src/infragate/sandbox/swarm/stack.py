"""The Swarm reference stack's shape: the bookmark-sync seed's services, limits, health checks,
secrets, networks and policies as a stack file, and the profile that states what it promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infragate.sandbox.spec import SwarmSpec
from infragate.sandbox.swarm import observability

API_REPLICAS = 3
MAX_API_REPLICAS = 5
# The lowest OpenSSL the stack's images were approved with (Debian's version order; a distribution's
# own version strings, as it backports fixes without changing the upstream number).
OPENSSL_FLOOR = "3.0.18"
OPENSSL_PACKAGES = ("libssl3", "openssl")

GATEWAY_CONF = """worker_processes 1;
error_log stderr warn;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    # Swarm's DNS: tasks.api answers with every running task, re-read each second.
    resolver 127.0.0.11 valid=1s ipv6=off;
    server {
        listen 80;
        location = /health { default_type application/json; return 200 '{"status": "ok"}'; }
        location / {
            set $api http://tasks.api:8000;
            proxy_pass $api;
            # Every address DNS still gives (a task just stopped or scaled away lingers in it for a
            # moment) is tried in turn: a live task answers a connect on the overlay within
            # milliseconds, a gone one never does.
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 0;
            proxy_next_upstream_timeout 10s;
            proxy_connect_timeout 300ms;
            proxy_read_timeout 10s;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
"""


# Each secret, the service that reads it and the account it reads it as (PostgreSQL's initdb reads
# its password file as postgres).
SECRET_READERS = {"db_password": ("api", "nobody"), "postgres_password": ("postgres", "postgres")}
SECRET_READERS["redis_password"] = ("redis", "redis")


def _secret(name: str, uids: dict[str, int], spec: SwarmSpec) -> dict[str, Any]:
    """A secret mounted readable by the account that reads it only (Docker's default is 0444)."""
    uid = str(uids[SECRET_READERS[name][1]])
    return {"source": name, "target": name, "uid": uid, "gid": "0", "mode": spec.secret_mode}


def _health(url: str) -> list[str]:
    """A health check that fetches a URL inside the container."""
    return ["CMD", "python3", "-c", f"import urllib.request; urllib.request.urlopen('{url}', timeout=2)"]


def stack_file(
    spec: SwarmSpec,
    images: dict[str, str],
    port: int,
    folder: Path,
    uids: dict[str, int],
    watched: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The stack, shaped like the seed's docker-compose.swarm.yml (uids: the images' accounts by
    name); with its monitoring when the ports to publish it on are given."""
    compose = _services(spec, images, port, folder, uids)
    if watched is not None:
        compose["services"]["monitoring"] = observability.service(images["monitoring"], watched)
        files = observability.config_files(folder)
        compose["configs"].update({name: {"file": str(path)} for name, path in files.items()})
    return compose


def _services(spec: SwarmSpec, images: dict[str, str], port: int, folder: Path, uids: dict[str, int]) -> dict[str, Any]:
    manager = {"constraints": ["node.role == manager"]}
    api_env = {"DB_HOST": "postgres", "DB_USER": "app", "REDIS_HOST": "redis"}
    api_secrets = [_secret("db_password", uids, spec)]
    if spec.secret_as_environment:
        api_env["DB_PASSWORD"] = (folder / "secrets" / "db_password").read_text().strip()
        api_secrets = []
    else:
        api_env["DB_PASSWORD_FILE"] = "/run/secrets/db_password"
    restart = {"condition": spec.restart_condition, "delay": "1s"}
    api_resources: dict[str, Any] = {"reservations": {"cpus": "0.05", "memory": "32M"}}
    if spec.api_limits:
        api_resources["limits"] = {"cpus": "0.25", "memory": "128M"}
    small = {"limits": {"cpus": "0.5", "memory": "256M"}, "reservations": {"cpus": "0.05", "memory": "32M"}}
    check = {"interval": "1s", "timeout": "2s", "retries": 2, "start_period": "2s"}
    return {
        "version": "3.8",
        "services": {
            "gateway": {
                "image": images["gateway"],
                "command": ["nginx", "-c", "/etc/infragate/nginx.conf", "-g", "daemon off;"],
                "configs": [{"source": "gateway_conf", "target": "/etc/infragate/nginx.conf"}],
                "ports": [{"target": 80, "published": port, "protocol": "tcp", "mode": "host"}],
                **({} if spec.gateway_syncookies else {"sysctls": {"net.ipv4.tcp_syncookies": 0}}),
                "networks": ["backend"],
                "healthcheck": {"test": _health("http://127.0.0.1/health"), **check},
                "deploy": {
                    "replicas": 1,
                    "resources": small,
                    "restart_policy": {"condition": "any", "delay": "1s"},
                    "placement": manager,
                },
            },
            "api": {
                "image": images["api"],
                "command": ["/opt/infragate/api.sh"],
                **({"user": spec.api_user} if spec.api_user else {}),
                "hostname": "api-{{.Task.Slot}}",
                "environment": api_env,
                "secrets": api_secrets,
                "networks": ["backend"],
                "healthcheck": {"test": _health("http://127.0.0.1:8000/health"), **check},
                "deploy": {
                    "replicas": API_REPLICAS,
                    "resources": api_resources,
                    "restart_policy": restart,
                    "update_config": {
                        "parallelism": 1,
                        "delay": "1s",
                        "failure_action": spec.update_failure_action,
                        "monitor": "10s",
                        "order": "start-first",
                        "max_failure_ratio": 0,
                    },
                    "rollback_config": {
                        "parallelism": 0,
                        "failure_action": "pause",
                        "monitor": "2s",
                        "order": "start-first",
                    },
                    "placement": manager,
                },
            },
            "postgres": {
                "image": images["postgres"],
                "command": ["/opt/infragate/postgres.sh"],
                "secrets": [_secret("postgres_password", uids, spec)],
                "networks": ["backend"],
                "healthcheck": {"test": ["CMD", "/usr/lib/postgresql/15/bin/pg_isready", "-h", "127.0.0.1"], **check},
                "deploy": {
                    "replicas": 1,
                    "resources": small,
                    "restart_policy": {"condition": "any"},
                    "placement": manager,
                },
            },
            "redis": {
                "image": images["redis"],
                "command": ["/opt/infragate/redis.sh"],
                "user": "redis",
                "secrets": [_secret("redis_password", uids, spec)],
                "networks": ["backend"],
                "healthcheck": {
                    "test": ["CMD-SHELL", 'redis-cli -a "$$(cat /run/secrets/redis_password)" --no-auth-warning ping'],
                    **check,
                },
                "deploy": {
                    "replicas": 1,
                    "resources": small,
                    "restart_policy": {"condition": "any"},
                    "placement": manager,
                },
            },
        },
        "networks": {
            "backend": {
                "driver": "overlay",
                **({"driver_opts": {"encrypted": "true"}} if spec.encrypted_network else {}),
            }
        },
        "secrets": {
            name: {"file": str(folder / "secrets" / name)}
            for name in ("db_password", "postgres_password", "redis_password")
        },
        "configs": {"gateway_conf": {"file": str(folder / "gateway.conf")}},
    }


def _hosts() -> dict[str, Any]:
    """Each service's tasks read from inside (docker exec): the API as nobody with at least the
    stack's OpenSSL, Redis and PostgreSQL as their own accounts (the postmaster, not the runuser that
    starts it), the gateway's configuration accepted by nginx and its SYN cookies on (the kernel's
    default in a new network namespace, which a service's sysctls can switch off); each secret's
    file readable by the account that reads it only."""
    hosts: dict[str, Any] = {
        "api": {
            "service": "api",
            "processes": {"api": {"command": r"backend\.py", "users": ["nobody"]}},
            "packages": dict.fromkeys(OPENSSL_PACKAGES, OPENSSL_FLOOR),
        },
        "redis": {"service": "redis", "processes": {"redis": {"command": "^redis-server", "users": ["redis"]}}},
        "postgres": {
            "service": "postgres",
            "processes": {"postgres": {"command": "^/usr/lib/postgresql/15/bin/postgres -D", "users": ["postgres"]}},
        },
        "gateway": {
            "service": "gateway",
            "config_tests": ["nginx -t -q -c /etc/infragate/nginx.conf"],
            "sysctls": {"net.ipv4.tcp_syncookies": 1},
        },
    }
    for secret, (service, account) in SECRET_READERS.items():
        hosts[service]["files"] = {f"/run/secrets/{secret}": {"max_mode": "0400", "owner": account}}
    return hosts


# Ports that must not answer from outside: the API's, PostgreSQL's and Redis's (only the overlay
# reaches them), the swarm's own (management, gossip).
UNEXPOSED = (8000, 5432, 6379, 2377, 7946)


def exposure(port: int, published: list[int]) -> dict[str, Any]:
    """What the stack answers on from outside: its gateway, and the monitoring the gate reads (Swarm
    publishes a host-mode port on every address of the machine; it has no address to bind one to)."""
    exposed = sorted({port, *published})
    return {"exposed": exposed, "ports": sorted({*exposed, *UNEXPOSED}), "connect_timeout": "1s", "within": "30s"}


def profile_for(name: str, variant: str | None, stack: str, port: int) -> dict[str, Any]:
    """What the stack promises: always the conformant declaration, whatever a variant switched on."""
    limits = {"cpus": 0.25, "memory": "128M"}
    reservations = {"cpus": 0.05, "memory": "32M"}
    small = {"limits": {"cpus": 0.5, "memory": "256M"}, "reservations": reservations}
    return {
        "version": 1,
        "name": name,
        "description": "infragate swarm reference stack" + (f" with known defect '{variant}'" if variant else ""),
        "platform": {"kind": "swarm", "stack": stack},
        "gateway": {
            "base_url": f"http://127.0.0.1:{port}",
            "health_path": "/health",
            "timeout": "5s",
            "routes": {"api": {"path": "/api/items"}},
        },
        "services": {
            "api": {
                "replicas": {"min": API_REPLICAS, "max": MAX_API_REPLICAS},
                "route": "api",
                "replica_header": "X-Replica",
                "health_path": "/health",
                "deploy": {
                    "limits": limits,
                    "reservations": reservations,
                    "restart_condition": "any",
                    "healthcheck": True,
                    "secrets": ["db_password"],
                    "encrypted_networks": True,
                    "update_failure_action": "rollback",
                    "placement": ["node.role == manager"],
                },
            },
            "gateway": {
                "replicas": 1,
                "deploy": {**small, "restart_condition": "any", "healthcheck": True, "encrypted_networks": True},
            },
            "postgres": {
                "replicas": 1,
                "deploy": {**small, "restart_condition": "any", "healthcheck": True, "secrets": ["postgres_password"]},
            },
            "redis": {
                "replicas": 1,
                "deploy": {**small, "restart_condition": "any", "healthcheck": True, "secrets": ["redis_password"]},
            },
        },
        "hosts": _hosts(),
        "resilience": {
            "service": "api",
            "traffic_rate": 40,
            "error_budget": 0.005,
            "recovery_time": "30s",
            "scale_out_to": MAX_API_REPLICAS,
            "scale_time": "60s",
        },
        "safety": {"environment": "sandbox", "allow_destructive": True, "allow_load": False, "max_rate": 200},
    }
