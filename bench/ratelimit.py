"""Benchmark: how well infragate measures rate limits, per gateway kind and limiter model, against
the limits the gateways were configured with, and what measuring routes at once saves.

Gateways: the reference deployment's nginx (`limit_req`, a leaky bucket; 100 r/s burst 20, 10 r/s
burst 5, 50 r/s burst 10), a real HAProxy counting admitted requests over a sliding one-second
window (50 and 20 per second) and a real Traefik v3 (RateLimit middleware, a token bucket; 50 r/s
burst 10, 20 r/s burst 5; built by scripts/gateways.sh). The truth is each gateway's configuration, not infragate's own
figures. For every route: the configured rate and burst, the fitted ones and their errors, measured
one route at a time and all routes at once; then the time each way took.
Run: `uv run python bench/ratelimit.py` (needs nginx, Redis, PostgreSQL, HAProxy and Traefik).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

from infragate.probes.ratelimit.batches import survey_limits
from infragate.probes.ratelimit.findings import RateLimitResult
from infragate.probes.ratelimit.measure import measure_route, rate_limited_routes
from infragate.profile import load_profile, parse_profile
from infragate.profile.model import Profile
from infragate.sandbox import local
from infragate.sandbox.haproxy import HaproxyLimits, backend_server, haproxy_gateway
from infragate.sandbox.spec import DEFAULT_ROUTES
from infragate.sandbox.traefik import TraefikLimits, traefik_gateway

Truth = dict[str, tuple[float, float]]  # route -> (rate per second, burst) as configured


def _errors(result: RateLimitResult, truth: tuple[float, float]) -> str:
    rate, burst = result.observed_rate_per_s, result.estimated_burst
    rate_error = f"{(rate - truth[0]) / truth[0]:+7.2%}" if rate is not None else "   none"
    burst_error = f"{burst - truth[1]:+6.1f}" if burst is not None else "  none"
    return f"{rate_error} {burst_error}"


def compare(kind: str, profile: Profile, truth: Truth) -> None:
    """Measure every route one at a time, then all at once; print errors against the truth and times."""
    routes = rate_limited_routes(profile)
    alone, spent = {}, {}
    started = time.monotonic()
    for route in routes:
        began = time.monotonic()
        alone[route] = measure_route(profile, route)
        spent[route] = time.monotonic() - began
    sequential_s = time.monotonic() - started
    started = time.monotonic()
    together = {result.route: result for result in survey_limits(profile, routes).results}
    concurrent_s = time.monotonic() - started
    for route in routes:
        result = together[route]
        how = "at once" if result.alongside else "alone"
        how += "" if result.attempts == 1 else f", {result.attempts} attempts"
        print(
            f"{kind:<8} {alone[route].fitted_model:<24} {route:<7} {truth[route][0]:>6g}/s b={truth[route][1]:<4g} "
            f"{_errors(alone[route], truth[route])} {spent[route]:>6.1f} s   {_errors(result, truth[route])} ({how})"
        )
    print(f"{kind:<8} all routes: one at a time {sequential_s:.1f} s, at once {concurrent_s:.1f} s\n")


def nginx() -> None:
    """The reference deployment's nginx limits."""
    state = local.up("bench-ratelimit")
    try:
        truth = {route.name: (float(route.rate_per_s), float(route.burst)) for route in DEFAULT_ROUTES}
        compare("nginx", load_profile(state.profile), truth)
    finally:
        local.down("bench-ratelimit")


PATHS = {"api": "/api/items", "search": "/search?q=item"}


def _profile(name: str, port: int, limits: dict[str, dict[str, object]]) -> Profile:
    """A gateway-only profile declaring these rate limits, route by route."""
    document = {
        "name": name,
        "gateway": {
            "base_url": f"http://127.0.0.1:{port}",
            "routes": {route: {"path": PATHS[route], "rate_limit": limit} for route, limit in limits.items()},
        },
        "safety": {"environment": "sandbox", "max_rate": 400, "max_duration": "60s", "max_requests": 5000},
    }
    return parse_profile(yaml.safe_dump(document), environ={})


def haproxy() -> None:
    """HAProxy's period counters on admitted requests, keyed on the client's address."""
    limits = HaproxyLimits()
    with (
        tempfile.TemporaryDirectory(prefix="bench-haproxy-") as folder,
        backend_server(Path(folder)) as backend,
        haproxy_gateway(Path(folder), backend, limits) as port,
    ):
        declared = {"algorithm": "sliding-window-counter", "window": "1s", "counts_rejected": False}
        routes = {route: {"rate": f"{count}r/s", **declared} for route, (count, _) in limits.per_route.items()}
        profile = _profile("bench-haproxy", port, routes)
        compare("haproxy", profile, {route: (float(count), 0.0) for route, (count, _) in limits.per_route.items()})


def traefik() -> None:
    """Traefik's token buckets (average a second, burst), keyed on the client's address."""
    limits = TraefikLimits()
    with (
        tempfile.TemporaryDirectory(prefix="bench-traefik-") as folder,
        backend_server(Path(folder)) as backend,
        traefik_gateway(Path(folder), backend, limits) as port,
    ):
        routes = {
            route: {"rate": f"{average}r/s", "burst": burst, "algorithm": "token-bucket"}
            for route, (average, burst) in limits.per_route.items()
        }
        truth = {route: (float(average), float(burst)) for route, (average, burst) in limits.per_route.items()}
        compare("traefik", _profile("bench-traefik", port, routes), truth)


def main() -> None:
    """Every gateway, one table."""
    print(
        f"{'gateway':<8} {'model':<24} {'route':<7} {'configured':>15} {'rate':>7} {'burst':>6} {'time':>8}   "
        f"{'at once: rate, burst':>22}"
    )
    nginx()
    haproxy()
    traefik()


if __name__ == "__main__":
    main()
