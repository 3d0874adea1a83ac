"""The infragate command line.

    infragate verify [--target FILE] [--tags EXPR] [--allow-destructive] [--allow-load] [--waivers FILE]
                     [--format text|json]
    infragate profile check FILE
    infragate waivers check FILE
    infragate trend --history DIR [--target NAME] [--window N] [--tolerance PCT] [--horizon DAYS]
                    [--fail-on-regression]
    infragate recover --target FILE
    infragate load --target FILE [--rate R] [--for T] [--workers N] [--mix KIND=W,...]
    infragate sandbox up|down|status|variants
    infragate features [--tags EXPR] [--features PATH]
    infragate --version

Every error ends in one line and a documented exit code (see ExitCode), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from infragate.errors import ExitCode, InfragateError, UsageError
from infragate.profile.reference import render_reference
from infragate.quantities import parse_duration, parse_rate
from infragate.reports.machine import run_document
from infragate.run import commands
from infragate.run.verify import VerifyRequest, lines_for_people_to_stderr, run_verify, say
from infragate.sandbox.spec import GATEWAY_KINDS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("infragate").strip()
        raise UsageError(f"{command}: {message}" if command else message)


EXIT_CODES = """exit codes (every command):
  0  conformant: every scenario that ran passed, and at least one ran
  1  non-conformant: at least one Then-step assertion failed
  2  could not verify: a probe could not do its job, nothing was verified, or the run was interrupted
  3  bad usage: wrong option, invalid profile, broken feature, no scenario matched
  4  refused by the safety policy: disruption or load without consent"""


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="infragate",
        description="Check a deployment against the promises of its design.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"infragate {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    verify = commands.add_parser("verify", help="run the conformance features against a target")
    verify.add_argument("--target", metavar="FILE", help="target profile; default: bring up the reference deployment")
    verify.add_argument("--variant", metavar="NAME", help="without --target: bring up this known-bad variant")
    verify.add_argument(
        "--tags",
        metavar="EXPR",
        type=_tag_expression,
        help='scenario selection, e.g. "not destructive and not load" (tags with or without their @)',
    )
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
    verify.add_argument(
        "--waivers", metavar="FILE", help="known deviations (reason, owner, expiry): reported as WAIVED, not failed"
    )
    verify.add_argument("--verbose", "-v", action="store_true", help="show every step as it runs")
    verify.add_argument(
        "--history", metavar="DIR", help="keep the run's figures in this history folder and flag regressions"
    )
    verify.add_argument(
        "--fail-on-regression", action="store_true", help="with --history: a regressed figure fails the gate (exit 1)"
    )
    verify.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: the run as one JSON document on stdout (lines for people go to stderr)",
    )

    profile = commands.add_parser("profile", help="work with target profiles")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True, parser_class=_Parser)
    check = profile_commands.add_parser("check", help="validate a profile")
    check.add_argument("file", metavar="FILE")
    profile_commands.add_parser("reference", help="print the profile reference (every key, type, default, meaning)")

    trend = commands.add_parser("trend", help="chart each figure of a target's runs and flag regressions")
    trend.add_argument("--history", metavar="DIR", required=True, help="the history folder verify --history kept")
    trend.add_argument("--target", metavar="NAME", help="the target (needed when the history holds several)")
    trend.add_argument(
        "--window", type=_positive_int, default=5, help="earlier runs the newest is compared with (default: 5)"
    )
    trend.add_argument(
        "--tolerance",
        type=float,
        default=10.0,
        help="percent worse than their median that is a regression (default: 10)",
    )
    trend.add_argument(
        "--horizon",
        type=float,
        default=7.0,
        help="days ahead: a figure on course to pass its declared bound is named (default: 7)",
    )
    trend.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when a figure regressed or is on course to cross"
    )

    waivers = commands.add_parser("waivers", help="work with waivers files")
    waivers_commands = waivers.add_subparsers(dest="waivers_command", required=True, parser_class=_Parser)
    waivers_check = waivers_commands.add_parser("check", help="validate a waivers file; name waivers ending soon")
    waivers_check.add_argument("file", metavar="FILE")

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
    up.add_argument(
        "--gateway",
        choices=GATEWAY_KINDS,
        default="nginx",
        help="the local deployment's gateway: nginx (leaky-bucket limits) or HAProxy (sliding-window limits)",
    )
    down = sandbox_commands.add_parser("down", help="stop it and verify nothing is left running")
    down.add_argument("--name", default="reference")
    status = sandbox_commands.add_parser("status", help="show its programs")
    status.add_argument("--name", default="reference")
    runtimes = {
        up: "local: processes under supervisord; swarm: the stack on a local single-node Docker Swarm; "
        "kubernetes: the marketplace's workload on a single-node cluster built from Kubernetes' Go modules",
        down: "which reference to stop: the local one (default), the Swarm stack or the Kubernetes cluster",
        status: "which reference to show: the local one (default), the Swarm stack or the Kubernetes cluster",
    }
    for command, meaning in runtimes.items():
        command.add_argument("--runtime", choices=("local", "swarm", "kubernetes"), default="local", help=meaning)
    variants = sandbox_commands.add_parser("variants", help="list the known-bad variants")
    variants.add_argument(
        "--table", action="store_true", help="a Markdown table of the built-in scenarios and their variants"
    )
    variants.set_defaults(runtime="local")

    features = commands.add_parser(
        "features", help="list the scenarios a run chooses from, with their tags and what they need"
    )
    features.add_argument(
        "--tags", metavar="EXPR", type=_tag_expression, help='only the scenarios this selects, e.g. "tls or gateway"'
    )
    features.add_argument(
        "--features", metavar="PATH", action="append", help="feature file or folder instead of the built-in ones"
    )
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("infragate")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the infragate command."""
    args: argparse.Namespace | None = None
    try:
        args = _build_parser().parse_args(argv)
        code = _dispatch(args)
    except InfragateError as exc:
        say(f"infragate: {exc}")
        code = exc.exit_code
        if getattr(args, "format", "text") == "json":  # the pipeline reads why, as it reads a verdict
            print(run_document(None, code, error=str(exc)), flush=True)
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


def _tag_expression(text: str) -> str:
    """A tag expression as pytest's -m reads it: tags may be written with their @, as in feature files."""
    return re.sub(r"@(?=\w)", "", text)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "verify":
        if args.format == "json":
            lines_for_people_to_stderr()
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
                waivers=args.waivers,
                format=args.format,
                history=Path(args.history) if args.history else None,
                fail_on_regression=args.fail_on_regression,
            )
        )
    if args.command == "load":
        return commands.load(args)
    if args.command == "profile" and args.profile_command == "reference":
        print(render_reference(), end="")
        return ExitCode.CONFORMANT
    if args.command == "profile":
        return commands.profile_check(Path(args.file))
    if args.command == "trend":
        return commands.show_trend(args)
    if args.command == "waivers":
        return commands.waivers_check(Path(args.file))
    if args.command == "recover":
        return commands.recover(Path(args.target))
    if args.command == "features":
        return commands.list_features(args.features or [], args.tags)
    return commands.sandbox(args)
