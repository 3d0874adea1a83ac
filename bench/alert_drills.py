"""Benchmark: how long the reference deployment's monitoring takes from a fault to its notification.

Each declared drill of the local reference runs ROUNDS times (Redis stopped, an API replica
stopped), journalled and undone as in a conformance run. For each round: when the drill saw the
alert pending, firing and delivered (it polls every 0.25 s), and, independently of that polling,
when the webhook receiver got the notification (its own clock at arrival, minus the moment the
component was stopped). Beside them, the two ends the configuration allows, read from Prometheus and Alertmanager as the
conformance check reads them: `for:` alone (a fault just before a scrape and an evaluation, the
alert's group already open at Alertmanager), and scrape interval + evaluation interval + `for:` +
group_wait (the bound the conformance check compares with the declared time). The oracle is the
receiver's own clock, not the drill's polling: every notification must fall between the two ends.
Run: `uv run python bench/alert_drills.py` (needs Prometheus, Alertmanager and the exporters:
scripts/setup.sh installs them).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from infragate.platforms import open_platform
from infragate.probes.monitoring import judgements
from infragate.probes.monitoring.drill import run_drill
from infragate.probes.monitoring.prometheus_api import MonitoringApi
from infragate.profile import load_profile
from infragate.recovery.journal import Journal
from infragate.safety import consent_for
from infragate.sandbox import local

ROUNDS = 5


def _arrival(api: MonitoringApi, url: str, alert: str, since: float) -> float | None:
    """Seconds from `since` to the receiver's first firing notification of the alert, by its clock."""
    times = [
        float(entry["received_at"]) - since
        for entry in api.notifications(url)
        if float(entry.get("received_at", 0)) >= since
        and any(a.get("alertname") == alert and a.get("status") == "firing" for a in entry.get("alerts", []))
    ]
    return min(times, default=None)


def main() -> None:
    """Run every drill ROUNDS times and print the figures beside the two ends the configuration allows."""
    state = local.up("bench-alerts")
    try:
        profile = load_profile(state.profile)
        monitoring = profile.monitoring
        assert monitoring is not None and monitoring.alertmanager is not None
        api = MonitoringApi(monitoring)
        bounds = judgements.timings(api.rules(), api.prometheus_config(), api.alertmanager_status()[2])
        # The benchmark's own sandbox is disposable: it consents to the disruptions it measures.
        platform = open_platform(profile, consent_for(profile.safety, allow_destructive=True, allow_load=False))
        journal = Journal(Path(tempfile.mkdtemp(prefix="infragate-bench-journal-")))
        print(
            f"{'drill':<16} {'round':>5} {'pending':>8} {'firing':>8} {'delivered':>10} {'receiver':>9} {'resolved':>9}"
        )
        for drill in monitoring.drills:
            seen: list[float] = []
            for round_number in range(1, ROUNDS + 1):
                stopped_at = time.time()
                result = run_drill(platform, journal, monitoring, drill, say=lambda _: None)
                arrived = _arrival(api, str(drill.notifications), drill.alert, stopped_at)
                seen.append(arrived if arrived is not None else float("nan"))
                ended, resolved = result.at("fault ended"), result.at("resolved")
                after = resolved - ended if resolved is not None and ended is not None else float("nan")
                cells = [result.at(name) for name in ("pending", "firing", "delivered")]
                shown = " ".join(f"{c if c is not None else float('nan'):>7.2f}s" for c in cells)
                print(f"{drill.alert:<16} {round_number:>5} {shown}  {seen[-1]:>7.2f}s {after:>8.2f}s")
            timing = bounds[drill.alert]
            outside = [s for s in seen if not timing.for_s <= s <= timing.bound_s]
            print(
                f"{drill.alert}: median {statistics.median(seen):.2f} s, range {min(seen):.2f}-{max(seen):.2f} s from "
                f"fault to notification (receiver's clock); earliest possible: for {timing.for_s:g} s; bound "
                f"{timing.describe().split(': ', 1)[1]}; declared {monitoring.notify_within:g} s; "
                f"{len(outside)} of {len(seen)} outside the two ends"
            )
    finally:
        local.down("bench-alerts")


if __name__ == "__main__":
    main()
