"""Run a load plan: Locust in child processes (it monkey-patches its interpreter with gevent).

One process for one worker; with more, a Locust master and N workers on this machine, bound to
127.0.0.1. The master (or the single process) writes every worker's messages as JSON lines into
the run folder; this side follows that file for live progress and merges it into a LoadResult.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infragate.errors import ProbeError, UsageError
from infragate.loadgen.plan import OUT_ENV, PLAN_ENV, RAW_ENV, LoadPlan
from infragate.loadgen.result import LoadResult, Second, read_records, result_from_records, seconds_of
from infragate.safety import Consent

STARTUP_S = 30.0
WORKER_WAIT_S = 300  # workers started elsewhere (pods, other machines) have this long to connect
WORKER_COMMAND_FILE = "worker-command.sh"
MASTER_HOST_ENV = "INFRAGATE_MASTER_HOST"
MASTER_HOST_MARK = "@MASTER_HOST@"
RECORDS_FILE = "load-records.jsonl"
LOG_FILE = "locust.log"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _locust(locustfile: Path, plan: LoadPlan, *role: str) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--loglevel", "WARNING"]
    command += ["--only-summary", "--exit-code-on-error", "0", "--stop-timeout", "5", *role]
    if plan.user_class:
        command.append(plan.user_class)
    return command


def _startup_s(master_bind: tuple[str, int] | None) -> float:
    return STARTUP_S + (WORKER_WAIT_S if master_bind else 0.0)


def _commands(locustfile: Path, plan: LoadPlan, master_bind: tuple[str, int] | None) -> list[list[str]]:
    """The Locust processes to start here: one; a master and its workers; or only a master (workers elsewhere)."""
    cap = f"{int(_startup_s(master_bind) + plan.duration_s + plan.timeout_s + 10)}s"
    if plan.workers == 1 and master_bind is None:
        return [_locust(locustfile, plan, "-u", "1", "-r", "1", "--run-time", cap)]
    host, port = master_bind or ("127.0.0.1", _free_port())
    count = str(plan.workers)
    master = _locust(locustfile, plan, "--master", "--master-bind-host", host, "--master-bind-port", str(port))
    master += ["--expect-workers", count, "-u", count, "-r", count, "--run-time", cap]
    if master_bind is not None:
        return [[*master, "--expect-workers-max-wait", str(WORKER_WAIT_S)]]
    return [master] + [worker_command(locustfile, plan, host, port)] * plan.workers


def worker_command(locustfile: Path, plan: LoadPlan, master_host: str, master_port: int) -> list[str]:
    """A Locust worker of the plan (it also needs the plan in INFRAGATE_LOAD_PLAN)."""
    return _locust(locustfile, plan, "--worker", "--master-host", master_host, "--master-port", str(master_port))


def _write_worker_command(folder: Path, locustfile: Path, plan: LoadPlan, master: tuple[str, int]) -> Path:
    """A shell script that starts one worker for a master bound elsewhere: what to run in each pod.

    The master's address comes from INFRAGATE_MASTER_HOST where set (a master bound to 0.0.0.0 is
    reached at its pod's or machine's address), else from the bind address.
    """
    command = worker_command(locustfile, plan, MASTER_HOST_MARK, master[1])
    command[0] = "python3"
    line = shlex.join(command).replace(MASTER_HOST_MARK, f'"${{{MASTER_HOST_ENV}:-{master[0]}}}"')
    script = folder / WORKER_COMMAND_FILE
    script.write_text(
        "#!/bin/sh\n"
        f"# One infragate load worker: run it on each of {plan.workers} machines or pods, with the scenario\n"
        f"# file at the same path (or change -f) and {MASTER_HOST_ENV} set to the master's address.\n"
        f"export {PLAN_ENV}={shlex.quote(plan.to_json())}\n"
        f"exec {line}\n"
    )
    script.chmod(0o755)
    return script


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
    deadline = time.monotonic() + 5
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_load(
    plan: LoadPlan,
    locustfile: Path,
    folder: Path,
    consent: Consent,
    progress: Callable[[Second, LoadPlan], None] | None = None,
    raw_samples: bool = False,
    master_bind: tuple[str, int] | None = None,
    announce: Callable[[str], None] | None = None,
) -> LoadResult:
    """Offer the plan through Locust and return what was measured; ProbeError when the run itself failed.

    With master_bind, only the master runs here, bound to that address; the plan's workers are
    started elsewhere (announce is told how) and have WORKER_WAIT_S to connect. Nothing is sent
    unless `consent` allows load: the engine checks, whatever called it.
    """
    consent.require_load(f"offer {plan.rate_per_s:g} requests/s for {plan.duration_s:g} s to {plan.base_url}")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    records_path = folder / RECORDS_FILE
    records_path.unlink(missing_ok=True)
    env = dict(os.environ, **{PLAN_ENV: plan.to_json(), OUT_ENV: str(records_path)})
    if raw_samples:
        env[RAW_ENV] = str(folder / "raw")
    if master_bind is not None:
        script = _write_worker_command(folder, locustfile, plan, master_bind)
        if announce is not None:
            announce(
                f"waiting up to {WORKER_WAIT_S} s for {plan.workers} worker(s) on {master_bind[0]}:{master_bind[1]}; "
                f"start each with {script}"
            )
    processes: list[subprocess.Popen[bytes]] = []
    with open(folder / LOG_FILE, "ab") as log:
        try:
            for command in _commands(locustfile, plan, master_bind):
                # Locust reads locust.conf and pyproject.toml from its working folder: give it the run folder.
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=folder,
                        env=env,
                        stdout=log,
                        stderr=log,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            _follow(processes, records_path, plan, progress, _startup_s(master_bind))
        finally:
            _stop(processes)
    records = read_records(records_path)
    failures = [record for record in records if record.get("type") == "error"]
    if failures:
        raise UsageError(f"load scenario {locustfile}: {failures[0]['message']}")
    if not any(record.get("type") == "final" for record in records):
        tail = (folder / LOG_FILE).read_text(errors="replace").strip().splitlines()[-3:]
        raise ProbeError(f"the load generator stopped without a result: {' / '.join(tail) or 'no output'}")
    return result_from_records(plan, records)


def _follow(
    processes: list[subprocess.Popen[bytes]],
    records_path: Path,
    plan: LoadPlan,
    progress: Callable[[Second, LoadPlan], None] | None,
    startup_s: float,
) -> None:
    budget_s = startup_s + plan.duration_s + plan.timeout_s + 20
    deadline = time.monotonic() + budget_s
    shown = 0
    while processes[0].poll() is None:
        if time.monotonic() > deadline:
            raise ProbeError(f"the load generator did not finish within {budget_s:.0f} s; stopped it")
        time.sleep(0.25)
        if progress is None:
            continue
        # Only the seconds not shown yet, and only once every worker has reported them, are merged.
        by_second: dict[int, list[dict[str, Any]]] = {}
        for record in read_records(records_path):
            if record.get("type") == "interval" and int(record["second"]) > shown:
                by_second.setdefault(int(record["second"]), []).append(record)
        ready = [record for second, records in by_second.items() if len(records) >= plan.workers for record in records]
        for row in seconds_of(ready):
            progress(row, plan)
            shown = max(shown, row.second)


def progress_line(row: Second, plan: LoadPlan) -> str:
    """One live line: where the run is, what was answered in the last second."""
    return (
        f"  load {row.second:>3}/{plan.duration_s:g} s  offered {plan.rate_per_s:g}/s  answered {row.ended}/s  "
        f"p95 {row.p95_ms:7.1f} ms  p99 {row.p99_ms:7.1f} ms  errors {row.errors}  throttled {row.throttled}  "
        f"late {row.late}"
    )
