"""The plugin's fixtures: ``profile``, ``consent``, ``platform``, ``gateway``, ``journal`` (undone and
verified at each scenario's teardown), ``background`` and ``evidence``; loaded by the plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infragate.bdd import Background, Evidence
from infragate.errors import ProbeError, UsageError
from infragate.platforms import Platform, open_platform
from infragate.plugin.recording import RECORD
from infragate.probes.http import GatewayClient
from infragate.profile import Profile
from infragate.profile.secrets import REDACTOR
from infragate.recovery.journal import Journal, undo_pending
from infragate.recovery.stopping import shielded
from infragate.recovery.undo import performer
from infragate.safety import Consent, consent_for

PROFILE = pytest.StashKey[Profile]()
JOURNAL = pytest.StashKey[Journal]()


@pytest.fixture(scope="session")
def profile(pytestconfig: pytest.Config) -> Profile:
    """The target profile named by --target or $INFRAGATE_TARGET."""
    if PROFILE not in pytestconfig.stash:
        raise UsageError("no target profile: pass --target FILE or set INFRAGATE_TARGET")
    return pytestconfig.stash[PROFILE]


@pytest.fixture(scope="session")
def consent(profile: Profile, pytestconfig: pytest.Config) -> Consent:
    """What this run may do to the target: the profile's safety section and the command line, both."""
    return consent_for(
        profile.safety, pytestconfig.getoption("--allow-destructive"), pytestconfig.getoption("--allow-load")
    )


@pytest.fixture(scope="session")
def platform(profile: Profile, consent: Consent) -> Platform:
    """The adapter of the target's platform (local supervisor, Swarm, Kubernetes or none); it refuses
    to disrupt without consent, whatever a feature's tags say."""
    return open_platform(profile, consent)


@pytest.fixture(scope="session")
def gateway(profile: Profile) -> Iterator[GatewayClient]:
    """An HTTP client of the target's gateway."""
    client = GatewayClient(profile.gateway)
    yield client
    client.close()


@pytest.fixture
def journal(pytestconfig: pytest.Config, profile: Profile, request: pytest.FixtureRequest) -> Iterator[Journal]:
    """The recovery journal of this run. At teardown, whatever the outcome, every undo runs and is verified."""
    run_journal = pytestconfig.stash[JOURNAL]
    earlier = run_journal.pending_ids()  # an earlier scenario's failed undo is not this scenario's
    yield run_journal
    with shielded():  # a stop that comes meanwhile ends the run after this scenario (hooks.py)
        report = undo_pending(run_journal, performer(profile), only_this_run=True, skip=earlier)
    record = request.node.stash.get(RECORD, None)
    summary = "; ".join(report.undone + report.failed) or "nothing to undo"
    if record is not None:
        record.cleanup = REDACTOR.redact(("verified: " if report.verified else "NOT verified: ") + summary)
    if not report.verified:
        raise ProbeError(f"the target could not be verified back at its starting state: {'; '.join(report.failed)}")


@pytest.fixture
def background() -> Iterator[Background]:
    """Starts background traffic for a scenario and makes sure it ends with it."""
    running = Background()
    yield running
    running.stop_all()


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Where steps keep the probe results a verdict rests on."""
    return Evidence(request.node.stash.get(RECORD, None))
