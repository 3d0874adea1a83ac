"""Known-bad variants of the reference host: Redis running as root, a private key anyone on the host
can read, PostgreSQL listening on every address instead of behind the gateway (seen from inside and
from outside), Redis open to every address without a password, and a gateway configuration edited
on disk into one that would not load again (the running gateway still serves the old one)."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import (
    CONFIG_VALID,
    FILES_STEP,
    KEYS_PRIVATE,
    LISTENS_DECLARED,
    NOTHING_EXPOSED,
    SECRET_COPIES,
    SERVICE_USERS,
)
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, replace_fields

LISTENS_STEP = "Then every declared port listens on its declared addresses and on no other"
EXPOSED_STEP = "Then no port answers that is not declared exposed"

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="redis-runs-as-root",
        summary="Redis runs as root instead of its own account: a flaw in it (or a CONFIG SET dir/dbfilename "
        "write) acts with every right on the host",
        breaks=(ExpectedFailure(SERVICE_USERS, "Then every declared service runs only as its declared users"),),
        defect=LocalDefect(replace_fields(redis_as_root=True)),
    ),
    Variant(
        name="key-world-readable",
        summary="the gateway's TLS private key is mode 0644: every user of the host can read it",
        breaks=(ExpectedFailure(KEYS_PRIVATE, FILES_STEP),),
        defect=LocalDefect(replace_fields(key_mode=0o644)),
    ),
    Variant(
        name="secret-copied",
        summary="the database's connection string, password included, copied into an env file anyone on the host "
        "can read (mode 0644), as a deploy script might leave it",
        breaks=(
            ExpectedFailure(
                SECRET_COPIES, "Then no file others may read in the declared folders holds a secret of the profile"
            ),
        ),
        defect=LocalDefect(replace_fields(secret_copied=True)),
    ),
    Variant(
        name="postgres-listens-everywhere",
        summary="PostgreSQL listens on every address of the host (listen_addresses = '*'), not on the loopback only",
        breaks=(ExpectedFailure(LISTENS_DECLARED, LISTENS_STEP), ExpectedFailure(NOTHING_EXPOSED, EXPOSED_STEP)),
        defect=LocalDefect(replace_fields(postgres_listen="*")),
    ),
    Variant(
        name="redis-exposed",
        summary="Redis listens on every address with protected mode off and no password: anyone who reaches the "
        "host reads and writes the cache (and, through CONFIG SET, files)",
        breaks=(ExpectedFailure(LISTENS_DECLARED, LISTENS_STEP), ExpectedFailure(NOTHING_EXPOSED, EXPOSED_STEP)),
        defect=LocalDefect(replace_fields(redis_exposed=True)),
    ),
    Variant(
        name="admin-console-exposed",
        summary="the first API replica's admin console listens on every address, not on the loopback: anyone "
        "on the network reaches it",
        breaks=(ExpectedFailure(LISTENS_DECLARED, LISTENS_STEP), ExpectedFailure(NOTHING_EXPOSED, EXPOSED_STEP)),
        defect=LocalDefect(replace_fields(admin_address="0.0.0.0")),
    ),
    Variant(
        name="gateway-config-drift",
        summary="the gateway's configuration on disk was edited after it started into one its parser refuses: "
        "the next reload or restart fails",
        breaks=(ExpectedFailure(CONFIG_VALID, "Then every declared configuration test succeeds"),),
        defect=LocalDefect(replace_fields(gateway_conf_drift=True)),
    ),
)
