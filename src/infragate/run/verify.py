"""`infragate verify`: bring up the reference deployment when no target is given, run the features in
a child pytest, undo what it left, scrub the run folder, print the findings and the verdict.

The suite runs in its own session (Ctrl-C reaches it through this process, in order) and gets SIGTERM
when this process dies, however it dies (a parent-death signal): it then undoes its disruptions
itself. Whatever it leaves pending, this process undoes once it has ended.
"""

from __future__ import annotations

import ctypes
import datetime
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TextIO

from infragate.errors import ExitCode, InfragateError, UsageError
from infragate.history.gate import keep_run, trend
from infragate.profile import Profile, load_profile
from infragate.profile.secrets import REDACTOR, redact_tree
from infragate.recovery.journal import OWNER_WAIT_S, Journal, journal_root, undo_pending
from infragate.recovery.stopping import shielded
from infragate.recovery.undo import performer
from infragate.reports import ALLURE_DIR, CUCUMBER_FILE, EVIDENCE_FILE, HTML_FILE, JUNIT_FILE, RunRecord, write_reports
from infragate.reports.machine import run_document
from infragate.reports.pages import mark_interrupted
from infragate.reports.records import ScenarioRecord
from infragate.run.features import tag_hint
from infragate.safety import check_requested
from infragate.sandbox import local
from infragate.sandbox.variants import get_variant
from infragate.suite import FEATURES_ENV, SUITE_INI, SUITE_MODULE
from infragate.verdicts import RUN_VERDICT, Verdict
from infragate.waivers.apply import WAIVERS_ENV, apply_waivers, waivers_payload
from infragate.waivers.waiver_file import Waiver, load_waivers

# The suite undoes its disruptions when told to stop; a restore may wait up to 90 s for replicas.
_CHILD_GRACE_S = OWNER_WAIT_S


_ON_STDERR = [False]  # lines for people go to stderr when stdout carries one JSON document


def _people() -> TextIO:
    return sys.stderr if _ON_STDERR[0] else sys.stdout


def say(message: str) -> None:
    """Print one line for people, with every secret scrubbed."""
    print(REDACTOR.redact(message), file=_people(), flush=True)


def lines_for_people_to_stderr(on: bool = True) -> None:
    """Whether lines for people go to stderr: stdout is then for one JSON document (--format json)."""
    _ON_STDERR[0] = on


@dataclass
class VerifyRequest:
    """What `infragate verify` was asked for."""

    target: str | None
    variant: str | None
    tags: str | None
    features: tuple[str, ...]
    allow_destructive: bool
    allow_load: bool
    reports: Path
    verbose: bool
    waivers: str | None = None  # a waivers file
    format: str = "text"  # json: the run as one JSON document on stdout, lines for people on stderr
    history: Path | None = None  # a history folder: the run's figures are kept there and judged
    fail_on_regression: bool = False  # a figure that regressed against the history fails the gate


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived; cleanup must still run."""


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def run_verify(args: VerifyRequest) -> int:
    """Run a verification and return its exit code."""
    if args.variant and args.target:
        raise UsageError("verify: --variant brings up the reference deployment and cannot go with --target")
    if args.variant:
        get_variant(args.variant)
    for path in args.features:
        if not Path(path).exists():
            raise UsageError(f"verify: --features: no such file or folder: {path}")
    waivers = load_waivers(args.waivers) if args.waivers else []  # an expired one fails here, before any work
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    sandbox_name: str | None = None
    finished: tuple[RunRecord, Path] | None = None
    code: int = ExitCode.COULD_NOT_VERIFY
    try:
        if args.target:
            target = Path(args.target)
        else:
            sandbox_name = f"verify-{os.getpid()}"
            say(
                "infragate: bringing up the reference deployment"
                + (f" with known defect '{args.variant}'" if args.variant else "")
                + " ..."
            )
            started = time.monotonic()
            state = local.up(sandbox_name, args.variant)
            say(
                f"infragate: reference deployment up in {time.monotonic() - started:.1f} s "
                f"(gateway {state.gateway_url})"
            )
            target = Path(state.profile)
            # The sandbox is ours and disposable: the full run includes destructive and load scenarios.
            args.allow_destructive = args.allow_load = True
        # Paths the user chose say where things are: a secret that happens to spell part of one is not
        # masked inside them (it is everywhere else).
        REDACTOR.keep_paths(target, args.reports, *([args.history] if args.history else []))
        profile = load_profile(target)
        check_requested(profile.safety, profile.name, args.allow_destructive, args.allow_load)
        finished = _run_suite(profile, target, args, waivers)
        code = finished[0].exit_code
    except _Interrupted as exc:
        say(f"infragate: interrupted by {exc}; cleaning up")
        code = ExitCode.COULD_NOT_VERIFY
    finally:
        if sandbox_name is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            report = local.down(sandbox_name)
            if report.left_running:
                note = f"reference deployment NOT cleaned up: pids {list(report.left_running)} still run"
                code = max(code, ExitCode.COULD_NOT_VERIFY) if code != ExitCode.NON_CONFORMANT else code
            else:
                note = "reference deployment torn down; verified that none of its processes is left"
            say(f"infragate: {note}")
            if finished is not None:
                finished[0].notes.append(note)
                # The profile it wrote went with it: the reports name what the user asked for instead.
                finished[0].profile = "the built-in reference deployment's own (verify without --target)"
                write_reports(*finished)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if finished is not None and args.history is not None:
        code = _judge_history(args, *finished, code)
    if args.format == "json":
        run, run_dir = finished if finished is not None else (None, None)
        print(run_document(run, code, run_dir), flush=True)
    return code


def _judge_history(args: VerifyRequest, run: RunRecord, run_dir: Path, code: int) -> int:
    """Keep the run's figures in the history and name what regressed against it; with
    --fail-on-regression, a regression makes a conformant run non-conformant (exit 1)."""
    assert args.history is not None
    kept = keep_run(args.history, run, run_dir)
    found = trend(args.history, run.target)
    say(f"infragate: history: {kept} figures kept in {args.history}; trend page {found.page}")
    for finding in found.regressions:
        say(f"  {finding.LABEL:<17} {finding.line()}")
        run.notes.append(f"{finding.LABEL}: {finding.line()}")
    if found.regressions:
        write_reports(run, run_dir)
        if args.fail_on_regression and code == ExitCode.CONFORMANT:
            say("infragate: non-conformant: a figure regressed and --fail-on-regression was given, exit 1")
            return int(ExitCode.NON_CONFORMANT)
    return code


def new_run_dir(base: Path, profile: Profile) -> Path:
    """A new run folder, named by the UTC time and the target."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = base / f"{stamp}-{profile.name}"
    suffix = 1
    while directory.exists():
        suffix += 1
        directory = base / f"{stamp}-{profile.name}-{suffix}"
    directory.mkdir(parents=True)
    return directory


def _run_suite(profile: Profile, target: Path, args: VerifyRequest, waivers: list[Waiver]) -> tuple[RunRecord, Path]:
    """Run the features in a child pytest; its reports land in a new run folder."""
    run_dir = new_run_dir(args.reports, profile)
    REDACTOR.keep_paths(run_dir)
    run_id = f"{run_dir.name}-{os.getpid()}"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(SUITE_INI),
        "--rootdir",
        str(SUITE_MODULE.parent),
        str(SUITE_MODULE),
        "--target",
        str(target.resolve()),
        "--infragate-reports",
        str(run_dir),
        "--infragate-run-id",
        run_id,
    ]
    # Verbose: pytest-bdd's Gherkin reporter shows every step. Otherwise one line per scenario, from
    # the plugin, and pytest's own terminal output stays out of the way.
    quiet = ["-p", "no:terminal", "--infragate-progress"]
    command += ["--gherkin-terminal-reporter", "-v"] if args.verbose else quiet
    if args.tags:
        command += ["-m", args.tags]
    if args.allow_destructive:
        command.append("--allow-destructive")
    if args.allow_load:
        command.append("--allow-load")
    env = dict(os.environ)
    env[WAIVERS_ENV] = waivers_payload(waivers)
    if args.features:
        env[FEATURES_ENV] = os.pathsep.join(str(Path(path).resolve()) for path in args.features)
    say(f"infragate: verifying target '{profile.name}' ({target})")
    # Ctrl-C or SIGTERM while the suite is being started must not leave it running unseen: hold the
    # signals until the child is known (it starts with them unblocked), then stop it in order.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        child = subprocess.Popen(
            command,
            env=env,
            stdout=_people() if _ON_STDERR[0] else None,  # the suite's line per scenario is for people too
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=partial(_prepare_child, os.getpid()),
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        raise
    stopped = ""
    try:
        try:
            # A signal that came while the child started is delivered here, with the child known.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            _, errors = child.communicate()
        except _Interrupted as stop:
            stopped = str(stop)
            _stop_child(child)
    finally:
        # Whatever became of the suite: undo what it left (a stop meanwhile is held, not lost), and
        # scrub what it wrote (again: it may have been killed before it could).
        with shielded() as held:
            _undo_what_the_suite_left(profile, target, run_id)
        redact_tree(run_dir)
    stopped = stopped or held.reason
    if stopped:  # the reports say so, whatever the suite managed to write before it ended
        mark_interrupted(run_dir, stopped)
        raise _Interrupted(stopped)
    evidence = run_dir / EVIDENCE_FILE
    if not evidence.exists():
        reason = _last_error_line(errors or "") or f"pytest exited {child.returncode}"
        raise (
            UsageError(f"verify: the suite did not run: {reason}")
            if child.returncode in (4, 5)
            else InfragateError(f"verify: the suite did not finish: {reason}")
        )
    run = RunRecord.from_json(evidence.read_text())
    if child.returncode == 5 or (not run.scenarios and not run.collection_errors):
        raise UsageError(
            f"verify: no scenario matched (--tags {args.tags!r}){tag_hint(args.tags)}"
            if args.tags
            else "verify: no scenario found in the features"
        )
    if waivers:
        apply_waivers(run, waivers)
        write_reports(run, run_dir)
    _print_summary(run, run_dir)
    return run, run_dir


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1


def _prepare_child(parent: int) -> None:
    """In the suite's process before it runs: signals unblocked, and SIGTERM when this command dies,
    however it dies (even SIGKILL), so that the suite stops and undoes instead of going on alone."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _stop_child(child: subprocess.Popen[str]) -> None:
    """Ask the suite once to stop (its own teardown undoes what it did), give it time to, then insist.
    Further Ctrl-Cs are held off meanwhile: they must not cut the undo short."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    say(f"infragate: stopping the suite; it undoes its disruptions first (up to {_CHILD_GRACE_S:g} s)")
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=_CHILD_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    except ProcessLookupError:
        pass


def _undo_what_the_suite_left(profile: Profile, target: Path, run_id: str) -> None:
    """Undo and verify whatever the suite journalled and did not undo itself (it was killed, or its own
    undo failed: then this is a second try, and what still fails stays pending for `recover`)."""
    journal = Journal(journal_root(target, profile.name), run_id)
    if not journal.pending_ids():
        return
    say("infragate: the suite left disruptions pending; undoing them")
    report = undo_pending(journal, performer(profile), only_this_run=True)
    for line in report.undone:
        say(f"  undone   {line}")
    for line in report.failed:
        say(f"  FAILED   {line}")
    if not report.verified:  # the suite's report says so too, where it got to write one
        say(
            "infragate: the target could NOT be verified back at its starting state; "
            f"see `infragate recover --target {target}`"
        )


_INDENT = " " * 20  # under the scenario's name, past its verdict


def _one_line(text: str, most: int = 300) -> str:
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= most and "\n" not in text.strip() else first[:most].rstrip() + " …"


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "E ", "infragate"))]
    return (errors or lines or [""])[-1].removeprefix("ERROR: ")


def _print_summary(run: RunRecord, run_dir: Path) -> None:
    """What needs looking at first (each scenario's line was already printed as it ended): the
    failures, what could not be verified, refusals and bad usage, each with its step and one line
    of reason; then the counts, the verdict and where the reports are."""
    findings = run.needing_attention()
    if findings or run.collection_errors:
        say("infragate: to look at:")
    for line in run.collection_errors:
        say(f"  {Verdict.BAD_USAGE.value:<16}  {_one_line(line)}")
    # Scenarios that failed for the same reason (a gateway that refuses every connection) share it.
    alike: dict[tuple[Verdict, str], list[ScenarioRecord]] = {}
    for scenario in findings:
        alike.setdefault((scenario.verdict, _one_line(scenario.message)), []).append(scenario)
    for (verdict, reason), scenarios in alike.items():
        if len(scenarios) > 1 and reason:
            say(f"  {verdict.value:<16}  {len(scenarios)} scenarios, each: {reason}")
            for scenario in scenarios:
                step = f" (at step: {scenario.failed_step})" if scenario.failed_step else ""
                say(f"{_INDENT}{scenario.feature}: {scenario.scenario}{step}")
            continue
        for scenario in scenarios:
            say(f"  {verdict.value:<16}  {scenario.feature}: {scenario.scenario}")
            if scenario.failed_step:
                say(f"{_INDENT}at step: {scenario.failed_step}")
            if reason:
                say(f"{_INDENT}{reason}")
    waived = [scenario for scenario in run.scenarios if scenario.verdict is Verdict.WAIVED]
    if waived or run.unmatched_waivers:
        say("infragate: waived (known deviations, not failed while their waivers hold):")
    for scenario in waived:
        say(f"  {Verdict.WAIVED.value:<16}  {scenario.feature}: {scenario.scenario}")
        say(f"{_INDENT}{_one_line(scenario.message)}")
    for line in run.unmatched_waivers:
        say(f"  unmatched waiver  {line}")
    counts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(run.counts().items())) or "no scenario ran"
    meaning = RUN_VERDICT[run.exit_code]
    say(f"infragate: {meaning}: {counts} ({run.finished_at - run.started_at:.1f} s), exit {run.exit_code}")
    files = f"{HTML_FILE}, summary.md, {JUNIT_FILE}, {CUCUMBER_FILE}, {ALLURE_DIR}/, {EVIDENCE_FILE}"
    say(f"infragate: reports in {run_dir}/ ({files})")
