"""Each known-bad variant of the Kubernetes workload, deployed beside the reference in a namespace
of its own, makes exactly its scenario of the Kubernetes configuration feature fail, on the
expected step. (The autoscaling and rolling-restart scenarios need the gateway in front of the
workload: their variants run in the reference's own namespace, in test_live_variants.py.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from infragate.sandbox.kubernetes import cluster
from infragate.sandbox.variants import VARIANTS, Variant, scenario_steps
from infragate.sandbox.variants.scenarios import AUTOSCALE, ROLLING
from infragate.suite import BUILTIN_FEATURES
from tests.conftest import assert_variant_breaks, run_cli

SCENARIOS = scenario_steps([str(BUILTIN_FEATURES)])

KUBERNETES_VARIANTS = [pytest.param(v, id=v.name) for v in VARIANTS.values() if v.runtime == "kubernetes"]


@pytest.mark.parametrize("variant", KUBERNETES_VARIANTS)
def test_variant_fails_its_scenario_on_the_expected_step(
    variant: Variant, reference: cluster.ClusterState, tmp_path: Path
) -> None:
    configuration = tuple(failure for failure in variant.breaks if failure.scenario not in (AUTOSCALE, ROLLING))
    features = sorted({SCENARIOS[failure.scenario].file for failure in configuration})
    namespace = f"kb-{variant.name}"
    profile = cluster.deploy_variant(reference, variant.name, namespace)
    try:
        selection = [argument for feature in features for argument in ("--features", feature)]
        run = run_cli("verify", "--target", str(profile), *selection, "--reports", str(tmp_path), reports=tmp_path)
    finally:
        cluster.remove_namespace(reference, namespace)
    assert_variant_breaks(run, dataclasses.replace(variant, breaks=configuration))
