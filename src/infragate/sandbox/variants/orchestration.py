"""Known-bad variants of the Swarm reference stack: restart, limits, secrets, networks, update
policies, and the user its API runs as."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import (
    POLICY_STEP,
    ROLLBACK,
    ROLLS_BACK,
    SERVICE_USERS,
    SWARM_NETWORKS,
    SWARM_POLICIES,
    SWARM_RESOURCES,
    SWARM_RESTART,
    SWARM_SECRETS,
)
from infragate.sandbox.variants.variant import ExpectedFailure, Variant, swarm_variant

VARIANTS: tuple[Variant, ...] = (
    swarm_variant(
        "swarm-no-restart-policy",
        "the API's failed tasks are never restarted (restart_policy condition: none)",
        (ExpectedFailure(SWARM_RESTART, "Then every service restarts its failed tasks as declared"),),
        restart_condition="none",
    ),
    swarm_variant(
        "swarm-no-limits",
        "the API declares no resource limits",
        (ExpectedFailure(SWARM_RESOURCES, "And every service has its declared resource limits and reservations"),),
        api_limits=False,
    ),
    swarm_variant(
        "swarm-secret-in-env",
        "the database password reaches the API as an environment variable, not as a secret",
        (ExpectedFailure(SWARM_SECRETS, "Then every declared secret is mounted as a Docker secret"),),
        secret_as_environment=True,
    ),
    swarm_variant(
        "swarm-unencrypted-network",
        "the services' overlay network is not encrypted",
        (ExpectedFailure(SWARM_NETWORKS, "Then every overlay network of a service that declares it is encrypted"),),
        encrypted_network=False,
    ),
    swarm_variant(
        "swarm-api-as-root",
        "the API's containers run as root (no user: in the stack), against the seed's non-root execution",
        (ExpectedFailure(SERVICE_USERS, "Then every declared service runs only as its declared users"),),
        api_user="",
    ),
    swarm_variant(
        "swarm-update-pauses",
        "a failed update of the API pauses instead of rolling back (failure_action: pause)",
        (ExpectedFailure(SWARM_POLICIES, POLICY_STEP), ExpectedFailure(ROLLBACK, ROLLS_BACK)),
        update_failure_action="pause",
    ),
    swarm_variant(
        "swarm-update-continues",
        "a failed update of the API carries on with unhealthy tasks, never rolled back (failure_action: continue)",
        (ExpectedFailure(SWARM_POLICIES, POLICY_STEP), ExpectedFailure(ROLLBACK, ROLLS_BACK)),
        update_failure_action="continue",
    ),
)
