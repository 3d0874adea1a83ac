"""Known-bad variants of the gateway's routing: health, rate limits, headers, CORS, compression, WebSockets."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import EVERY_ROUTE, ODD, OTHER_CLIENT, OTHER_ROUTE, THROTTLED, THROUGHPUT
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, every_replica, replace_fields

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="gateway-health-unrouted",
        summary="the gateway does not route its health path (answers 404)",
        breaks=(
            ExpectedFailure(
                "The gateway's health endpoint answers", "Then the gateway answers with the declared health status"
            ),
        ),
        defect=LocalDefect(replace_fields(gateway_health_routed=False)),
    ),
    Variant(
        name="ratelimit-none",
        summary="no route is rate limited",
        breaks=(
            ExpectedFailure(EVERY_ROUTE, "Then each route admits its declared rate"),
            ExpectedFailure(OTHER_CLIENT, "Then the overloading client is throttled"),
            ExpectedFailure(OTHER_ROUTE, "Then the overloading client is throttled"),
        ),
        defect=LocalDefect(replace_fields(rate_limits_enforced=False)),
    ),
    Variant(
        name="ratelimit-too-fast",
        summary="the api route admits 150 r/s where 100 r/s is declared",
        breaks=(ExpectedFailure(EVERY_ROUTE, "Then each route admits its declared rate"),),
        defect=LocalDefect(lambda spec: spec.with_route("api", rate_per_s=150)),
    ),
    Variant(
        name="ratelimit-burst-too-big",
        summary="the api route allows a burst of 100 where 20 is declared",
        breaks=(ExpectedFailure(EVERY_ROUTE, "And each route admits its declared burst"),),
        defect=LocalDefect(lambda spec: spec.with_route("api", burst=100)),
        gateways=("nginx",),  # HAProxy's sliding window has no burst (its window length is its burst)
    ),
    Variant(
        name="ratelimit-status-503",
        summary="excess requests are rejected with 503 instead of the declared 429",
        breaks=(ExpectedFailure(EVERY_ROUTE, "And each route rejects the excess with the declared status"),),
        defect=LocalDefect(replace_fields(limit_status=503)),
    ),
    Variant(
        name="ratelimit-shared-zone",
        summary="every route shares the api route's zone (100 r/s) instead of having its own",
        breaks=(
            ExpectedFailure(EVERY_ROUTE, "Then each route admits its declared rate"),
            # Each route is overloaded in turn: the auth route's overload (30 r/s) never reaches the
            # shared 100 r/s, so the first step to fail is the overloaded route's own throttling.
            ExpectedFailure(OTHER_ROUTE, "Then the overloading client is throttled"),
        ),
        defect=LocalDefect(replace_fields(shared_limit_zone=True)),
    ),
    Variant(
        name="ratelimit-search-shares-api-zone",
        summary="the search route is counted in the api route's zone (100 r/s), the auth route keeps its own",
        breaks=(
            ExpectedFailure(EVERY_ROUTE, "Then each route admits its declared rate"),
            ExpectedFailure(OTHER_ROUTE, "And the other route is never throttled"),
        ),
        defect=LocalDefect(replace_fields(shared_zone_routes=frozenset({"search"}))),
    ),
    Variant(
        name="ratelimit-global-key",
        summary="one bucket for all clients: the limit is keyed by the server port, not by client address",
        breaks=(
            ExpectedFailure(OTHER_CLIENT, "And the other client is never throttled"),
            ExpectedFailure(THROTTLED, "Then the share of throttled requests stays within the declared bound"),
            # Throttled answers are not successful ones, so the load's throughput falls short too.
            ExpectedFailure(THROUGHPUT, "Then the throughput is at least the declared rate"),
        ),
        defect=LocalDefect(replace_fields(limit_key="$server_port")),
    ),
    Variant(
        name="ratelimit-global-key-search",
        summary="the search route alone keeps one bucket for all clients (keyed by the server port)",
        breaks=(ExpectedFailure(OTHER_CLIENT, "And the other client is never throttled"),),
        defect=LocalDefect(replace_fields(global_key_routes=frozenset({"search"}))),
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
        defect=LocalDefect(replace_fields(omitted_headers=frozenset({"X-Content-Type-Options"}))),
    ),
    Variant(
        name="server-tokens-on",
        summary="the gateway names its software version in headers and error pages",
        breaks=(
            ExpectedFailure(
                "The gateway does not disclose its software version",
                "Then no response discloses a software version",
            ),
            ExpectedFailure(ODD, "And no answer to an odd request discloses a software version or a stack trace"),
        ),
        defect=LocalDefect(replace_fields(server_tokens=True)),
    ),
    Variant(
        name="cors-wildcard-credentials",
        summary="every origin is allowed, with credentials",
        breaks=(
            ExpectedFailure(
                "Only allowlisted origins may call the API from a browser", "And no unknown origin is allowed"
            ),
            ExpectedFailure(ODD, "And no odd request from an origin outside the allowlist is let in"),
        ),
        defect=LocalDefect(replace_fields(cors="wildcard-credentials")),
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
        defect=LocalDefect(replace_fields(cors="no-preflight")),
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
        defect=LocalDefect(replace_fields(gzip=False)),
    ),
    Variant(
        name="websocket-not-proxied",
        summary="the gateway does not pass the WebSocket upgrade on",
        breaks=(
            ExpectedFailure("A WebSocket through the gateway opens and echoes", "Then the connection is upgraded"),
        ),
        defect=LocalDefect(replace_fields(websocket_upgrade=False)),
    ),
    Variant(
        name="backend-fragile",
        summary="a search query with a quote makes every replica fail with a stack trace",
        breaks=(ExpectedFailure(ODD, "Then no odd request causes a server error"),),
        defect=LocalDefect(every_replica("fragile")),
    ),
)
