"""Bringing the reference deployment up and down under a real process supervisor.

Everything runs on 127.0.0.1 on free ports, under one supervisord per sandbox: the nginx gateway,
the backend replicas, PostgreSQL (as the ``postgres`` user when run as root) and Redis. ``up``
writes the profile that describes what it started; ``down`` stops everything and proves that no
process of the sandbox is left.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import requests
import urllib3
import yaml

from infragate.errors import ProbeError, SandboxError, UsageError
from infragate.platforms.supervisor import SupervisorClient
from infragate.probes.backup.layout import Manifest, parse_folder_name
from infragate.probes.backup.postgres import SERVER_USER, Dsn, as_server_user
from infragate.retry import retry
from infragate.sandbox import backup_job, binaries, nginx, pki
from infragate.sandbox.spec import (
    BACKUP_INTERVAL_S,
    BACKUP_RETENTION_S,
    CORS_ALLOWED_ORIGIN,
    CORS_HEADERS,
    CORS_METHODS,
    MAX_PROBE_REQUESTS,
    SECURITY_HEADERS,
    SandboxSpec,
)
from infragate.sandbox.variants import get_variant

STATE_FILE = "state.json"
PROFILE_FILE = "profile.yaml"
SERVICE = "api"
READY_TIMEOUT_S = 60.0
MAX_REPLICAS = 10  # the declared autoscaling bound, as in the marketplace seed (3 to 10)


def default_root() -> Path:
    """Where sandboxes live: $INFRAGATE_SANDBOX_ROOT, else a per-user folder in /tmp.

    Not under $HOME: PostgreSQL runs as another user when infragate runs as root, and must be able
    to reach its data folder.
    """
    configured = os.environ.get("INFRAGATE_SANDBOX_ROOT")
    return Path(configured) if configured else Path("/tmp") / f"infragate-{os.getuid()}"


@dataclass(frozen=True)
class SandboxState:
    """What a running sandbox is: recorded in its folder so that any later process can find and stop it."""

    name: str
    variant: str | None
    directory: str
    profile: str
    supervisor_url: str
    supervisor_pid: int
    gateway_url: str
    started_at: float
    ports: dict[str, int]

    @classmethod
    def read(cls, directory: Path) -> SandboxState:
        """The state recorded in a sandbox folder."""
        try:
            return cls(**json.loads((directory / STATE_FILE).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise SandboxError(f"no usable sandbox state in {directory} ({exc})") from None


def sandbox_dir(name: str, root: Path | None = None) -> Path:
    """The folder of a named sandbox."""
    if not name or not all(char.isalnum() or char in "-_" for char in name):
        raise UsageError(f"--name: '{name}' is not a sandbox name (expected letters, digits, - and _)")
    return (root or default_root()) / name


def free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 that nothing listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _is_root() -> bool:
    return os.geteuid() == 0


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise SandboxError(
            "running as root needs the 'postgres' user (apt-get install postgresql creates it)"
        ) from None


def _chown_to_postgres(path: Path) -> None:
    if _is_root():
        user = _postgres_user()
        for item in [path, *path.rglob("*")]:
            os.chown(item, user.pw_uid, user.pw_gid, follow_symlinks=False)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file: one process (or thread) at a time builds a shared thing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _postgres_template(root: Path, bindir: Path) -> Path:
    """An initdb'd data folder made once per machine and copied for each sandbox (initdb is the slow part)."""
    template = root / ".templates" / f"pg-{bindir.parent.name}"
    with file_lock(root / ".templates" / "pg.lock"):
        if (template / "PG_VERSION").exists():
            return template
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir(parents=True)
        _chown_to_postgres(template)
        result = subprocess.run(
            as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(template),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-N",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(template, ignore_errors=True)
            raise SandboxError(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}")
        return template


def _program(name: str, command: str, directory: Path, **options: str) -> str:
    """A supervisord program section; options override the defaults."""
    settings = {
        "command": command,
        "autorestart": "true",
        "startsecs": "1",
        "startretries": "5",
        "stopasgroup": "true",
        "killasgroup": "true",
        "stopwaitsecs": "10",
        "stdout_logfile": f"{directory}/logs/{name}.log",
        "stderr_logfile": "NONE",
        "redirect_stderr": "true",
        "stdout_logfile_maxbytes": "5MB",
        "stdout_logfile_backups": "0",
    } | options
    return "\n".join([f"[program:{name}]", *(f"{key}={value}" for key, value in settings.items())]) + "\n"


def replica_program(spec: SandboxSpec, directory: Path, replica: str, port: int) -> str:
    """The supervisor program of one backend replica."""
    faults = "".join(f" --fault {fault}" for fault in sorted(spec.replica_faults.get(replica, ())))
    return _program(
        replica,
        f"{sys.executable} -m infragate.sandbox.backend --name {replica} --port {port} --sandbox {directory}{faults}",
        directory,
        autostart="false" if replica in spec.stopped_replicas else "true",
        autorestart="true" if spec.autorestart else "false",
        stopsignal="TERM",
    )


def write_registry(directory: Path, upstream: dict[str, int]) -> None:
    """The service registry: which replicas the service has, and where (what service discovery would hold)."""
    members = [{"name": replica, "url": f"http://127.0.0.1:{port}"} for replica, port in upstream.items()]
    temporary = directory / "registry.json.new"
    temporary.write_text(json.dumps({"services": {SERVICE: members}}, indent=2))
    temporary.replace(directory / "registry.json")


def read_registry(directory: Path) -> dict[str, int]:
    """Replica name -> port, from the service registry."""
    members = json.loads((directory / "registry.json").read_text())["services"][SERVICE]
    return {member["name"]: int(member["url"].rsplit(":", 1)[1]) for member in members}


def write_gateway_conf(
    directory: Path, spec: SandboxSpec, https_port: int, http_port: int, upstream: dict[str, int]
) -> Path:
    """Render nginx.conf for the replicas given (a static upstream keeps the ones the sandbox started with)."""
    if spec.static_upstream:
        upstream = {name: port for name, port in upstream.items() if name in spec.replica_names(SERVICE)}
    pki_dir = directory / "pki"
    layout = nginx.GatewayLayout(
        directory / "nginx", https_port, http_port, pki_dir / "server.pem", pki_dir / "server.key"
    )
    conf = directory / "nginx" / "nginx.conf"
    conf.write_text(nginx.render(spec, layout, upstream))
    return conf


def deployed_spec(state: SandboxState) -> SandboxSpec:
    """The spec a sandbox was started with (its variant applied to the conformant one)."""
    promised = SandboxSpec()
    return get_variant(state.variant).apply(promised) if state.variant else promised


def up(
    name: str = "reference", variant: str | None = None, root: Path | None = None, spec: SandboxSpec | None = None
) -> SandboxState:
    """Start the reference deployment (optionally a known-bad variant) and write its profile."""
    promised = spec or SandboxSpec()
    # The profile states what was promised; a variant changes only what is deployed.
    spec = get_variant(variant).apply(promised) if variant is not None else promised
    directory = sandbox_dir(name, root)
    if (directory / STATE_FILE).exists():
        existing = SandboxState.read(directory)
        if _alive(existing.supervisor_pid):
            raise SandboxError(
                f"sandbox '{name}' is already up ({directory}); run `infragate sandbox down --name {name}`"
            )
        down(name, root)
    nginx_bin = binaries.find("nginx")
    redis_bin = binaries.find("redis-server")
    pg_bindir = binaries.postgres_bindir()
    started = time.monotonic()
    shutil.rmtree(directory, ignore_errors=True)
    for folder in (
        directory,
        directory / "logs",
        directory / "programs",
        directory / "secrets",
        directory / "nginx" / "logs",
        directory / "nginx" / "temp",
        directory / "redis",
        directory / "pg",
    ):
        folder.mkdir(parents=True, exist_ok=True)
    for parent in (directory.parent, directory):
        parent.chmod(0o755)
    (directory / "secrets").chmod(0o700)
    try:
        return _start(name, variant, promised, spec, directory, nginx_bin, redis_bin, pg_bindir, started)
    except BaseException:
        _stop(directory)
        raise


def _start(
    name: str,
    variant: str | None,
    promised: SandboxSpec,
    spec: SandboxSpec,
    directory: Path,
    nginx_bin: Path,
    redis_bin: Path,
    pg_bindir: Path,
    started: float,
) -> SandboxState:
    replicas = spec.replica_names(SERVICE)
    https_port, http_port, pg_port, redis_port, s3_port, *replica_ports = free_ports(5 + len(replicas))
    upstream = dict(zip(replicas, replica_ports, strict=True))
    pki.issue(
        directory / "pki",
        ("other.example.test",) if spec.certificate == "wrong-host" else ("127.0.0.1", "localhost"),
        valid_days=5 if spec.certificate == "expiring" else 90,
        signed_by_other_ca=spec.certificate == "unknown-ca",
    )
    pg_password, redis_password, drill_password, monitor_password, s3_secret = (
        secrets.token_urlsafe(18) for _ in range(5)
    )
    source_dsn = f"postgresql://app:{pg_password}@127.0.0.1:{pg_port}/app"
    for secret_name, value in (
        ("postgres-password", pg_password),
        ("redis-password", redis_password),
        ("drill-password", drill_password),
        ("monitor-password", monitor_password),
        ("postgres-dsn", source_dsn),
        ("s3-access-key-id", S3_KEY_ID),
        ("s3-secret-access-key", s3_secret),
        ("s3-keys", f"{S3_KEY_ID} {s3_secret}"),
    ):
        secret_file = directory / "secrets" / secret_name
        secret_file.write_text(value + "\n")
        secret_file.chmod(0o600)

    pg_data, pg_run = directory / "pg" / "data", directory / "pg" / "run"
    subprocess.run(["cp", "-a", str(_postgres_template(directory.parent, pg_bindir)), str(pg_data)], check=True)
    pg_run.mkdir()
    pgbackrest_conf = _pgbackrest_config(directory, pg_data, pg_run, pg_port)
    (directory / "drills").mkdir()  # where restore drills of the pgBackRest set restore the cluster
    # In the data folder's own settings, not on the command line (which would override ALTER SYSTEM):
    # a variant changes the archive command once the first backup is in.
    archive_command = _archive_push(pgbackrest_conf, PGBACKREST_STANZA)
    (pg_data / "postgresql.auto.conf").write_text(f"archive_command = '{archive_command}'\n")
    _chown_to_postgres(directory / "pg")

    (directory / "redis" / "redis.conf").write_text(
        f"bind 127.0.0.1\nport {redis_port}\nprotected-mode yes\ndaemonize no\ndir {directory / 'redis'}\n"
        f"requirepass {redis_password}\nsave 900 1\nsave 300 10\n"
        f"appendonly {'yes' if spec.redis_appendonly else 'no'}\n"
        "appendfsync everysec\n"
    )
    write_registry(directory, upstream)
    nginx_conf = write_gateway_conf(directory, spec, https_port, http_port, upstream)
    layout_prefix = directory / "nginx"
    test = subprocess.run(
        [str(nginx_bin), "-t", "-q", "-p", str(layout_prefix), "-c", str(nginx_conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    if test.returncode != 0:
        raise SandboxError(f"generated nginx configuration is invalid: {test.stderr.strip()}")

    socket_path = directory / "supervisor.sock"
    supervisor_url = f"unix://{socket_path}"
    programs = {
        "gateway": _program("gateway", f'{nginx_bin} -p {layout_prefix} -c {nginx_conf} -g "daemon off;"', directory),
        "postgres": _program(
            "postgres",
            f"{pg_bindir / 'postgres'} -D {pg_data} -c listen_addresses=127.0.0.1 -c port={pg_port} "
            f"-c unix_socket_directories={pg_run} -c shared_buffers=64MB -c archive_mode=on "
            f"-c archive_timeout={spec.wal_archive_timeout_s}",
            directory,
            stopsignal="INT",
            **({"user": "postgres"} if _is_root() else {}),
        ),
        "redis": _program("redis", f"{redis_bin} {directory / 'redis' / 'redis.conf'}", directory),
        "s3": _program("s3", f"{sys.executable} -m moto.server -H 127.0.0.1 -p {s3_port}", directory),
    }
    for replica, port in upstream.items():
        programs[replica] = replica_program(spec, directory, replica, port)
    for program, text in programs.items():
        (directory / "programs" / f"{program}.conf").write_text(text)
    conf = directory / "supervisord.conf"
    conf.write_text(
        f"[unix_http_server]\nfile={socket_path}\nchmod=0700\n\n"
        f"[supervisord]\nlogfile={directory}/logs/supervisord.log\npidfile={directory}/supervisord.pid\n"
        f"childlogdir={directory}/logs\nlogfile_maxbytes=5MB\nlogfile_backups=0\nloglevel=info\n"
        f"identifier=infragate-{name}\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl={supervisor_url}\n\n"
        f"[include]\nfiles = {directory}/programs/*.conf\n"
    )
    launched = subprocess.run(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)], capture_output=True, text=True, check=False
    )
    if launched.returncode != 0:
        raise SandboxError(f"supervisord did not start: {launched.stderr.strip() or launched.stdout.strip()}")
    supervisor = SupervisorClient(supervisor_url)
    supervisor_pid = retry(supervisor.pid, timeout=15, interval=0.1, name="supervisord answers")

    psql = [
        str(pg_bindir / "psql"),
        "-h",
        str(pg_run),
        "-p",
        str(pg_port),
        "-U",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
    ]
    # PostgreSQL first: pgBackRest's first backup, the slowest part of `up`, runs while the rest starts.
    try:
        retry(
            lambda: subprocess.run([*psql, "-c", "select 1"], capture_output=True, check=True),
            READY_TIMEOUT_S,
            0.1,
            "PostgreSQL accepts connections",
        )
    except ProbeError as exc:
        raise SandboxError(f"{exc}; its log ends: {_log_tail(directory, 'postgres')}") from None
    pgbackrest_backup = _start_pgbackrest_backup(pgbackrest_conf, spec)
    try:
        seeded = subprocess.run(
            [*psql, "-d", "postgres"],
            input=_seed_sql(pg_password, drill_password, monitor_password, spec.restore_heavy),
            capture_output=True,
            text=True,
            check=False,
        )
        if seeded.returncode != 0:
            raise SandboxError(f"seeding PostgreSQL failed: {seeded.stderr.strip()}")
        expected_running = {"gateway", "postgres", "redis", "s3", *(set(replicas) - spec.stopped_replicas)}
        _wait_running(supervisor, expected_running, directory)
        session = requests.Session()
        for replica, port in upstream.items():
            if replica not in spec.stopped_replicas:
                url = f"http://127.0.0.1:{port}/health"
                retry(partial(session.get, url, timeout=2), READY_TIMEOUT_S, 0.1, f"replica {replica} answers")
        gateway_url = f"https://127.0.0.1:{https_port}"
        # Only "does it answer": a variant may present a certificate no client should trust.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            retry(
                lambda: session.get(f"{gateway_url}/", verify=False, timeout=2), READY_TIMEOUT_S, 0.1, "gateway answers"
            )
        retry(
            lambda: socket.create_connection(("127.0.0.1", redis_port), timeout=1).close(),
            READY_TIMEOUT_S,
            0.1,
            "Redis accepts connections",
        )
        s3 = backup_job.S3Target(f"http://127.0.0.1:{s3_port}", S3_URL, S3_KEY_ID, s3_secret)
        retry(lambda: s3.client().create_bucket(Bucket=s3.bucket), READY_TIMEOUT_S, 0.2, "the S3 store answers")
        _backup_history(spec, directory, Dsn.parse(source_dsn), s3)
        _finish_pgbackrest_backup(pgbackrest_backup, pgbackrest_conf, spec)
        if spec.wal_archive_fault:
            _break_wal_archiving(psql, spec.wal_archive_fault, pgbackrest_conf)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgbackrest_backup.pid, signal.SIGKILL)
        pgbackrest_backup.wait()
        raise
    supervisor.reload_config()
    supervisor.add_group("backup-job")

    profile = directory / PROFILE_FILE
    profile_name = "reference" + (f"-{variant}" if variant else "")
    profile.write_text(
        yaml.safe_dump(
            _profile(
                profile_name,
                variant,
                promised,
                gateway_url,
                supervisor_url,
                f"http://127.0.0.1:{http_port}",
                pg_port,
                redis_port,
                s3_port,
            ),
            sort_keys=False,
        )
    )
    state = SandboxState(
        name=name,
        variant=variant,
        directory=str(directory),
        profile=str(profile),
        supervisor_url=supervisor_url,
        supervisor_pid=supervisor_pid,
        gateway_url=gateway_url,
        started_at=time.time(),
        ports={
            "https": https_port,
            "http": http_port,
            "postgres": pg_port,
            "redis": redis_port,
            "s3": s3_port,
            **upstream,
        },
    )
    (directory / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
    elapsed = time.monotonic() - started
    (directory / "logs" / "up.txt").write_text(f"sandbox up took {elapsed:.2f} s\n")
    return state


def _log_tail(directory: Path, program: str) -> str:
    try:
        lines = (directory / "logs" / f"{program}.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "empty log"


def _wait_running(supervisor: SupervisorClient, expected: set[str], directory: Path) -> None:
    def all_running() -> None:
        states = {info.name: info.state for info in supervisor.processes()}
        fatal = sorted(name for name in expected if states.get(name) == "FATAL")
        if fatal:
            reasons = "; ".join(f"{name}: {_log_tail(directory, name)}" for name in fatal)
            raise SandboxError(f"programs failed to start ({reasons})")
        missing = sorted(name for name in expected if states.get(name) != "RUNNING")
        if missing:
            raise ProbeError(f"not running yet: {', '.join(missing)}")

    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            all_running()
            return
        except SandboxError:
            raise
        except ProbeError as exc:
            if time.monotonic() > deadline:
                raise SandboxError(f"sandbox did not become ready in {READY_TIMEOUT_S:g} s: {exc}") from None
        time.sleep(0.2)


def _pgbackrest_config(directory: Path, pg_data: Path, pg_run: Path, pg_port: int) -> Path:
    """pgBackRest's configuration: a repository in the sandbox for the stanza of its PostgreSQL."""
    folder = directory / "pgbackrest"
    for sub in ("repo", "lock", "spool"):
        (folder / sub).mkdir(parents=True)
    conf = folder / "pgbackrest.conf"
    conf.write_text(
        f"[global]\nrepo1-path={folder / 'repo'}\nrepo1-retention-full=2\nlock-path={folder / 'lock'}\n"
        f"spool-path={folder / 'spool'}\nlog-level-console=warn\nlog-level-stderr=warn\nlog-level-file=off\n"
        f"start-fast=y\ncompress-type=gz\ncompress-level=1\n\n"
        f"[{PGBACKREST_STANZA}]\npg1-path={pg_data}\npg1-port={pg_port}\npg1-socket-path={pg_run}\n"
    )
    _chown_to_postgres(folder)
    return conf


def _start_pgbackrest_backup(conf: Path, spec: SandboxSpec) -> subprocess.Popen[str]:
    """Create the stanza and take its first full backup, in the background (as the server's user:
    it reads the data folder); the seeding goes on meanwhile, and reaches the repository as WAL."""
    command = f"pgbackrest --config={conf} --stanza={PGBACKREST_STANZA}"
    script = f"{command} stanza-create" + (f" && {command} backup --type=full" if spec.pgbackrest_backup else "")
    return subprocess.Popen(
        as_server_user(["sh", "-c", script]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, killed whole when `up` fails
    )


def _archive_push(conf: Path, stanza: str) -> str:
    return f"pgbackrest --config={conf} --stanza={stanza} archive-push %p"


def _break_wal_archiving(psql: list[str], fault: str, conf: Path) -> None:
    """Switch on a variant's archiving defect once the first backup is in, and wait for the archiver to act on it.

    failing: the archive command names a stanza that does not exist (a typo), and fails;
    discarded: the archive command is 'true', which reports every segment archived and keeps none.
    """
    command = {"failing": _archive_push(conf, PGBACKREST_STANZA + "-typo"), "discarded": "true"}[fault]

    def sql(*statements: str) -> str:
        arguments = [argument for statement in statements for argument in ("-c", statement)]
        done = subprocess.run([*psql, "-d", "postgres", "-A", "-t", *arguments], capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxError(f"breaking WAL archiving ({fault}) failed: {done.stderr.strip()}")
        return done.stdout.strip()

    sql(f"ALTER SYSTEM SET archive_command = '{command}'", "SELECT pg_reload_conf()")
    time.sleep(0.5)  # the reload reaches the archiver through a signal
    # A segment with a change in it, closed now: what the archiver then does shows the defect.
    switched = sql("CHECKPOINT", "SELECT pg_walfile_name(pg_switch_wal())").split()[-1]
    acted = {
        "failing": "SELECT last_failed_time > coalesce(last_archived_time, '-infinity') FROM pg_stat_archiver",
        "discarded": f"SELECT last_archived_wal >= '{switched}' FROM pg_stat_archiver",
    }[fault]

    def archiver_acted() -> None:
        if (answer := sql(acted)) != "t":
            raise SandboxError(f"pg_stat_archiver does not show it yet ({answer or 'no answer'})")

    retry(archiver_acted, READY_TIMEOUT_S, 0.2, f"the archiver acts on WAL segment {switched} ({fault})")


def _finish_pgbackrest_backup(started: subprocess.Popen[str], conf: Path, spec: SandboxSpec) -> None:
    """Wait for the first backup; then switch on the repository defect a variant asks for."""
    try:
        output, _ = started.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        started.kill()
        raise SandboxError("pgbackrest did not take its first backup within 120 s") from None
    if started.returncode != 0:
        raise SandboxError(f"pgbackrest stanza-create or first backup failed: {output.strip()[-300:]}")
    if spec.pgbackrest_wal_missing:  # the WAL from the backup's start to its stop is gone: it cannot become consistent
        info = subprocess.run(
            ["pgbackrest", f"--config={conf}", f"--stanza={PGBACKREST_STANZA}", "--output=json", "info"],
            capture_output=True,
            text=True,
            check=True,
        )
        archive = json.loads(info.stdout)[0]["backup"][-1]["archive"]
        for segment in (conf.parent / "repo" / "archive" / PGBACKREST_STANZA).glob("*/*/*"):
            if archive["start"] <= segment.name[:24] <= archive["stop"]:
                segment.unlink()
    if spec.pgbackrest_corrupt:  # bit rot in the repository: a file no longer matches its recorded checksum
        victim = next((conf.parent / "repo" / "backup" / PGBACKREST_STANZA).glob("*F/pg_data/PG_VERSION.gz"))
        victim.write_bytes(victim.read_bytes()[:-4] + b"\0\0\0\0")


def _backup_history(spec: SandboxSpec, directory: Path, source: Dsn, s3: backup_job.S3Target) -> None:
    """Take a real backup, give it the history a deployment running for a while would have, start the job."""
    root = directory / "backups" / "postgres"
    root.mkdir(parents=True)
    newest_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=spec.backup_newest_age_s)
    newest = backup_job.take_backup(source, root, spec.backup_excluded_tables, when=newest_at)
    slots = int(BACKUP_RETENTION_S // BACKUP_INTERVAL_S) - 1 + (3 if spec.backup_unpruned else 0)
    history = backup_job.backfill(root, newest, BACKUP_INTERVAL_S, slots, newest_at)
    if spec.backup_gap:
        shutil.rmtree(history[2])  # one scheduled run that never happened
    if spec.backup_truncated:
        dump = newest / Manifest.read(newest).dump
        dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    # The offsite copy holds the same backups, defects included, as a job uploading each would leave.
    cutoff = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=spec.backup_offsite_lag_s)
    backup_job.upload(
        s3, sorted(path for path in root.iterdir() if (taken := parse_folder_name(path.name)) and taken <= cutoff)
    )
    excluded = "".join(f" --exclude-table {table}" for table in spec.backup_excluded_tables)
    (directory / "programs" / "backup-job.conf").write_text(
        _program(
            "backup-job",
            f"{sys.executable} -m infragate.sandbox.backup_job --dsn-file {directory / 'secrets' / 'postgres-dsn'} "
            f"--root {root} --interval {BACKUP_INTERVAL_S}s --retention {BACKUP_RETENTION_S}s --skip-first{excluded} "
            f"--s3-endpoint {s3.endpoint_url} --s3-url {s3.url} --s3-key-file {directory / 'secrets' / 's3-keys'}",
            directory,
        )
    )


def _seed_sql(password: str, drill_password: str, monitor_password: str, heavy_restore: bool) -> str:
    heavy = (
        """
-- A restore that takes long: the index calls a function that is slow in the dump (it was made
-- fast while the source was seeded, then replaced).
CREATE FUNCTION audit_key(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE TABLE audit (id integer PRIMARY KEY);
INSERT INTO audit SELECT g FROM generate_series(1, 1200) AS g;
CREATE INDEX audit_key_index ON audit (audit_key(id));
CREATE OR REPLACE FUNCTION audit_key(integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE
  AS 'BEGIN PERFORM pg_sleep(0.01); RETURN $1; END';
"""
        if heavy_restore
        else ""
    )
    return f"""
CREATE ROLE drill LOGIN CREATEDB PASSWORD '{drill_password}';
CREATE ROLE monitor LOGIN IN ROLE pg_monitor PASSWORD '{monitor_password}';
CREATE ROLE app LOGIN PASSWORD '{password}';
CREATE DATABASE app OWNER app;
\\connect app
SET ROLE app;
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL);
INSERT INTO items SELECT g, 'item-' || g, 100 * g FROM generate_series(1, 1000) AS g;
CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'customer-' || g || '@example.test', now() - g * interval '1 hour'
  FROM generate_series(1, 500) AS g;
CREATE TABLE bookings (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id),
  item_id integer NOT NULL REFERENCES items (id), booked_at timestamptz NOT NULL);
INSERT INTO bookings SELECT g, 1 + g % 500, 1 + g % 1000, now() - g * interval '1 minute'
  FROM generate_series(1, 5000) AS g;
{heavy}"""


LOAD_RATE_PER_S = 200
S3_URL = "s3://reference-backups/postgres"
S3_KEY_ID = "infragate-reference"
PGBACKREST_STANZA = "reference"


def _profile(
    name: str,
    variant: str | None,
    spec: SandboxSpec,
    gateway_url: str,
    supervisor_url: str,
    http_url: str,
    pg_port: int,
    redis_port: int,
    s3_port: int,
) -> dict[str, object]:
    """The profile of the reference deployment: always its promises, whatever defect a variant switched on."""
    routes: dict[str, object] = {}
    for route in spec.routes:
        entry: dict[str, object] = {"path": route.probe_path, "method": route.method}
        if route.body is not None:
            entry["body"] = route.body
        if route.content_type is not None:
            entry["content_type"] = route.content_type
        entry["rate_limit"] = {"rate": f"{route.rate_per_s}r/s", "burst": route.burst, "status": 429}
        routes[route.name] = entry
    described = f" with known defect '{variant}'" if variant else ""
    dump_promises = {
        "schedule": f"{BACKUP_INTERVAL_S}s",
        "rpo": f"{BACKUP_INTERVAL_S + 1800}s",
        "rto": "8s",
        "retention": f"{BACKUP_RETENTION_S}s",
        "scratch_dsn": f"postgresql://drill:${{file:secrets/drill-password}}@127.0.0.1:{pg_port}/infragate_scratch",
        "allow_same_server": True,
    }
    return {
        "version": 1,
        "name": name,
        "description": f"infragate reference deployment{described}",
        "platform": {"kind": "local", "supervisor_url": supervisor_url, "registry": "registry.json"},
        "gateway": {
            "base_url": gateway_url,
            "ca_bundle": "pki/ca.pem",
            "health_path": "/health",
            "health_status": 200,
            "timeout": "5s",
            "routes": routes,
            "security_headers": dict(SECURITY_HEADERS),
            "cors": {
                "route": "api",
                "allowed_origins": [CORS_ALLOWED_ORIGIN],
                "allowed_methods": list(CORS_METHODS),
                "allowed_headers": list(CORS_HEADERS),
                "allow_credentials": False,
            },
            "compression": {"route": "api", "encoding": "gzip"},
            "websocket": {"path": "/ws"},
        },
        "services": {
            SERVICE: {
                "replicas": {"min": spec.replicas, "max": MAX_REPLICAS},
                "route": "api",
                "replica_header": "X-Replica",
                "health_path": "/health",
            }
        },
        "datastores": {
            "postgres": {"dsn": f"postgresql://app:${{file:secrets/postgres-password}}@127.0.0.1:{pg_port}/app"},
            "redis": {"url": f"redis://:${{file:secrets/redis-password}}@127.0.0.1:{redis_port}/0"},
        },
        "tls": {
            "versions": list(spec.tls_protocols),
            "mozilla_profile": "intermediate",
            "min_days_valid": 30,
            "hsts": {"min_max_age": "180d", "include_subdomains": True},
            "http_redirect_from": http_url,
            "deep_scan": True,
        },
        "resilience": {
            "service": SERVICE,
            "traffic_rate": 40,
            "error_budget": 0.001,
            "recovery_time": "10s",
            "scale_out_to": 5,
            "scale_time": "30s",
        },
        "load": {
            "scenario": "reference",
            "mix": {"browse": 70, "search": 25, "login": 5},
            "rate": f"{LOAD_RATE_PER_S}r/s",
            "duration": "10s",
            # Twenty clients at 10 requests/s each: inside every route's per-client limit.
            "sources": "127.0.0.10-127.0.0.29",
            "objectives": {
                "p95": "200ms",
                "p99": "500ms",
                "throughput": f"{LOAD_RATE_PER_S - 5}r/s",
                "error_rate": "0.1%",
                "throttled": "0%",
            },
        },
        "backups": {
            "postgres": [
                {"name": "local", "location": "backups/postgres", **dump_promises},
                {
                    "name": "offsite",
                    "location": S3_URL,
                    "s3": {
                        "endpoint_url": f"http://127.0.0.1:{s3_port}",
                        "access_key_id": "${file:secrets/s3-access-key-id}",
                        "secret_access_key": "${file:secrets/s3-secret-access-key}",
                    },
                    **dump_promises,
                },
                {
                    "name": "pitr",
                    "location": f"pgbackrest:{PGBACKREST_STANZA}",
                    "pgbackrest": {"config": "pgbackrest/pgbackrest.conf"},
                    "scratch_folder": "drills",
                    "schedule": "1d",
                    "rpo": "1d",
                    "rto": "15m",
                    "retention": "2d",
                },
            ],
            "wal_archive": {
                "rpo": "5m",
                "dsn": f"postgresql://monitor:${{file:secrets/monitor-password}}@127.0.0.1:{pg_port}/postgres",
                "repository": "pitr",
            },
            "redis": {"appendonly": True, "save": "900 1 300 10"},
        },
        "safety": {
            "environment": "sandbox",
            "allow_destructive": True,
            "allow_load": True,
            "max_rate": 400,
            "max_duration": "120s",
            "max_requests": MAX_PROBE_REQUESTS,
        },
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every live process we may see.

    Zombies are left out: they have exited and hold nothing (no port, file or memory) but a pid
    until their parent reaps them, which, for daemonised supervisord, is whatever runs as pid 1.
    """
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: fields start after the last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), int(fields[3]))
    return table


def sandbox_processes(leader: int) -> list[int]:
    """Every process of a sandbox: supervisord's session, and every descendant of it.

    Descendants count too because some programs (PostgreSQL's workers) start sessions of their own.
    """
    table = _process_table()
    found = {pid for pid, (_, session) in table.items() if session == leader}
    grew = True
    while grew:
        children = {pid for pid, (parent, _) in table.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return sorted(found)


@dataclass(frozen=True)
class DownReport:
    """What `down` did, and whether it verified that nothing is left."""

    name: str
    stopped: bool
    left_running: tuple[int, ...]
    killed: tuple[int, ...]


def down(name: str = "reference", root: Path | None = None, keep_files: bool = False) -> DownReport:
    """Stop a sandbox and verify that none of its processes is left."""
    directory = sandbox_dir(name, root)
    if not directory.exists():
        raise SandboxError(f"no sandbox named '{name}' in {directory.parent}")
    report = _stop(directory)
    if not keep_files and not report.left_running:
        shutil.rmtree(directory, ignore_errors=True)
    return DownReport(name, report.stopped, report.left_running, report.killed)


def _find_leader(directory: Path) -> int | None:
    """supervisord's pid from its pid file, or, if it was interrupted before writing one, from its command line."""
    try:
        return int((directory / "supervisord.pid").read_text().strip())
    except (OSError, ValueError):
        pass
    marker = f"{directory}/supervisord.conf".encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


def _stop(directory: Path) -> DownReport:
    leader = _find_leader(directory)
    if leader is None:
        return DownReport(directory.name, False, (), ())
    if _alive(leader) and os.getsid(leader) == leader:
        supervisor = SupervisorClient(f"unix://{directory / 'supervisor.sock'}")
        try:
            supervisor.stop_all()
            deadline = time.monotonic() + 15
            live = ("STARTING", "RUNNING", "STOPPING")
            while time.monotonic() < deadline and any(info.state in live for info in supervisor.processes()):
                time.sleep(0.05)
        except ProbeError:
            pass
        os.kill(leader, signal.SIGTERM)  # shuts supervisord down at once (the RPC waits for its next tick)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sandbox_processes(leader):
            time.sleep(0.1)
    killed = tuple(sandbox_processes(leader))
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sandbox_processes(leader):
        time.sleep(0.05)
    return DownReport(directory.name, True, tuple(sandbox_processes(leader)), killed)


def status(name: str = "reference", root: Path | None = None) -> tuple[SandboxState, dict[str, str]]:
    """The recorded state of a sandbox and the supervisor's view of each program."""
    directory = sandbox_dir(name, root)
    state = SandboxState.read(directory)
    processes = {info.name: info.state for info in SupervisorClient(state.supervisor_url).processes()}
    return state, processes


def list_sandboxes(root: Path | None = None) -> list[str]:
    """Names of the sandboxes that have a state file under the root."""
    base = root or default_root()
    return sorted(path.parent.name for path in base.glob(f"*/{STATE_FILE}"))
