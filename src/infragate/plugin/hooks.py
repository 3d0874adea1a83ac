"""The infragate pytest plugin: run infragate's steps (and your own features) against a target.

Registered as a ``pytest11`` entry point, so that a user's own repository only needs features and a
test module calling ``pytest_bdd.scenarios``. It adds ``--target`` (or ``INFRAGATE_TARGET``), the
fixtures ``profile``, ``platform``, ``gateway`` and ``evidence``, registers infragate's tags as
markers, reports scenarios that do not apply to the target as not applicable, holds back
destructive and load scenarios unless both the profile and the command line allow them, and
records a verdict for every scenario.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd.parser import Feature, Scenario

from infragate.bdd import Background, Evidence
from infragate.errors import InfragateError, ProbeError, UsageError
from infragate.platforms import Platform, open_platform
from infragate.plugin.recording import RECORD, RUN, CollectionWatch, progress, record_for
from infragate.probes.http import GatewayClient
from infragate.profile import Profile, load_profile
from infragate.profile.secrets import REDACTOR, redact_tree
from infragate.recovery.journal import Journal, journal_root, undo_pending
from infragate.recovery.undo import performer
from infragate.reports import RunRecord, write_reports
from infragate.safety import Consent, consent_for, held_back
from infragate.verdicts import NOT_APPLICABLE_PREFIX, NOT_RUN_PREFIX

pytest_plugins = [
    "infragate.plugin.recording",
    "infragate.steps.gateway",
    "infragate.steps.platform",
    "infragate.steps.ratelimit",
    "infragate.steps.tls",
    "infragate.steps.resilience",
    "infragate.steps.backup",
    "infragate.steps.load",
    "infragate.steps.service_config",
]

MARKERS = {
    "gateway": "checks the gateway: health, routing, headers",
    "platform": "needs a platform adapter; not applicable to gateway-only targets",
    "ratelimit": "measures rate limits at the gateway",
    "tls": "checks TLS protocols, ciphers and certificates",
    "deepscan": "runs the optional sslyze deep scan (out of process); not applicable when sslyze is absent",
    "failover": "kills replicas and measures what clients saw",
    "scaling": "scales services out and in",
    "backup": "checks backups and restore drills",
    "destructive": "disrupts the target; runs only when the profile and --allow-destructive both allow it",
    "load": "puts load on the target; runs only when the profile and --allow-load both allow it",
    "local": "applies only to targets on the local platform",
    "swarm": "applies only to targets on Docker Swarm",
    "kubernetes": "applies only to targets on Kubernetes",
}
PLATFORM_KINDS = ("local", "swarm", "kubernetes")

_PROFILE = pytest.StashKey[Profile]()
_RUN_ID = pytest.StashKey[str]()
_JOURNAL = pytest.StashKey[Journal]()


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Hold SIGINT and SIGTERM off while undoing: a second Ctrl-C must not cut an undo short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    """infragate's command-line options."""
    group = parser.getgroup("infragate", "infragate conformance checks")
    group.addoption(
        "--target",
        metavar="FILE",
        default=os.environ.get("INFRAGATE_TARGET"),
        help="target profile (YAML); default $INFRAGATE_TARGET",
    )
    group.addoption(
        "--allow-destructive",
        action="store_true",
        default=False,
        help="run @destructive scenarios where the profile allows them",
    )
    group.addoption(
        "--allow-load", action="store_true", default=False, help="run @load scenarios where the profile allows them"
    )
    group.addoption(
        "--infragate-progress",
        action="store_true",
        default=False,
        help="print a line as each scenario starts and ends (used by `infragate verify`)",
    )
    group.addoption(
        "--infragate-run-id",
        metavar="ID",
        default=None,
        help="name of this run's recovery journal (used by `infragate verify`, which undoes what it leaves)",
    )
    group.addoption(
        "--infragate-reports",
        metavar="DIR",
        default=None,
        help="write evidence.json, summary.md and report.html into DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register markers and load the target profile once."""
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    target = config.getoption("--target")
    if target:
        try:
            config.stash[_PROFILE] = load_profile(target)
        except InfragateError as exc:
            raise pytest.UsageError(str(exc)) from None
    run = RunRecord(
        target=config.stash[_PROFILE].name if _PROFILE in config.stash else "(no target)",
        profile=str(target or ""),
        started_at=time.time(),
    )
    config.stash[RUN] = run
    config.stash[_RUN_ID] = (
        config.getoption("--infragate-run-id")
        or f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    if _PROFILE in config.stash:
        # The run's journal is locked for as long as this process lives, so that a recovery waits
        # for this run to undo its own disruptions instead of undoing beside it.
        config.stash[_JOURNAL] = Journal(
            journal_root(Path(target), config.stash[_PROFILE].name), config.stash[_RUN_ID]
        ).hold()
    if target and getattr(config.option, "tbstyle", "auto") in ("auto", "long"):
        # Short tracebacks in every report, JUnit XML included: a long one renders each frame's
        # arguments (a DSN, a header value) into the artifact.
        config.option.tbstyle = "short"
    if target and threading.current_thread() is threading.main_thread():
        # In a run against a target, SIGTERM must unwind like Ctrl-C, so that every journalled
        # disruption is undone at teardown.
        signal.signal(signal.SIGTERM, _terminate)
    config.pluginmanager.register(CollectionWatch(run, tuple(MARKERS)), "infragate-collection-watch")


# Fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def profile(pytestconfig: pytest.Config) -> Profile:
    """The target profile named by --target or $INFRAGATE_TARGET."""
    if _PROFILE not in pytestconfig.stash:
        raise UsageError("no target profile: pass --target FILE or set INFRAGATE_TARGET")
    return pytestconfig.stash[_PROFILE]


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
    run_journal = pytestconfig.stash[_JOURNAL]
    earlier = run_journal.pending_ids()  # an earlier scenario's failed undo is not this scenario's
    yield run_journal
    with _shielded():
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


# Scenario lifecycle ------------------------------------------------------------------------------


def _refusal(profile: Profile, config: pytest.Config, tags: set[str]) -> str | None:
    """Why the target or the safety policy rules this scenario out, or None."""
    required = [kind for kind in PLATFORM_KINDS if kind in tags]
    if required and profile.platform.kind not in required:
        return (
            f"{NOT_APPLICABLE_PREFIX}needs a {' or '.join(required)} platform; the target's is {profile.platform.kind}"
        )
    if "platform" in tags and profile.platform.kind == "none":
        return f"{NOT_APPLICABLE_PREFIX}the target declares no platform (platform.kind: none)"
    held = held_back(profile.safety, tags, config.getoption("--allow-destructive"), config.getoption("--allow-load"))
    return f"{NOT_RUN_PREFIX}safety policy: {held}" if held else None


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Feature, scenario: Scenario) -> None:
    """Start the scenario's record, and hold it back when it does not apply or is not allowed."""
    record = record_for(request.node, feature, scenario)
    config = request.config
    progress(config, f"  ...    {record.feature}: {record.scenario}")
    if _PROFILE in config.stash:
        reason = _refusal(config.stash[_PROFILE], config, set(scenario.tags | feature.tags))
        if reason is not None:
            pytest.skip(reason)


def _undo_leftovers(config: pytest.Config, run: RunRecord) -> None:
    """Whatever this run journalled and did not undo (a teardown cut short): undo it before any report."""
    if _JOURNAL not in config.stash:
        return
    journal_ = config.stash[_JOURNAL]
    if not journal_.pending_ids():
        return
    with _shielded():
        report = undo_pending(journal_, performer(config.stash[_PROFILE]), only_this_run=True)
    verified = "verified" if report.verified else "NOT verified"
    run.notes.append(
        REDACTOR.redact(f"undone at the end of the run, {verified}: {'; '.join(report.undone + report.failed)}")
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Scrub secrets from every artifact of the run, pytest's own too (JUnit XML and Cucumber JSON are
    written by then), and let go of the run's journal lock (the process may live on, as in pytester)."""
    for option in ("--infragate-reports", "--junitxml", "--cucumberjson"):
        written = config.getoption(option, None)
        if written:
            redact_tree(Path(written))
    if _JOURNAL in config.stash:
        config.stash[_JOURNAL].release()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Undo what is left of this run's disruptions, then write the reports when asked to."""
    config = session.config
    if RUN not in config.stash:
        return
    run = config.stash[RUN]
    if exitstatus == pytest.ExitCode.INTERRUPTED:  # Ctrl-C, or SIGTERM unwound as one
        run.interrupted = "a stop signal (SIGINT or SIGTERM)"
        run.notes.append(f"interrupted by {run.interrupted}: the run did not finish, so it proves nothing")
    _undo_leftovers(config, run)
    run.finished_at = time.time()
    directory = config.getoption("--infragate-reports")
    if directory:
        write_reports(run, Path(directory))
