"""Known-bad variants of how the deployment survives faults: replicas down or unhealthy, no failover,
no restart, slow or blind scaling."""

from __future__ import annotations

import dataclasses

from infragate.sandbox.variants.scenarios import KILL, ROLLING, SCALE_IN, SCALE_OUT
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, replace_fields

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="replica-unhealthy",
        summary="replica api-2 runs but its health check fails (503)",
        breaks=(ExpectedFailure("Every declared replica is healthy", "And every replica reports healthy"),),
        defect=LocalDefect(replace_fields(replica_faults={"api-2": frozenset({"unhealthy"})})),
    ),
    Variant(
        name="replica-down",
        summary="replica api-3 is declared but not running",
        breaks=(
            ExpectedFailure(
                "Every declared replica is healthy", "Then every service runs within its declared replica count"
            ),
        ),
        defect=LocalDefect(replace_fields(stopped_replicas=frozenset({"api-3"}))),
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
        defect=LocalDefect(replace_fields(upstream_excluded=frozenset({"api-3"}))),
    ),
    Variant(
        name="no-passive-failover",
        summary="the gateway neither retries another replica nor marks a dead one down",
        breaks=(
            ExpectedFailure(KILL, "And the share of failed requests stays within the failover budget"),
            ExpectedFailure(ROLLING, "And no request fails"),
        ),
        defect=LocalDefect(replace_fields(passive_failover=False)),
    ),
    Variant(
        name="no-restart",
        summary="the supervisor does not restart a replica that dies",
        breaks=(ExpectedFailure(KILL, "Then the killed replica is replaced by a new one"),),
        defect=LocalDefect(replace_fields(autorestart=False)),
    ),
    Variant(
        name="slow-start",
        summary="every replica needs 15 s before it is ready (10 s recovery declared)",
        breaks=(ExpectedFailure(KILL, "And the service is back at its declared replicas within the recovery time"),),
        defect=LocalDefect(
            lambda spec: dataclasses.replace(
                spec, replica_faults={f"api-{index}": frozenset({"slow-start"}) for index in range(1, 11)}
            )
        ),
    ),
    Variant(
        name="static-upstream",
        summary="the gateway's upstream never learns of replicas added by scaling",
        breaks=(
            ExpectedFailure(SCALE_OUT, "And a paced stream of requests through the gateway reaches every replica"),
        ),
        defect=LocalDefect(replace_fields(static_upstream=True)),
    ),
    Variant(
        name="scale-in-without-drain",
        summary="scaling in stops replicas before the gateway stops using them, with no retry elsewhere",
        breaks=(
            ExpectedFailure(SCALE_IN, "Then no request fails"),
            ExpectedFailure(ROLLING, "And no request fails"),
        ),
        defect=LocalDefect(replace_fields(scale_in_drain=False, passive_failover=False)),
    ),
)
