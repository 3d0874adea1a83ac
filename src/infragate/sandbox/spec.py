"""What the reference deployment looks like: the conformant shape, and the knobs variants turn."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RouteSpec:
    """A gateway route of the reference deployment and the limit it declares and enforces."""

    name: str
    location: str
    probe_path: str
    method: str
    rate_per_s: int
    burst: int
    body: str | None = None
    content_type: str | None = None


# Strict-Transport-Security is declared as "present" here: its max-age is the TLS feature's business.
BACKUP_INTERVAL_S = 6 * 3600
BACKUP_RETENTION_S = 2 * 86400
MAX_PROBE_REQUESTS = 5000  # the profile's safety cap: requests any one probe (a load run) may send

SECURITY_HEADERS = {
    "Strict-Transport-Security": "*",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
CORS_ALLOWED_ORIGIN = "https://app.example.test"
CORS_METHODS = ("GET", "POST", "OPTIONS")
CORS_HEADERS = ("Content-Type", "Authorization")

DEFAULT_ROUTES = (
    RouteSpec("api", "/api/", "/api/items", "GET", rate_per_s=100, burst=20),
    RouteSpec(
        "auth",
        "/auth/",
        "/auth/login",
        "POST",
        rate_per_s=10,
        burst=5,
        body='{"user": "demo", "password": "demo"}',
        content_type="application/json",
    ),
    RouteSpec("search", "/search", "/search?q=item", "GET", rate_per_s=50, burst=10),
)


GATEWAY_KINDS = ("nginx", "haproxy")


@dataclass(frozen=True)
class SandboxSpec:
    """Every choice the sandbox makes; the conformant deployment uses the defaults."""

    gateway: str = "nginx"  # one of GATEWAY_KINDS: the same spec renders either
    replicas: int = 3
    routes: tuple[RouteSpec, ...] = DEFAULT_ROUTES
    # Known defects, each switched on by a variant.
    upstream_excluded: frozenset[str] = frozenset()
    replica_faults: dict[str, frozenset[str]] = field(default_factory=dict)
    stopped_replicas: frozenset[str] = frozenset()
    gateway_health_routed: bool = True
    rate_limits_enforced: bool = True
    limit_status: int = 429
    limit_key: str = "$binary_remote_addr"
    global_key_routes: frozenset[str] = frozenset()  # routes whose limit is one bucket for every client
    shared_limit_zone: bool = False
    shared_zone_routes: frozenset[str] = frozenset()  # routes counted in the first route's zone
    server_tokens: bool = False
    omitted_headers: frozenset[str] = frozenset()
    cors: str = "allowlist"  # or "wildcard-credentials", "no-preflight"
    gzip: bool = True
    websocket_upgrade: bool = True
    tls_protocols: tuple[str, ...] = ("TLSv1.2", "TLSv1.3")
    tls_extra_ciphers: tuple[str, ...] = ()
    tls_groups: str = "X25519:prime256v1:secp384r1"  # empty: OpenSSL's defaults (X448, secp521r1, ffdhe...)
    tls13_suites: str = ""  # empty: OpenSSL's default TLS 1.3 suites (all three in Mozilla's profiles)
    certificate: str = "valid"  # or "unknown-ca", "wrong-host", "expiring"
    hsts_max_age_s: int = 63_072_000
    http_redirect: bool = True
    passive_failover: bool = True
    autorestart: bool = True
    static_upstream: bool = False
    scale_in_drain: bool = True
    backup_newest_age_s: float = 0.0
    backup_truncated: bool = False
    backup_excluded_tables: tuple[str, ...] = ()
    backup_gap: bool = False
    backup_unpruned: bool = False
    backup_offsite_lag_s: float = 0.0
    pgbackrest_backup: bool = True
    pgbackrest_corrupt: bool = False
    pgbackrest_wal_missing: bool = False
    wal_archive_timeout_s: int = 60  # archive_timeout: a segment is closed at least once a minute
    wal_archive_fault: str = ""  # "failing" or "discarded", switched on after the first backup
    redis_appendonly: bool = True
    restore_heavy: bool = False
    key_mode: int = 0o600  # the gateway's TLS private key
    postgres_listen: str = "127.0.0.1"  # listen_addresses: behind the gateway, on the loopback only
    gateway_conf_drift: bool = False  # the configuration on disk edited after the gateway started
    redis_as_root: bool = False  # Redis left running as root instead of its own account
    redis_exposed: bool = False  # Redis on every address, protected mode off, no password
    admin_address: str = "127.0.0.1"  # where the first replica's admin console listens
    secret_copied: bool = False  # the database's DSN left in a world-readable env file
    # The monitoring (Prometheus, Alertmanager, exporters); tests that check nothing of it leave it out.
    monitoring: bool = True
    stopped_programs: frozenset[str] = frozenset()  # monitoring programs declared but not started
    missing_alerts: frozenset[str] = frozenset()
    api_metric_name: str = "app_http_requests_total"  # what the API's error-rate rule reads
    alerts_unrouted: bool = False  # the API and database alerts go to a receiver that notifies nobody
    alert_down_for_s: int = 2  # the outage alerts' `for:`
    exporter_misdirected: bool = False  # the Redis exporter watches a port where no Redis listens
    unscraped_replicas: frozenset[str] = frozenset()  # API replicas Prometheus's relabelling drops

    def route(self, name: str) -> RouteSpec:
        """A route by name."""
        return next(route for route in self.routes if route.name == name)

    def with_route(self, name: str, **changes: int) -> SandboxSpec:
        """The spec with one route's limit changed."""
        routes = tuple(dataclasses.replace(r, **changes) if r.name == name else r for r in self.routes)  # type: ignore[arg-type]
        return dataclasses.replace(self, routes=routes)

    def replica_names(self, service: str = "api") -> tuple[str, ...]:
        """Names of the replicas the sandbox declares for a service."""
        return tuple(f"{service}-{index}" for index in range(1, self.replicas + 1))


@dataclass(frozen=True)
class SwarmSpec:
    """Every choice of the stack; the conformant one uses the defaults, variants turn one knob."""

    restart_condition: str | None = "any"
    api_limits: bool = True
    secret_as_environment: bool = False
    encrypted_network: bool = True
    update_failure_action: str = "rollback"
    api_user: str = "nobody"  # the API's containers run as this user ("" leaves them as root)
    secret_mode: int = 0o400  # each secret's file inside its containers (Docker's default is 0444)
    gateway_syncookies: bool = True  # False: the gateway's network namespace switches SYN cookies off
    api_openssl_pinned_back: bool = False  # True: the API's image holds an OpenSSL below the declared floor


@dataclass(frozen=True)
class KubernetesSpec:
    """The Kubernetes reference cluster's workload; the conformant one uses the defaults, variants turn one knob."""

    replicas: int = 3
    hpa_min: int = 3
    hpa_max: int = 10
    hpa_cpu_percent: int = 30  # the declared load keeps every pod well above it (50 % was marginal: ~55 % needed)
    scale_down_window_s: int = 15  # shortened from Kubernetes' 300 s so that scaling in fits a test
    cpu_request: str = "100m"
    cpu_limit: str = "1000m"
    memory_request: str = "128Mi"
    memory_limit: str = "1Gi"
    autoscaler: bool = True
    limits: bool = True
    readiness_probe: bool = True
    warm_up_s: int = 3  # the API listens this long after its container starts, as real services load first
    pre_stop_s: int = 2
    max_unavailable: int | str = 0  # "100%": every replica may go at once
    run_as_user: int = 10001
    secret_as_env_value: bool = False
    disruption_budget: bool = True
    anti_affinity: bool = True
    backup_schedule: str = "0 2 * * *"
    progress_deadline_s: int = 120
    broken_update: bool = False  # after the rollout, an update to an image that cannot start is left stuck
