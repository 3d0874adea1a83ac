"""A real Traefik (v3, built from its Go module) as the gateway: its RateLimit middleware is a token
bucket (``average`` a second, ``burst`` at most), which Traefik also lets a request wait for up to
half a token's interval before it refuses it. Declared as a token bucket, the rate-limit feature
passes on a correct configuration and fails, on the expected step, on a raised average, a raised
burst and a bucket shared by every client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infragate.sandbox.haproxy import backend_server
from infragate.sandbox.traefik import TraefikLimits, traefik_binary, traefik_gateway
from tests.conftest import CliRun, failed_steps, verify_rate_limits

# Rate-limit measurements: scripts/test.sh runs them beside the known-bad variants, in the group
# of timing-sensitive runs that share one xdist worker in turn.
pytestmark = pytest.mark.xdist_group("ratelimit")

EVERY_ROUTE = "Every route enforces its declared rate limit"
OTHER_CLIENT = "One client's overload does not throttle another client"
CORRECT = TraefikLimits().per_route  # (average per second, burst) per route


def _profile(port: int) -> dict[str, object]:
    def declared(rate: int, burst: int) -> dict[str, object]:
        return {"rate": f"{rate}r/s", "burst": burst, "algorithm": "token-bucket"}

    return {
        "version": 1,
        "name": "traefik-reference",
        "gateway": {
            "base_url": f"http://127.0.0.1:{port}",
            "routes": {
                "api": {"path": "/api/items", "rate_limit": declared(*CORRECT["api"])},
                "search": {"path": "/search?q=item", "rate_limit": declared(*CORRECT["search"])},
            },
        },
        "safety": {"environment": "sandbox", "max_rate": 400, "max_duration": "60s", "max_requests": 5000},
    }


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    assert traefik_binary(), "scripts/gateways.sh builds Traefik (scripts/test.sh runs it)"
    with backend_server(tmp_path_factory.mktemp("traefik-backend")) as port:
        yield port


def _run(tmp_path: Path, backend: int, **changes: object) -> CliRun:
    limits = TraefikLimits(**changes)  # type: ignore[arg-type]
    with traefik_gateway(tmp_path, backend, limits) as port:
        return verify_rate_limits(tmp_path, _profile(port))


def test_a_correct_token_bucket_configuration_is_conformant(tmp_path: Path, backend: int) -> None:
    run = _run(tmp_path, backend)
    assert run.code == 0, run.output
    assert "infragate: conformant: 3 conformant" in run.output


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"per_route": {**CORRECT, "api": (80, 10)}}, {EVERY_ROUTE: "Then each route admits its declared rate"}),
        ({"per_route": {**CORRECT, "api": (50, 40)}}, {EVERY_ROUTE: "And each route admits its declared burst"}),
        ({"shared_by_host": True}, {OTHER_CLIENT: "And the other client is never throttled"}),
    ],
    ids=["raised-average", "raised-burst", "shared-bucket"],
)
def test_each_known_bad_configuration_fails_on_its_step(
    tmp_path: Path, backend: int, changes: dict[str, object], failed: dict[str, str]
) -> None:
    run = _run(tmp_path, backend, **changes)
    assert run.code == 1, run.output
    assert failed_steps(run) == failed, run.output
