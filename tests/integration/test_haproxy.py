"""A real HAProxy (Debian's) as the gateway: its stick-table limits count requests over a sliding
window, not in a leaky bucket. With a limit on admitted requests (gpc0_rate, increased only for
admitted requests), the rate-limit feature passes on a correct configuration and fails, on the
expected step, on a raised limit, a longer window (a bigger burst at the same rate), a key shared
by every client and a wrong status. A limit on every request (http_req_rate) cannot be measured
by one overload, and the run says "could not verify", never "non-conformant"."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from infragate.retry import retry
from infragate.sandbox.host import free_ports
from tests.conftest import CliRun, run_cli

RATE_FEATURE = "features/gateway/rate_limits.feature"
EVERY_ROUTE = "Every route enforces its declared rate limit"
OTHER_CLIENT = "One client's overload does not throttle another client"
# The correct configuration: a request rate per source address over one second, per route.
CORRECT = {"api": (50, "1s"), "search": (20, "1s")}


def _config(
    port: int,
    backend: int,
    limits: dict[str, tuple[int, str]],
    key: str = "src",
    status: int = 429,
    every_request: bool = False,
) -> str:
    counter = "http_req_rate" if every_request else "gpc0_rate"
    stored = "http_req_rate({window})" if every_request else "gpc0,gpc0_rate({window})"
    tables = "".join(
        f"backend rate_{route}\n    stick-table type string size 10k expire 30s store {stored.format(window=w)}\n\n"
        for route, (_, w) in limits.items()
    )
    # Deny before counting: with gpc0 only admitted requests count (sc-inc-gpc0 after the deny rule).
    count = (
        "" if every_request else "    http-request sc-inc-gpc0(0) if api\n    http-request sc-inc-gpc0(1) if search\n"
    )
    return (
        "global\n    maxconn 4096\n\n"
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n"
        f"frontend gateway\n    bind 127.0.0.1:{port}\n"
        "    acl api path_beg /api/\n    acl search path_beg /search\n"
        f"    http-request track-sc0 {key} table rate_api if api\n"
        f"    http-request track-sc1 {key} table rate_search if search\n"
        f"    http-request deny deny_status {status} if api {{ sc_{counter}(0) ge {limits['api'][0]} }}\n"
        f"    http-request deny deny_status {status} if search {{ sc_{counter}(1) ge {limits['search'][0]} }}\n"
        + count
        + "    default_backend app\n\n"
        f"backend app\n    server app1 127.0.0.1:{backend}\n\n" + tables
    )


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
    (port,) = free_ports(1)
    folder = tmp_path_factory.mktemp("haproxy-backend")
    server = subprocess.Popen(
        [sys.executable, "-m", "infragate.sandbox.backend", "--name", "app-1", "--port", str(port)],
        stdout=(folder / "backend.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    retry(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=1), 20, 0.1, "the backend answers")
    yield port
    server.terminate()
    server.wait(10)


def _run(tmp_path: Path, backend: int, every_request: bool = False, **changes: object) -> CliRun:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (port,) = free_ports(1)
    conf = tmp_path / "haproxy.cfg"
    conf.write_text(_config(port, backend, every_request=every_request, **changes))  # type: ignore[arg-type]
    checked = subprocess.run([haproxy, "-c", "-q", "-f", str(conf)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    gateway = subprocess.Popen([haproxy, "-db", "-f", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        retry(lambda: requests.get(f"http://127.0.0.1:{port}/api/items", timeout=1), 20, 0.1, "HAProxy answers")
        time.sleep(2.5)  # the probe of readiness counted in the table: let it leave the window
        profile = tmp_path / "profile.yaml"
        profile.write_text(yaml.safe_dump(_profile(port, every_request)))
        reports = tmp_path / "reports"
        return run_cli(
            "verify", "--target", str(profile), "--features", RATE_FEATURE, "--reports", str(reports), reports=reports
        )
    finally:
        gateway.terminate()
        gateway.wait(10)


def _failed(run: CliRun) -> dict[str, str]:
    return {name: record["failed_step"] for name, record in run.verdicts().items() if record["verdict"] != "conformant"}


def test_a_correct_sliding_window_configuration_is_conformant(tmp_path: Path, backend: int) -> None:
    run = _run(tmp_path, backend, limits=CORRECT)
    assert run.code == 0, run.output
    assert "infragate: conformant: 3 conformant" in run.output
    (survey,) = [item for item in run.verdicts()[EVERY_ROUTE]["evidence"] if item["type"] == "Survey"]
    fits = {result["route"]: result["window_fit"] for result in survey["data"]["results"]}
    assert (fits["api"]["limit"], fits["search"]["limit"]) == (50, 20)
    assert not fits["api"]["counts_rejected"] and fits["api"]["worst_gap"] <= 0.05 * fits["api"]["admitted"]


def test_a_limit_on_every_request_is_could_not_verify_not_a_violation(tmp_path: Path, backend: int) -> None:
    run = _run(tmp_path, backend, every_request=True, limits=CORRECT)
    assert run.code == 2, run.output
    assert run.verdicts()[EVERY_ROUTE]["verdict"] == "could not verify"
    assert "one overload cannot tell its limit apart" in run.output


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"limits": {**CORRECT, "api": (80, "1s")}}, {EVERY_ROUTE: "Then each route admits its declared rate"}),
        ({"limits": {**CORRECT, "api": (100, "2s")}}, {EVERY_ROUTE: "Then each route admits its declared rate"}),
        ({"limits": CORRECT, "key": "str(everyone)"}, {OTHER_CLIENT: "And the other client is never throttled"}),
        (
            {"limits": CORRECT, "status": 503},
            {EVERY_ROUTE: "And each route rejects the excess with the declared status"},
        ),
    ],
    ids=["raised-limit", "longer-window", "global-key", "status-503"],
)
def test_each_known_bad_configuration_fails_on_its_step(
    tmp_path: Path, backend: int, changes: dict[str, object], failed: dict[str, str]
) -> None:
    run = _run(tmp_path, backend, **changes)  # type: ignore[arg-type]
    assert run.code == 1, run.output
    assert _failed(run) == failed, run.output
