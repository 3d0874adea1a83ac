"""Restore drill of a physical backup (a pgBackRest set): restore it, start it, read it, remove it.

The newest backup is restored with ``pgbackrest restore`` into a fresh folder under the set's
``scratch_folder`` (never over anything that exists), recovered to the end of the backup
(``--type=immediate``) with archiving off, and started as a throwaway PostgreSQL that listens on
a Unix socket in a private folder only. The time until it accepts queries as a primary is held against
the RTO; then every database pgBackRest's manifest lists must be there and every table in them
must read to its end. The server is stopped and the folder removed whatever happens; the folder
is journalled first, so ``infragate recover`` removes what a killed run left.

PostgreSQL will not run as root: when infragate runs as root, pgBackRest and the server run as
the ``postgres`` user, who must be able to read the repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from infragate.errors import ProbeError
from infragate.probes.backup.layout import TableRecord
from infragate.probes.backup.postgres import SERVER_USER, Dsn, as_server_user, query, table_records
from infragate.probes.backup.sources import PgBackRestSource
from infragate.profile.storage import PostgresBackups
from infragate.recovery.journal import Journal, Undo
from infragate.retry import poll_until
from infragate.verdicts import Check

REMOVE_SCRATCH_CLUSTER = "remove_scratch_cluster"
NO_BACKUP = "there is no backup to restore"
STOP_TIMEOUT_S = 20.0
SKIPPED_DATABASES = ("template0", "template1")
# To the end of the backup (the point it is consistent at), then a primary; never archiving.
RESTORE_OPTIONS = ("--type=immediate", "--target-action=promote", "--archive-mode=off")
PORT = 5432  # it names the socket file in the drill's own folder; no TCP port is opened


def _server_user_name() -> str:
    return SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise ProbeError(
                f"a restore drill as root runs PostgreSQL as '{SERVER_USER}', who does not exist"
            ) from None
        os.chown(path, user.pw_uid, user.pw_gid)


@dataclass(frozen=True)
class TimedRestore:
    """What every restore drill measures: which backup went where, whether it came back, how fast."""

    backup: str
    scratch: str
    restore_ok: bool
    restore_error: str
    restore_s: float
    rto_s: float

    TO_DO: ClassVar[str] = "restore"
    DONE: ClassVar[str] = "restored"

    def rto_check(self) -> Check:
        """The restore succeeded within the RTO."""
        if not self.restore_ok:
            return Check.compare("RTO", f"backup {self.backup} to {self.TO_DO}", self.restore_error, False)
        expected = f"backup {self.backup} {self.DONE} within the RTO of {self.rto_s:g} s"
        return Check.compare("RTO", expected, f"{self.restore_s:.1f} s", self.restore_s <= self.rto_s)


@dataclass(frozen=True)
class ClusterDrillResult(TimedRestore):
    """A restore of a set's newest physical backup, started and read."""

    databases_expected: tuple[str, ...]
    databases_found: tuple[str, ...]
    tables: dict[str, int]
    unreadable: dict[str, str]  # database -> why its tables did not read
    scratch_removed: bool

    TO_DO: ClassVar[str] = "restore and start"
    DONE: ClassVar[str] = "restored and accepting queries"

    def data_check(self) -> Check:
        """Every database of the backup's manifest came back, and every table reads."""
        expected = f"databases {', '.join(self.databases_expected)} back, every table readable"
        observed = f"databases {', '.join(self.databases_found) or 'none'}, {len(self.unreadable)} unreadable"
        return Check.judged("restored data", expected, observed, self._data_problems())

    def _data_problems(self) -> list[str]:
        problems = [
            f"expected database {name} (in the manifest of backup {self.backup}) in the restored cluster, "
            "observed it missing"
            for name in self.databases_expected
            if name not in self.databases_found
        ]
        problems += [
            f"expected every table of database {database} to read to its end, observed {error}"
            for database, error in self.unreadable.items()
        ]
        return problems


def _newest(config: PostgresBackups) -> tuple[PgBackRestSource, str, str, tuple[str, ...]]:
    """The set's source, its newest backup's label (empty: none), the PostgreSQL version and its databases."""
    source = PgBackRestSource(config)
    listing = source.listing()
    if not listing:
        return source, "", "", ()
    label = listing[0].name
    # With --set, pgBackRest's entry of the backup also names the databases its manifest holds.
    detail = source.info(f"--set={label}")
    versions = {entry.get("id"): entry.get("version") for entry in detail.get("db", [])}
    chosen: dict[str, Any] = next((item for item in detail.get("backup", []) if item.get("label") == label), {})
    version = str(versions.get(chosen.get("database", {}).get("id")) or "")
    if not version:
        raise ProbeError(f"pgbackrest info does not say which PostgreSQL version backup {label} is of")
    names = [entry["name"] for entry in chosen.get("database-ref") or []]
    return source, label, version, tuple(sorted(name for name in names if name not in SKIPPED_DATABASES))


def _bindir(version: str) -> Path:
    found = Path(f"/usr/lib/postgresql/{version}/bin")
    if (found / "postgres").exists():
        return found
    on_path = shutil.which("postgres")
    if on_path is None:
        raise ProbeError(f"the backup is of PostgreSQL {version}, whose server programs are not installed here")
    return Path(on_path).parent


def _alive(pid: int) -> bool:
    """Whether the process runs (an exited child nobody has waited for yet does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _socket_folder(folder: Path) -> Path:
    """Where the drill's server puts its socket: short (a socket's path has room for 107 bytes), private,
    and named after the drill's folder, so that removing the drill finds it."""
    return Path(tempfile.gettempdir()) / f"ig-drill-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"


def remove_scratch_cluster(folder: Path) -> str:
    """Stop a drill's server if it runs, remove its folder, and verify that it is gone."""
    pid_file = folder / "data" / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown: the cluster is thrown away anyway
        poll_until(lambda: _alive(pid), lambda alive: not alive, STOP_TIMEOUT_S, 0.1)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(_socket_folder(folder), ignore_errors=True)
    if folder.exists() or _socket_folder(folder).exists():
        raise ProbeError(f"scratch cluster {folder} is still there after removing it")
    return f"scratch cluster {folder} verified removed"


def cluster_drill(config: PostgresBackups, journal: Journal) -> ClusterDrillResult:
    """Restore the set's newest backup into a fresh scratch folder, start it, read it, remove it."""
    if config.scratch_folder is None:  # only sets with one are drilled
        raise ProbeError(f"backup set {config.name}: no scratch_folder to restore a cluster drill into")
    source, label, version, databases = _newest(config)
    if not label:
        return _failed(config, "(none)", Path(config.scratch_folder), (), time.monotonic(), NO_BACKUP)
    bindir = _bindir(version)
    folder = Path(config.scratch_folder) / f"infragate-drill-{label}-{os.getpid()}"
    journal.record(
        f"restore backup {label} of {config.label} into scratch cluster {folder}",
        Undo(REMOVE_SCRATCH_CLUSTER, {"folder": str(folder)}),
    )
    remove_scratch_cluster(folder)  # a leftover of an earlier run with the same name must not mix in
    server: subprocess.Popen[bytes] | None = None
    found: tuple[str, ...] = ()
    tables: dict[str, int] = {}
    unreadable: dict[str, str] = {}
    try:
        for made in (folder, _socket_folder(folder)):
            made.mkdir(mode=0o700, parents=True)
            _give_to_server_user(made)
        started = time.monotonic()
        timeout = max(3 * config.rto, 60.0)
        restored = subprocess.run(
            as_server_user(
                [*source.command, f"--pg1-path={folder / 'data'}", f"--set={label}", *RESTORE_OPTIONS, "restore"]
            ),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if restored.returncode != 0:
            return _failed(
                config, label, folder, databases, started, f"pgbackrest restore failed: {_tail(restored.stderr)}"
            )
        server, error = _start(bindir, folder, started + timeout)
        elapsed = time.monotonic() - started
        if error:
            return _failed(config, label, folder, databases, started, error)
        dsn = Dsn(str(_socket_folder(folder)), PORT, _server_user_name(), "", "postgres")
        found = tuple(row[0] for row in query(dsn, "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1"))
        for database in found:
            try:
                records: dict[str, TableRecord] = table_records(dsn.on(database))
                tables.update({f"{database}.{table}": record.rows for table, record in records.items()})
            except ProbeError as exc:
                unreadable[database] = str(exc)
        return ClusterDrillResult(
            f"{config.label}/{label}",
            str(folder),
            True,
            "",
            elapsed,
            config.rto,
            databases,
            found,
            tables,
            unreadable,
            True,
        )
    finally:
        remove_scratch_cluster(folder)  # stops the server through its postmaster.pid (runuser passes no signal on)
        if server is not None:
            try:
                server.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _failed(
    config: PostgresBackups, label: str, folder: Path, databases: tuple[str, ...], started: float, error: str
) -> ClusterDrillResult:
    elapsed = time.monotonic() - started
    return ClusterDrillResult(
        f"{config.label}/{label}", str(folder), False, error, elapsed, config.rto, databases, (), {}, {}, True
    )


def _why_stopped(log: Path) -> str:
    """The server log's first FATAL or PANIC message (its last line says only that it shut down)."""
    lines = log.read_text(errors="replace").splitlines()
    # FATALs of the connection attempts while it recovered ("the database system is starting up") are not why.
    fatal = [
        line.split(":  ", 1)[-1]
        for kind in ("PANIC:", "FATAL:")
        for line in lines
        if kind in line and "is starting up" not in line and "not yet accepting connections" not in line
    ]
    return fatal[0] if fatal else _tail("\n".join(lines))


def _tail(text: str) -> str:
    """A program's error: its first ERROR line (pgBackRest's lines after it are detail), else its last line."""
    errors = [line.strip() for line in text.splitlines() if "ERROR" in line]
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return errors[0] if errors else lines[-1] if lines else "no message"


def _start(bindir: Path, folder: Path, deadline: float) -> tuple[subprocess.Popen[bytes], str]:
    """Start the restored cluster on a private socket only; wait until it is a primary, or say why not."""
    hba = folder / "hba.conf"
    hba.write_text("local all all trust\n")  # the socket's folder is the server user's alone (mode 0700)
    _give_to_server_user(hba)
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - the server writes it while it runs
    settings = {
        "listen_addresses": "",
        "unix_socket_directories": str(_socket_folder(folder)),
        "port": str(PORT),
        "archive_mode": "off",
        "hba_file": str(hba),
        "ssl": "off",
        "shared_preload_libraries": "",
    }
    arguments = [argument for name, value in settings.items() for argument in ("-c", f"{name}={value}")]
    server = subprocess.Popen(
        as_server_user([str(bindir / "postgres"), "-D", str(folder / "data"), *arguments]),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    dsn = Dsn(str(_socket_folder(folder)), PORT, _server_user_name(), "", "postgres")

    def phase() -> str:
        if server.poll() is not None:
            return "stopped"
        with contextlib.suppress(ProbeError):
            if query(dsn, "SELECT pg_is_in_recovery()") == [["f"]]:
                return "ready"
        return "recovering"

    ended = poll_until(phase, lambda seen: seen != "recovering", deadline - time.monotonic(), 0.1).value
    if ended == "stopped":
        return server, f"the restored cluster did not start: {_why_stopped(folder / 'server.log')}"
    return server, "" if ended == "ready" else "the restored cluster did not finish recovery in time"
