"""Steps about hosts and containers, read through testinfra (process users, files, listening ports,
configuration tests), and about the machine seen from outside (a scan from a namespace of its own)."""

from __future__ import annotations

from pytest_bdd import given, then

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.probes.exposure.knock import scan
from infragate.probes.exposure.outside import outside
from infragate.probes.exposure.surface import ScanResult, exposure_check
from infragate.probes.hosts import hardening as checks
from infragate.probes.hosts.inventory import HostObservation, observe
from infragate.profile import Profile
from infragate.recovery.journal import Journal


@given("every declared host is read through testinfra", target_fixture="inspected")
@needs("hosts")
def _(profile: Profile, evidence: Evidence) -> dict[str, HostObservation]:
    if not profile.hosts:
        not_applicable("the profile declares no hosts section")
    observed = {name: observe(name, host) for name, host in profile.hosts.items()}
    evidence.record(tuple(observed.values()))
    return observed


@then("every declared service runs only as its declared users")
def _(profile: Profile, inspected: dict[str, HostObservation]) -> None:
    expect_no_problems(checks.processes_check(profile.hosts, inspected))


@then("every declared file is no more open than its mode and owned as declared")
def _(profile: Profile, inspected: dict[str, HostObservation]) -> None:
    expect_no_problems(checks.files_check(profile.hosts, inspected))


@then("every declared port listens on its declared addresses and on no other")
def _(profile: Profile, inspected: dict[str, HostObservation]) -> None:
    expect_no_problems(checks.listens_check(profile.hosts, inspected))


@then("every declared configuration test succeeds")
def _(inspected: dict[str, HostObservation]) -> None:
    expect_no_problems(checks.config_check(inspected))


@given("a client outside this machine has tried every scanned port", target_fixture="surface")
@needs("exposure", "root (a network namespace)")
def _(profile: Profile, journal: Journal, evidence: Evidence) -> ScanResult:
    if profile.exposure is None:
        not_applicable("the profile declares no exposure section")
    with outside(journal) as where:
        return evidence.record(scan(where, profile.exposure))


@then("no port answers that is not declared exposed")
def _(profile: Profile, surface: ScanResult) -> None:
    assert profile.exposure is not None
    expect_no_problems(exposure_check(profile.exposure, surface))
