"""Each known-bad variant of the reference deployment makes exactly its scenarios fail, on the expected step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infragate.sandbox import local
from infragate.sandbox.spec import SandboxSpec
from infragate.sandbox.variants import VARIANTS, Variant, scenario_steps
from infragate.suite import BUILTIN_FEATURES
from tests.conftest import assert_variant_breaks, busy_machine, run_cli

SCENARIOS = scenario_steps([str(BUILTIN_FEATURES)])


def _timing(variant: Variant) -> bool:
    # Rate-limit measurements are the most timing-sensitive: under xdist they share one worker, in
    # turn, and their runs are urgent (a higher CPU priority than the other worker's sandboxes).
    return variant.name.startswith("ratelimit-")


def _urgent(variant: Variant) -> bool:
    # A load generator keeps its schedule on the same two cores as the deployment it overloads: its
    # runs are urgent too, beside the other workers (CI's run of 83272cd: load-undersized's
    # generator started 82 of 2000 requests late, 4.1 %, on its second try, at normal priority).
    return _timing(variant) or variant.name.startswith("load-")


def _param(variant: Variant) -> object:
    marks = [pytest.mark.xdist_group("ratelimit")] if _timing(variant) else []
    return pytest.param(variant, id=variant.name, marks=marks)


# Twins of other variants, out of CI for its time (run them with INFRAGATE_ALL_VARIANTS=1):
# tls11-enabled fails the same three scenarios on the same steps as tls10-enabled, by the same
# directive (nginx's ssl_protocols); load-stall fails the same step as load-slow-backend, and
# tests/integration/test_load.py runs it against an objective of its own in every CI run. Both
# failed as declared in the CI run of commit 8c1cffa.
OUT_OF_CI = () if os.environ.get("INFRAGATE_ALL_VARIANTS") else ("tls11-enabled", "load-stall")
IN_CI = [v for v in VARIANTS.values() if v.runtime == "local" and v.name not in OUT_OF_CI]


@pytest.mark.parametrize("variant", [_param(variant) for variant in IN_CI])
def test_variant_fails_its_scenarios_on_the_expected_step(variant: Variant, sandbox_root: Path, tmp_path: Path) -> None:
    # The monitoring runs where the variant's features look at it (the full runs have it always).
    watched = any(Path(SCENARIOS[failure.scenario].file).parent.name == "monitoring" for failure in variant.breaks)
    _verify_variant(variant, SandboxSpec(monitoring=watched), sandbox_root, tmp_path)


# The defects whose effect depends on how HAProxy works, rendered for the reference's HAProxy: the
# same variants fail the same scenarios on the same steps. A raised limit, a global key and a wrong
# status on HAProxy's stick tables fail in tests/integration/test_haproxy.py (configurations of
# their own), so only the shared table stands for the limits here; the variants that switch one
# directive off (preflight, compression, redirect, server tokens) were shown once (commit 966db2f)
# and stay out of CI for its time. HAProxy's parser accepts every variant in
# tests/integration/test_haproxy_reference.py.
HAPROXY_VARIANTS = (
    "ratelimit-search-shares-api-zone",
    "websocket-not-proxied",
    "no-passive-failover",
    "static-upstream",
    "tls-extra-groups",
)


@pytest.mark.parametrize("variant", [_param(VARIANTS[name]) for name in HAPROXY_VARIANTS])
def test_variant_on_the_haproxy_gateway_fails_its_scenarios(
    variant: Variant, sandbox_root: Path, tmp_path: Path
) -> None:
    _verify_variant(variant, SandboxSpec(gateway="haproxy", monitoring=False), sandbox_root, tmp_path)


def _verify_variant(variant: Variant, spec: SandboxSpec, sandbox_root: Path, tmp_path: Path) -> None:
    # Only the features the variant aims at run; within them, nothing else may fail.
    features = sorted({SCENARIOS[failure.scenario].file for failure in variant.breaks})
    name = f"kb-{spec.gateway}-{variant.name}"
    state = local.up(name, variant.name, root=sandbox_root, spec=spec)
    try:
        selection = [argument for feature in features for argument in ("--features", feature)]
        for attempt in ("first", "again", "third"):
            reports = tmp_path / attempt
            run = run_cli(
                "verify", "--target", state.profile, "--allow-destructive", "--allow-load",
                "--reports", str(reports), *selection, reports=reports, urgent=_urgent(variant),
            )  # fmt: skip
            # A load generator or prober that found itself late measured itself, not the target: could
            # not verify, as designed (CI's run of edd4872: 21 of 2000 requests, 1.1 %, for
            # load-undersized, where 1 % may; of 5aee5c8: 65 of 900 overload requests late for
            # ratelimit-search-shares-api-zone on HAProxy); the variant's judgement is what is tested,
            # so it runs again, up to three times in all (CI's run of 8ceb93c: load-undersized's
            # generator was late for 38 and 41 of 2000 requests, 1.9 % and 2.1 %, on both tries: it
            # opens a connection, TLS handshake and all, for each of the ~1000 requests a queue holds).
            if not busy_machine(run):
                break
    finally:
        assert not local.down(name, root=sandbox_root).left_running
    assert_variant_breaks(run, variant)
