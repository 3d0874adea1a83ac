"""Benchmark: what a replica kill and a scale-out cost on the reference deployment.

Kill: requests sent and failed under steady traffic, time until the platform shows the new
replica, time until the service is back at its declared size. Scale-out to 5: time until every
replica is ready. Everything is journalled and undone, as in a conformance run. Run:
`uv run python bench/failover.py` (needs nginx, Redis and PostgreSQL).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from infragate.journal import Journal, undo_pending
from infragate.platforms import open_platform
from infragate.probes.disruption import kill_one, report_traffic, restore, scale_to, steady_traffic
from infragate.profile import load_profile
from infragate.sandbox import deployment

ROUNDS = 3


def main() -> None:
    """Kill a replica and scale out, ROUNDS times each, and print the figures."""
    state = deployment.up("bench-failover")
    try:
        profile = load_profile(state.profile)
        assert profile.resilience is not None
        platform = open_platform(profile)
        journal = Journal(Path(tempfile.mkdtemp(prefix="infragate-bench-journal-")))
        print(f"{'round':<6} {'sent':>6} {'failed':>7} {'new replica after':>18} {'back to 3 after':>16}")
        backs = []
        for round_number in range(1, ROUNDS + 1):
            traffic = steady_traffic(profile).start()
            kill = kill_one(platform, journal, profile, traffic)
            report = report_traffic(traffic)
            undo_pending(journal, lambda undo: restore(platform, undo))
            backs.append(kill.back_after_s or float("nan"))
            replaced = kill.replaced_after_s or float("nan")
            back = kill.back_after_s or float("nan")
            print(f"{round_number:<6} {report.sent:>6} {report.failed:>7} {replaced:>17.2f}s {back:>15.2f}s")
        print(
            f"median time back to the declared count: {statistics.median(backs):.2f} s "
            f"(declared recovery time {profile.resilience.recovery_time:g} s)"
        )
        print(f"{'round':<6} {'scale 3 -> 5 ready after':>26}")
        for round_number in range(1, ROUNDS + 1):
            scaled = scale_to(platform, journal, profile, 5)
            undo_pending(journal, lambda undo: restore(platform, undo))
            print(f"{round_number:<6} {scaled.ready_after_s or float('nan'):>25.2f}s")
    finally:
        deployment.down("bench-failover")


if __name__ == "__main__":
    main()
