"""What the command line's commands other than verify do: an ad hoc load run, recovery from a killed
run's journal, profile checks, and the sandbox commands. Each returns its exit code."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import time
from pathlib import Path

from infragate.errors import ExitCode, UsageError
from infragate.history.gate import trend
from infragate.loadgen.load_page import LOAD_JSON, verdict_word, write_load_report
from infragate.loadgen.runner import progress_line
from infragate.probes.load import judge, offer_load, plan_for
from infragate.profile import load_profile
from infragate.profile.secrets import redact_tree
from infragate.recovery.journal import Journal, journal_root, undo_pending
from infragate.recovery.undo import performer
from infragate.run.verify import new_run_dir, say
from infragate.safety import check_requested, consent_for
from infragate.sandbox import local
from infragate.sandbox.spec import GATEWAY_KINDS, SandboxSpec
from infragate.sandbox.variants import VARIANTS, get_variant, local_spec, scenario_table
from infragate.suite import BUILTIN_FEATURES
from infragate.verdicts import Outcome
from infragate.waivers.waiver_file import load_waivers


def load(args: argparse.Namespace) -> int:
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
        say(f"infragate: could not verify: {problem}")
        code = ExitCode.COULD_NOT_VERIFY
    elif any(check.outcome is Outcome.NOT_MET for check in checks):
        say("infragate: non-conformant: an objective is not met")
        code = ExitCode.NON_CONFORMANT
    else:
        say("infragate: conformant" + (": every objective judged was met" if checks else " (no objectives declared)"))
        code = ExitCode.CONFORMANT
    say(f"infragate: report in {page} (and {run_dir / LOAD_JSON})")
    return code


def profile_check(file: Path) -> int:
    profile = load_profile(file)
    say(
        f"{file}: ok: target '{profile.name}' on platform {profile.platform.kind}, "
        f"{len(profile.gateway.routes)} route(s), {len(profile.services)} service(s), "
        f"environment {profile.safety.environment}"
    )
    return ExitCode.CONFORMANT


SOON_DAYS = 14  # a waiver that ends within this many days is named, so that it is renewed or fixed in time


def waivers_check(file: Path, today: datetime.date | None = None) -> int:
    """Validate a waivers file (an expired waiver is an error, exit 3) and name those ending soon."""
    today = today or datetime.date.today()
    waivers = load_waivers(file, today)
    say(f"{file}: ok: {len(waivers)} waiver(s)")
    for waiver in sorted(waivers, key=lambda item: item.expires):
        left = (waiver.expires - today).days
        if left <= SOON_DAYS:
            ends = waiver.expires.isoformat()
            say(f"  ends in {left} day(s), on {ends}: the waiver of {waiver.label} ({waiver.owner})")
    return ExitCode.CONFORMANT


def show_trend(args: argparse.Namespace) -> int:
    """`infragate trend`: the trend page of a target's history, and its regressions."""
    if not 0 <= args.tolerance < 1000:
        raise UsageError(f"trend: --tolerance: expected a percentage from 0, got {args.tolerance:g}")
    if not 0 <= args.horizon <= 3650:
        raise UsageError(f"trend: --horizon: expected days from 0 to 3650, got {args.horizon:g}")
    found = trend(Path(args.history), args.target, args.window, args.tolerance / 100, horizon_days=args.horizon)
    runs = max((len(series.points) for series in found.series), default=0)
    say(f"infragate: trend of '{found.target}': {len(found.series)} figures over {runs} runs; page {found.page}")
    for finding in found.regressions:
        say(f"  {finding.LABEL:<17} {finding.line()}")
    if not found.regressions:
        say("infragate: no figure regressed or is on course to pass its declared bound")
        return ExitCode.CONFORMANT
    return ExitCode.NON_CONFORMANT if args.fail_on_regression else ExitCode.CONFORMANT


def recover(target: Path) -> int:
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


def swarm_sandbox(args: argparse.Namespace) -> int:
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


def kubernetes_sandbox(args: argparse.Namespace) -> int:
    """The Kubernetes reference cluster: up (built binaries needed), down (verified gone), status."""
    from infragate.sandbox.kubernetes import cluster  # the kubernetes client loads only for cluster work

    name = args.name if args.name != "reference" else "kubernetes"
    if args.sandbox_command == "up":
        state = cluster.up(name, args.variant)
        say(f"kubernetes cluster '{state.name}' up in {state.up_s:.1f} s: API {state.api_url}")
        say(f"kubeconfig: {state.kubeconfig}")
        say(f"gateway: {state.gateway_url}")
        say(f"profile: {state.profile}")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "down":
        report, left = cluster.down(name)
        if left or report.left_running:
            still = [*left, *(f"process {pid}" for pid in report.left_running)]
            say(f"kubernetes cluster '{name}': still there: {', '.join(still)}")
            return ExitCode.COULD_NOT_VERIFY
        say(
            f"kubernetes cluster '{name}' down; verified that none of its processes, mounts, network namespaces, "
            "links, iptables chains or cgroups is left"
        )
        return ExitCode.CONFORMANT
    state = cluster.status(name)
    say(f"kubernetes cluster '{state.name}': API {state.api_url}, gateway {state.gateway_url}")
    say(f"kubeconfig: {state.kubeconfig}")
    say(f"profile: {state.profile}")
    return ExitCode.CONFORMANT


def sandbox(args: argparse.Namespace) -> int:
    if args.sandbox_command == "variants" and args.table:
        print(scenario_table([str(BUILTIN_FEATURES)], VARIANTS), end="")
        return ExitCode.CONFORMANT
    if args.sandbox_command == "variants":
        for variant in VARIANTS.values():
            only = f" (--runtime {variant.runtime})" if variant.runtime != "local" else ""
            if variant.runtime == "local" and variant.gateways != GATEWAY_KINDS:
                only = f" ({' or '.join(variant.gateways)} gateway only)"
            say(f"{variant.name}{only}: {variant.summary}")
            for failure in variant.breaks:
                say(f"    fails '{failure.scenario}' at '{failure.step}'")
        return ExitCode.CONFORMANT
    if args.runtime != "local" and getattr(args, "gateway", "nginx") != "nginx":
        raise UsageError(
            f"sandbox up: --gateway is for the local runtime; the {args.runtime} reference's gateway is nginx"
        )
    if args.runtime == "swarm":
        return swarm_sandbox(args)
    if args.runtime == "kubernetes":
        return kubernetes_sandbox(args)
    if args.sandbox_command == "up":
        if args.variant:
            get_variant(args.variant)
            local_spec(args.variant, SandboxSpec(gateway=args.gateway))  # refuses a defect of the other gateway
        started = time.monotonic()
        state = local.up(args.name, args.variant, spec=SandboxSpec(gateway=args.gateway))
        say(
            f"sandbox '{state.name}' up in {time.monotonic() - started:.1f} s: "
            f"{state.gateway} gateway {state.gateway_url}"
        )
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
    say(f"sandbox '{state.name}' (variant: {state.variant or 'none'}), {state.gateway} gateway {state.gateway_url}")
    say(f"profile: {state.profile}")
    for name, process_state in processes.items():
        say(f"  {name:<12} {process_state}")
    return ExitCode.CONFORMANT


def list_features(paths: list[str], tags: str | None) -> int:
    """Print the scenarios of these features (default: the built-in ones) that the tags select."""
    from infragate.run.features import render, scenarios

    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        raise UsageError(f"--features: no such file or folder: {', '.join(missing)}")
    found = scenarios(paths or [str(BUILTIN_FEATURES)], tags)
    if not found:
        raise UsageError(f"no scenario matched --tags {tags!r}" if tags else "no scenario in the features given")
    print(render(found), end="")
    return ExitCode.CONFORMANT
