"""Known-bad variants of the Swarm reference stack: restart, limits, secrets, networks, update
policies, the user its API runs as, its gateway's kernel settings and its API's OpenSSL."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import (
    FILES_STEP,
    KERNEL_SETTINGS,
    KEYS_PRIVATE,
    PACKAGE_FLOORS,
    PACKAGES_STEP,
    POLICY_STEP,
    ROLLBACK,
    ROLLS_BACK,
    SERVICE_USERS,
    SWARM_NETWORKS,
    SWARM_POLICIES,
    SWARM_RESOURCES,
    SWARM_RESTART,
    SWARM_SECRETS,
    SYSCTLS_STEP,
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
        "swarm-secret-world-readable",
        "the stack's secrets are mounted readable by every user of their containers (mode 0444, Docker's default)",
        (ExpectedFailure(KEYS_PRIVATE, FILES_STEP),),
        secret_mode=0o444,
    ),
    swarm_variant(
        "swarm-gateway-syncookies-off",
        "the gateway's containers answer a SYN flood without SYN cookies (sysctls: net.ipv4.tcp_syncookies: 0)",
        (ExpectedFailure(KERNEL_SETTINGS, SYSCTLS_STEP),),
        gateway_syncookies=False,
    ),
    swarm_variant(
        "swarm-stale-openssl",
        "the API's image holds an OpenSSL older than the stack's floor (pinned back to one Debian still serves)",
        (ExpectedFailure(PACKAGE_FLOORS, PACKAGES_STEP),),
        api_openssl_pinned_back=True,
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
