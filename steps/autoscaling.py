"""Steps of live autoscaling: the declared load runs while the replicas are watched, then each
promise is judged from what was seen."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from pytest_bdd import then, when

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.platforms import Platform
from infragate.probes.autoscaling import AutoscalingResult, watch_autoscaling
from infragate.probes.http import GatewayClient
from infragate.profile import Profile
from infragate.recovery.journal import Journal
from infragate.safety import Consent


@when("the declared load runs through the gateway while the replicas are watched", target_fixture="autoscaling")
@needs("services.<name>.kubernetes.autoscaling.scale_out_within", "load")
def _(
    platform: Platform,
    journal: Journal,
    profile: Profile,
    gateway: GatewayClient,
    consent: Consent,
    evidence: Evidence,
    pytestconfig: pytest.Config,
) -> AutoscalingResult:
    if profile.load is None:
        not_applicable("the profile declares no load section")
    declared = [
        name
        for name, service in profile.services.items()
        if service.kubernetes and service.kubernetes.autoscaling and service.kubernetes.autoscaling.scale_out_within
    ]
    if not declared:
        not_applicable("no service declares kubernetes.autoscaling.scale_out_within")
    reports = pytestconfig.getoption("--infragate-reports")
    folder = Path(reports) / "autoscaling" if reports else Path(tempfile.mkdtemp(prefix="infragate-autoscaling-"))
    return evidence.record(watch_autoscaling(platform, journal, profile, gateway, consent, folder))


@then("the autoscaler added replicas within the declared time")
def _(autoscaling: AutoscalingResult) -> None:
    expect_no_problems(autoscaling.scaled_out_check())


@then("the added replicas answered part of the traffic")
def _(autoscaling: AutoscalingResult) -> None:
    expect_no_problems(autoscaling.answered_check())


@then("no request of the load failed")
def _(autoscaling: AutoscalingResult) -> None:
    expect_no_problems(autoscaling.no_failure_check())


@then("the autoscaler removed the added replicas within the declared time after the load")
def _(autoscaling: AutoscalingResult) -> None:
    expect_no_problems(autoscaling.scaled_in_check())
