"""Known-bad variants of capacity under load: slow, failing, undersized or stalling backends."""

from __future__ import annotations

import dataclasses

from infragate.sandbox.variants.scenarios import ERRORS, LATENCY, P95, THROUGHPUT
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, every_replica

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="load-slow-backend",
        summary="every API answer takes 250 ms (injected latency)",
        breaks=(ExpectedFailure(LATENCY, P95),),
        defect=LocalDefect(every_replica("slow")),
    ),
    Variant(
        name="load-error-backend",
        summary="one API request in a hundred fails with 500",
        breaks=(ExpectedFailure(ERRORS, "Then the error rate is below the declared bound"),),
        defect=LocalDefect(every_replica("flaky")),
    ),
    Variant(
        name="load-undersized",
        summary="one replica that serves one request at a time in 8 ms: at most 125 answers/s for 200 offered",
        breaks=(
            ExpectedFailure(LATENCY, P95),
            ExpectedFailure(THROUGHPUT, "Then the throughput is at least the declared rate"),
        ),
        defect=LocalDefect(
            lambda spec: dataclasses.replace(spec, replicas=1, replica_faults={"api-1": frozenset({"serial"})})
        ),
    ),
    Variant(
        name="load-stall",
        summary="every replica freezes for 1 s in every 7 s (a closed-loop generator would not see it)",
        breaks=(ExpectedFailure(LATENCY, P95),),
        defect=LocalDefect(every_replica("stall")),
    ),
)
