"""Live autoscaling: the declared load runs through the gateway while the service's replicas are
watched; the autoscaler must add replicas within the declared time, the new ones must answer
part of the traffic, no request may fail, and the added replicas must go again after the load.

The load runs in a thread (the load engine's own processes do the work); the watch polls the
platform. The starting count is journalled: a run killed mid-way leaves the undo that scales
the service back and verifies it, as every other disruption does.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from infragate.errors import ProbeError
from infragate.loadgen.result import LoadResult
from infragate.platforms import Platform
from infragate.probes.disruption import POLL_S, RESTORE, resilience_of, settled
from infragate.probes.http import GatewayClient
from infragate.probes.load import offer_load, plan_for
from infragate.probes.spread import SpreadSurvey, survey_spread
from infragate.profile.model import Profile
from infragate.recovery.journal import Journal, Undo
from infragate.retry import poll_until
from infragate.safety import Consent
from infragate.verdicts import Check

SETTLE_AFTER_S = 5.0  # the load goes on this long after the scale-out time, for the new replicas to answer


@dataclass(frozen=True)
class AutoscalingResult:
    """What the autoscaler did under the load and after it."""

    service: str
    before: int
    peak: int
    out_after_s: float | None
    in_after_s: float | None
    out_limit_s: float
    in_limit_s: float
    spread: SpreadSurvey | None
    load: LoadResult | None
    load_error: str | None

    def load_problem(self) -> str | None:
        """Why the load was not the declared one (it did not run, or fell behind its schedule)."""
        if self.load is None:
            return f"the load did not run: {self.load_error}"
        return self.load.self_check_problem()

    def scaled_out_check(self) -> Check:
        """Replicas were added within the declared time; with no scale-out under a load that was not
        the declared one, nothing can be said of the autoscaler."""
        problem = self.load_problem()
        if self.out_after_s is None and problem is not None:
            raise ProbeError(f"no scale-out seen, but {problem}")
        seen = (
            f"still {self.before} replicas after {self.out_limit_s:g} s (at most {self.peak})"
            if self.out_after_s is None
            else f"{self.peak} replicas, the first added after {self.out_after_s:.1f} s"
        )
        expected = f"{self.service} scaled out beyond {self.before} replicas within {self.out_limit_s:g} s"
        return Check.compare("scaled out", expected, seen, self.out_after_s is not None)

    def answered_check(self) -> Check:
        """Every replica, the added ones too, answered part of a paced stream under the load."""
        if self.spread is None:
            return Check.compare("added replicas answer", "the added replicas answering", "no scale-out to see", False)
        return self.spread.check()

    def no_failure_check(self) -> Check:
        """No request of the load failed."""
        if self.load is None:
            raise ProbeError(f"the load did not run: {self.load_error}")
        return self.load.error_check(0.0)  # failures are failures, whether or not the load kept its schedule

    def scaled_in_check(self) -> Check:
        """The added replicas went again within the declared time after the load."""
        seen = "not back" if self.in_after_s is None else f"back after {self.in_after_s:.1f} s"
        expected = f"{self.service} back at {self.before} replicas within {self.in_limit_s:g} s after the load"
        return Check.compare("scaled in", expected, seen, self.in_after_s is not None)


def watch_autoscaling(
    platform: Platform, journal: Journal, profile: Profile, gateway: GatewayClient, consent: Consent, folder: Path
) -> AutoscalingResult:
    """Run the declared load until the service scaled out (or the declared time passed), then watch it scale in."""
    service = resilience_of(profile).service
    promised = profile.services[service].kubernetes
    scaling = promised.autoscaling if promised is not None else None
    if scaling is None or scaling.scale_out_within is None:
        raise ProbeError(f"services.{service}.kubernetes.autoscaling declares no scale_out_within")
    out_limit = scaling.scale_out_within
    in_limit = scaling.scale_in_within or 2 * out_limit
    before = len(settled(platform, service, resilience_of(profile).recovery_time).ready)
    journal.record(
        f"autoscale {service} under load", Undo(RESTORE, {"service": service, "replicas": before}), platform.consent
    )
    plan = plan_for(profile, duration_s=out_limit + SETTLE_AFTER_S)
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["load"] = offer_load(profile, plan, folder, consent)
        except Exception as exc:  # noqa: BLE001 - reported as the load's failure, judged by the steps
            outcome["error"] = str(exc)

    load = threading.Thread(target=run, name="autoscaling-load", daemon=True)
    started = time.monotonic()
    load.start()
    grown = poll_until(lambda: platform.replicas(service), lambda found: len(found.ready) > before, out_limit, POLL_S)
    out_after = time.monotonic() - started if grown.met else None
    spread = survey_spread(gateway, platform, profile) if grown.met else None
    load.join(timeout=plan.duration_s + 120)
    peak = max(len(grown.value.ready), len(platform.replicas(service).ready))
    ended = time.monotonic()
    back = poll_until(lambda: platform.replicas(service), lambda found: len(found.running) == before, in_limit, POLL_S)
    in_after = time.monotonic() - ended if back.met else None
    result = outcome.get("load")
    return AutoscalingResult(
        service,
        before,
        peak,
        out_after,
        in_after,
        out_limit,
        in_limit,
        spread,
        result if isinstance(result, LoadResult) else None,
        str(outcome.get("error")) if "error" in outcome else None,
    )
