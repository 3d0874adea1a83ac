"""The command line tells about itself: its version, its exit codes, and the scenarios a run
chooses from with their tags and what they need."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.cli import main
from infragate.run.features import scenarios
from infragate.sandbox.variants import scenario_steps
from infragate.suite import BUILTIN_FEATURES


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        main(list(argv))
    return int(ended.value.code or 0), capsys.readouterr().out


def test_version_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "--version")
    assert (code, out.split()[0]) == (0, "infragate") and out.strip() != "infragate unknown"
    code, out = _run(capsys, "--help")
    assert code == 0
    for line in ("0  conformant", "1  non-conformant", "2  could not verify", "3  bad usage", "4  refused"):
        assert line in out


def test_features_lists_every_built_in_scenario_with_its_tags_and_needs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "features")
    assert code == 0
    assert out.endswith(f"{len(scenario_steps([str(BUILTIN_FEATURES)]))} scenario(s)\n")
    assert (
        "gateway/rate_limits.feature:6  Gateway rate limiting: Every route enforces its declared rate limit  "
        "@gateway @ratelimit\n    needs: gateway.routes.*.rate_limit\n"
    ) in out
    # Each scenario's own needs, from its steps: not "gateway" for every gateway scenario.
    assert "Only allowlisted origins may call the API from a browser  @gateway\n    needs: gateway.cors\n" in out
    assert "One route's overload does not throttle another route  @gateway @ratelimit\n    needs: " in out
    assert "needs: gateway.routes.*.rate_limit; a rate_limit on two or more gateway.routes\n" in out
    assert "Strict-Transport-Security is sent" not in out and "  @tls\n    needs: tls.hsts\n" in out


def test_features_selects_by_the_same_tag_expression_as_verify(capsys: pytest.CaptureFixture[str]) -> None:
    chosen = scenarios([str(BUILTIN_FEATURES)], "platform and not (swarm or destructive)")
    assert chosen and all("platform" in e.tags and "swarm" not in e.tags for e in chosen)
    assert all("destructive" not in entry.tags for entry in chosen)
    code, out = _run(capsys, "features", "--tags", "tls and (")
    assert (
        code == 3 and out.startswith("infragate: --tags: expected tags joined by and, or, not") and out.count("\n") == 1
    )
    code, out = _run(capsys, "features", "--tags", "kubernetes and swarm")
    assert (code, out) == (3, "infragate: no scenario matched --tags 'kubernetes and swarm'\n")


def test_features_reads_a_team_s_own_feature_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "status.feature").write_text("@gateway\nFeature: Status\n  @tls\n  Scenario: It answers\n    When x\n")
    code, out = _run(capsys, "features", "--features", str(tmp_path))
    assert code == 0 and "status.feature:4  Status: It answers  @gateway @tls\n    needs: gateway; tls\n" in out


def test_every_tag_the_plugin_registers_says_what_it_needs() -> None:
    from infragate.plugin.hooks import MARKERS
    from infragate.run.features import NEEDS

    assert set(NEEDS) == set(MARKERS)


def test_every_step_that_can_end_its_scenario_for_a_missing_key_names_that_key() -> None:
    """A step whose body says "the profile declares no X" (X more than a tag's section) lists X in
    its needs, so that `infragate features` tells it before a run does."""
    import inspect
    import re

    from pytest_bdd.steps import step_function_context_registry

    from infragate.bdd import needs_of

    scenarios([str(BUILTIN_FEATURES)])  # imports every step module
    checked = 0
    for context in list(step_function_context_registry.values()):
        if not context.step_func.__module__.startswith("infragate.steps."):
            continue
        source = inspect.getsource(context.step_func)
        for key in re.findall(r"the profile declares no ([a-z_]+\.[a-z_.]+)", source):
            checked += 1
            assert any(need.startswith(key) for need in needs_of(context.step_func)), (context.parser.name, key)
    assert checked >= 9


def test_tags_may_be_written_with_their_at_sign_and_a_near_miss_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 29: `--tags "@load"` was refused while waiver files write `tag: "@load"`; `--tags lod` gave no hint."""
    from infragate.run.features import tag_hint

    code, out = _run(capsys, "features", "--tags", "@platform and not (@swarm or @destructive)")
    assert code == 0 and out.splitlines()[-1].endswith("scenario(s)"), out
    code, plain = _run(capsys, "features", "--tags", "platform and not (swarm or destructive)")
    assert out == plain
    assert tag_hint("lod or tls") == "; 'lod' is no tag of infragate's; did you mean 'load'?"
    assert tag_hint("load and not destructive") == ""
