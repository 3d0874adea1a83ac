"""Each known-bad variant of the reference deployment makes exactly its scenarios fail, on the expected step."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.sandbox import deployment
from infragate.sandbox.variants import VARIANTS, Variant, scenario_steps
from infragate.suite import BUILTIN_FEATURES
from tests.conftest import run_cli

SCENARIOS = scenario_steps([str(BUILTIN_FEATURES)])


def _param(variant: Variant) -> object:
    # Rate-limit measurements are the most timing-sensitive: under xdist they share one worker, in turn.
    timing = variant.name.startswith("ratelimit-")
    return pytest.param(variant, id=variant.name, marks=[pytest.mark.xdist_group("ratelimit")] if timing else [])


@pytest.mark.parametrize("variant", [_param(variant) for variant in VARIANTS.values()])
def test_variant_fails_its_scenarios_on_the_expected_step(variant: Variant, sandbox_root: Path, tmp_path: Path) -> None:
    # Only the features the variant aims at run; within them, nothing else may fail.
    features = sorted({SCENARIOS[failure.scenario].file for failure in variant.breaks})
    name = f"kb-{variant.name}"
    state = deployment.up(name, variant.name, root=sandbox_root)
    try:
        selection = [argument for feature in features for argument in ("--features", feature)]
        run = run_cli(
            "verify",
            "--target",
            state.profile,
            "--allow-destructive",
            "--reports",
            str(tmp_path),
            *selection,
            reports=tmp_path,
        )
    finally:
        assert not deployment.down(name, root=sandbox_root).left_running
    assert run.code == 1, run.output
    verdicts = run.verdicts()
    expected = {failure.scenario: failure.step for failure in variant.breaks}
    for scenario, step in expected.items():
        assert verdicts[scenario]["verdict"] == "non-conformant", verdicts[scenario]
        assert verdicts[scenario]["failed_step"] == step
        assert f"FAIL   {verdicts[scenario]['feature']}: {scenario}" in run.output
    for scenario in variant.unverifiable:
        assert verdicts[scenario]["verdict"] == "could not verify", verdicts[scenario]
    collateral = {
        name: record["verdict"]
        for name, record in verdicts.items()
        if name not in expected and name not in variant.unverifiable and record["verdict"] != "conformant"
    }
    assert collateral == {}, f"variant {variant.name} broke more than it declares"
