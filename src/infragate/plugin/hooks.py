"""The infragate pytest plugin: run infragate's steps (and your own features) against a target.

Registered as a ``pytest11`` entry point, so that a user's own repository only needs features and a
test module calling ``pytest_bdd.scenarios``. It adds ``--target`` (or ``INFRAGATE_TARGET``), the
fixtures ``profile``, ``platform``, ``gateway`` and ``evidence``, registers infragate's tags as
markers, reports scenarios that do not apply to the target as not applicable, holds back
destructive and load scenarios unless both the profile and the command line allow them, and
records a verdict for every scenario.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd.parser import Feature, Scenario

from infragate.errors import InfragateError
from infragate.plugin.fixtures import JOURNAL, PROFILE
from infragate.plugin.recording import RUN, CollectionWatch, flush_progress, interrupt_unfinished, record_for
from infragate.probes.silence import SILENT
from infragate.profile import Profile, load_profile
from infragate.profile.secrets import REDACTOR, redact_tree
from infragate.recovery.journal import Journal, journal_root, undo_pending
from infragate.recovery.stopping import STOP, interrupt, shielded
from infragate.recovery.undo import performer
from infragate.reports import RunRecord, write_reports
from infragate.safety import held_back
from infragate.steps import MODULES as STEP_MODULES
from infragate.verdicts import NOT_APPLICABLE_PREFIX, NOT_RUN_PREFIX
from infragate.waivers.apply import WAIVERS_ENV, skip_reason

pytest_plugins = ["infragate.plugin.recording", "infragate.plugin.fixtures", *STEP_MODULES]

MARKERS = {
    "gateway": "checks the gateway: health, routing, headers",
    "platform": "needs a platform adapter; not applicable to gateway-only targets",
    "ratelimit": "measures rate limits at the gateway",
    "tls": "checks TLS protocols, ciphers and certificates",
    "deepscan": "runs sslyze (out of process); could not verify without it, unless tls.deep_scan is false",
    "failover": "kills replicas and measures what clients saw",
    "scaling": "scales services out and in",
    "backup": "checks backups and restore drills",
    "monitoring": "checks Prometheus, its rules and Alertmanager; alert drills are also @destructive",
    "hosts": "reads hosts and containers from inside through testinfra",
    "exposure": "scans this machine's ports from a network namespace of the run's own (needs root)",
    "destructive": "disrupts the target; runs only when the profile and --allow-destructive both allow it",
    "load": "puts load on the target; runs only when the profile and --allow-load both allow it",
    "local": "applies only to targets on the local platform",
    "swarm": "applies only to targets on Docker Swarm",
    "kubernetes": "applies only to targets on Kubernetes",
}
PLATFORM_KINDS = ("local", "swarm", "kubernetes")

_RUN_ID = pytest.StashKey[str]()


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
    # Where things are is never masked (see Redactor.keep).
    REDACTOR.keep_paths(*(chosen for chosen in (target, config.getoption("--infragate-reports")) if chosen))
    if target:
        try:
            config.stash[PROFILE] = load_profile(target)
        except InfragateError as exc:
            raise pytest.UsageError(str(exc)) from None
    run = RunRecord(
        target=config.stash[PROFILE].name if PROFILE in config.stash else "(no target)",
        profile=str(target or ""),
        started_at=time.time(),
    )
    config.stash[RUN] = run
    config.stash[_RUN_ID] = (
        config.getoption("--infragate-run-id")
        or f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    if PROFILE in config.stash:
        # The run's journal is locked for as long as this process lives, so that a recovery waits
        # for this run to undo its own disruptions instead of undoing beside it.
        config.stash[JOURNAL] = Journal(
            journal_root(Path(target), config.stash[PROFILE].name), config.stash[_RUN_ID]
        ).hold()
    if target and getattr(config.option, "tbstyle", "auto") in ("auto", "long"):
        # Short tracebacks in every report, JUnit XML included: a long one renders each frame's
        # arguments (a DSN, a header value) into the artifact.
        config.option.tbstyle = "short"
    STOP.clear()  # a new run (pytester runs several in one process)
    SILENT.forget()
    if target and threading.current_thread() is threading.main_thread():
        # In a run against a target, SIGTERM must unwind like Ctrl-C, so that every journalled
        # disruption is undone at teardown; either is remembered, so that nothing new starts after it.
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)
    config.pluginmanager.register(CollectionWatch(run, tuple(MARKERS)), "infragate-collection-watch")


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


def _waived(scenario: Scenario, feature: Feature) -> str | None:
    """Why a skip waiver holds this scenario back, or None (`verify` passes the skip waivers)."""
    return skip_reason(os.environ.get(WAIVERS_ENV, ""), scenario.name, scenario.tags | feature.tags)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Feature, scenario: Scenario) -> None:
    """Start the scenario's record, and hold it back when it does not apply or is not allowed."""
    record_for(request.node, feature, scenario)
    config = request.config
    if PROFILE in config.stash:
        reason = _refusal(config.stash[PROFILE], config, set(scenario.tags | feature.tags))
        if reason is None:
            reason = _waived(scenario, feature)
        if reason is not None:
            pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After each scenario, a stop that was held during its undo ends the run: no scenario starts after it."""
    yield
    if STOP.reason:
        item.session.shouldstop = f"interrupted by {STOP.reason}"


def _undo_leftovers(config: pytest.Config, run: RunRecord) -> None:
    """Whatever this run journalled and did not undo (a teardown cut short): undo it before any report."""
    if JOURNAL not in config.stash:
        return
    journal_ = config.stash[JOURNAL]
    if not journal_.pending_ids():
        return
    with shielded():  # a stop that comes now is remembered (the run is reported interrupted), not raised
        report = undo_pending(journal_, performer(config.stash[PROFILE]), only_this_run=True)
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
    if JOURNAL in config.stash:
        config.stash[JOURNAL].release()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Undo what is left of this run's disruptions, then write the reports when asked to."""
    config = session.config
    if RUN not in config.stash:
        return
    run = config.stash[RUN]
    flush_progress(config)
    _undo_leftovers(config, run)
    if exitstatus == pytest.ExitCode.INTERRUPTED or STOP.reason:  # Ctrl-C, or SIGTERM unwound as one
        run.interrupt(STOP.reason or "a stop signal (SIGINT or SIGTERM)")
        interrupt_unfinished(config, run.interrupted)
    run.finished_at = time.time()
    directory = config.getoption("--infragate-reports")
    if directory:
        write_reports(run, Path(directory))
