"""Known-bad variants of the reference deployment: each switches on one defect.

Every variant names the scenarios it must make fail and the step they must fail on; the
project's tests hold it to that, and a meta-test insists that every scenario has a variant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from infragate.errors import UsageError
from infragate.sandbox.spec import SandboxSpec


@dataclass(frozen=True)
class ExpectedFailure:
    """A scenario a variant must make fail, and the step it must fail on."""

    scenario: str
    step: str


@dataclass(frozen=True)
class Variant:
    """One known defect of the reference deployment."""

    name: str
    summary: str
    breaks: tuple[ExpectedFailure, ...]
    apply: Callable[[SandboxSpec], SandboxSpec]
    # Scenarios the defect leaves unable to run (a TLS client that rightly refuses the certificate).
    unverifiable: tuple[str, ...] = ()
    # Where the defect lives: the local reference deployment, or the Swarm reference stack.
    runtime: str = "local"
    # For the Swarm stack: the SwarmSpec fields the defect changes.
    swarm_changes: tuple[tuple[str, object], ...] = ()


def _replace(**changes: object) -> Callable[[SandboxSpec], SandboxSpec]:
    return lambda spec: dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


_EVERY_ROUTE = "Every route enforces its declared rate limit"
_OTHER_CLIENT = "One client's overload does not throttle another client"
_OTHER_ROUTE = "One route's overload does not throttle another route"
_ODD = "Odd requests never break the gateway or leak internals"
_VERSIONS = "Only the declared TLS versions are accepted"
_CIPHERS = "No cipher suite outside the declared Mozilla profile is accepted"
_CERTS = "Certificates are trusted, match their name and are not about to expire"
_HSTS = "Browsers are told to stay on HTTPS"
_REDIRECT = "Plain HTTP is redirected to HTTPS"
_DEEP = "A deep scan finds the TLS configuration meets the declared Mozilla profile"
_KILL = "Losing a replica stays within the failover budget"
_SCALE_OUT = "Scaling out makes the new replicas ready and gives them traffic"
_SCALE_IN = "Scaling back in loses no request"
_ROLLING = "A rolling restart loses no request"
_FRESH = "The newest backup is younger than the recovery point objective"
_SCHEDULE = "Backups follow the schedule and the retention"
_INTACT = "Every backup inside the retention window is intact"
_DRILL = "The newest backup restores within the recovery time objective, as it was"
_WAL_SETUP = "WAL archiving is set up to hold the recovery point objective"
_WAL_FLOW = "Archived WAL reaches the repository without failing or falling behind"
_LATENCY = "Latency stays within the declared percentiles under the declared load"
_THROUGHPUT = "The deployment sustains the declared throughput"
_ERRORS = "Errors under load stay within the declared error rate"
_THROTTLED = "Clients within their limits are not throttled under load"
_P95 = "Then the p95 latency is below the declared bound"
_SWARM_RESOURCES = "Every service runs with its declared replicas, limits and reservations"
_SWARM_RESTART = "Failed tasks are restarted and health is checked"
_SWARM_SECRETS = "Secrets reach the services as secrets, never as environment variables"
_SWARM_NETWORKS = "The services' networks are encrypted"
_SWARM_POLICIES = "Placement and update policies are as declared"
_ROLLBACK = "An update that never becomes healthy is rolled back"
_ROLLS_BACK = "Then the orchestrator rolls the update back"
_POLICY_STEP = "And every service rolls back a failed update as declared"


def _swarm(name: str, summary: str, breaks: tuple[ExpectedFailure, ...], **changes: object) -> Variant:
    return Variant(name, summary, breaks, lambda spec: spec, runtime="swarm", swarm_changes=tuple(changes.items()))


def _every_replica(fault: str) -> Callable[[SandboxSpec], SandboxSpec]:
    return lambda spec: dataclasses.replace(
        spec, replica_faults={name: frozenset({fault}) for name in spec.replica_names()}
    )


VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant(
            name="gateway-health-unrouted",
            summary="the gateway does not route its health path (answers 404)",
            breaks=(
                ExpectedFailure(
                    "The gateway's health endpoint answers", "Then the gateway answers with the declared health status"
                ),
            ),
            apply=_replace(gateway_health_routed=False),
        ),
        Variant(
            name="replica-unhealthy",
            summary="replica api-2 runs but its health check fails (503)",
            breaks=(ExpectedFailure("Every declared replica is healthy", "And every replica reports healthy"),),
            apply=_replace(replica_faults={"api-2": frozenset({"unhealthy"})}),
        ),
        Variant(
            name="replica-down",
            summary="replica api-3 is declared but not running",
            breaks=(
                ExpectedFailure(
                    "Every declared replica is healthy", "Then every service runs within its declared replica count"
                ),
            ),
            apply=_replace(stopped_replicas=frozenset({"api-3"})),
        ),
        Variant(
            name="replica-outside-upstream",
            summary="replica api-3 runs and is healthy but the gateway's upstream leaves it out",
            breaks=(
                ExpectedFailure(
                    "Requests through the gateway reach every replica",
                    "Then every replica of every service answered some of them",
                ),
            ),
            apply=_replace(upstream_excluded=frozenset({"api-3"})),
        ),
        Variant(
            name="ratelimit-none",
            summary="no route is rate limited",
            breaks=(
                ExpectedFailure(_EVERY_ROUTE, "Then each route admits its declared rate"),
                ExpectedFailure(_OTHER_CLIENT, "Then the overloading client is throttled"),
                ExpectedFailure(_OTHER_ROUTE, "Then the overloading client is throttled"),
            ),
            apply=_replace(rate_limits_enforced=False),
        ),
        Variant(
            name="ratelimit-too-fast",
            summary="the api route admits 150 r/s where 100 r/s is declared",
            breaks=(ExpectedFailure(_EVERY_ROUTE, "Then each route admits its declared rate"),),
            apply=lambda spec: spec.with_route("api", rate_per_s=150),
        ),
        Variant(
            name="ratelimit-burst-too-big",
            summary="the api route allows a burst of 100 where 20 is declared",
            breaks=(ExpectedFailure(_EVERY_ROUTE, "And each route admits its declared burst"),),
            apply=lambda spec: spec.with_route("api", burst=100),
        ),
        Variant(
            name="ratelimit-status-503",
            summary="excess requests are rejected with 503 instead of the declared 429",
            breaks=(ExpectedFailure(_EVERY_ROUTE, "And each route rejects the excess with the declared status"),),
            apply=_replace(limit_status=503),
        ),
        Variant(
            name="ratelimit-shared-zone",
            summary="every route shares the api route's zone (100 r/s) instead of having its own",
            breaks=(
                ExpectedFailure(_EVERY_ROUTE, "Then each route admits its declared rate"),
                ExpectedFailure(_OTHER_ROUTE, "And the other route is never throttled"),
            ),
            apply=_replace(shared_limit_zone=True),
        ),
        Variant(
            name="ratelimit-global-key",
            summary="one bucket for all clients: the limit is keyed by the server port, not by client address",
            breaks=(
                ExpectedFailure(_OTHER_CLIENT, "And the other client is never throttled"),
                ExpectedFailure(_THROTTLED, "Then the share of throttled requests stays within the declared bound"),
                # Throttled answers are not successful ones, so the load's throughput falls short too.
                ExpectedFailure(_THROUGHPUT, "Then the throughput is at least the declared rate"),
            ),
            apply=_replace(limit_key="$server_port"),
        ),
        Variant(
            name="header-nosniff-missing",
            summary="responses lack X-Content-Type-Options",
            breaks=(
                ExpectedFailure(
                    "Responses carry the declared security headers",
                    "Then every response carries the declared security headers",
                ),
            ),
            apply=_replace(omitted_headers=frozenset({"X-Content-Type-Options"})),
        ),
        Variant(
            name="server-tokens-on",
            summary="the gateway names its nginx version in headers and error pages",
            breaks=(
                ExpectedFailure(
                    "The gateway does not disclose its software version",
                    "Then no response discloses a software version",
                ),
                ExpectedFailure(_ODD, "And no answer to an odd request discloses a software version or a stack trace"),
            ),
            apply=_replace(server_tokens=True),
        ),
        Variant(
            name="cors-wildcard-credentials",
            summary="every origin is allowed, with credentials",
            breaks=(
                ExpectedFailure(
                    "Only allowlisted origins may call the API from a browser", "And no unknown origin is allowed"
                ),
                ExpectedFailure(_ODD, "And no odd request from an origin outside the allowlist is let in"),
            ),
            apply=_replace(cors="wildcard-credentials"),
        ),
        Variant(
            name="cors-preflight-unanswered",
            summary="preflight (OPTIONS) requests are passed to the backend, which does not answer them",
            breaks=(
                ExpectedFailure(
                    "Preflight requests from allowlisted origins are answered",
                    "Then the preflight allows the declared methods and headers",
                ),
            ),
            apply=_replace(cors="no-preflight"),
        ),
        Variant(
            name="gzip-off",
            summary="the gateway never compresses",
            breaks=(
                ExpectedFailure(
                    "Text responses are compressed for clients that accept it",
                    "Then the response is compressed with the declared encoding",
                ),
            ),
            apply=_replace(gzip=False),
        ),
        Variant(
            name="websocket-not-proxied",
            summary="the gateway does not pass the WebSocket upgrade on",
            breaks=(
                ExpectedFailure("A WebSocket through the gateway opens and echoes", "Then the connection is upgraded"),
            ),
            apply=_replace(websocket_upgrade=False),
        ),
        Variant(
            name="backend-fragile",
            summary="a search query with a quote makes every replica fail with a stack trace",
            breaks=(ExpectedFailure(_ODD, "Then no odd request causes a server error"),),
            apply=_every_replica("fragile"),
        ),
        Variant(
            name="tls10-enabled",
            summary="the gateway also accepts TLS 1.0 and 1.1, with a CBC suite they can use",
            breaks=(
                ExpectedFailure(_VERSIONS, "Then only the declared TLS versions are accepted"),
                ExpectedFailure(_CIPHERS, "Then no cipher suite outside the declared Mozilla profile is accepted"),
                ExpectedFailure(_DEEP, "Then every endpoint meets the declared Mozilla profile"),
            ),
            # OpenSSL enables only a contiguous range of versions, so 1.0 comes back together with 1.1.
            apply=_replace(
                tls_protocols=("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), tls_extra_ciphers=("ECDHE-ECDSA-AES128-SHA",)
            ),
        ),
        Variant(
            name="tls11-enabled",
            summary="the gateway also accepts TLS 1.1, with a CBC suite it can use",
            breaks=(
                ExpectedFailure(_VERSIONS, "Then only the declared TLS versions are accepted"),
                ExpectedFailure(_CIPHERS, "Then no cipher suite outside the declared Mozilla profile is accepted"),
                ExpectedFailure(_DEEP, "Then every endpoint meets the declared Mozilla profile"),
            ),
            apply=_replace(
                tls_protocols=("TLSv1.1", "TLSv1.2", "TLSv1.3"), tls_extra_ciphers=("ECDHE-ECDSA-AES128-SHA",)
            ),
        ),
        Variant(
            name="tls-weak-cipher",
            summary="TLS 1.2 also offers ECDHE-ECDSA-AES128-SHA (CBC with SHA-1), outside Mozilla intermediate",
            breaks=(
                ExpectedFailure(_CIPHERS, "Then no cipher suite outside the declared Mozilla profile is accepted"),
                ExpectedFailure(_DEEP, "Then every endpoint meets the declared Mozilla profile"),
            ),
            apply=_replace(tls_extra_ciphers=("ECDHE-ECDSA-AES128-SHA",)),
        ),
        Variant(
            name="cert-unknown-ca",
            summary="the certificate is issued by a CA the clients do not trust",
            breaks=(
                ExpectedFailure(_CERTS, "Then every certificate chain verifies against the declared trust anchors"),
                ExpectedFailure(_DEEP, "Then every endpoint meets the declared Mozilla profile"),
            ),
            unverifiable=(_HSTS,),
            apply=_replace(certificate="unknown-ca"),
        ),
        Variant(
            name="cert-wrong-host",
            summary="the certificate names other.example.test, not the gateway's address",
            breaks=(
                ExpectedFailure(_CERTS, "And every certificate matches the name clients ask for"),
                ExpectedFailure(_DEEP, "Then every endpoint meets the declared Mozilla profile"),
            ),
            unverifiable=(_HSTS,),
            apply=_replace(certificate="wrong-host"),
        ),
        Variant(
            name="cert-expiring",
            summary="the certificate expires in 5 days (30 declared)",
            breaks=(
                ExpectedFailure(_CERTS, "And every certificate stays valid for at least the declared number of days"),
            ),
            apply=_replace(certificate="expiring"),
        ),
        Variant(
            name="hsts-one-day",
            summary="Strict-Transport-Security max-age is one day",
            breaks=(
                ExpectedFailure(_HSTS, "Then Strict-Transport-Security is sent with at least the declared max-age"),
            ),
            apply=_replace(hsts_max_age_s=86_400),
        ),
        Variant(
            name="http-not-redirected",
            summary="plain HTTP is served instead of redirected to HTTPS",
            breaks=(ExpectedFailure(_REDIRECT, "Then it is redirected permanently to the same page over HTTPS"),),
            apply=_replace(http_redirect=False),
        ),
        Variant(
            name="no-passive-failover",
            summary="the gateway neither retries another replica nor marks a dead one down",
            breaks=(
                ExpectedFailure(_KILL, "And the share of failed requests stays within the failover budget"),
                ExpectedFailure(_ROLLING, "And no request fails"),
            ),
            apply=_replace(passive_failover=False),
        ),
        Variant(
            name="no-restart",
            summary="the supervisor does not restart a replica that dies",
            breaks=(ExpectedFailure(_KILL, "Then the killed replica is replaced by a new one"),),
            apply=_replace(autorestart=False),
        ),
        Variant(
            name="slow-start",
            summary="every replica needs 15 s before it is ready (10 s recovery declared)",
            breaks=(
                ExpectedFailure(_KILL, "And the service is back at its declared replicas within the recovery time"),
            ),
            apply=lambda spec: dataclasses.replace(
                spec, replica_faults={f"api-{index}": frozenset({"slow-start"}) for index in range(1, 11)}
            ),
        ),
        Variant(
            name="static-upstream",
            summary="the gateway's upstream never learns of replicas added by scaling",
            breaks=(
                ExpectedFailure(_SCALE_OUT, "And a paced stream of requests through the gateway reaches every replica"),
            ),
            apply=_replace(static_upstream=True),
        ),
        Variant(
            name="scale-in-without-drain",
            summary="scaling in stops replicas before the gateway stops using them, with no retry elsewhere",
            breaks=(
                ExpectedFailure(_SCALE_IN, "Then no request fails"),
                ExpectedFailure(_ROLLING, "And no request fails"),
            ),
            apply=_replace(scale_in_drain=False, passive_failover=False),
        ),
        Variant(
            name="backup-stale",
            summary="the newest backup is 8 hours old (RPO 6.5 hours)",
            breaks=(
                ExpectedFailure(_FRESH, "Then the newest backup is younger than the declared recovery point objective"),
            ),
            apply=_replace(backup_newest_age_s=8 * 3600),
        ),
        Variant(
            name="backup-truncated",
            summary="the newest dump was cut off halfway (a full disk, a killed upload)",
            breaks=(
                ExpectedFailure(
                    _INTACT, "Then every backup is readable to its end, lists its contents and matches its checksum"
                ),
                ExpectedFailure(_DRILL, "Then the restore finishes within the declared recovery time objective"),
            ),
            apply=_replace(backup_truncated=True),
        ),
        Variant(
            name="backup-missing-table",
            summary="the backup job silently leaves the bookings table out of every dump",
            breaks=(
                ExpectedFailure(_DRILL, "And the restored data matches the record taken when the backup was made"),
            ),
            apply=_replace(backup_excluded_tables=("public.bookings",)),
        ),
        Variant(
            name="backup-gap",
            summary="one scheduled backup inside the retention window never happened",
            breaks=(
                ExpectedFailure(
                    _SCHEDULE, "Then there is a backup for every scheduled period inside the retention window"
                ),
            ),
            apply=_replace(backup_gap=True),
        ),
        Variant(
            name="backup-not-pruned",
            summary="backups older than the retention are kept",
            breaks=(ExpectedFailure(_SCHEDULE, "And no backup is kept beyond the retention"),),
            apply=_replace(backup_unpruned=True),
        ),
        Variant(
            name="restore-slow",
            summary="restoring the newest backup takes about 12 s (RTO 8 s)",
            breaks=(ExpectedFailure(_DRILL, "Then the restore finishes within the declared recovery time objective"),),
            apply=_replace(restore_heavy=True),
        ),
        Variant(
            name="redis-no-aof",
            summary="Redis runs without its append-only file",
            breaks=(
                ExpectedFailure(
                    "The cache persists its data as declared", "Then the cache persists its data as declared"
                ),
            ),
            apply=_replace(redis_appendonly=False),
        ),
        Variant(
            name="load-slow-backend",
            summary="every API answer takes 250 ms (injected latency)",
            breaks=(ExpectedFailure(_LATENCY, _P95),),
            apply=_every_replica("slow"),
        ),
        Variant(
            name="load-error-backend",
            summary="one API request in a hundred fails with 500",
            breaks=(ExpectedFailure(_ERRORS, "Then the error rate is below the declared bound"),),
            apply=_every_replica("flaky"),
        ),
        Variant(
            name="load-undersized",
            summary="one replica that serves one request at a time in 8 ms: at most 125 answers/s for 200 offered",
            breaks=(
                ExpectedFailure(_LATENCY, _P95),
                ExpectedFailure(_THROUGHPUT, "Then the throughput is at least the declared rate"),
            ),
            apply=lambda spec: dataclasses.replace(spec, replicas=1, replica_faults={"api-1": frozenset({"serial"})}),
        ),
        Variant(
            name="load-stall",
            summary="every replica freezes for 1 s in every 7 s (a closed-loop generator would not see it)",
            breaks=(ExpectedFailure(_LATENCY, _P95),),
            apply=_every_replica("stall"),
        ),
        Variant(
            name="backup-offsite-stale",
            summary="uploads to the S3 copy stopped a day ago; the local backups are fine",
            breaks=(
                ExpectedFailure(_FRESH, "Then the newest backup is younger than the declared recovery point objective"),
            ),
            apply=_replace(backup_offsite_lag_s=86_400.0),
        ),
        Variant(
            name="pgbackrest-no-backup",
            summary="the pgBackRest stanza exists but no backup was ever taken",
            breaks=(
                ExpectedFailure(_FRESH, "Then the newest backup is younger than the declared recovery point objective"),
                ExpectedFailure(
                    _SCHEDULE, "Then there is a backup for every scheduled period inside the retention window"
                ),
                ExpectedFailure(_DRILL, "Then the restore finishes within the declared recovery time objective"),
            ),
            apply=_replace(pgbackrest_backup=False),
        ),
        Variant(
            name="pgbackrest-corrupt",
            summary="a file in the pgBackRest repository no longer matches its checksum",
            breaks=(
                ExpectedFailure(
                    _INTACT, "Then every backup is readable to its end, lists its contents and matches its checksum"
                ),
                ExpectedFailure(_DRILL, "Then the restore finishes within the declared recovery time objective"),
            ),
            apply=_replace(pgbackrest_corrupt=True),
        ),
        Variant(
            name="pgbackrest-wal-missing",
            summary="the WAL from the start to the end of the newest pgBackRest backup is gone from the repository",
            # pgbackrest verify finds nothing wrong (every file it has matches): only a restore shows it.
            breaks=(ExpectedFailure(_DRILL, "Then the restore finishes within the declared recovery time objective"),),
            apply=_replace(pgbackrest_wal_missing=True),
        ),
        Variant(
            name="wal-archive-timeout-off",
            summary="archive_timeout is 0: on a quiet database a change waits until a 16 MB WAL segment fills",
            breaks=(
                ExpectedFailure(
                    _WAL_SETUP, "And a WAL segment is closed for archiving within the recovery point objective"
                ),
            ),
            apply=_replace(wal_archive_timeout_s=0),
        ),
        Variant(
            name="wal-archive-failing",
            summary="after the first backup the archive command names a stanza that does not exist, and fails",
            breaks=(ExpectedFailure(_WAL_FLOW, "Then the archiver's last attempt succeeded"),),
            apply=_replace(wal_archive_fault="failing"),
        ),
        Variant(
            name="wal-archive-discarded",
            summary="after the first backup the archive command is 'true': every segment counts archived, none is kept",
            breaks=(
                ExpectedFailure(_WAL_FLOW, "And the repository holds the newest WAL the primary reports archived"),
            ),
            apply=_replace(wal_archive_fault="discarded"),
        ),
        _swarm(
            "swarm-no-restart-policy",
            "the API's failed tasks are never restarted (restart_policy condition: none)",
            (ExpectedFailure(_SWARM_RESTART, "Then every service restarts its failed tasks as declared"),),
            restart_condition="none",
        ),
        _swarm(
            "swarm-no-limits",
            "the API declares no resource limits",
            (ExpectedFailure(_SWARM_RESOURCES, "And every service has its declared resource limits and reservations"),),
            api_limits=False,
        ),
        _swarm(
            "swarm-secret-in-env",
            "the database password reaches the API as an environment variable, not as a secret",
            (ExpectedFailure(_SWARM_SECRETS, "Then every declared secret is mounted as a Docker secret"),),
            secret_as_environment=True,
        ),
        _swarm(
            "swarm-unencrypted-network",
            "the services' overlay network is not encrypted",
            (
                ExpectedFailure(
                    _SWARM_NETWORKS, "Then every overlay network of a service that declares it is encrypted"
                ),
            ),
            encrypted_network=False,
        ),
        _swarm(
            "swarm-update-pauses",
            "a failed update of the API pauses instead of rolling back (failure_action: pause)",
            (ExpectedFailure(_SWARM_POLICIES, _POLICY_STEP), ExpectedFailure(_ROLLBACK, _ROLLS_BACK)),
            update_failure_action="pause",
        ),
        _swarm(
            "swarm-update-continues",
            "a failed update of the API carries on with unhealthy tasks, never rolled back (failure_action: continue)",
            (ExpectedFailure(_SWARM_POLICIES, _POLICY_STEP), ExpectedFailure(_ROLLBACK, _ROLLS_BACK)),
            update_failure_action="continue",
        ),
    )
}


def get_variant(name: str, runtime: str = "local") -> Variant:
    """A variant of a runtime's reference deployment by name; an unknown name is a usage error naming the known."""
    known = {variant.name: variant for variant in VARIANTS.values() if variant.runtime == runtime}
    try:
        return known[name]
    except KeyError:
        raise UsageError(
            f"--variant: unknown variant '{name}' of the {runtime} reference deployment "
            f"(expected one of: {', '.join(sorted(known))})"
        ) from None


@dataclass(frozen=True)
class ScenarioInfo:
    """Where a scenario is written and its step texts ("When ...")."""

    file: str
    steps: tuple[str, ...]


TABLE_TAGS = ("deepscan", "swarm", "load", "destructive")  # tags the table names: they change how a scenario runs


def scenario_steps(features: list[str]) -> dict[str, ScenarioInfo]:
    """Every scenario in the feature files or folders, by name."""
    from pytest_bdd.feature import get_features

    found: dict[str, ScenarioInfo] = {}
    for feature in get_features(features):
        for name, scenario in feature.scenarios.items():
            if name in found:
                raise UsageError(f"{feature.rel_filename}: scenario name '{name}' is used twice; names must be unique")
            found[name] = ScenarioInfo(
                feature.filename, tuple(f"{step.keyword} {step.name}" for step in scenario.steps)
            )
    return found


def scenario_table(features: list[str], variants: dict[str, Variant] = VARIANTS) -> str:
    """A Markdown table: every scenario with the variants that make it fail (the README holds it)."""
    from pytest_bdd.feature import get_features

    rows = ["| feature | scenario | fails on variant(s) |", "| --- | --- | --- |"]
    for feature in sorted(get_features(features), key=lambda feature: feature.rel_filename):
        for name, scenario in feature.scenarios.items():
            breaking = [
                f"`{variant.name}`"
                for variant in variants.values()
                if any(failure.scenario == name for failure in variant.breaks)
            ]
            tags = ", ".join(f"`@{tag}`" for tag in sorted(scenario.tags | feature.tags) if tag in TABLE_TAGS)
            rows.append(f"| {feature.name} | {name}{f' ({tags})' if tags else ''} | {', '.join(breaking)} |")
    return "\n".join(rows) + "\n"


def coverage_problems(features: list[str], variants: dict[str, Variant] = VARIANTS) -> list[str]:
    """Why the variants do not prove that every scenario can fail; empty when they do."""
    scenarios = scenario_steps(features)
    problems = [
        f"no variant makes '{name}' fail"
        for name in scenarios
        if not any(failure.scenario == name for variant in variants.values() for failure in variant.breaks)
    ]
    for variant in variants.values():
        if not variant.breaks:
            problems.append(f"variant {variant.name} declares no scenario it breaks")
        for failure in variant.breaks:
            if failure.scenario not in scenarios:
                problems.append(f"variant {variant.name}: no scenario '{failure.scenario}'")
            elif failure.step not in scenarios[failure.scenario].steps:
                problems.append(f"variant {variant.name}: scenario '{failure.scenario}' has no step '{failure.step}'")
    return problems
