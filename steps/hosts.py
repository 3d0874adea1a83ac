"""Steps about hosts and containers, read through testinfra (process users, files, listening ports,
configuration tests, packages, kernel settings), and about the machine seen from outside (a scan
from a namespace of its own)."""

from __future__ import annotations

import time

import pytest
from pytest_bdd import given, then

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.platforms import Platform
from infragate.probes.exposure.knock import scan
from infragate.probes.exposure.outside import outside
from infragate.probes.exposure.surface import ScanResult, exposure_check
from infragate.probes.hosts import hardening as checks
from infragate.probes.hosts.inventory import Inspection, inspect
from infragate.profile import Profile
from infragate.recovery.journal import Journal

# The hosts are read once for the scenarios of a feature that follow each other (its Background),
# not once per scenario: a Swarm stack's six containers cost some forty `docker exec` calls a reading.
# A reading older than this is not reused.
REUSED_FOR_S = 60.0
_READ: pytest.StashKey[tuple[str, float, Inspection]] = pytest.StashKey()


@given("every declared host is read through testinfra", target_fixture="inspected")
@needs("hosts")
def _(profile: Profile, request: pytest.FixtureRequest, evidence: Evidence) -> Inspection:
    if not profile.hosts:
        not_applicable("the profile declares no hosts section")
    feature = evidence.feature_file
    earlier = request.config.stash.get(_READ, None)
    if earlier is not None and earlier[0] == feature and time.monotonic() - earlier[1] < REUSED_FOR_S:
        inspection = earlier[2]
    else:
        # The platform adapter only where a service's replicas are to be found: hosts named by their
        # spec need no orchestrator to be reachable.
        selected = any(host.service is not None for host in profile.hosts.values())
        platform: Platform | None = request.getfixturevalue("platform") if selected else None
        inspection = inspect(profile.hosts, platform)
        request.config.stash[_READ] = (feature, time.monotonic(), inspection)
    evidence.record(tuple(inspection.observed.values()))
    return inspection


def _declaring(inspected: Inspection, part: str) -> None:
    """A scenario about a part no host declares is not applicable, not a pass on nothing."""
    if not any(getattr(host, part) for host in inspected.hosts.values()):
        not_applicable(f"no host declares {part}")


@then("every declared service runs only as its declared users")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "processes")
    expect_no_problems(checks.processes_check(inspected.hosts, inspected.observed))


@then("every declared file is no more open than its mode and owned as declared")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "files")
    expect_no_problems(checks.files_check(inspected.hosts, inspected.observed))


@then("no file others may read in the declared folders holds a secret of the profile")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "no_secrets_in")
    expect_no_problems(checks.secret_copies_check(inspected.hosts, inspected.observed))


@then("every declared port listens on its declared addresses and on no other")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "listens")
    expect_no_problems(checks.listens_check(inspected.hosts, inspected.observed))


@then("every declared configuration test succeeds")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "config_tests")
    expect_no_problems(checks.config_check(inspected.observed))


@then("every declared package is installed at its declared version or above")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "packages")
    expect_no_problems(checks.packages_check(inspected.hosts, inspected.observed))


@then("every declared kernel setting has its declared value")
def _(inspected: Inspection) -> None:
    _declaring(inspected, "sysctls")
    expect_no_problems(checks.sysctls_check(inspected.hosts, inspected.observed))


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
