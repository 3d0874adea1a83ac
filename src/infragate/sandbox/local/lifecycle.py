"""Bringing the local reference deployment up and down.

``up`` reads as its steps: folders, ports and certificates, secrets, PostgreSQL's data folder,
Redis and the gateway's configuration, the programs under supervisord, seeding and the first
backups while the rest starts, then the profile and the state file. ``down`` stops everything and
proves that no process of the sandbox is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path

import requests
import urllib3
import yaml

from infragate.errors import ProbeError, SandboxError
from infragate.platforms.supervisor import SupervisorClient
from infragate.probes.backup.postgres import Dsn
from infragate.retry import retry
from infragate.sandbox import backup_job, binaries, pki
from infragate.sandbox.host import REDIS_USER, alive, chown_to, free_ports, is_root, sandbox_dir
from infragate.sandbox.local import database, gateway
from infragate.sandbox.local import prometheus_stack as monitoring
from infragate.sandbox.local.programs import (
    READY_TIMEOUT_S,
    DownReport,
    launch_supervisor,
    log_tail,
    program,
    replica_program,
    stop,
    wait_running,
)
from infragate.sandbox.local.reference_profile import exposure_promise, host_promises, reference_profile
from infragate.sandbox.local.state import PROFILE_FILE, SERVICE, STATE_FILE, SandboxState, write_registry
from infragate.sandbox.spec import SandboxSpec
from infragate.sandbox.variants import local_spec

SECRETS = ("postgres-password", "redis-password", "drill-password", "monitor-password", "s3-secret-access-key")
FOLDERS = ("logs", "programs", "secrets", "nginx/logs", "nginx/temp", "haproxy", "redis", "pg")


@dataclass(frozen=True)
class _Ports:
    https: int
    http: int
    postgres: int
    redis: int
    s3: int
    admin: int  # the first replica's admin console
    upstream: dict[str, int]
    watch: monitoring.MonitoringPorts | None  # the monitoring's ports, when it runs


def up(
    name: str = "reference", variant: str | None = None, root: Path | None = None, spec: SandboxSpec | None = None
) -> SandboxState:
    """Start the reference deployment (optionally a known-bad variant) and write its profile."""
    promised = spec or SandboxSpec()
    # The profile states what was promised; a variant changes only what is deployed.
    deployed = local_spec(variant, promised)
    directory = sandbox_dir(name, root)
    _clear_earlier(name, directory, root)
    binaries_found = binaries.find(deployed.gateway), binaries.find("redis-server"), binaries.postgres_bindir()
    started = time.monotonic()
    _make_folders(directory)
    try:
        ports = _allocate(deployed)
        _issue_certificates(directory, deployed)
        passwords = _write_secrets(directory, ports)
        state = _start(name, variant, promised, deployed, directory, ports, passwords, binaries_found)
        if deployed.gateway_conf_drift:
            gateway.drift(directory, deployed)
        if deployed.secret_copied:  # what a deploy script writing an env file for the API would leave
            (directory / "app.env").write_text(f"DATABASE_URL={passwords['postgres-dsn']}\n")
            (directory / "app.env").chmod(0o644)
    except BaseException:
        stop(directory)
        raise
    (directory / "logs" / "up.txt").write_text(f"sandbox up took {time.monotonic() - started:.2f} s\n")
    return state


def _clear_earlier(name: str, directory: Path, root: Path | None) -> None:
    if (directory / STATE_FILE).exists():
        existing = SandboxState.read(directory)
        if alive(existing.supervisor_pid):
            raise SandboxError(
                f"sandbox '{name}' is already up ({directory}); run `infragate sandbox down --name {name}`"
            )
        down(name, root)


def _make_folders(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    for folder in FOLDERS:
        (directory / folder).mkdir(parents=True, exist_ok=True)
    for parent in (directory.parent, directory):
        parent.chmod(0o755)
    (directory / "secrets").chmod(0o700)


def _allocate(spec: SandboxSpec) -> _Ports:
    replicas = spec.replica_names(SERVICE)
    watching = len(fields(monitoring.MonitoringPorts)) if spec.monitoring else 0
    https, http, postgres, redis, s3, admin, *rest = free_ports(6 + len(replicas) + watching)
    upstream = dict(zip(replicas, rest[: len(replicas)], strict=True))
    watched = monitoring.allocate(rest[len(replicas) :]) if watching else None
    return _Ports(https, http, postgres, redis, s3, admin, upstream, watched)


def _issue_certificates(directory: Path, spec: SandboxSpec) -> None:
    pki.issue(
        directory / "pki",
        ("other.example.test",) if spec.certificate == "wrong-host" else ("127.0.0.1", "localhost"),
        valid_days=5 if spec.certificate == "expiring" else 90,
        signed_by_other_ca=spec.certificate == "unknown-ca",
    )
    (directory / "pki" / "server.key").chmod(spec.key_mode)


def _write_secrets(directory: Path, ports: _Ports) -> dict[str, str]:
    values = {name: secrets.token_urlsafe(18) for name in SECRETS}
    values["postgres-dsn"] = f"postgresql://app:{values['postgres-password']}@127.0.0.1:{ports.postgres}/app"
    values["s3-access-key-id"] = database.S3_KEY_ID
    values["s3-keys"] = f"{database.S3_KEY_ID} {values['s3-secret-access-key']}"
    for secret_name, value in values.items():
        secret_file = directory / "secrets" / secret_name
        secret_file.write_text(value + "\n")
        secret_file.chmod(0o600)
    return values


def _redis(directory: Path, spec: SandboxSpec, redis_bin: Path, port: int, password: str) -> str:
    """Redis's program, as its own account when running as root (unless the spec leaves it as root,
    as someone starting the packaged server by hand would): its configuration, which holds the
    password, readable by that account only."""
    conf = directory / "redis" / "redis.conf"
    access = "bind * -::*\nprotected-mode no\n" if spec.redis_exposed else "bind 127.0.0.1\nprotected-mode yes\n"
    conf.write_text(
        f"{access}port {port}\ndaemonize no\ndir {directory / 'redis'}\n"
        + ("" if spec.redis_exposed else f"requirepass {password}\n")
        + "save 900 1\nsave 300 10\n"
        f"appendonly {'yes' if spec.redis_appendonly else 'no'}\n"
        "appendfsync everysec\n"
    )
    conf.chmod(0o600)
    chown_to(directory / "redis", REDIS_USER)
    own_account = is_root() and not spec.redis_as_root
    return program("redis", f"{redis_bin} {conf}", directory, **({"user": REDIS_USER} if own_account else {}))


def _gateway_command(directory: Path, spec: SandboxSpec, ports: _Ports) -> str:
    if ports.watch is not None:
        (directory / monitoring.FOLDER).mkdir(exist_ok=True)
    write_registry(directory, ports.upstream)
    status_port = ports.watch.gateway_status if ports.watch is not None else None
    conf = gateway.write_conf(directory, spec, ports.https, ports.http, ports.upstream, status_port=status_port)
    return gateway.command(directory, spec, conf)


def _start(
    name: str,
    variant: str | None,
    promised: SandboxSpec,
    spec: SandboxSpec,
    directory: Path,
    ports: _Ports,
    passwords: dict[str, str],
    found: tuple[Path, Path, Path],
) -> SandboxState:
    _, redis_bin, pg_bindir = found
    pg_data, pg_run, pgbackrest_conf = database.prepare_cluster(directory, pg_bindir, ports.postgres)
    programs = {
        "gateway": program("gateway", _gateway_command(directory, spec, ports), directory),
        "postgres": program(
            "postgres",
            f"{pg_bindir / 'postgres'} -D {pg_data} -c listen_addresses={spec.postgres_listen} "
            f"-c port={ports.postgres} -c unix_socket_directories={pg_run} -c shared_buffers=64MB -c archive_mode=on "
            f"-c archive_timeout={spec.wal_archive_timeout_s}",
            directory,
            stopsignal="INT",
            **({"user": "postgres"} if is_root() else {}),
        ),
        "redis": _redis(directory, spec, redis_bin, ports.redis, passwords["redis-password"]),
        "s3": program("s3", f"{sys.executable} -m moto.server -H 127.0.0.1 -p {ports.s3}", directory),
    }
    for index, (replica, port) in enumerate(ports.upstream.items()):
        programs[replica] = replica_program(spec, directory, replica, port, ports.admin if index == 0 else None)
    if ports.watch is not None:
        programs |= monitoring.programs(spec, directory, ports.watch, ports.postgres, ports.redis)
    for program_name, text in programs.items():
        (directory / "programs" / f"{program_name}.conf").write_text(text)
    supervisor, supervisor_pid = launch_supervisor(name, directory)
    _seed_and_back_up(
        supervisor,
        directory,
        spec,
        ports,
        passwords,
        database.psql_command(pg_bindir, pg_run, ports.postgres),
        pgbackrest_conf,
    )
    supervisor.reload_config()
    supervisor.add_group("backup-job")
    return _record(name, variant, promised, directory, supervisor, supervisor_pid, ports)


def _seed_and_back_up(
    supervisor: SupervisorClient,
    directory: Path,
    spec: SandboxSpec,
    ports: _Ports,
    passwords: dict[str, str],
    psql: list[str],
    pgbackrest_conf: Path,
) -> None:
    # PostgreSQL first: pgBackRest's first backup, the slowest part of `up`, runs while the rest starts.
    try:
        retry(
            lambda: subprocess.run([*psql, "-c", "select 1"], capture_output=True, check=True),
            READY_TIMEOUT_S,
            0.1,
            "PostgreSQL accepts connections",
        )
    except ProbeError as exc:
        raise SandboxError(f"{exc}; its log ends: {log_tail(directory, 'postgres')}") from None
    pgbackrest_backup = database.start_pgbackrest_backup(pgbackrest_conf, spec)
    try:
        seed = database.seed_sql(
            passwords["postgres-password"],
            passwords["drill-password"],
            passwords["monitor-password"],
            spec.restore_heavy,
        )
        seeded = subprocess.run([*psql, "-d", "postgres"], input=seed, capture_output=True, text=True, check=False)
        if seeded.returncode != 0:
            raise SandboxError(f"seeding PostgreSQL failed: {seeded.stderr.strip()}")
        _wait_answering(supervisor, directory, spec, ports)
        s3 = backup_job.S3Target(
            f"http://127.0.0.1:{ports.s3}", database.S3_URL, database.S3_KEY_ID, passwords["s3-secret-access-key"]
        )
        retry(lambda: s3.client().create_bucket(Bucket=s3.bucket), READY_TIMEOUT_S, 0.2, "the S3 store answers")
        database.backup_history(spec, directory, Dsn.parse(passwords["postgres-dsn"]), s3)
        database.finish_pgbackrest_backup(pgbackrest_backup, pgbackrest_conf, spec)
        if spec.wal_archive_fault:
            database.break_wal_archiving(psql, spec.wal_archive_fault, pgbackrest_conf)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgbackrest_backup.pid, signal.SIGKILL)
        pgbackrest_backup.wait()
        raise


def _wait_answering(supervisor: SupervisorClient, directory: Path, spec: SandboxSpec, ports: _Ports) -> None:
    """Every program runs, every started replica and the gateway answer HTTP, Redis accepts connections."""
    expected_running = {"gateway", "postgres", "redis", "s3", *(set(ports.upstream) - spec.stopped_replicas)}
    if ports.watch is not None:
        expected_running |= set(monitoring.program_names(spec)) - spec.stopped_programs
    wait_running(supervisor, expected_running, directory)
    session = requests.Session()
    for replica, port in ports.upstream.items():
        if replica not in spec.stopped_replicas:
            url = f"http://127.0.0.1:{port}/health"
            retry(partial(session.get, url, timeout=2), READY_TIMEOUT_S, 0.1, f"replica {replica} answers")
    # Only "does it answer": a variant may present a certificate no client should trust.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        url = f"https://127.0.0.1:{ports.https}/"
        retry(lambda: session.get(url, verify=False, timeout=2), READY_TIMEOUT_S, 0.1, "gateway answers")
    retry(
        lambda: socket.create_connection(("127.0.0.1", ports.redis), timeout=1).close(),
        READY_TIMEOUT_S,
        0.1,
        "Redis accepts connections",
    )
    if ports.watch is not None:
        monitoring.wait_ready(ports.watch.prometheus, ports.watch.alertmanager, READY_TIMEOUT_S)


def _record(
    name: str,
    variant: str | None,
    promised: SandboxSpec,
    directory: Path,
    supervisor: SupervisorClient,
    supervisor_pid: int,
    ports: _Ports,
) -> SandboxState:
    """Write the profile of what was promised and the state any later process needs to find the sandbox."""
    profile = directory / PROFILE_FILE
    gateway_url = f"https://127.0.0.1:{ports.https}"
    declared = reference_profile(
        "reference" + (f"-{variant}" if variant else ""),
        variant,
        promised,
        gateway_url,
        supervisor.url,
        f"http://127.0.0.1:{ports.http}",
        ports.postgres,
        ports.redis,
        ports.s3,
        ports.watch,
    )
    declared["hosts"] = host_promises(directory, promised, ports.postgres, ports.redis, ports.admin)
    given = [ports.https, ports.http, ports.postgres, ports.redis, ports.s3, ports.admin, *ports.upstream.values()]
    if is_root():  # a scan from a network namespace of its own needs root
        declared["exposure"] = exposure_promise([*given, *monitoring.named_ports(ports.watch).values()])
    profile.write_text(yaml.safe_dump(declared, sort_keys=False))
    state = SandboxState(
        name=name,
        variant=variant,
        directory=str(directory),
        profile=str(profile),
        supervisor_url=supervisor.url,
        supervisor_pid=supervisor_pid,
        gateway_url=gateway_url,
        started_at=time.time(),
        ports={
            "https": ports.https,
            "http": ports.http,
            "postgres": ports.postgres,
            "redis": ports.redis,
            "s3": ports.s3,
            "admin": ports.admin,
            **monitoring.named_ports(ports.watch),
            **ports.upstream,
        },
        gateway=promised.gateway,
    )
    (directory / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
    return state


def down(name: str = "reference", root: Path | None = None, keep_files: bool = False) -> DownReport:
    """Stop a sandbox and verify that none of its processes is left."""
    directory = sandbox_dir(name, root)
    if not directory.exists():
        raise SandboxError(f"no sandbox named '{name}' in {directory.parent}")
    report = stop(directory)
    if not keep_files and not report.left_running:
        shutil.rmtree(directory, ignore_errors=True)
    return DownReport(name, report.stopped, report.left_running, report.killed)


def status(name: str = "reference", root: Path | None = None) -> tuple[SandboxState, dict[str, str]]:
    """The recorded state of a sandbox and the supervisor's view of each program."""
    directory = sandbox_dir(name, root)
    state = SandboxState.read(directory)
    processes = {info.name: info.state for info in SupervisorClient(state.supervisor_url).processes()}
    return state, processes
