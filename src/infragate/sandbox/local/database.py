"""The local sandbox's PostgreSQL: an initdb template, the seed data, pgBackRest with its first
backup, the dump history of the backup job and its offsite copy, and the WAL-archiving defects."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from infragate.errors import SandboxError
from infragate.probes.backup.layout import Manifest, parse_folder_name
from infragate.probes.backup.postgres import Dsn, as_server_user
from infragate.retry import retry
from infragate.sandbox import backup_job
from infragate.sandbox.host import chown_to_postgres, file_lock
from infragate.sandbox.local.programs import READY_TIMEOUT_S, program
from infragate.sandbox.spec import BACKUP_INTERVAL_S, BACKUP_RETENTION_S, SandboxSpec

S3_URL = "s3://reference-backups/postgres"
S3_KEY_ID = "infragate-reference"
PGBACKREST_STANZA = "reference"


def postgres_template(root: Path, bindir: Path) -> Path:
    """An initdb'd data folder made once per machine and copied for each sandbox (initdb is the slow part)."""
    template = root / ".templates" / f"pg-{bindir.parent.name}"
    with file_lock(root / ".templates" / "pg.lock"):
        if (template / "PG_VERSION").exists():
            return template
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir(parents=True)
        chown_to_postgres(template)
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


def pgbackrest_config(directory: Path, pg_data: Path, pg_run: Path, pg_port: int) -> Path:
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
    chown_to_postgres(folder)
    return conf


def start_pgbackrest_backup(conf: Path, spec: SandboxSpec) -> subprocess.Popen[str]:
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


def archive_push(conf: Path, stanza: str) -> str:
    """The archive command that pushes a WAL segment into a stanza's repository."""
    return f"pgbackrest --config={conf} --stanza={stanza} archive-push %p"


def break_wal_archiving(psql: list[str], fault: str, conf: Path) -> None:
    """Switch on a variant's archiving defect once the first backup is in, and wait for the archiver to act on it.

    failing: the archive command names a stanza that does not exist (a typo), and fails;
    discarded: the archive command is 'true', which reports every segment archived and keeps none.
    """
    command = {"failing": archive_push(conf, PGBACKREST_STANZA + "-typo"), "discarded": "true"}[fault]

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


def finish_pgbackrest_backup(started: subprocess.Popen[str], conf: Path, spec: SandboxSpec) -> None:
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


def backup_history(spec: SandboxSpec, directory: Path, source: Dsn, s3: backup_job.S3Target) -> None:
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
        program(
            "backup-job",
            f"{sys.executable} -m infragate.sandbox.backup_job --dsn-file {directory / 'secrets' / 'postgres-dsn'} "
            f"--root {root} --interval {BACKUP_INTERVAL_S}s --retention {BACKUP_RETENTION_S}s --skip-first{excluded} "
            f"--s3-endpoint {s3.endpoint_url} --s3-url {s3.url} --s3-key-file {directory / 'secrets' / 's3-keys'}",
            directory,
        )
    )


def seed_sql(password: str, drill_password: str, monitor_password: str, heavy_restore: bool) -> str:
    """The roles, database and data of the reference deployment (and, for one variant, a slow index)."""
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


def prepare_cluster(directory: Path, bindir: Path, port: int) -> tuple[Path, Path, Path]:
    """A data folder for the sandbox (a copy of the template), set up for pgBackRest.

    Returns the data folder, the socket folder and the pgBackRest configuration.
    """
    pg_data, pg_run = directory / "pg" / "data", directory / "pg" / "run"
    subprocess.run(["cp", "-a", str(postgres_template(directory.parent, bindir)), str(pg_data)], check=True)
    pg_run.mkdir()
    conf = pgbackrest_config(directory, pg_data, pg_run, port)
    (directory / "drills").mkdir()  # where restore drills of the pgBackRest set restore the cluster
    # In the data folder's own settings, not on the command line (which would override ALTER SYSTEM):
    # a variant changes the archive command once the first backup is in.
    (pg_data / "postgresql.auto.conf").write_text(f"archive_command = '{archive_push(conf, PGBACKREST_STANZA)}'\n")
    chown_to_postgres(directory / "pg")
    return pg_data, pg_run, conf


def psql_command(bindir: Path, socket_folder: Path, port: int) -> list[str]:
    """psql as the superuser over the sandbox's Unix socket, stopping at the first error."""
    return [
        str(bindir / "psql"), "-h", str(socket_folder), "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"
    ]  # fmt: skip
