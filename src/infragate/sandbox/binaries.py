"""Finding the server programs the reference deployment runs, with an install hint when one is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from infragate.errors import SandboxError
from infragate.probes.backup.postgres import newest_debian_bindir

_EXTRA_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_HINTS = {
    "nginx": "apt-get install nginx-light",
    "haproxy": "apt-get install haproxy",
    "redis-server": "apt-get install redis-server",
    "postgres": "apt-get install postgresql",
    **{name: f"apt-get install {name}" for name in ("prometheus", "prometheus-alertmanager")},
    **{
        f"prometheus-{kind}-exporter": f"apt-get install prometheus-{kind}-exporter"
        for kind in ("nginx", "postgres", "redis", "node")
    },
}


def find(program: str) -> Path:
    """The path of a server program on PATH or in the usual sbin folders."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_DIRS])
    found = shutil.which(program, path=search)
    if found is None:
        raise SandboxError(f"{program} is not installed ({_HINTS.get(program, 'install it')})")
    return Path(found)


def postgres_bindir() -> Path:
    """The folder holding postgres, initdb, pg_ctl and psql of the newest installed PostgreSQL."""
    debian = newest_debian_bindir()
    if debian is not None:
        return debian
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        return Path(pg_config).resolve().parent
    postgres = shutil.which("postgres")
    if postgres is not None:
        return Path(postgres).resolve().parent
    raise SandboxError(f"PostgreSQL is not installed ({_HINTS['postgres']})")
