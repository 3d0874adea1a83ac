"""The infragate command line.

    infragate verify [--target FILE] [--tags EXPR] [--allow-destructive] [--allow-load]
    infragate profile check FILE
    infragate recover --target FILE
    infragate load --target FILE [--rate R] [--for T] [--workers N] [--mix KIND=W,...]
    infragate sandbox up|down|status|variants

Every error ends in one line and a documented exit code (see ExitCode), never a traceback.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from types import FrameType
from typing import NoReturn

from infragate.errors import ExitCode, InfragateError, UsageError
from infragate.journal import OWNER_WAIT_S, Journal, journal_root, undo_pending
from infragate.loadgen.report import LOAD_JSON, verdict_word, write_load_report
from infragate.loadgen.runner import progress_line
from infragate.probes.load import NOT_JUDGED, judge, offer_load, plan_for
from infragate.profile import Profile, load_profile
from infragate.profile.secrets import REDACTOR, redact_tree
from infragate.quantities import parse_duration, parse_rate
from infragate.report import CUCUMBER_FILE, EVIDENCE_FILE, HTML_FILE, JUNIT_FILE, RunRecord, write_reports
from infragate.safety import check_requested, consent_for
from infragate.sandbox import deployment
from infragate.sandbox.variants import VARIANTS, get_variant, scenario_table
from infragate.suite import BUILTIN_FEATURES, FEATURES_ENV, SUITE_INI, SUITE_MODULE
from infragate.undo import performer
from infragate.verdicts import Verdict

# The suite undoes its disruptions when told to stop; a restore may wait up to 90 s for replicas.
_CHILD_GRACE_S = OWNER_WAIT_S


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived; cleanup must still run."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("infragate").strip()
        raise UsageError(f"{command}: {message}" if command else message)


def _say(message: str) -> None:
    print(REDACTOR.redact(message), flush=True)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="infragate", description="Check a deployment against the promises of its design.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    verify = commands.add_parser("verify", help="run the conformance features against a target")
    verify.add_argument("--target", metavar="FILE", help="target profile; default: bring up the reference deployment")
    verify.add_argument("--variant", metavar="NAME", help="without --target: bring up this known-bad variant")
    verify.add_argument("--tags", metavar="EXPR", help='scenario selection, e.g. "not destructive and not load"')
    verify.add_argument(
        "--features",
        metavar="PATH",
        action="append",
        help="feature file or folder to run instead of the built-in features (repeatable)",
    )
    verify.add_argument(
        "--allow-destructive", action="store_true", help="run @destructive scenarios the profile allows"
    )
    verify.add_argument("--allow-load", action="store_true", help="run @load scenarios the profile allows")
    verify.add_argument("--reports", metavar="DIR", default="reports", help="where run folders go (default: reports)")
    verify.add_argument("--verbose", "-v", action="store_true", help="show every step as it runs")

    profile = commands.add_parser("profile", help="work with target profiles")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True, parser_class=_Parser)
    check = profile_commands.add_parser("check", help="validate a profile")
    check.add_argument("file", metavar="FILE")

    recover = commands.add_parser("recover", help="undo what a killed run left behind (from the recovery journal)")
    recover.add_argument("--target", metavar="FILE", required=True, help="the profile the killed run used")

    load = commands.add_parser("load", help="offer load to a target now and report latency, throughput, errors")
    load.add_argument(
        "--target", metavar="FILE", required=True, help="target profile (its load section is the default)"
    )
    load.add_argument("--rate", metavar="R", type=_rate_option, help="requests per second, e.g. 200 or 12000r/m")
    load.add_argument("--for", dest="duration", metavar="T", type=_duration_option, help="how long, e.g. 30s or 2m")
    load.add_argument(
        "--workers", metavar="N", type=_positive_int, help="Locust worker processes (default: profile, 1)"
    )
    load.add_argument(
        "--mix", metavar="KIND=W,...", type=_mix_option, help="request kinds and weights, e.g. browse=7,search=3"
    )
    load.add_argument(
        "--master-bind",
        metavar="HOST:PORT",
        type=_address_option,
        help="run only the Locust master here, bound to HOST:PORT, and wait for --workers N workers started "
        "elsewhere (the run folder's worker-command.sh starts one)",
    )
    load.add_argument("--reports", metavar="DIR", default="reports", help="where run folders go (default: reports)")

    sandbox = commands.add_parser("sandbox", help="the built-in reference deployment")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, parser_class=_Parser)
    up = sandbox_commands.add_parser("up", help="start it and write its profile")
    up.add_argument("--name", default="reference")
    up.add_argument("--variant", metavar="NAME", help="switch on one known defect (see `sandbox variants`)")
    down = sandbox_commands.add_parser("down", help="stop it and verify nothing is left running")
    down.add_argument("--name", default="reference")
    status = sandbox_commands.add_parser("status", help="show its programs")
    status.add_argument("--name", default="reference")
    for command in (up, down, status):
        command.add_argument(
            "--runtime",
            choices=("local", "swarm"),
            default="local",
            help="local: processes under supervisord; swarm: the stack on a local single-node Docker Swarm",
        )
    variants = sandbox_commands.add_parser("variants", help="list the known-bad variants")
    variants.add_argument(
        "--table", action="store_true", help="a Markdown table of the built-in scenarios and their variants"
    )
    variants.set_defaults(runtime="local")
    return parser


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the infragate command."""
    try:
        args = _build_parser().parse_args(argv)
        code = _dispatch(args)
    except InfragateError as exc:
        _say(f"infragate: {exc}")
        code = exc.exit_code
    except KeyboardInterrupt:
        _say("infragate: interrupted")
        code = ExitCode.COULD_NOT_VERIFY
    except Exception as exc:
        if os.environ.get("INFRAGATE_DEBUG"):
            raise
        _say(f"infragate: internal error: {type(exc).__name__}: {exc} (set INFRAGATE_DEBUG=1 for the traceback)")
        code = ExitCode.COULD_NOT_VERIFY
    sys.exit(int(code))


def _rate_option(text: str) -> float:
    try:
        return parse_rate(float(text) if text.replace(".", "", 1).isdigit() else text).per_second
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}, got {text!r}") from None


def _duration_option(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}, got {text!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration above 0, got {text!r}")
    return seconds


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _address_option(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, e.g. 0.0.0.0:5557, got {text!r}")
    return host.strip("[]"), int(port)


def _mix_option(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        try:
            mix[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected KIND=WEIGHT,... such as browse=7,search=3, got {text!r}"
            ) from None
        if not name.strip() or mix[name.strip()] < 0:
            raise argparse.ArgumentTypeError(f"expected KIND=WEIGHT,... such as browse=7,search=3, got {text!r}")
    return mix


def _load(args: argparse.Namespace) -> int:
    """An ad hoc load run: live progress, then objectives, self-check and an HTML report."""
    profile = load_profile(Path(args.target))
    # Running `infragate load` is the command line's consent; the profile must give its own.
    check_requested(profile.safety, profile.name, allow_destructive=False, allow_load=True)
    consent = consent_for(profile.safety, allow_destructive=False, allow_load=True)
    plan = plan_for(profile, args.rate, args.duration, args.workers, args.mix)
    if args.master_bind is not None and plan.sources:
        # load.sources are this machine's addresses; each worker elsewhere is a client address of its own.
        plan = dataclasses.replace(plan, sources=())
        _say("infragate: load.sources is not used: the workers started elsewhere send from their own addresses")
    run_dir = _run_dir(Path(args.reports), profile)
    _say(
        f"infragate: offering {plan.rate_per_s:g} requests/s for {plan.duration_s:g} s to '{profile.name}' "
        f"({plan.base_url}), mix {', '.join(f'{k}={v:g}' for k, v in plan.mix.items())}, {plan.workers} worker(s)"
    )
    result = offer_load(
        profile,
        plan,
        run_dir,
        consent,
        lambda row, plan: _say(progress_line(row, plan)),
        master_bind=args.master_bind,
        announce=lambda line: _say(f"infragate: {line}"),
    )
    checks = judge(result, profile.load.objectives if profile.load else None)
    page = write_load_report(result, checks, profile.name, run_dir)
    redact_tree(run_dir)
    _say(f"infragate: {result.summary()}")
    for name, problem in checks:
        word = verdict_word(problem)
        _say(f"  {word:<7}  {name}" + (f": {problem.removeprefix(NOT_JUDGED)}" if problem else ""))
    problem = result.self_check_problem()
    if problem is not None:
        _say(f"infragate: COULD NOT VERIFY: {problem}")
        code = ExitCode.COULD_NOT_VERIFY
    elif any(problem and not problem.startswith(NOT_JUDGED) for _, problem in checks):
        _say("infragate: NON-CONFORMANT: an objective is not met")
        code = ExitCode.NON_CONFORMANT
    else:
        _say("infragate: conformant" + (": every objective judged was met" if checks else " (no objectives declared)"))
        code = ExitCode.CONFORMANT
    _say(f"infragate: report in {page} (and {run_dir / LOAD_JSON})")
    return code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "verify":
        return _verify(args)
    if args.command == "load":
        return _load(args)
    if args.command == "profile":
        return _profile_check(Path(args.file))
    if args.command == "recover":
        return _recover(Path(args.target))
    return _sandbox(args)


def _profile_check(file: Path) -> int:
    profile = load_profile(file)
    _say(
        f"{file}: ok: target '{profile.name}' on platform {profile.platform.kind}, "
        f"{len(profile.gateway.routes)} route(s), {len(profile.services)} service(s), "
        f"environment {profile.safety.environment}"
    )
    return ExitCode.CONFORMANT


def _recover(target: Path) -> int:
    """Replay the undo of every disruption a killed run left pending, and verify each."""
    profile = load_profile(target)
    journal = Journal(journal_root(target, profile.name))
    pending = journal.pending()
    if not pending:
        _say(f"infragate: nothing to recover for target '{profile.name}' ({journal.root})")
        return ExitCode.CONFORMANT
    _say(f"infragate: {len(pending)} disruption(s) of target '{profile.name}' left pending; undoing them")
    report = undo_pending(journal, performer(profile))
    for line in report.undone:
        _say(f"  undone   {line}")
    for line in report.failed:
        _say(f"  FAILED   {line}")
    if not report.verified:
        _say("infragate: the target could NOT be verified back at its starting state")
        return ExitCode.COULD_NOT_VERIFY
    _say("infragate: recovered; the target is verified back at its starting state")
    return ExitCode.CONFORMANT


def _swarm_sandbox(args: argparse.Namespace) -> int:
    """The Swarm reference stack: up (image built when missing), down (verified gone), status."""
    from infragate.sandbox import swarm  # the docker SDK loads only for Swarm work

    name = args.name if args.name != "reference" else "swarm"
    if args.sandbox_command == "up":
        state = swarm.up(name, args.variant)
        built = f"image built in {state.image_build_s:.1f} s, " if state.image_build_s else "image cached, "
        _say(f"swarm stack '{state.stack}' up: {built}deployed and healthy in {state.deploy_s:.1f} s")
        _say(f"gateway: {state.gateway_url}")
        _say(f"profile: {state.profile}")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "down":
        left = swarm.down(name)
        if left:
            _say(f"swarm stack '{name}': still there: {', '.join(left)}")
            return ExitCode.COULD_NOT_VERIFY
        _say(f"swarm stack '{name}' removed; verified that none of its containers, networks or secrets is left")
        return ExitCode.CONFORMANT
    for stack in swarm.running_stacks():
        _say(f"swarm stack {stack}")
    return ExitCode.CONFORMANT


def _sandbox(args: argparse.Namespace) -> int:
    if args.sandbox_command == "variants" and args.table:
        print(scenario_table([str(BUILTIN_FEATURES)]), end="")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "variants":
        for variant in VARIANTS.values():
            _say(f"{variant.name}{' (--runtime swarm)' if variant.runtime == 'swarm' else ''}: {variant.summary}")
            for failure in variant.breaks:
                _say(f"    fails '{failure.scenario}' at '{failure.step}'")
        return ExitCode.CONFORMANT
    if args.runtime == "swarm":
        return _swarm_sandbox(args)
    if args.sandbox_command == "up":
        if args.variant:
            get_variant(args.variant)
        started = time.monotonic()
        state = deployment.up(args.name, args.variant)
        _say(f"sandbox '{state.name}' up in {time.monotonic() - started:.1f} s: gateway {state.gateway_url}")
        _say(f"profile: {state.profile}")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "down":
        report = deployment.down(args.name)
        if report.left_running:
            _say(f"sandbox '{args.name}': processes still running: {', '.join(map(str, report.left_running))}")
            return ExitCode.COULD_NOT_VERIFY
        _say(f"sandbox '{args.name}' down; verified that none of its processes is left")
        return ExitCode.CONFORMANT
    state, processes = deployment.status(args.name)
    _say(f"sandbox '{state.name}' (variant: {state.variant or 'none'}), gateway {state.gateway_url}")
    _say(f"profile: {state.profile}")
    for name, process_state in processes.items():
        _say(f"  {name:<12} {process_state}")
    return ExitCode.CONFORMANT


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def _verify(args: argparse.Namespace) -> int:
    if args.variant and args.target:
        raise UsageError("verify: --variant brings up the reference deployment and cannot go with --target")
    if args.variant:
        get_variant(args.variant)
    for path in args.features or []:
        if not Path(path).exists():
            raise UsageError(f"verify: --features: no such file or folder: {path}")
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    sandbox_name: str | None = None
    finished: tuple[RunRecord, Path] | None = None
    code: int = ExitCode.COULD_NOT_VERIFY
    try:
        if args.target:
            target = Path(args.target)
        else:
            sandbox_name = f"verify-{os.getpid()}"
            _say(
                "infragate: bringing up the reference deployment"
                + (f" with known defect '{args.variant}'" if args.variant else "")
                + " ..."
            )
            started = time.monotonic()
            state = deployment.up(sandbox_name, args.variant)
            _say(
                f"infragate: reference deployment up in {time.monotonic() - started:.1f} s "
                f"(gateway {state.gateway_url})"
            )
            target = Path(state.profile)
            # The sandbox is ours and disposable: the full run includes destructive and load scenarios.
            args.allow_destructive = args.allow_load = True
        profile = load_profile(target)
        check_requested(profile.safety, profile.name, args.allow_destructive, args.allow_load)
        finished = _run_suite(profile, target, args)
        code = finished[0].exit_code
    except _Interrupted as exc:
        _say(f"infragate: interrupted by {exc}; cleaning up")
        code = ExitCode.COULD_NOT_VERIFY
    finally:
        if sandbox_name is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            report = deployment.down(sandbox_name)
            if report.left_running:
                note = f"reference deployment NOT cleaned up: pids {list(report.left_running)} still run"
                code = max(code, ExitCode.COULD_NOT_VERIFY) if code != ExitCode.NON_CONFORMANT else code
            else:
                note = "reference deployment torn down; verified that none of its processes is left"
            _say(f"infragate: {note}")
            if finished is not None:
                finished[0].notes.append(note)
                write_reports(*finished)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def _run_dir(base: Path, profile: Profile) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = base / f"{stamp}-{profile.name}"
    suffix = 1
    while directory.exists():
        suffix += 1
        directory = base / f"{stamp}-{profile.name}-{suffix}"
    directory.mkdir(parents=True)
    return directory


def _run_suite(profile: Profile, target: Path, args: argparse.Namespace) -> tuple[RunRecord, Path]:
    """Run the features in a child pytest; its reports land in a new run folder."""
    run_dir = _run_dir(Path(args.reports), profile)
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
        "--junitxml",
        str(run_dir / JUNIT_FILE),
        "--cucumberjson",
        str(run_dir / CUCUMBER_FILE),
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
    if args.features:
        env[FEATURES_ENV] = os.pathsep.join(str(Path(path).resolve()) for path in args.features)
    _say(f"infragate: verifying target '{profile.name}' ({target})")
    # Ctrl-C or SIGTERM while the suite is being started must not leave it running unseen: hold the
    # signals until the child is known (it starts with them unblocked), then stop it in order.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        child = subprocess.Popen(
            command,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=partial(_prepare_child, os.getpid()),
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        raise
    try:
        # A signal that came while the child started is delivered here, with the child known.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        _, errors = child.communicate()
    except _Interrupted:
        _stop_child(child)
        _undo_what_the_suite_left(profile, target, run_id)
        redact_tree(run_dir)
        raise
    _undo_what_the_suite_left(profile, target, run_id)
    redact_tree(run_dir)  # again here: whatever the suite wrote, also if it was killed before it could
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
            f"verify: no scenario matched (--tags {args.tags!r})"
            if args.tags
            else "verify: no scenario found in the features"
        )
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
    _say(f"infragate: stopping the suite; it undoes its disruptions first (up to {_CHILD_GRACE_S:g} s)")
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
    if not any(owner.run_id == run_id for owner, _ in journal.pending()):
        return
    _say("infragate: the suite left disruptions pending; undoing them")
    report = undo_pending(journal, performer(profile), only_this_run=True)
    for line in report.undone:
        _say(f"  undone   {line}")
    for line in report.failed:
        _say(f"  FAILED   {line}")
    if not report.verified:  # the suite's report says so too, where it got to write one
        _say(
            "infragate: the target could NOT be verified back at its starting state; "
            f"see `infragate recover --target {target}`"
        )


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "E ", "infragate"))]
    return (errors or lines or [""])[-1].removeprefix("ERROR: ")


def _print_summary(run: RunRecord, run_dir: Path) -> None:
    """Findings first (each scenario's line was already printed as it ended), then the verdict."""
    findings = [scenario for scenario in run.scenarios if scenario.verdict is not Verdict.CONFORMANT]
    if findings or run.collection_errors:
        _say("infragate: findings:")
    for line in run.collection_errors:
        _say(f"  USAGE  {line}")
    for scenario in findings:
        _say(f"  {scenario.verdict.mark:<5}  {scenario.feature}: {scenario.scenario}")
        if scenario.failed_step:
            _say(f"         at step: {scenario.failed_step}")
        if scenario.message:
            _say(f"         {scenario.message.splitlines()[0][:400]}")
    counts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(run.counts().items())) or "no scenario ran"
    meaning = {0: "conformant", 1: "NON-CONFORMANT", 2: "COULD NOT VERIFY", 3: "BAD USAGE", 4: "REFUSED"}[run.exit_code]
    _say(f"infragate: {meaning}: {counts} ({run.finished_at - run.started_at:.1f} s)")
    _say(f"infragate: reports in {run_dir}/ ({HTML_FILE}, summary.md, {JUNIT_FILE}, {CUCUMBER_FILE}, {EVIDENCE_FILE})")
