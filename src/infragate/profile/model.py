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
from infragate.profile.host_promises import Exposure, Host
from infragate.profile.monitoring_promises import Monitoring
from infragate.profile.storage import Backups, Datastores
from infragate.profile.workload_promises import KubernetesPromises


class RateLimit(StrictModel):
    """A declared rate limit: sustained rate, burst allowance and the status of a rejection."""

    rate: RateValue = Field(description="sustained admitted rate, e.g. 100r/s or 5r/m")
    burst: int = Field(default=0, ge=0, description="requests admitted beyond the rate at once")
    status: int = Field(default=429, ge=400, le=599, description="HTTP status of a rejected request")
    algorithm: Literal[
        "nginx", "token-bucket", "fixed-window", "sliding-window", "sliding-window-counter", "window", "auto"
    ] = Field(
        default="nginx",
        description=(
            "nginx: burst b admits b+1 at once; token-bucket: burst is the bucket size; fixed-window, "
            "sliding-window (a log), sliding-window-counter (HAProxy's http_req_rate): rate x window per window; "
            "window: any of the three; auto: whichever model explains the observations best"
        ),
    )
    window: Duration = Field(default=1.0, description="window algorithms: the window the limit counts in")
    counts_rejected: bool | None = Field(
        default=None,
        description="window algorithms: whether rejected requests count against the limit (HAProxy's "
        "http_req_rate counts them); default: either",
    )
    probe_for: Duration | None = Field(
        default=None,
        description="the longest overload this limit may be measured with (default 10 s); slow and per-minute "
        "limits need minutes (5r/m: about 4 min), within safety.max_duration",
    )
    rate_tolerance: float = Field(default=0.10, gt=0, lt=1, description="relative, e.g. 0.1 for ±10 %")
    burst_tolerance: float = Field(default=3, ge=0, description="requests")


class Route(StrictModel):
    """A route of the gateway, as a client calls it."""

    path: UrlPath = Field(description="the path (and query) a client calls")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = Field(
        default="GET", description="the HTTP method a client uses"
    )
    body: str | None = Field(default=None, description="request body a client sends")
    content_type: str | None = Field(default=None, description="Content-Type of the body")
    rate_limit: RateLimit | None = Field(default=None, description="the route's declared per-client rate limit")

    def headers(self) -> dict[str, str]:
        """The headers a client sends with this route's body."""
        return {"Content-Type": self.content_type} if self.content_type else {}


class Cors(StrictModel):
    """The declared CORS policy of a route."""

    route: str = Field(description="the gateway route whose answers carry the policy")
    allowed_origins: tuple[str, ...] = Field(min_length=1, description="origins browsers may read answers from")
    allowed_methods: tuple[str, ...] = Field(default=("GET",), description="methods a preflight must allow")
    allowed_headers: tuple[str, ...] = Field(default=(), description="request headers a preflight must allow")
    allow_credentials: bool = Field(default=False, description="whether allowed origins may send credentials")


class Compression(StrictModel):
    """A route whose text responses are compressed for clients that accept it."""

    route: str = Field(description="the gateway route whose answers are compressed")
    encoding: Literal["gzip", "br", "deflate"] = Field(
        default="gzip", description="the Content-Encoding expected for a client that accepts it"
    )


class WebSocket(StrictModel):
    """A WebSocket endpoint behind the gateway that echoes what it is sent."""

    path: UrlPath = Field(description="the path that upgrades to a WebSocket and echoes")


class Hsts(StrictModel):
    """The declared Strict-Transport-Security policy."""

    min_max_age: Duration = Field(default=15_552_000.0, description="at least this max-age (default 180d)")
    include_subdomains: bool = Field(default=False, description="the policy must include subdomains")


TlsVersion = Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


class Tls(StrictModel):
    """What the TLS endpoints promise: versions, cipher profile, certificate life, HSTS, HTTP redirect."""

    endpoints: tuple[Url, ...] = Field(default=(), description="https:// URLs; default: the gateway's base_url")
    server_name: str | None = Field(default=None, description="name to ask for (SNI) and to match; default: host")
    versions: tuple[TlsVersion, ...] = Field(
        default=("TLSv1.2", "TLSv1.3"),
        description="the TLS versions that must be accepted; every other must be refused",
    )
    mozilla_profile: Literal["modern", "intermediate", "old"] = Field(
        default="intermediate", description="Mozilla's server-side TLS profile the cipher suites must stay within"
    )
    min_days_valid: float = Field(default=30, ge=0, description="certificates stay valid at least this many days")
    hsts: Hsts | None = Field(
        default_factory=Hsts, description="the Strict-Transport-Security policy (null: not checked)"
    )
    http_redirect_from: Url | None = Field(default=None, description="the gateway's plain http:// URL")
    deep_scan: bool = Field(
        default=True,
        description="also run sslyze's deep scan (out of process); without sslyze on the PATH it is could not verify",
    )


class Gateway(StrictModel):
    """The entry point clients use: base URL, trust anchors, health path and routes."""

    base_url: Url = Field(description="the gateway's https:// (or http://) URL clients use")
    ca_bundle: ExistingPath | None = Field(
        default=None, description="PEM file of the CA(s) to trust, relative to the profile"
    )
    verify_tls: bool = Field(
        default=True, description="verify the gateway's certificate (false only for throwaway targets)"
    )
    health_path: UrlPath = Field(default="/health", description="path of the gateway's health endpoint")
    health_status: int = Field(default=200, ge=100, le=599, description="status the health endpoint answers with")
    timeout: Duration = Field(default=5.0, description="longest wait for any one answer")
    routes: dict[str, Route] = Field(default_factory=dict, description="route name -> how a client calls it")
    security_headers: dict[str, str] = Field(
        default_factory=dict, description='header -> expected value ("*": present with any value)'
    )
    cors: Cors | None = Field(default=None, description="the CORS policy of one route")
    compression: Compression | None = Field(default=None, description="a route whose answers are compressed")
    websocket: WebSocket | None = Field(default=None, description="a WebSocket endpoint behind the gateway")
    second_client_source: str | None = Field(
        default=None, description="a second local source address (default 127.0.0.2 for loopback gateways)"
    )


# Bounds beyond reason, so that a number with thirty digits is a typo found at load time, not a
# probe that plans a billion years of work: more replicas than Kubernetes supports in a cluster, and
# more requests than a probe at any cap could send in a day.
MAX_REPLICAS = 10_000
MAX_REQUESTS = 100_000_000


class ReplicaBounds(StrictModel):
    """Declared replica count: a fixed number, or the bounds of an autoscaler."""

    min: int = Field(ge=0, le=MAX_REPLICAS, description="fewest replicas running")
    max: int = Field(ge=1, le=MAX_REPLICAS, description="most replicas running (the autoscaler's bound)")

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

    cpus: float | None = Field(default=None, gt=0, description="CPUs, e.g. 0.25")
    memory: Memory | None = Field(default=None, description="memory, e.g. 128M or 1G")


class Deploy(StrictModel):
    """How the orchestrator must be configured to run the service (checked on Swarm)."""

    limits: Resources | None = Field(default=None, description="resource limits every task must carry")
    reservations: Resources | None = Field(default=None, description="resource reservations every task must carry")
    restart_condition: Literal["any", "on-failure"] | None = Field(
        default=None, description="tasks that die are restarted on this condition"
    )
    healthcheck: bool = Field(default=False, description="the service declares a health check")
    secrets: list[str] = Field(default_factory=list, description="secrets mounted as Docker secrets")
    encrypted_networks: bool = Field(default=False, description="every overlay network it joins is encrypted")
    update_failure_action: Literal["rollback", "pause", "continue"] | None = Field(
        default=None, description="what the orchestrator does with an update that fails"
    )
    placement: list[str] = Field(default_factory=list, description="placement constraints it must carry")


class Service(StrictModel):
    """A service behind the gateway and what was declared for it."""

    replicas: Annotated[ReplicaBounds, BeforeValidator(replicas_bound)] = Field(
        description="a replica count, or bounds {min, max}"
    )
    route: str | None = Field(default=None, description="the gateway route that reaches this service")
    replica_header: str | None = Field(default=None, description="response header that names the replica")
    health_path: UrlPath = Field(default="/health", description="path of each replica's health endpoint")
    deploy: Deploy | None = Field(default=None, description="how the orchestrator must run the service")
    kubernetes: KubernetesPromises | None = Field(
        default=None, description="what its Kubernetes Deployment and the objects around it must declare"
    )


class LocalPlatform(StrictModel):
    """Replicas run under a local process supervisor (the reference deployment)."""

    kind: Literal["local"] = Field(description="local")
    supervisor_url: str = Field(description="unix:///path/to/supervisor.sock or http://host:port")
    registry: ExistingPath = Field(description="service registry file the gateway's upstreams are built from")


class SwarmPlatform(StrictModel):
    """Services of one stack on a Docker Swarm, through the Docker Engine API."""

    kind: Literal["swarm"] = Field(description="swarm")
    docker_host: str = Field(default="unix:///var/run/docker.sock", description="the engine of a manager node")
    stack: str = Field(min_length=1, description="the stack name; services are <stack>_<service>")


class KubernetesPlatform(StrictModel):
    """Workloads in one namespace of a Kubernetes cluster, through its API (the kubernetes client)."""

    kind: Literal["kubernetes"] = Field(description="kubernetes")
    kubeconfig: ExistingPath | None = Field(
        default=None, description="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)"
    )
    in_cluster: bool = Field(default=False, description="use the service account of the pod infragate runs in")
    context: str | None = Field(default=None, description="the kubeconfig context (default: its current one)")
    namespace: str = Field(default="default", min_length=1, description="where the services' Deployments are")


class NoPlatform(StrictModel):
    """A gateway-only target: scenarios about replicas are not applicable."""

    kind: Literal["none"] = Field(default="none", description="none: no platform (gateway-only checks)")


Platform = Annotated[LocalPlatform | SwarmPlatform | KubernetesPlatform | NoPlatform, Field(discriminator="kind")]


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
    scale_out_to: int = Field(
        default=5,
        ge=1,
        le=MAX_REPLICAS,
        description="replicas the scale-out scenario asks for (at most the declared max)",
    )
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
        default="reference",
        validate_default=True,  # the name resolves to the built-in locustfile like a written one
        description="a built-in scenario name or a locustfile path, relative to the profile",
    )
    user: str | None = Field(default=None, description="the user class, when the locustfile holds several")
    mix: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1, description="request kind -> weight")
    rate: RateValue = Field(description="requests offered per second (open model)")
    duration: Duration = Field(description="how long the load is offered")
    workers: int = Field(default=1, ge=1, le=64, description="Locust worker processes")
    arrivals: Literal["uniform", "poisson"] = Field(
        default="uniform", description="uniform: evenly spaced starts; poisson: random arrivals at the same mean rate"
    )
    timeout: Duration = Field(default=30.0, description="a request unanswered this long counts as an error")
    sources: str | list[str] | None = Field(
        default=None, description='client source addresses, e.g. "127.0.0.10-127.0.0.29" (each is one client)'
    )
    objectives: LoadObjectives = Field(
        default_factory=LoadObjectives, description="the service level objectives judged under load"
    )

    @model_validator(mode="after")
    def _some_kind_weighs(self) -> Load:
        if not any(weight > 0 for weight in self.mix.values()):
            raise ValueError("a mix with at least one weight above 0")
        return self


class Safety(StrictModel):
    """What infragate may do to this target, and the pressure it may put on it."""

    environment: Literal["sandbox", "development", "staging", "production"] = Field(
        description="what kind of environment the target is (production never allows disruption)"
    )
    allow_destructive: bool = Field(
        default=False, description="the target may be disrupted (replicas killed, scaled, restarted; drills)"
    )
    allow_load: bool = Field(default=False, description="the target may be put under load")
    max_rate: float = Field(default=50.0, gt=0, description="requests per second any probe may offer")
    max_duration: Duration = Field(default=60.0, description="longest time any probe may put pressure on the target")
    max_requests: int = Field(default=2000, gt=0, le=MAX_REQUESTS, description="requests any one probe may send")

    @model_validator(mode="after")
    def _production_is_never_destructive(self) -> Safety:
        if self.environment == "production" and self.allow_destructive:
            raise ValueError("allow_destructive must be false when environment is production")
        return self


class Profile(StrictModel):
    """A target: the deployment to check and what its design promised."""

    version: Literal[1] = Field(default=1, description="the profile format's version")
    name: str = Field(min_length=1, description="the target's name in reports")
    description: str = Field(default="", description="free text for people")
    platform: Platform = Field(
        default_factory=NoPlatform, description="where the services run (local, swarm, kubernetes or none)"
    )
    gateway: Gateway = Field(description="the entry point clients use")
    services: dict[str, Service] = Field(default_factory=dict, description="service name -> what was declared for it")
    datastores: Datastores = Field(default_factory=Datastores, description="the deployment's data stores")
    tls: Tls | None = Field(default=None, description="what the TLS endpoints promise")
    resilience: Resilience | None = Field(default=None, description="what the disruptive scenarios exercise")
    load: Load | None = Field(default=None, description="the load the design promised to carry")
    backups: Backups | None = Field(default=None, description="backup promises per data store")
    monitoring: Monitoring | None = Field(default=None, description="what the monitoring stack must notice")
    hosts: dict[str, Host] = Field(
        default_factory=dict, description="host name -> what must hold on it, read through testinfra"
    )
    exposure: Exposure | None = Field(
        default=None, description="the ports this machine may answer on, seen from a network namespace of its own"
    )
    safety: Safety = Field(description="what infragate may do to this target")
