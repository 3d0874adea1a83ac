"""Benchmark: how well infragate measures the reference deployment's rate limits, beside wrk.

For each route: the declared rate and burst, infragate's estimate, the relative error, and what
the probe spent (requests, seconds). Beside it, the figure a wrk run of the same length gives when
its admitted count is divided by the time (what a hand-made check computes): it cannot separate
burst from rate. Run: `uv run python bench/ratelimit.py` (needs nginx, Redis, PostgreSQL and wrk).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from infragate.probes.ratelimit.measure import measure_route, plan_overload, rate_limited_routes
from infragate.profile import load_profile
from infragate.profile.model import Profile
from infragate.sandbox import local


def wrk_naive_rate(profile: Profile, route_name: str, seconds: float) -> tuple[float, int] | None:
    """Admitted requests per second from a wrk run of the same length, and its request count."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    route = profile.gateway.routes[route_name]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{route.method}"\n')
        if route.body:
            script.write(f"wrk.body = [[{route.body}]]\n")
        if route.content_type:
            script.write(f'wrk.headers["Content-Type"] = "{route.content_type}"\n')
    time.sleep(3)  # let the bucket drain after the previous measurement
    result = subprocess.run(
        [wrk, "-t1", "-c2", f"-d{max(1, round(seconds))}s", "-s", script.name, profile.gateway.base_url + route.path],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 30,
    )
    Path(script.name).unlink()
    total = re.search(r"(\d+) requests in ([\d.]+)s", result.stdout)
    rejected = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if total is None:
        return None
    count, elapsed = int(total.group(1)), float(total.group(2))
    return (count - (int(rejected.group(1)) if rejected else 0)) / elapsed, count


def main() -> None:
    """Bring up the reference deployment, measure every route, print the table, tear down."""
    state = local.up("bench-ratelimit")
    try:
        profile = load_profile(state.profile)
        print(
            f"{'route':<8} {'declared':>16} {'infragate rate':>16} {'err':>7} {'burst':>7} {'err':>6} "
            f"{'requests':>9} {'seconds':>8}   {'wrk admitted/s':>15} {'err':>7}"
        )
        for name in rate_limited_routes(profile):
            limit = profile.gateway.routes[name].rate_limit
            assert limit is not None
            started = time.monotonic()
            result = measure_route(profile, name)
            spent = time.monotonic() - started
            rate, burst = result.estimate.rate_per_s, result.estimated_burst
            declared = f"{limit.rate} b={limit.burst}"
            rate_text = f"{rate:.2f}/s" if rate is not None else "none"
            rate_error = f"{(rate - limit.rate.per_second) / limit.rate.per_second:+.2%}" if rate else "-"
            burst_text = f"{burst:.1f}" if burst is not None else "none"
            burst_error = f"{burst - limit.burst:+.1f}" if burst is not None else "-"
            sent = result.sent + len(result.recovery_statuses)
            naive = wrk_naive_rate(profile, name, plan_overload(limit, profile.safety).duration_s)
            naive_text, naive_error = (
                ("wrk missing", "-")
                if naive is None
                else (f"{naive[0]:.2f}/s", f"{(naive[0] - limit.rate.per_second) / limit.rate.per_second:+.1%}")
            )
            print(
                f"{name:<8} {declared:>16} {rate_text:>16} {rate_error:>7} {burst_text:>7} {burst_error:>6} "
                f"{sent:>9} {spent:>8.1f}   {naive_text:>15} {naive_error:>7}"
            )
    finally:
        local.down("bench-ratelimit")


if __name__ == "__main__":
    main()
