"""Each known-bad variant of the Swarm reference stack makes exactly its scenarios fail, on the expected step.

One stack at a time: four stacks side by side (24 containers, each with a health check a second)
overloaded two cores until Swarm replaced tasks whose checks timed out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infragate.sandbox import swarm
from infragate.sandbox.variants import VARIANTS, Variant, scenario_steps
from infragate.suite import BUILTIN_FEATURES
from tests.conftest import assert_variant_breaks, run_cli

SCENARIOS = scenario_steps([str(BUILTIN_FEATURES)])
# swarm-update-continues breaks the same two scenarios on the same steps as swarm-update-pauses, and
# is the slowest stack of all (a failed update carried on to its end, about 100 s): it failed them
# as declared in the CI run of commit 6c88cc1 and stays out of CI for its time since; run it with
# INFRAGATE_ALL_VARIANTS=1. swarm-api-as-root fails the process-users scenario on the same step, by
# the same judgement, as redis-runs-as-root and k8s-root in every CI run (its tasks are reached by
# docker exec, which the reference stack's own hosts test runs in CI); it failed as declared here at
# commit 34cdadb (40 s for a stack of its own) and is out of CI for its time. swarm-secret-world-readable
# fails the file-modes scenario on the same step, by the same judgement, as key-world-readable does in
# every CI run (the files read through docker exec as the reference stack's hosts test does in CI);
# it failed as declared here at the commit that added it (70 s).
OUT_OF_CI = (
    ()
    if os.environ.get("INFRAGATE_ALL_VARIANTS")
    else ("swarm-update-continues", "swarm-api-as-root", "swarm-secret-world-readable")
)


@pytest.mark.parametrize(
    "variant",
    [pytest.param(v, id=v.name) for v in VARIANTS.values() if v.runtime == "swarm" and v.name not in OUT_OF_CI],
)
def test_swarm_variant_fails_its_scenarios_on_the_expected_step(
    variant: Variant, sandbox_root: Path, tmp_path: Path
) -> None:
    features = sorted({SCENARIOS[failure.scenario].file for failure in variant.breaks})
    name = f"t-{variant.name.removeprefix('swarm-')}"
    state = swarm.up(name, variant.name, root=sandbox_root)
    try:
        selection = [argument for feature in features for argument in ("--features", feature)]
        arguments = ("verify", "--target", state.profile, "--allow-destructive", "--reports", str(tmp_path))
        run = run_cli(*arguments, *selection, reports=tmp_path, timeout=600)
    finally:
        assert swarm.down(name, root=sandbox_root) == []
    assert_variant_breaks(run, variant)
