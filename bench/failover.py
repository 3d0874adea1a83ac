"""Benchmark: what a replica kill and a scale-out cost on the reference deployment.

Kill: requests sent and failed under steady traffic, time until the platform shows the new
replica, time until the service is back at its declared size. Scale-out to 5: time until every
replica is ready. Everything is journalled and undone, as in a conformance run. Run:
`uv run python bench/failover.py` (needs nginx, Redis and PostgreSQL), or
`uv run python bench/failover.py --runtime swarm` for the Swarm reference stack (needs a Docker
Engine; also prints the time to build the image and to deploy the stack), or `--runtime kubernetes`
for the Kubernetes reference cluster (needs root and scripts/kubernetes.sh; also prints the time
from nothing to a cluster with its workload ready). A Kubernetes kill deletes a pod with no grace;
its replacement is a new pod (a new name and uid), counted when the Deployment has it ready. On
Kubernetes it then runs the autoscaling probe AUTOSCALE_ROUNDS times: the profile's declared load
through the gateway, the time until the autoscaler has added a ready replica, and the time until
it is back at its minimum after the load (Swarm has no autoscaler: its column stays empty).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from infragate.platforms import open_platform
from infragate.probes.autoscaling import watch_autoscaling
from infragate.probes.disruption import kill_one, report_traffic, restore, scale_to, steady_traffic
from infragate.probes.http import GatewayClient
from infragate.profile import Profile, load_profile
from infragate.recovery.journal import Journal, undo_pending
from infragate.safety import consent_for
from infragate.sandbox import local, swarm
from infragate.sandbox.kubernetes import cluster

ROUNDS = 3
AUTOSCALE_ROUNDS = 2


def _target(runtime: str) -> tuple[str, Callable[[], object]]:
    """Bring the runtime's reference deployment up; its profile and how to take it down."""
    if runtime == "kubernetes":
        cluster_state = cluster.up("bench-failover")
        print(f"kubernetes: cluster up, workload ready and gateway answering in {cluster_state.up_s:.1f} s")
        return cluster_state.profile, lambda: cluster.down("bench-failover")
    if runtime == "swarm":
        state = swarm.up("bench-failover")
        build = f"{state.image_build_s:.1f} s" if state.image_build_s else "cached (delete the images to time a build)"
        print(f"swarm: image build {build}; stack deployed and healthy in {state.deploy_s:.1f} s")
        return state.profile, lambda: swarm.down("bench-failover")
    local_state = local.up("bench-failover")
    return local_state.profile, lambda: local.down("bench-failover")


def main() -> None:
    """Kill a replica and scale out, ROUNDS times each, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runtime", choices=("local", "swarm", "kubernetes"), default="local")
    profile_path, take_down = _target(parser.parse_args().runtime)
    try:
        profile = load_profile(profile_path)
        assert profile.resilience is not None
        # The benchmark's own sandbox is disposable: it consents to the disruptions it measures.
        platform = open_platform(profile, consent_for(profile.safety, allow_destructive=True, allow_load=False))
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
        if profile.platform.kind == "kubernetes":
            _autoscale(profile, journal)
    finally:
        take_down()


def _autoscale(profile: Profile, journal: Journal) -> None:
    """Under the declared load: seconds to the first added replica ready, and back to the minimum after."""
    consent = consent_for(profile.safety, allow_destructive=True, allow_load=True)
    platform = open_platform(profile, consent)
    gateway = GatewayClient(profile.gateway)
    print(f"{'round':<6} {'requests':>9} {'failed':>7} {'scaled out after':>17} {'peak':>5} {'back in after':>14}")
    for round_number in range(1, AUTOSCALE_ROUNDS + 1):
        folder = Path(tempfile.mkdtemp(prefix="infragate-bench-autoscale-"))
        seen = watch_autoscaling(platform, journal, profile, gateway, consent, folder)
        undo_pending(journal, lambda undo: restore(platform, undo))
        sent = seen.load.count("sent") if seen.load else 0
        failed = seen.load.count("errors") if seen.load else 0
        out = seen.out_after_s or float("nan")
        back = seen.in_after_s or float("nan")
        print(f"{round_number:<6} {sent:>9} {failed:>7} {out:>16.1f}s {seen.peak:>5} {back:>13.1f}s")


if __name__ == "__main__":
    main()
