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
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from infragate.errors import ExitCode, InfragateError, UsageError
from infragate.loadgen.load_page import LOAD_JSON, verdict_word, write_load_report
from infragate.loadgen.runner import progress_line
from infragate.probes.load import judge, offer_load, plan_for
from infragate.profile import load_profile
from infragate.profile.secrets import redact_tree
from infragate.quantities import parse_duration, parse_rate
from infragate.recovery.journal import Journal, journal_root, undo_pending
from infragate.recovery.undo import performer
from infragate.run.verify import VerifyRequest, new_run_dir, run_verify, say
from infragate.safety import check_requested, consent_for
from infragate.sandbox import local
from infragate.sandbox.variants import VARIANTS, get_variant, scenario_table
from infragate.suite import BUILTIN_FEATURES
from infragate.verdicts import Outcome


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("infragate").strip()
        raise UsageError(f"{command}: {message}" if command else message)


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
        say(f"infragate: {exc}")
        code = exc.exit_code
    except KeyboardInterrupt:
        say("infragate: interrupted")
        code = ExitCode.COULD_NOT_VERIFY
    except Exception as exc:
        if os.environ.get("INFRAGATE_DEBUG"):
            raise
        say(f"infragate: internal error: {type(exc).__name__}: {exc} (set INFRAGATE_DEBUG=1 for the traceback)")
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
        say("infragate: load.sources is not used: the workers started elsewhere send from their own addresses")
    run_dir = new_run_dir(Path(args.reports), profile)
    say(
        f"infragate: offering {plan.rate_per_s:g} requests/s for {plan.duration_s:g} s to '{profile.name}' "
        f"({plan.base_url}), mix {', '.join(f'{k}={v:g}' for k, v in plan.mix.items())}, {plan.workers} worker(s)"
    )
    result = offer_load(
        profile,
        plan,
        run_dir,
        consent,
        lambda row, plan: say(progress_line(row, plan)),
        master_bind=args.master_bind,
        announce=lambda line: say(f"infragate: {line}"),
    )
    checks = judge(result, profile.load.objectives if profile.load else None)
    page = write_load_report(result, checks, profile.name, run_dir)
    redact_tree(run_dir)
    say(f"infragate: {result.summary()}")
    for check in checks:
        say(f"  {verdict_word(check):<7}  {check.name}" + ("" if check.met else f": {check.explain()}"))
    problem = result.self_check_problem()
    if problem is not None:
        say(f"infragate: COULD NOT VERIFY: {problem}")
        code = ExitCode.COULD_NOT_VERIFY
    elif any(check.outcome is Outcome.NOT_MET for check in checks):
        say("infragate: NON-CONFORMANT: an objective is not met")
        code = ExitCode.NON_CONFORMANT
    else:
        say("infragate: conformant" + (": every objective judged was met" if checks else " (no objectives declared)"))
        code = ExitCode.CONFORMANT
    say(f"infragate: report in {page} (and {run_dir / LOAD_JSON})")
    return code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "verify":
        return run_verify(
            VerifyRequest(
                target=args.target,
                variant=args.variant,
                tags=args.tags,
                features=tuple(args.features or ()),
                allow_destructive=args.allow_destructive,
                allow_load=args.allow_load,
                reports=Path(args.reports),
                verbose=args.verbose,
            )
        )
    if args.command == "load":
        return _load(args)
    if args.command == "profile":
        return _profile_check(Path(args.file))
    if args.command == "recover":
        return _recover(Path(args.target))
    return _sandbox(args)


def _profile_check(file: Path) -> int:
    profile = load_profile(file)
    say(
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
        say(f"infragate: nothing to recover for target '{profile.name}' ({journal.root})")
        return ExitCode.CONFORMANT
    say(f"infragate: {len(pending)} disruption(s) of target '{profile.name}' left pending; undoing them")
    report = undo_pending(journal, performer(profile))
    for line in report.undone:
        say(f"  undone   {line}")
    for line in report.failed:
        say(f"  FAILED   {line}")
    if not report.verified:
        say("infragate: the target could NOT be verified back at its starting state")
        return ExitCode.COULD_NOT_VERIFY
    say("infragate: recovered; the target is verified back at its starting state")
    return ExitCode.CONFORMANT


def _swarm_sandbox(args: argparse.Namespace) -> int:
    """The Swarm reference stack: up (image built when missing), down (verified gone), status."""
    from infragate.sandbox import swarm  # the docker SDK loads only for Swarm work

    name = args.name if args.name != "reference" else "swarm"
    if args.sandbox_command == "up":
        state = swarm.up(name, args.variant)
        built = f"image built in {state.image_build_s:.1f} s, " if state.image_build_s else "image cached, "
        say(f"swarm stack '{state.stack}' up: {built}deployed and healthy in {state.deploy_s:.1f} s")
        say(f"gateway: {state.gateway_url}")
        say(f"profile: {state.profile}")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "down":
        left = swarm.down(name)
        if left:
            say(f"swarm stack '{name}': still there: {', '.join(left)}")
            return ExitCode.COULD_NOT_VERIFY
        say(f"swarm stack '{name}' removed; verified that none of its containers, networks or secrets is left")
        return ExitCode.CONFORMANT
    for stack in swarm.running_stacks():
        say(f"swarm stack {stack}")
    return ExitCode.CONFORMANT


def _sandbox(args: argparse.Namespace) -> int:
    if args.sandbox_command == "variants" and args.table:
        print(scenario_table([str(BUILTIN_FEATURES)], VARIANTS), end="")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "variants":
        for variant in VARIANTS.values():
            say(f"{variant.name}{' (--runtime swarm)' if variant.runtime == 'swarm' else ''}: {variant.summary}")
            for failure in variant.breaks:
                say(f"    fails '{failure.scenario}' at '{failure.step}'")
        return ExitCode.CONFORMANT
    if args.runtime == "swarm":
        return _swarm_sandbox(args)
    if args.sandbox_command == "up":
        if args.variant:
            get_variant(args.variant)
        started = time.monotonic()
        state = local.up(args.name, args.variant)
        say(f"sandbox '{state.name}' up in {time.monotonic() - started:.1f} s: gateway {state.gateway_url}")
        say(f"profile: {state.profile}")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "down":
        report = local.down(args.name)
        if report.left_running:
            say(f"sandbox '{args.name}': processes still running: {', '.join(map(str, report.left_running))}")
            return ExitCode.COULD_NOT_VERIFY
        say(f"sandbox '{args.name}' down; verified that none of its processes is left")
        return ExitCode.CONFORMANT
    state, processes = local.status(args.name)
    say(f"sandbox '{state.name}' (variant: {state.variant or 'none'}), gateway {state.gateway_url}")
    say(f"profile: {state.profile}")
    for name, process_state in processes.items():
        say(f"  {name:<12} {process_state}")
    return ExitCode.CONFORMANT
