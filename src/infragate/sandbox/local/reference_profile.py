"""The profile of the local reference deployment: always what it promises, whatever defect a
variant switched on."""

from __future__ import annotations

import os
import pwd
import re
import shlex
from pathlib import Path

from infragate.probes.backup.postgres import SERVER_USER
from infragate.sandbox.host import REDIS_USER, runs_as
from infragate.sandbox.local import gateway, haproxy_conf
from infragate.sandbox.local.database import PGBACKREST_STANZA, S3_URL
from infragate.sandbox.local.prometheus_stack import MonitoringPorts, gateway_watch
from infragate.sandbox.local.state import SERVICE
from infragate.sandbox.monitoring_promise import Watch, monitoring_section
from infragate.sandbox.spec import (
    BACKUP_INTERVAL_S,
    BACKUP_RETENTION_S,
    CORS_ALLOWED_ORIGIN,
    CORS_HEADERS,
    CORS_METHODS,
    MAX_PROBE_REQUESTS,
    SECURITY_HEADERS,
    SandboxSpec,
)

LOAD_RATE_PER_S = 200
MAX_REPLICAS = 10  # the declared autoscaling bound, as in the marketplace seed (3 to 10)


def reference_profile(
    name: str,
    variant: str | None,
    spec: SandboxSpec,
    gateway_url: str,
    supervisor_url: str,
    http_url: str,
    pg_port: int,
    redis_port: int,
    s3_port: int,
    monitoring: MonitoringPorts | None = None,
) -> dict[str, object]:
    """The profile of the reference deployment: always its promises, whatever defect a variant switched on."""
    routes: dict[str, object] = {}
    for route in spec.routes:
        entry: dict[str, object] = {"path": route.probe_path, "method": route.method}
        if route.body is not None:
            entry["body"] = route.body
        if route.content_type is not None:
            entry["content_type"] = route.content_type
        entry["rate_limit"] = {"rate": f"{route.rate_per_s}r/s", **_limit_model(spec, route.burst), "status": 429}
        routes[route.name] = entry
    described = (f" ({spec.gateway} gateway)" if spec.gateway != "nginx" else "") + (
        f" with known defect '{variant}'" if variant else ""
    )
    dump_promises = {
        "schedule": f"{BACKUP_INTERVAL_S}s",
        "rpo": f"{BACKUP_INTERVAL_S + 1800}s",
        "rto": "8s",
        "retention": f"{BACKUP_RETENTION_S}s",
        "scratch_dsn": f"postgresql://drill:${{file:secrets/drill-password}}@127.0.0.1:{pg_port}/infragate_scratch",
        "allow_same_server": True,
    }
    profile: dict[str, object] = {
        "version": 1,
        "name": name,
        "description": f"infragate reference deployment{described}",
        "platform": {"kind": "local", "supervisor_url": supervisor_url, "registry": "registry.json"},
        "gateway": {
            "base_url": gateway_url,
            "ca_bundle": "pki/ca.pem",
            "health_path": "/health",
            "health_status": 200,
            "timeout": "5s",
            "routes": routes,
            "security_headers": dict(SECURITY_HEADERS),
            "cors": {
                "route": "api",
                "allowed_origins": [CORS_ALLOWED_ORIGIN],
                "allowed_methods": list(CORS_METHODS),
                "allowed_headers": list(CORS_HEADERS),
                "allow_credentials": False,
            },
            "compression": {"route": "api", "encoding": "gzip"},
            "websocket": {"path": "/ws"},
        },
        "services": {
            SERVICE: {
                "replicas": {"min": spec.replicas, "max": MAX_REPLICAS},
                "route": "api",
                "replica_header": "X-Replica",
                "health_path": "/health",
            }
        },
        "datastores": {
            "postgres": {"dsn": f"postgresql://app:${{file:secrets/postgres-password}}@127.0.0.1:{pg_port}/app"},
            "redis": {"url": f"redis://:${{file:secrets/redis-password}}@127.0.0.1:{redis_port}/0"},
        },
        "tls": {
            "versions": list(spec.tls_protocols),
            "mozilla_profile": "intermediate",
            "min_days_valid": 30,
            "hsts": {"min_max_age": "180d", "include_subdomains": True},
            "http_redirect_from": http_url,
            "deep_scan": True,
        },
        "resilience": {
            "service": SERVICE,
            "traffic_rate": 40,
            "error_budget": 0.001,
            "recovery_time": "10s",
            "scale_out_to": 5,
            "scale_time": "30s",
        },
        "load": {
            "scenario": "reference",
            "mix": {"browse": 70, "search": 25, "login": 5},
            "rate": f"{LOAD_RATE_PER_S}r/s",
            "duration": "10s",
            # Twenty clients at 10 requests/s each: inside every route's per-client limit.
            "sources": "127.0.0.10-127.0.0.29",
            "objectives": {
                "p95": "200ms",
                "p99": "500ms",
                "throughput": f"{LOAD_RATE_PER_S - 5}r/s",
                "error_rate": "0.1%",
                "throttled": "0%",
            },
        },
        "backups": {
            "postgres": [
                {"name": "local", "location": "backups/postgres", **dump_promises},
                {
                    "name": "offsite",
                    "location": S3_URL,
                    "s3": {
                        "endpoint_url": f"http://127.0.0.1:{s3_port}",
                        "access_key_id": "${file:secrets/s3-access-key-id}",
                        "secret_access_key": "${file:secrets/s3-secret-access-key}",
                    },
                    **dump_promises,
                },
                {
                    "name": "pitr",
                    "location": f"pgbackrest:{PGBACKREST_STANZA}",
                    "pgbackrest": {"config": "pgbackrest/pgbackrest.conf"},
                    "scratch_folder": "drills",
                    "schedule": "1d",
                    "rpo": "1d",
                    "rto": "15m",
                    "retention": "2d",
                },
            ],
            "wal_archive": {
                "rpo": "5m",
                "dsn": f"postgresql://monitor:${{file:secrets/monitor-password}}@127.0.0.1:{pg_port}/postgres",
                "repository": "pitr",
            },
            "redis": {"appendonly": True, "save": "900 1 300 10"},
        },
        "safety": {
            "environment": "sandbox",
            "allow_destructive": True,
            "allow_load": True,
            "max_rate": 400,
            "max_duration": "120s",
            "max_requests": MAX_PROBE_REQUESTS,
        },
    }
    if monitoring is not None:
        profile["monitoring"] = monitoring_promises(spec, monitoring)
    return profile


NOTIFY_WITHIN = "15s"  # fault to notification: scrape 1 s + evaluation 1 s + for 2 s + group_wait 1 s, and room


def monitoring_promises(spec: SandboxSpec, ports: MonitoringPorts) -> dict[str, object]:
    """What the reference's monitoring promises: the seed's exporters up, rules for its categories,
    every category routed to the on-call receiver, two outages noticed within 15 s."""
    targets = {
        "api": {"min_up": spec.replicas},
        "gateway": gateway_watch(spec),
        "postgres": {"reaches": "pg_up"},
        "redis": {"reaches": "redis_up"},
        "node": {},
    }
    rules = {
        "api": ("ApiReplicaDown", "ApiHighErrorRate", "ApiSlowResponses", "GatewayDown"),
        "database": ("PostgresDown", "PostgresTooManyConnections", "PostgresSlowQueries", "RedisDown"),
        "system": ("HostHighCpu", "HostLowMemory", "HostDiskFull"),
    }
    return monitoring_section(
        Watch(ports.prometheus, ports.alertmanager, ports.receiver),
        targets,
        rules,
        drills={"RedisDown": "redis", "ApiReplicaDown": "api-1"},
        notify_within=NOTIFY_WITHIN,
        job="api",
        timed=("ApiReplicaDown", "GatewayDown", "PostgresDown", "RedisDown"),
    )


# The reference's gateway, PostgreSQL and Redis link the machine's OpenSSL 3 (TLS 1.3 and the Mozilla
# profiles it declares): 3.0.7 or above, which fixed the X.509 email address overflows
# (CVE-2022-3602, CVE-2022-3786). The reference is made for Debian 12 (scripts/setup.sh); another
# distribution backports fixes under its own version strings and would declare those.
OPENSSL_FLOOR = "3.0.7"
# What every mainstream kernel defaults to and a hardened host keeps: address space layout
# randomisation in full, SYN cookies against a SYN flood.
HARDENED_KERNEL = {"kernel.randomize_va_space": 2, "net.ipv4.tcp_syncookies": 1}


def host_promises(directory: Path, spec: SandboxSpec, pg_port: int, redis_port: int, admin: int) -> dict[str, object]:
    """What the reference's host holds: PostgreSQL and Redis running as their own accounts (when the
    sandbox runs as root; as its user otherwise), its TLS key and every secret readable by their
    owner only (Redis's configuration, which holds its password, by Redis's account), PostgreSQL,
    Redis and the first API replica's admin console listening on the loopback only (behind the
    gateway), the gateway's configuration on disk accepted by the gateway's own parser, the machine's
    OpenSSL at its floor or above and its kernel hardened as such hosts are by default."""
    owner = pwd.getpwuid(os.geteuid()).pw_name
    private = [directory / "pki" / "server.key", *sorted((directory / "secrets").iterdir())]
    if spec.gateway == "haproxy":  # HAProxy reads certificate and key from one file of its own
        private.append(gateway.folder(directory, spec) / haproxy_conf.BUNDLE)
    files = {str(path): {"max_mode": "0600", "owner": owner} for path in private}
    files[str(directory / "redis" / "redis.conf")] = {"max_mode": "0600", "owner": runs_as(REDIS_USER)}
    conf = gateway.conf_path(directory, spec)
    return {
        "reference": {
            "spec": "local://",
            "processes": {
                # The postmaster by its data folder; Redis by the address:port it shows as its title.
                "postgres": {"command": f"postgres -D {re.escape(str(directory))}/", "users": [runs_as(SERVER_USER)]},
                "redis": {"command": rf"redis-server \S*:{redis_port}\b", "users": [runs_as(REDIS_USER)]},
            },
            "files": files,
            "no_secrets_in": [str(directory)],
            "listens": {pg_port: ["127.0.0.1"], redis_port: ["127.0.0.1"], admin: ["127.0.0.1"]},
            "config_tests": [shlex.join(gateway.check_command(directory, spec, conf))],
            "packages": {"libssl3": OPENSSL_FLOOR},
            "sysctls": dict(HARDENED_KERNEL),
        }
    }


def exposure_promise(ports: list[int]) -> dict[str, object]:
    """What the reference answers on from outside: nothing. Every one of its programs listens on the
    loopback, so a neighbour on the machine's link reaches none of them. The scan covers the ports the
    deployment was given (not the machine's others, nor another sandbox's running beside it)."""
    return {"exposed": [], "ports": sorted(ports), "connect_timeout": "1s", "within": "30s"}


def _limit_model(spec: SandboxSpec, burst: int) -> dict[str, object]:
    """How a route's limit counts: nginx's leaky bucket with its burst, or HAProxy's window of admissions."""
    if spec.gateway == "haproxy":
        return {"algorithm": "sliding-window-counter", "window": "1s", "counts_rejected": False}
    return {"burst": burst}
