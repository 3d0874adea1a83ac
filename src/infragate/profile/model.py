"""The target profile: what a deployment promised, as frozen, strictly validated models.

Every model forbids unknown keys, so a typo in a profile is an error and never a silent default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from infragate.quantities import Rate, parse_duration, parse_rate, parse_share

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _duration(value: object) -> float:
    return parse_duration(value)


def _rate(value: object) -> Rate:
    return value if isinstance(value, Rate) else parse_rate(value)


def _profile_path(value: object, info: ValidationInfo) -> object:
    """Resolve a relative path against the profile's own folder, and insist that it exists."""
    if not isinstance(value, (str, Path)):
        return value
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.exists():
        raise ValueError(f"an existing file (no file at {path})")
    return path


BUILTIN_SCENARIOS = Path(__file__).resolve().parent.parent / "load"


def _scenario(value: object, info: ValidationInfo) -> object:
    """A built-in load scenario by name, or a locustfile path resolved against the profile's folder."""
    if not isinstance(value, str):
        return value
    if "/" not in value and not value.endswith(".py"):
        if not (BUILTIN_SCENARIOS / f"{value}.py").is_file():
            known = ", ".join(sorted(path.stem for path in BUILTIN_SCENARIOS.glob("*.py")))
            raise ValueError(f"a built-in scenario ({known}) or a path to a locustfile ending in .py")
        return str(BUILTIN_SCENARIOS / f"{value}.py")
    return str(_profile_path(value, info))


def _url(value: object) -> object:
    if not isinstance(value, str):
        return value
    expected = "a URL such as https://host:8443 (http:// or https://, a host, a port from 1 to 65535, no spaces)"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(expected)
    if port == 0:
        raise ValueError(expected)
    return value.rstrip("/")


def _url_path(value: object) -> object:
    if isinstance(value, str) and not value.startswith("/"):
        raise ValueError("a path starting with /")
    return value


def _replicas(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"min": value, "max": value}
    if isinstance(value, dict):
        return value
    raise ValueError("a replica count (a whole number) or bounds {min: N, max: M}")


def _share(value: object) -> float:
    return parse_share(value)


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("a duration above 0, such as 5s")
    return value


Duration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive)]
DurationOrZero = Annotated[float, BeforeValidator(_duration)]
Share = Annotated[float, BeforeValidator(_share)]
RateValue = Annotated[Rate, BeforeValidator(_rate)]
ExistingPath = Annotated[Path, BeforeValidator(_profile_path)]
Url = Annotated[str, BeforeValidator(_url)]
UrlPath = Annotated[str, BeforeValidator(_url_path)]


class StrictModel(BaseModel):
    """Base of every profile model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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


_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _memory(value: object) -> object:
    """Bytes from 268435456, "256M", "256MiB", "1G" (binary units, as Docker reads them)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", value.lower())
        if match is None:
            raise ValueError("a memory size such as 256M or 1G")
        return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]
    return value


Memory = Annotated[float, BeforeValidator(_memory), Field(gt=0)]


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

    replicas: Annotated[ReplicaBounds, BeforeValidator(_replicas)]
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


class Postgres(StrictModel):
    """A PostgreSQL database of the deployment."""

    dsn: SecretStr


class Redis(StrictModel):
    """A Redis instance of the deployment."""

    url: SecretStr


def _backup_location(value: object, info: ValidationInfo) -> object:
    """A folder (resolved against the profile's folder), s3://bucket/prefix, or pgbackrest:STANZA."""
    if isinstance(value, str) and value.startswith("s3://"):
        bucket = value.removeprefix("s3://").split("/", 1)[0]
        if not bucket:
            raise ValueError("s3://BUCKET/PREFIX with a bucket name")
        return value.rstrip("/")
    if isinstance(value, str) and value.startswith("pgbackrest:"):
        if not value.removeprefix("pgbackrest:"):
            raise ValueError("pgbackrest:STANZA with a stanza name")
        return value
    resolved = _profile_path(value, info)
    if isinstance(resolved, Path) and not resolved.is_dir():
        raise ValueError(f"a folder, s3://BUCKET/PREFIX or pgbackrest:STANZA (no folder at {resolved})")
    return str(resolved)


class S3Access(StrictModel):
    """How to reach an S3-compatible store (any endpoint boto3 can talk to)."""

    endpoint_url: Url | None = Field(default=None, description="default: AWS; e.g. http://127.0.0.1:9000")
    region: str = "us-east-1"
    access_key_id: SecretStr | None = Field(default=None, description="default: boto3's usual credential chain")
    secret_access_key: SecretStr | None = None


class PgBackRestAccess(StrictModel):
    """How to run pgBackRest against the repository."""

    config: ExistingPath | None = Field(default=None, description="pgbackrest.conf; default: pgBackRest's own")
    command: str = "pgbackrest"


class PostgresBackups(StrictModel):
    """One set of the database's backups: where it lives and what was promised about it."""

    name: str = Field(default="", description="how reports name this set; default: its location")
    location: Annotated[str, BeforeValidator(_backup_location)] = Field(
        description="a folder of backup folders (named by UTC time), s3://BUCKET/PREFIX, or pgbackrest:STANZA"
    )
    s3: S3Access | None = None
    pgbackrest: PgBackRestAccess | None = None
    schedule: Duration = Field(description="a backup every ...")
    rpo: Duration = Field(description="the newest backup is never older than this")
    rto: Duration = Field(description="a restore finishes within this")
    retention: Duration = Field(description="backups are kept this long, and no longer")
    scratch_dsn: SecretStr | None = Field(
        default=None, description="where restore drills restore to; never the source database"
    )
    allow_same_server: bool = Field(default=False, description="may the scratch database share the source's server")
    scratch_folder: ExistingPath | None = Field(
        default=None,
        description="pgBackRest sets: a local folder where restore drills restore the cluster (in a fresh subfolder)",
    )

    @property
    def label(self) -> str:
        """The set's name in reports."""
        return self.name or self.location

    @property
    def holds_dumps(self) -> bool:
        """Logical dumps with infragate's manifest (a folder or S3), which restore drills can restore."""
        return not self.location.startswith("pgbackrest:")

    @model_validator(mode="after")
    def _dumps_need_a_scratch_database(self) -> PostgresBackups:
        if self.holds_dumps and self.scratch_dsn is None:
            raise ValueError("scratch_dsn for restore drills (backups of logical dumps are always drilled)")
        if self.holds_dumps and self.scratch_folder is not None:
            raise ValueError("scratch_folder only on a pgbackrest: set (sets of dumps restore into scratch_dsn)")
        return self


def _one_or_more(value: object) -> object:
    return [value] if isinstance(value, dict) else value


class RedisPersistence(StrictModel):
    """How Redis was declared to persist its data."""

    appendonly: bool | None = None
    save: str | None = Field(default=None, description='RDB schedule as in redis.conf, e.g. "900 1 300 10"')


class WalArchive(StrictModel):
    """Continuous WAL archiving of the source database: what makes a recovery point of minutes possible."""

    rpo: Duration = Field(description="no committed change waits longer than this before it is in the archive")
    dsn: SecretStr | None = Field(
        default=None, description="a role with pg_monitor on the primary; default: datastores.postgres.dsn"
    )
    repository: str | None = Field(
        default=None,
        description="the name of the pgBackRest backup set whose repository receives the WAL (checked against it)",
    )


class Backups(StrictModel):
    """Backup promises per data store."""

    postgres: Annotated[tuple[PostgresBackups, ...], BeforeValidator(_one_or_more)] = Field(
        default=(), description="one backup set, or a list of sets (say a local folder, S3 and pgBackRest)"
    )
    wal_archive: WalArchive | None = None
    redis: RedisPersistence | None = None

    def wal_repository(self) -> PostgresBackups | None:
        """The pgBackRest set wal_archive.repository names, if any."""
        name = self.wal_archive.repository if self.wal_archive else None
        return next((config for config in self.postgres if name is not None and config.name == name), None)


class Datastores(StrictModel):
    """The deployment's data stores."""

    postgres: Postgres | None = None
    redis: Redis | None = None


class LoadObjectives(StrictModel):
    """What the design promised under load (service level objectives)."""

    p95: Duration | None = Field(default=None, description="95th percentile latency below this")
    p99: Duration | None = Field(default=None, description="99th percentile latency below this")
    throughput: RateValue | None = Field(default=None, description="successful answers per second, at least")
    error_rate: Share = Field(default=0.001, description="share of requests that may fail (not counting throttling)")
    throttled: Share = Field(default=0.0, description="share of requests that may be throttled (429)")


class Load(StrictModel):
    """The load the design was promised to carry, and how to offer it."""

    scenario: Annotated[str, BeforeValidator(_scenario)] = Field(
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
