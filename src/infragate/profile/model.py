"""The target profile: what a deployment promised, as frozen, strictly validated models.

Every model forbids unknown keys, so a typo in a profile is an error and never a silent default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from infragate.profile.fields import (
    BUILTIN_SCENARIOS,
    Duration,
    DurationOrZero,
    ExistingPath,
    Memory,
    RateValue,
    Share,
    StrictModel,
    Url,
    UrlPath,
    replicas_bound,
    scenario_path,
)
from infragate.profile.storage import Backups, Datastores


class RateLimit(StrictModel):
    """A declared rate limit: sustained rate, burst allowance and the status of a rejection."""

    rate: RateValue
    burst: int = Field(default=0, ge=0)
    status: int = Field(default=429, ge=400, le=599)
    algorithm: Literal["nginx", "token-bucket"] = Field(
        default="nginx", description="nginx: burst b admits b+1 at once; token-bucket: burst is the bucket size"
    )
    rate_tolerance: float = Field(default=0.10, gt=0, lt=1, description="relative, e.g. 0.1 for ±10 %")
    burst_tolerance: float = Field(default=3, ge=0, description="requests")


class Route(StrictModel):
    """A route of the gateway, as a client calls it."""

    path: UrlPath
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    body: str | None = None
    content_type: str | None = None
    rate_limit: RateLimit | None = None

    def headers(self) -> dict[str, str]:
        """The headers a client sends with this route's body."""
        return {"Content-Type": self.content_type} if self.content_type else {}


class Cors(StrictModel):
    """The declared CORS policy of a route."""

    route: str
    allowed_origins: tuple[str, ...] = Field(min_length=1)
    allowed_methods: tuple[str, ...] = ("GET",)
    allowed_headers: tuple[str, ...] = ()
    allow_credentials: bool = False


class Compression(StrictModel):
    """A route whose text responses are compressed for clients that accept it."""

    route: str
    encoding: Literal["gzip", "br", "deflate"] = "gzip"


class WebSocket(StrictModel):
    """A WebSocket endpoint behind the gateway that echoes what it is sent."""

    path: UrlPath


class Hsts(StrictModel):
    """The declared Strict-Transport-Security policy."""

    min_max_age: Duration = Field(default=15_552_000.0, description="at least this max-age (default 180d)")
    include_subdomains: bool = False


TlsVersion = Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


class Tls(StrictModel):
    """What the TLS endpoints promise: versions, cipher profile, certificate life, HSTS, HTTP redirect."""

    endpoints: tuple[Url, ...] = Field(default=(), description="https:// URLs; default: the gateway's base_url")
    server_name: str | None = Field(default=None, description="name to ask for (SNI) and to match; default: host")
    versions: tuple[TlsVersion, ...] = ("TLSv1.2", "TLSv1.3")
    mozilla_profile: Literal["modern", "intermediate", "old"] = "intermediate"
    min_days_valid: float = Field(default=30, ge=0)
    hsts: Hsts | None = Field(default_factory=Hsts)
    http_redirect_from: Url | None = Field(default=None, description="the gateway's plain http:// URL")
    deep_scan: bool = Field(default=True, description="also run sslyze (out of process) when it is installed")


class Gateway(StrictModel):
    """The entry point clients use: base URL, trust anchors, health path and routes."""

    base_url: Url
    ca_bundle: ExistingPath | None = None
    verify_tls: bool = True
    health_path: UrlPath = "/health"
    health_status: int = Field(default=200, ge=100, le=599)
    timeout: Duration = 5.0
    routes: dict[str, Route] = Field(default_factory=dict)
    security_headers: dict[str, str] = Field(
        default_factory=dict, description='header -> expected value ("*": present with any value)'
    )
    cors: Cors | None = None
    compression: Compression | None = None
    websocket: WebSocket | None = None
    second_client_source: str | None = Field(
        default=None, description="a second local source address (default 127.0.0.2 for loopback gateways)"
    )


class ReplicaBounds(StrictModel):
    """Declared replica count: a fixed number, or the bounds of an autoscaler."""

    min: int = Field(ge=0)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ReplicaBounds:
        if self.min > self.max:
            raise ValueError(f"min at most max (got min {self.min}, max {self.max})")
        return self

    def contains(self, count: int) -> bool:
        """Whether a replica count lies within the declared bounds."""
        return self.min <= count <= self.max

    def __str__(self) -> str:
        return str(self.min) if self.min == self.max else f"{self.min} to {self.max}"


class Resources(StrictModel):
    """CPU and memory, as a limit or a reservation."""

    cpus: float | None = Field(default=None, gt=0)
    memory: Memory | None = None


class Deploy(StrictModel):
    """How the orchestrator must be configured to run the service (checked on Swarm)."""

    limits: Resources | None = None
    reservations: Resources | None = None
    restart_condition: Literal["any", "on-failure"] | None = Field(
        default=None, description="tasks that die are restarted on this condition"
    )
    healthcheck: bool = Field(default=False, description="the service declares a health check")
    secrets: list[str] = Field(default_factory=list, description="secrets mounted as Docker secrets")
    encrypted_networks: bool = Field(default=False, description="every overlay network it joins is encrypted")
    update_failure_action: Literal["rollback", "pause", "continue"] | None = None
    placement: list[str] = Field(default_factory=list, description="placement constraints it must carry")


class Service(StrictModel):
    """A service behind the gateway and what was declared for it."""

    replicas: Annotated[ReplicaBounds, BeforeValidator(replicas_bound)]
    route: str | None = Field(default=None, description="the gateway route that reaches this service")
    replica_header: str | None = Field(default=None, description="response header that names the replica")
    health_path: UrlPath = "/health"
    deploy: Deploy | None = None


class LocalPlatform(StrictModel):
    """Replicas run under a local process supervisor (the reference deployment)."""

    kind: Literal["local"]
    supervisor_url: str = Field(description="unix:///path/to/supervisor.sock or http://host:port")
    registry: ExistingPath = Field(description="service registry file the gateway's upstreams are built from")


class SwarmPlatform(StrictModel):
    """Services of one stack on a Docker Swarm, through the Docker Engine API."""

    kind: Literal["swarm"]
    docker_host: str = Field(default="unix:///var/run/docker.sock", description="the engine of a manager node")
    stack: str = Field(min_length=1, description="the stack name; services are <stack>_<service>")


class NoPlatform(StrictModel):
    """A gateway-only target: scenarios about replicas are not applicable."""

    kind: Literal["none"] = "none"


Platform = Annotated[LocalPlatform | SwarmPlatform | NoPlatform, Field(discriminator="kind")]


class Resilience(StrictModel):
    """What the disruptive scenarios exercise, and what the design promised about it."""

    service: str = Field(description="the service whose replicas are killed, scaled and restarted")
    route: str | None = Field(default=None, description="route for steady traffic; default: the service's route")
    traffic_rate: float = Field(default=40.0, gt=0, description="steady requests per second during faults")
    error_budget: float = Field(default=0.001, ge=0, le=1, description="share of requests that may fail in a fault")
    recovery_time: Duration = Field(default=30.0, description="back at the declared replicas within")
    min_ready: DurationOrZero = Field(
        default=2.0, description="a restarted replica stays ready this long before the next one goes"
    )
    scale_out_to: int = Field(default=5, ge=1)
    scale_time: Duration = Field(default=60.0, description="scaled-out replicas ready within")


class LoadObjectives(StrictModel):
    """What the design promised under load (service level objectives)."""

    p95: Duration | None = Field(default=None, description="95th percentile latency below this")
    p99: Duration | None = Field(default=None, description="99th percentile latency below this")
    throughput: RateValue | None = Field(default=None, description="successful answers per second, at least")
    error_rate: Share = Field(default=0.001, description="share of requests that may fail (not counting throttling)")
    throttled: Share = Field(default=0.0, description="share of requests that may be throttled (429)")


class Load(StrictModel):
    """The load the design was promised to carry, and how to offer it."""

    scenario: Annotated[str, BeforeValidator(scenario_path)] = Field(
        default=str(BUILTIN_SCENARIOS / "reference.py"),
        description="a built-in scenario name or a locustfile path, relative to the profile",
    )
    user: str | None = Field(default=None, description="the user class, when the locustfile holds several")
    mix: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1, description="request kind -> weight")
    rate: RateValue = Field(description="requests offered per second (open model)")
    duration: Duration
    workers: int = Field(default=1, ge=1, le=64, description="Locust worker processes")
    arrivals: Literal["uniform", "poisson"] = "uniform"
    timeout: Duration = 30.0
    sources: str | list[str] | None = Field(
        default=None, description='client source addresses, e.g. "127.0.0.10-127.0.0.29" (each is one client)'
    )
    objectives: LoadObjectives = Field(default_factory=LoadObjectives)

    @model_validator(mode="after")
    def _some_kind_weighs(self) -> Load:
        if not any(weight > 0 for weight in self.mix.values()):
            raise ValueError("a mix with at least one weight above 0")
        return self


class Safety(StrictModel):
    """What infragate may do to this target, and the pressure it may put on it."""

    environment: Literal["sandbox", "development", "staging", "production"]
    allow_destructive: bool = False
    allow_load: bool = False
    max_rate: float = Field(default=50.0, gt=0, description="requests per second any probe may offer")
    max_duration: Duration = 60.0
    max_requests: int = Field(default=2000, gt=0, description="requests any one probe may send")

    @model_validator(mode="after")
    def _production_is_never_destructive(self) -> Safety:
        if self.environment == "production" and self.allow_destructive:
            raise ValueError("allow_destructive must be false when environment is production")
        return self


class Profile(StrictModel):
    """A target: the deployment to check and what its design promised."""

    version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str = ""
    platform: Platform = Field(default_factory=NoPlatform)
    gateway: Gateway
    services: dict[str, Service] = Field(default_factory=dict)
    datastores: Datastores = Field(default_factory=Datastores)
    tls: Tls | None = None
    resilience: Resilience | None = None
    load: Load | None = None
    backups: Backups | None = None
    safety: Safety
