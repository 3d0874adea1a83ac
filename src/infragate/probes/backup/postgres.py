"""PostgreSQL through its own client programs (psql, pg_dump, pg_restore): no driver to install.

Connection details come from a DSN in the profile (a secret); the password is passed to the
programs through the environment, never on a command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from infragate.errors import ProbeError
from infragate.probes.backup.layout import TABLE_CHECKSUM_SQL, TableRecord

CLIENT_TIMEOUT_S = 600.0
SERVER_USER = "postgres"  # PostgreSQL refuses to run as root: as root, its server programs run as this user


def as_server_user(command: list[str]) -> list[str]:
    """A command for a PostgreSQL server program (or pgBackRest beside it): as SERVER_USER when root."""
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class Dsn:
    """Where a database is and who connects to it."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def parse(cls, url: str) -> Dsn:
        """From postgresql://user:password@host:port/database."""
        split = urlsplit(url)
        if split.scheme not in ("postgresql", "postgres") or not split.hostname or not split.path.strip("/"):
            raise ProbeError("a DSN of the form postgresql://user:password@host:port/database was expected")
        return cls(
            split.hostname,
            split.port or 5432,
            unquote(split.username or ""),
            unquote(split.password or ""),
            split.path.strip("/"),
        )

    def on(self, database: str) -> Dsn:
        """The same server and user, another database."""
        return Dsn(self.host, self.port, self.user, self.password, database)

    def where(self) -> str:
        """host:port/database, for messages (no credentials)."""
        return f"{self.host}:{self.port}/{self.database}"


def newest_debian_bindir() -> Path | None:
    """The bin folder of the newest PostgreSQL installed the Debian way (/usr/lib/postgresql/N/bin), if any."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    return Path(candidates[-1]) if candidates else None


def bindir() -> Path:
    """Folder of the PostgreSQL client programs (the newest installed)."""
    debian = newest_debian_bindir()
    if debian is not None:
        return debian
    found = shutil.which("pg_restore")
    if found is None:
        raise ProbeError("the PostgreSQL client programs are not installed (apt-get install postgresql-client)")
    return Path(found).parent


def run(
    program: str, dsn: Dsn, arguments: list[str], timeout: float = CLIENT_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run a client program against a database; the caller reads returncode and stderr."""
    environment = dict(os.environ, PGPASSWORD=dsn.password, PGCONNECT_TIMEOUT="10")
    command = [str(bindir() / program), "-h", dsn.host, "-p", str(dsn.port), "-U", dsn.user, *arguments]
    try:
        return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ProbeError(f"{program} against {dsn.where()} did not finish within {timeout:g} s") from None


def start(program: str, dsn: Dsn, arguments: list[str]) -> subprocess.Popen[str]:
    """Start a client program against a database in the background; the caller waits for it."""
    environment = dict(os.environ, PGPASSWORD=dsn.password, PGCONNECT_TIMEOUT="10")
    command = [str(bindir() / program), "-h", dsn.host, "-p", str(dsn.port), "-U", dsn.user, *arguments]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment)


def query(dsn: Dsn, sql: str) -> list[list[str]]:
    """Rows of a query, as text; a failure is a ProbeError naming the database."""
    result = run("psql", dsn, ["-d", dsn.database, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql])
    if result.returncode != 0:
        raise ProbeError(f"query on {dsn.where()} failed: {_last_line(result.stderr)}")
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def user_tables(dsn: Dsn) -> list[str]:
    """Qualified names of the ordinary tables outside the system schemas."""
    rows = query(
        dsn, "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables ORDER BY 1"
    )
    return [row[0] for row in rows]


def table_records(dsn: Dsn, methods: dict[str, str] | None = None) -> dict[str, TableRecord]:
    """Row count and content checksum ("method:sum") of every user table.

    methods names the checksum method per table (to compare with a record); otherwise the record
    hash is tried first and the text hash taken where a column type cannot be hashed.
    """
    records = {}
    for table in user_tables(dsn):
        wanted = (methods or {}).get(table)
        for method in [wanted] if wanted else ["record", "text"]:
            try:
                ((rows, checksum),) = query(dsn, TABLE_CHECKSUM_SQL[method].format(table=table))
            except ProbeError as exc:
                if method == "record" and not wanted and "hash function" in str(exc):
                    continue
                raise
            records[table] = TableRecord(int(rows), f"{method}:{checksum}")
            break
    return records


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
