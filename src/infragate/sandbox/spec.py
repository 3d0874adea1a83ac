"""What the reference deployment looks like: the conformant shape, and the knobs variants turn."""

from __future__ import annotations

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


@dataclass(frozen=True)
class SandboxSpec:
    """Every choice the sandbox makes; the conformant deployment uses the defaults."""

    replicas: int = 3
    routes: tuple[RouteSpec, ...] = DEFAULT_ROUTES
    # Known defects, each switched on by a variant.
    upstream_excluded: frozenset[str] = frozenset()
    replica_faults: dict[str, frozenset[str]] = field(default_factory=dict)
    stopped_replicas: frozenset[str] = frozenset()
    gateway_health_routed: bool = True

    def replica_names(self, service: str = "api") -> tuple[str, ...]:
        """Names of the replicas the sandbox declares for a service."""
        return tuple(f"{service}-{index}" for index in range(1, self.replicas + 1))
