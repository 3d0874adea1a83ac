"""Every scenario in features/ can fail: some known-bad variant makes it fail, on a step it has."""

from __future__ import annotations

from pathlib import Path

from infragate.sandbox.variants import (
    VARIANTS,
    ExpectedFailure,
    LocalDefect,
    Variant,
    coverage_problems,
    scenario_table,
)
from infragate.suite import BUILTIN_FEATURES


def test_every_builtin_scenario_has_a_variant_that_makes_it_fail_on_a_real_step() -> None:
    assert coverage_problems([str(BUILTIN_FEATURES)], VARIANTS) == []


def test_the_meta_check_notices_an_unbreakable_scenario_and_a_wrong_step(tmp_path: Path) -> None:
    (tmp_path / "extra.feature").write_text(
        "Feature: Extra\n  Scenario: Nobody breaks me\n    When a client asks the gateway for its health\n"
    )
    wrong_step = Variant(
        "wrong-step",
        "names a step the scenario lacks",
        (ExpectedFailure("Nobody breaks me", "Then something else"),),
        LocalDefect(lambda spec: spec),
    )
    assert coverage_problems([str(tmp_path)], {}) == ["no variant makes 'Nobody breaks me' fail"]
    assert coverage_problems([str(tmp_path)], {"wrong-step": wrong_step}) == [
        "variant wrong-step: scenario 'Nobody breaks me' has no step 'Then something else'"
    ]
    assert any("no scenario" in problem for problem in coverage_problems([str(tmp_path)], VARIANTS))


def test_the_readme_lists_every_scenario_with_the_variants_that_break_it() -> None:
    # The table is `infragate sandbox variants --table`; regenerate it when a scenario or variant changes.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert scenario_table([str(BUILTIN_FEATURES)], VARIANTS) in readme
