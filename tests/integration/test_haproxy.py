"""A real HAProxy (Debian's) as the gateway: its stick-table limits count requests over a sliding
window, not in a leaky bucket. With a limit on admitted requests (gpc0_rate, increased only for
admitted requests), the rate-limit feature passes on a correct configuration and fails, on the
expected step, on a raised limit, a longer window (a bigger burst at the same rate), a key shared
by every client and a wrong status. A limit on every request (http_req_rate) cannot be measured
by one overload, and the run says "could not verify", never "non-conformant"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infragate.sandbox.haproxy import HaproxyLimits, backend_server, haproxy_gateway
from tests.conftest import CliRun, failed_steps, verify_rate_limits

# Rate-limit measurements: scripts/test.sh runs them beside the known-bad variants, in the group
# of timing-sensitive runs that share one xdist worker in turn.
pytestmark = pytest.mark.xdist_group("ratelimit")

EVERY_ROUTE = "Every route enforces its declared rate limit"
OTHER_CLIENT = "One client's overload does not throttle another client"
CORRECT = HaproxyLimits().per_route  # a request rate per source address over one second, per route


def _profile(port: int, every_request: bool) -> dict[str, object]:
    declared = {"algorithm": "sliding-window-counter", "window": "1s", "counts_rejected": every_request}
    return {
        "version": 1,
        "name": "haproxy-reference",
        "gateway": {
            "base_url": f"http://127.0.0.1:{port}",
            "routes": {
                "api": {"path": "/api/items", "rate_limit": {"rate": "50r/s", **declared}},
                "search": {"path": "/search?q=item", "rate_limit": {"rate": "20r/s", **declared}},
            },
        },
        "safety": {"environment": "sandbox", "max_rate": 400, "max_duration": "60s", "max_requests": 5000},
    }


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with backend_server(tmp_path_factory.mktemp("haproxy-backend")) as port:
        yield port


def _run(tmp_path: Path, backend: int, **changes: object) -> CliRun:
    limits = HaproxyLimits(**changes)  # type: ignore[arg-type]
    with haproxy_gateway(tmp_path, backend, limits) as port:
        return verify_rate_limits(tmp_path, _profile(port, limits.every_request))


def test_a_correct_sliding_window_configuration_is_conformant(tmp_path: Path, backend: int) -> None:
    run = _run(tmp_path, backend)
    assert run.code == 0, run.output
    assert "infragate: conformant: 3 conformant" in run.output
    (survey,) = [item for item in run.verdicts()[EVERY_ROUTE]["evidence"] if item["type"] == "Survey"]
    fits = {result["route"]: result["window_fit"] for result in survey["data"]["results"]}
    assert (fits["api"]["limit"], fits["search"]["limit"]) == (50, 20)
    assert not fits["api"]["counts_rejected"] and fits["api"]["worst_gap"] <= 0.05 * fits["api"]["admitted"]


def test_a_limit_on_every_request_is_could_not_verify_not_a_violation(tmp_path: Path, backend: int) -> None:
    run = _run(tmp_path, backend, every_request=True)
    assert run.code == 2, run.output
    assert run.verdicts()[EVERY_ROUTE]["verdict"] == "could not verify"
    assert "one overload cannot tell its limit apart" in run.output


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"per_route": {**CORRECT, "api": (80, "1s")}}, {EVERY_ROUTE: "Then each route admits its declared rate"}),
        ({"per_route": {**CORRECT, "api": (100, "2s")}}, {EVERY_ROUTE: "Then each route admits its declared rate"}),
        ({"key": "str(everyone)"}, {OTHER_CLIENT: "And the other client is never throttled"}),
        (
            {"status": 503},
            {EVERY_ROUTE: "And each route rejects the excess with the declared status"},
        ),
    ],
    ids=["raised-limit", "longer-window", "global-key", "status-503"],
)
def test_each_known_bad_configuration_fails_on_its_step(
    tmp_path: Path, backend: int, changes: dict[str, object], failed: dict[str, str]
) -> None:
    run = _run(tmp_path, backend, **changes)
    assert run.code == 1, run.output
    assert failed_steps(run) == failed, run.output
